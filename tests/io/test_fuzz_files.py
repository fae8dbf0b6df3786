"""Fuzzing the file reader: whatever the bytes, a typed error or audio, never anything else.

Hypothesis writes random blobs and damaged versions of valid WAV, FLAC, OGG, MP3 and M4A
files (bit flips, cuts, inserted or duplicated bytes, header fields set to extremes) to a
file, then runs `lk.file_info` and `lk.from_file(...).run()` on it under a 5 s timeout.
Anything but success or an `lk.LkFramesError` fails the test, and hypothesis shrinks the
input to a minimal one; a native hang is caught by pytest-timeout. (Warnings are errors
in this suite, so a numpy or library warning counts as a failure too.)

Examples per test follow the hypothesis profile (root conftest.py): 60 by default, 200 with
CI set, 5 000 with ``LKFRAMES_HYPOTHESIS_PROFILE=long``::

    LKFRAMES_HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz_files.py -s

The counts of inputs read and refused are printed (``-s``) and recorded as properties.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lkframes as lk

TIMEOUT_S = 5

RATE = 16_000
FFMPEG = shutil.which("ffmpeg")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Small valid files (0.25 s of a stereo tone), the starting points of the mutations."""
    folder = tmp_path_factory.mktemp("seeds")
    t = np.arange(RATE // 4) / RATE
    x = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)], 1)
    files = {
        "wav": (x * 32_767).astype(np.int16),
        "flac": (x * 32_767).astype(np.int16),
        "ogg": x.astype(np.float32),
        "mp3": x.astype(np.float32),
    }
    out = {}
    for ext, data in files.items():
        path = folder / f"seed.{ext}"
        sf.write(str(path), data, RATE, subtype="VORBIS" if ext == "ogg" else None)
        out[ext] = path.read_bytes()
    if FFMPEG is not None:
        path = folder / "seed.m4a"
        command = [FFMPEG, "-loglevel", "error", "-i", str(folder / "seed.wav"), str(path)]
        subprocess.run(command, check=True)
        out["m4a"] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _read(path: Path) -> str:
    """Read ``path`` as lkframes does; "read", "damaged" (read, damage skipped and reported
    by a `DamagedAudioWarning`) or "refused" (a typed error), else raise: any other warning
    is an error here too."""

    async def run() -> None:
        with anyio.fail_after(TIMEOUT_S):
            lk.file_info(path)
            await lk.from_file(path).run()

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", lk.DamagedAudioWarning)
            anyio.run(run)
    except lk.LkFramesError:
        return "refused"
    assert all(w.category is lk.DamagedAudioWarning for w in caught), caught
    return "damaged" if caught else "read"


def _report(
    name: str, outcomes: Counter[str], record_property: Callable[[str, object], None]
) -> None:
    total = sum(outcomes.values())
    record_property("inputs", total)
    record_property("read", outcomes["read"])
    record_property("damaged", outcomes["damaged"])
    record_property("refused", outcomes["refused"])
    print(
        f"\nFUZZ {name}: {total} inputs, {outcomes['read']} read, {outcomes['damaged']} read "
        f"past damage, {outcomes['refused']} refused"
    )
    assert total > 0


# -- mutations -------------------------------------------------------------------------------------

EXTREMES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x01"]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1 to 4 damages: the kinds that real files and bad writers produce."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "field", "zero", "duplicate"]))
        if kind == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "field":
            # A header field (in the first 64 bytes) set to an extreme: 0, all ones, ...
            at = min(at, 63, len(out) - 1)
            width = draw(st.sampled_from([1, 2, 4]))
            out[at : at + width] = draw(st.sampled_from(EXTREMES)) * width
        elif kind == "zero":
            length = draw(st.integers(1, 512))
            out[at : at + length] = bytes(len(out[at : at + length]))
        else:
            start = draw(st.integers(0, len(out) - 1))
            out[at:at] = out[start : start + draw(st.integers(1, 256))]
    return bytes(out)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3", "m4a"])
def test_damaged_files_read_or_fail_typed(
    seeds: dict[str, bytes],
    workdir: Path,
    ext: str,
    record_property: Callable[[str, object], None],
) -> None:
    if ext not in seeds:
        pytest.skip("the ffmpeg binary is not on PATH (apt-get install ffmpeg)")
    path = workdir / f"damaged.{ext}"
    outcomes: Counter[str] = Counter()

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(seeds[ext]))
    def fuzz(data: bytes) -> None:
        path.write_bytes(data)
        outcomes[_read(path)] += 1

    fuzz()
    _report(f"damaged {ext}", outcomes, record_property)


MAGIC = [b"", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"fLaC", b"OggS\x00\x02", b"ID3\x04", b"\xff\xfb"]
MAGIC += [b"\x00\x00\x00\x20ftypM4A ", b"FORM\x00\x00\x00\x00AIFF", b"\x1aE\xdf\xa3"]


def test_random_bytes_read_or_fail_typed(
    workdir: Path, record_property: Callable[[str, object], None]
) -> None:
    outcomes: Counter[str] = Counter()

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.sampled_from(MAGIC),
        st.binary(max_size=4_096),
        st.sampled_from([".wav", ".flac", ".ogg", ".mp3", ".m4a", ".webm", ".bin"]),
    )
    def fuzz(magic: bytes, body: bytes, suffix: str) -> None:
        data = magic + body
        if not data:
            return  # an empty file: a test of its own in test_files.py
        path = workdir / f"blob{suffix}"
        path.write_bytes(data)
        outcomes[_read(path)] += 1

    fuzz()
    _report("random bytes", outcomes, record_property)


# -- header fields at extremes, one by one ---------------------------------------------------


def _wav(
    *, tag: int = 1, channels: int = 2, rate: int = 16_000, bits: int = 16, data_size: int = 64
) -> bytes:
    """A canonical 44-byte WAV header and 64 bytes of zeros, with the given field values."""
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * align) & 0xFFFF_FFFF, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data"
    body += struct.pack("<I", data_size) + bytes(64)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"channels": 65}, r"declares 16000 Hz with 65 channels \(lkframes carries"),
        ({"channels": 1_000}, r"declares 16000 Hz with 1000 channels"),
        ({"rate": 2_000_000}, r"declares 2000000 Hz with 2 channels"),
        ({"channels": 0}, r"audio stream without rate/channels|not an audio file"),
        ({"rate": 0}, r"not an audio file"),
        ({"rate": 0xFFFF_FFFF}, r"not an audio file"),
        ({"bits": 0}, r"audio stream without rate/channels|not an audio file"),
        ({"tag": 0xFFFF}, r"audio stream without rate/channels|not an audio file"),
    ],
)
def test_wav_header_fields_at_extremes_are_unsupported(
    tmp_path: Path, fields: dict[str, int], message: str
) -> None:
    # Formats lkframes cannot carry raised ParameterError ("a parameter you passed") before.
    path = tmp_path / "extreme.wav"
    path.write_bytes(_wav(**fields))
    with pytest.raises(lk.UnsupportedAudioError, match=message):
        lk.file_info(path)
    with pytest.raises(lk.UnsupportedAudioError, match=message):
        lk.from_file(path)


@pytest.mark.parametrize(
    ("fields", "frames"),
    [
        ({"rate": 1}, 16),  # 1 Hz: valid, if odd
        ({"data_size": 0}, 0),
        ({"data_size": 0xFFFF_FFFF}, 16),  # a streaming writer's placeholder
    ],
)
def test_wav_header_fields_at_extremes_that_still_read(
    tmp_path: Path, fields: dict[str, int], frames: int
) -> None:
    path = tmp_path / "extreme.wav"
    path.write_bytes(_wav(**fields))
    summary = lk.run_sync(lk.from_file(path).run())
    assert summary.samples_per_channel == frames

"""A file that existed before a run is either intact or completely replaced, never
half-written; writing a file while reading it (an edit in place) gives the right result."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray
from processes import file_size_limit, kill_after

import lkframes as lk
from lkframes.io._replace import TEMP_MARK

pytestmark = pytest.mark.anyio

RATE = 16_000
FORMATS = ["wav", "flac", "ogg"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_MARK in p.name)


def _cancel_after(scope: anyio.CancelScope, samples: int) -> Callable[[lk.AudioFrame], None]:
    """A ``tap`` that cancels ``scope`` once ``samples`` have passed it, so the cancel lands
    while the file is being written however busy the machine is (a fixed 0.3 s had not
    written a frame yet beside two CPU hogs)."""

    def count(frame: lk.AudioFrame) -> None:
        if frame.pts + frame.samples_per_channel >= samples:
            scope.cancel()

    return count


async def _tone(path: Path, seconds: float = 3.0) -> None:
    await lk.sine(440, seconds, RATE, amplitude=0.3).to_file(path, overwrite=True)


@pytest.mark.parametrize("ext", FORMATS)
async def test_an_edit_in_place_reads_the_whole_original(
    anyio_backend: str, tmp_path: Path, ext: str
) -> None:
    path = tmp_path / f"talk.{ext}"
    await _tone(path)
    original = await lk.from_file(path).to_array()
    expected = await lk.from_file(path).resample(8_000).gain(-6).to_array()
    summary = await lk.from_file(path).resample(8_000).gain(-6).to_file(path, overwrite=True)
    assert summary.samples_per_channel == lk.resampled_length(original.shape[0], RATE, 8_000)
    assert sf.info(str(path)).samplerate == 8_000
    got = await lk.from_file(path).to_array()
    assert got.shape == expected.shape
    if ext != "ogg":  # lossless: the file holds exactly what the pipeline made
        np.testing.assert_allclose(got, expected, atol=2e-5 if got.dtype.kind == "f" else 0)
    assert _temporaries(tmp_path) == []


async def test_a_failing_overwrite_leaves_the_original_byte_for_byte(
    anyio_backend: str, tmp_path: Path
) -> None:
    path = tmp_path / "talk.wav"
    await _tone(path)
    before = _digest(path)

    def fail_late(frame: lk.AudioFrame) -> NDArray[Any]:
        if frame.pts > RATE:
            raise ZeroDivisionError("late failure")
        return frame.data

    with pytest.raises(ZeroDivisionError):
        await lk.from_file(path).chunk(ms=20).map(fail_late).to_file(path, overwrite=True)
    assert _digest(path) == before
    assert _temporaries(tmp_path) == []


async def test_a_cancelled_overwrite_leaves_the_original(
    anyio_backend: str, tmp_path: Path
) -> None:
    path = tmp_path / "talk.flac"
    await _tone(path)
    before = _digest(path)
    with anyio.CancelScope() as scope:
        await lk.sine(440, None, RATE).tap(_cancel_after(scope, RATE)).to_file(path, overwrite=True)
    assert scope.cancelled_caught
    assert _digest(path) == before
    assert _temporaries(tmp_path) == []


@pytest.mark.parametrize("ext", FORMATS)
async def test_a_full_disk_during_an_overwrite_leaves_the_original(
    anyio_backend: str, tmp_path: Path, ext: str
) -> None:
    path = tmp_path / f"talk.{ext}"
    await _tone(path, 1.0)
    before = _digest(path)
    with file_size_limit(20_000), pytest.raises(lk.AudioFileError, match="File too large"):
        await lk.noise(30.0, RATE, amplitude=0.5).to_file(path, overwrite=True)
    assert _digest(path) == before
    assert _temporaries(tmp_path) == []


async def test_an_overwrite_keeps_permissions_and_follows_a_symlink(
    anyio_backend: str, tmp_path: Path
) -> None:
    real = tmp_path / "real.wav"
    await _tone(real, 0.5)
    os.chmod(real, 0o640)
    link = tmp_path / "link.wav"
    link.symlink_to(real)
    await lk.silence(0.25, RATE).to_file(link, overwrite=True)
    assert link.is_symlink()  # the link is kept; its target is replaced
    assert sf.info(str(real)).frames == 4_000
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


async def test_a_new_file_is_still_written_in_place(anyio_backend: str, tmp_path: Path) -> None:
    # A new recording that keeps what arrives (partial="keep", the default of live
    # streams) grows where it will stay, so a cancelled one keeps what it wrote. (This
    # once cancelled a run after 0.3 s, which on an idle machine had finished all 60 s:
    # beside two CPU hogs it was cancelled, and a non-live run's default, "discard",
    # left nothing: test_files.py's test_a_run_that_does_not_finish_... checks that.)
    path = tmp_path / "new.wav"
    with anyio.CancelScope() as scope:
        await lk.sine(440, None, RATE).tap(_cancel_after(scope, RATE)).to_file(path, partial="keep")
    assert scope.cancelled_caught
    assert sf.info(str(path)).frames >= RATE // 2  # the first block at least
    assert _temporaries(tmp_path) == []


# -- killed -----------------------------------------------------------------------------------

WRITER = """
import sys, time
import anyio, numpy as np, lkframes as lk

path, overwrite, live = sys.argv[1], sys.argv[2] == "overwrite", sys.argv[3] == "live"

async def paced():
    rng = np.random.default_rng(0)
    for k in range(3_000):
        await anyio.sleep(0.01)
        print(k, flush=True)
        data = (rng.standard_normal(160) * 3_000).astype(np.int16)
        yield lk.AudioFrame(data, 16_000, pts=160 * k)

stream = lk.Stream(paced, format=lk.AudioFormat(16_000, 1), live=live)
lk.run_sync(stream.to_file(path, overwrite=overwrite))
"""


def _kill_while_writing(path: Path, overwrite: bool, frames: int, live: bool = True) -> int:
    """Run a paced writer (a live recording, or not) in a child process, SIGKILL it after
    ``frames`` 10 ms frames, and return how many frames it had produced."""
    mode = "overwrite" if overwrite else "new"
    return kill_after(WRITER, str(path), mode, "live" if live else "file", count=frames)


def test_sigkill_during_a_new_file_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    # Not a live stream: written beside and renamed only when complete, so a kill leaves
    # no file under the final name, only a hidden temporary one (a rerun of the CLI's
    # batch removes those).
    path = tmp_path / "converted.wav"
    _kill_while_writing(path, overwrite=False, frames=150, live=False)
    assert not path.exists()
    left = _temporaries(tmp_path)
    assert len(left) == 1
    assert left[0].startswith(".converted.wav.lkframes-")


def test_sigkill_during_an_overwrite_leaves_the_original_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "talk.wav"
    lk.run_sync(_tone(path))
    before = _digest(path)
    _kill_while_writing(path, overwrite=True, frames=150)  # 1.5 s written, then killed
    assert _digest(path) == before
    # The half-written replacement is a hidden file beside it, never the original.
    left = _temporaries(tmp_path)
    assert len(left) <= 1
    assert all(name.startswith(".talk.wav.lkframes-") for name in left)


def test_sigkill_during_a_new_wav_recording_keeps_all_but_the_last_half_second(
    tmp_path: Path,
) -> None:
    path = tmp_path / "recording.wav"
    produced = _kill_while_writing(path, overwrite=False, frames=200) * 160  # samples
    info = sf.info(str(path))  # readable: libsndfile takes the length from the file size
    kept = info.frames
    assert produced - RATE // 2 - 160 <= kept <= produced  # at most 0.5 s (one write block)
    data, _ = sf.read(str(path), dtype="int16")
    assert data.shape[0] == kept


@pytest.mark.parametrize(
    ("ext", "bound_s"),
    [("flac", 1.0), ("ogg", 1.6)],  # measured: FLAC 0.53-0.72 s, OGG 0.94-1.38 s lost
)
def test_sigkill_during_a_new_compressed_recording_keeps_all_but_the_encoders_buffer(
    tmp_path: Path, ext: str, bound_s: float
) -> None:
    # The encoders hold audio that a kill loses beyond the 0.5 s write block: FLAC a few
    # thousand samples, Vorbis a page or more. What is kept reads back; a killed Ogg file
    # has no end-of-stream page, so it reads as truncated (warn to keep what is there).
    path = tmp_path / f"recording.{ext}"
    produced = _kill_while_writing(path, overwrite=False, frames=300) * 160  # 3 s
    if ext == "ogg":
        with pytest.raises(lk.TruncatedAudioError, match="no end-of-stream page"):
            lk.run_sync(lk.from_file(path).run())
        with pytest.warns(lk.TruncatedAudioWarning, match="no end-of-stream page"):
            kept = lk.run_sync(lk.from_file(path, on_truncated="warn").run())
    else:
        assert lk.file_info(path).samples_per_channel is None  # no length in STREAMINFO yet
        kept = lk.run_sync(lk.from_file(path).run())
    assert produced - bound_s * RATE <= kept.samples_per_channel < produced


def test_sigkill_during_a_new_m4a_recording_loses_it(tmp_path: Path) -> None:
    # An MP4's index (moov) is written when the file is closed: a killed process never
    # writes it, so the audio is there but nothing can find it. Said as truncated.
    path = tmp_path / "recording.m4a"
    _kill_while_writing(path, overwrite=False, frames=200)
    assert path.stat().st_size > 0  # the audio is in the file...
    with pytest.raises(lk.TruncatedAudioError, match=r"without its index \(no moov box\)"):
        lk.file_info(path)  # ...but without an index

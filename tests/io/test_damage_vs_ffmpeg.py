"""Damaged files of every format lkframes reads: read to their end, the damage skipped and
reported, and no more audio lost than the ffmpeg command loses on the same file.

``python -m pytest tests/io/test_damage_vs_ffmpeg.py -s`` prints the table that
docs/reliability.md shows.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import lkframes as lk

FFMPEG = shutil.which("ffmpeg")
ESPEAK = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(
    FFMPEG is None or ESPEAK is None, reason="needs ffmpeg and espeak-ng (apt-get install both)"
)

# extension -> ffmpeg's encoder options (speech at 44.1 kHz stereo; Opus at 48 kHz)
FORMATS = {
    "wav": (),
    "flac": (),
    "mp3": ("-b:a", "128k"),
    "ogg": ("-c:a", "libvorbis"),
    "opus": ("-c:a", "libopus", "-ar", "48000"),
    "m4a": ("-c:a", "aac"),
    "aac": ("-c:a", "aac", "-f", "adts"),
    "webm": ("-c:a", "libopus", "-ar", "48000"),
}
PLACES = (0.25, 0.5, 0.75)
"""Where in the file the damage goes (a fraction of its bytes)."""
DAMAGE_BYTES = 2_000
TIMELINE_KEPT = ("flac", "ogg", "opus", "m4a", "webm")
"""Formats whose timestamps place a lost stretch, which becomes silence of its length."""

ROWS: list[tuple[str, float, float, float, float]] = []


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """12 s of espeak-ng speech in every format, made by the ffmpeg command."""
    folder = tmp_path_factory.mktemp("speech")
    text = " ".join(f"The quick brown fox jumps over the lazy dog, {n} times." for n in range(9))
    mono = folder / "espeak.wav"
    subprocess.run([ESPEAK or "espeak-ng", "-w", str(mono), text], check=True)
    files = {}
    for ext, options in FORMATS.items():
        files[ext] = folder / f"speech.{ext}"
        command = [FFMPEG or "ffmpeg", "-v", "error", "-i", str(mono), "-ar", "44100", "-ac", "2"]
        subprocess.run([*command, "-t", "12", *options, str(files[ext])], check=True)
    return files


def _damaged(original: Path, place: float, folder: Path) -> Path:
    data = bytearray(original.read_bytes())
    at = int(len(data) * place)
    noise = np.random.default_rng(int(place * 100)).integers(0, 256, DAMAGE_BYTES, np.uint8)
    data[at : at + DAMAGE_BYTES] = noise.tobytes()
    path = folder / f"damaged-{int(place * 100)}{original.suffix}"
    path.write_bytes(bytes(data))
    return path


def _ffmpeg_samples(path: Path) -> int:
    """Samples per channel the ffmpeg command decodes. FLAC frames failing their checksum
    are dropped (``-err_detect crccheck``), as lkframes drops them: by default ffmpeg
    decodes them to noise, which it would count as kept."""
    checked = ["-err_detect", "crccheck+explode"] if path.suffix == ".flac" else []
    command = [FFMPEG or "ffmpeg", "-v", "quiet", *checked, "-i", str(path)]
    decoded = subprocess.run([*command, "-f", "s16le", "-ac", "1", "-"], capture_output=True)
    return len(decoded.stdout) // 2


def _read(path: Path) -> tuple[int, lk.DamagedAudioWarning | None, int]:
    """Samples lkframes reads, its damage report (if any), and the rate."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", lk.DamagedAudioWarning)
        summary = lk.run_sync(lk.from_file(path).run())
    reports = [w.message for w in caught if isinstance(w.message, lk.DamagedAudioWarning)]
    assert len(reports) == len(caught) <= 1, [str(w.message) for w in caught]
    assert summary.format is not None
    return summary.samples_per_channel, reports[0] if reports else None, summary.format.sample_rate


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("ext", list(FORMATS))
def test_a_damaged_file_loses_no_more_than_ffmpeg_loses(
    speech: dict[str, Path], tmp_path: Path, ext: str, place: float
) -> None:
    intact = speech[ext]
    damaged = _damaged(intact, place, tmp_path)
    whole, _, rate = _read(intact)
    got, report, _ = _read(damaged)
    ffmpeg_lost = (_ffmpeg_samples(intact) - _ffmpeg_samples(damaged)) / rate
    filled = 0 if report is None else round(report.filled_s * rate)
    lost = whole - (got - filled)  # what lkframes lacks: its silence, and the shortfall
    assert lost <= round(ffmpeg_lost * rate)
    if report is None:
        assert lost == 0
    elif not report.at_least:  # where the file declares a length, the report is exact
        assert round(report.lost_s * rate) == lost
    if ext in TIMELINE_KEPT:
        assert got == whole  # the loss became silence: every later sample where it was
    ROWS.append((ext, place, whole / rate, lost / rate, ffmpeg_lost))


@pytest.fixture(scope="module", autouse=True)
def _table() -> Iterator[None]:
    yield
    if not ROWS:
        return
    print("\n| format | damage at | audio | lost by lkframes | lost by ffmpeg |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for ext, place, seconds, lost, ffmpeg_lost in ROWS:
        print(
            f"| {ext} | {place:.0%} | {seconds:.2f} s | {lost * 1000:.0f} ms | "
            f"{ffmpeg_lost * 1000:.0f} ms |"
        )

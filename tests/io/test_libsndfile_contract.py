"""What lkframes assumes of python-soundfile's private parts (``src/lkframes/io/_libsndfile.py``):
``SoundFile._file``, ``soundfile._snd.sf_readf_*``/``sf_writef_*``/``sf_error``/``sf_strerror``
and ``soundfile._ffi``. Checked on the installed soundfile, against ffmpeg's decoding."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile

from lkframes.io._libsndfile import read_into, write_from

RATE = 16_000


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


def _blocks(path: Path, dtype: str, block: int) -> tuple[np.ndarray, str | None]:
    """All of ``path`` read with `read_into`, ``block`` frames at a time."""
    parts, error = [], None
    with soundfile.SoundFile(path) as handle:
        while error is None:
            out = np.empty((block, handle.channels), dtype)
            got, error = read_into(handle, out)
            if got == 0:
                break
            parts.append(out[:got])
    return np.concatenate(parts), error


def test_reading_in_blocks_decodes_an_mp3_as_one_read_does(tmp_path: Path) -> None:
    # sf_readf_* reads on from where the last read ended: no seek between blocks (a seek
    # restarts mpg123 badly, and every block after the first is garbage).
    mp3 = tmp_path / "tone.mp3"
    _ffmpeg("-f", "lavfi", "-i", f"sine=440:sample_rate={RATE}:duration=3", mp3.as_posix())
    whole = soundfile.read(mp3, dtype="int16", always_2d=True)[0]
    blocks, error = _blocks(mp3, "int16", 1_000)
    assert error is None
    assert blocks.shape == whole.shape
    # Equal but for mpg123's rounding to int16 (1 LSB at a few samples, run to run).
    assert np.abs(blocks.astype(np.int32) - whole).max() <= 1
    floats, _ = _blocks(mp3, "float32", 777)
    assert np.allclose(floats, whole / 32768, atol=1 / 32768)


def test_damage_stops_the_read_with_libsndfiles_error_and_keeps_what_was_decoded(
    tmp_path: Path,
) -> None:
    flac = tmp_path / "tone.flac"
    _ffmpeg("-f", "lavfi", "-i", f"sine=440:sample_rate={RATE}:duration=4", flac.as_posix())
    data = bytearray(flac.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2_000] = np.random.default_rng(1).bytes(2_000)
    damaged = tmp_path / "damaged.flac"
    damaged.write_bytes(bytes(data))
    blocks, error = _blocks(damaged, "int16", 4_096)
    assert error is not None, "libsndfile's error on the damage"
    assert error.strip()
    # What came before the damage is kept, up to about where it is (a 2 kB hole in 4 s).
    assert RATE * 1.0 < blocks.shape[0] < RATE * 4.0
    reference = soundfile.read(flac, dtype="int16", always_2d=True)[0]
    kept = blocks.shape[0] - 4_096  # the block that hit the damage may hold garbage
    assert np.array_equal(blocks[:kept], reference[:kept])


def test_writing_reports_what_libsndfile_took_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    x = (np.sin(np.arange(RATE) / 5) * 10_000).astype(np.int16).reshape(-1, 1)
    with soundfile.SoundFile(path, "w", RATE, 1, "PCM_16") as handle:
        assert write_from(handle, x) == (RATE, None)
        assert write_from(handle, (x / 32768).astype(np.float32)) == (RATE, None)
    back = soundfile.read(path, dtype="int16", always_2d=True)[0]
    assert np.array_equal(back, np.concatenate([x, x]))
    with soundfile.SoundFile(path) as reading:  # opened for reading: libsndfile refuses
        done, error = write_from(reading, x)
    assert done == 0
    assert error is not None
    assert "writ" in error.lower(), error

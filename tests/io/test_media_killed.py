"""A media recording whose process is killed (SIGKILL) mid-way: what the file keeps.

`to_media_file` writes a new file in place and asks FFmpeg to flush each packet, so a
Matroska or WebM file keeps what was encoded; an MP4 cannot (its index, ``moov``, is
written at the end) and is reported as such.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from processes import kill_after

import lkframes as lk

WRITER = """
import sys
import anyio, numpy as np, lkframes as lk

path = sys.argv[1]

async def pictures():
    for n in range(1_500):
        await anyio.sleep(0.04)
        print(n, flush=True)
        pixels = np.full((120, 160, 3), n % 256, np.uint8)
        yield lk.VideoFrame(pixels, "rgb24", timestamp_us=n * 40_000)

video = lk.Stream(pictures)
audio = lk.sine(440, 60.0, 48_000, block_ms=40)
lk.run_sync(lk.to_media_file(path, video=video, audio=audio))
"""

LOST_S = 1.2
"""The most a kill may cost: a 1 s cluster and the encoder's look-ahead (x264, Opus)."""

FRAMES = 100
"""Killed after this many 40 ms frames: 4 s."""


def _kill_while_recording(path: Path) -> int:
    """Write ``path`` in a child process, SIGKILL it after `FRAMES` frames; frames made."""
    return kill_after(WRITER, str(path), count=FRAMES)


@pytest.mark.parametrize("ext", ["mkv", "webm"])
def test_a_killed_matroska_recording_keeps_what_was_encoded(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"killed.{ext}"
    made = _kill_while_recording(path)
    media = lk.open_media(path)
    assert media.video is not None
    assert media.audio is not None
    frames = lk.run_sync(media.video.collect())
    audio = lk.run_sync(media.audio.to_array())
    kept_s = len(frames) * 0.04
    print(f"{ext}: made {made} frames, kept {len(frames)}; audio {audio.shape[0] / 48_000:.2f} s")
    # Lost: the last cluster (at most 1 s) and x264's look-ahead (measured 0.5-0.6 s)
    assert made * 0.04 - LOST_S <= kept_s <= made * 0.04
    assert audio.shape[0] / 48_000 >= made * 0.04 - LOST_S


def test_a_killed_mp4_recording_is_reported_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "killed.mp4"
    _kill_while_recording(path)
    assert path.stat().st_size > 0
    with pytest.raises(lk.TruncatedMediaError, match="without its index"):
        lk.open_media(path)

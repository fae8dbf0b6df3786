"""A damaged media file (audio and video) is read to its end, as ffmpeg reads it."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import lkframes as lk

FFPROBE = shutil.which("ffprobe")


@pytest.mark.skipif(FFPROBE is None, reason="needs ffprobe (apt-get install ffmpeg)")
def test_a_damaged_mp4_is_read_past_the_damage(tmp_path: Path) -> None:
    # 3 000 random bytes in the middle of a 10 s MP4: before, the read stopped there with
    # TruncatedMediaError; now both streams go on, and one warning says where.
    clip = tmp_path / "clip.mp4"
    pictures = [
        lk.VideoFrame(
            np.full((90, 160, 3), 10 * (n % 25), np.uint8), "rgb24", timestamp_us=n * 40_000
        )
        for n in range(250)
    ]
    video = lk.from_video_frames(pictures)
    lk.run_sync(lk.to_media_file(clip, video=video, audio=lk.sine(440, 10.0)))
    data = bytearray(clip.read_bytes())
    at = len(data) // 2
    data[at : at + 3_000] = np.random.default_rng(3).integers(0, 256, 3_000, np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        media = lk.open_media(damaged)
        assert media.audio is not None
        assert media.video is not None
        audio = lk.run_sync(media.audio.to_array(squeeze=False))
        frames = lk.run_sync(lk.open_media(damaged).video.collect())  # type: ignore[union-attr]
    assert audio.shape == (480_000, 1)  # the timeline is kept: the loss is silence
    probe = subprocess.run(
        [FFPROBE or "ffprobe", "-v", "quiet", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(damaged)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert len(frames) >= int(probe.stdout.strip()) > 200
    reports = [w.message for w in caught if isinstance(w.message, lk.DamagedAudioWarning)]
    assert reports
    assert all(2.0 < t < 8.0 for report in reports for t in report.positions_s)

"""Test clips for audio/video sync, and how to find their events again.

The sync clip: black video with a white flash for the first 100 ms of every second, and
silence with a 1 kHz beep for the first 100 ms of every second. Whatever a pipeline does,
each flash must start within a video frame of its beep. (A one-frame flash does not
survive a real-time video encoder: it may drop that costly frame.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import lkframes as lk

BEEP_HZ = 1_000
BEEP_S = 0.1
FLASH_S = 0.1


def flash_frames(
    seconds: float, *, fps: int = 30, width: int = 320, height: int = 240, start_us: int = 0
) -> Iterator[lk.VideoFrame]:
    """Black rgb24 frames, white for the first 100 ms of every second."""
    for i in range(round(seconds * fps)):
        level = 255 if (i % fps) < round(FLASH_S * fps) else 0
        pixels = np.full((height, width, 3), level, np.uint8)
        yield lk.VideoFrame(pixels, "rgb24", timestamp_us=start_us + round(i * 1e6 / fps))


def beeps(seconds: float, rate: int = 48_000) -> NDArray[np.int16]:
    """Silence with a half-scale 1 kHz beep for the first 100 ms of every second."""
    t = np.arange(round(seconds * rate)) / rate
    x = np.where((t % 1.0) < BEEP_S, 0.5 * np.sin(2 * np.pi * BEEP_HZ * t), 0.0)
    return np.round(x * 32767).astype(np.int16)


def sync_clip(seconds: float = 3.0, rate: int = 48_000, fps: int = 30) -> tuple[Any, Any]:
    """The sync clip as an audio and a video stream."""
    audio = lk.from_array(beeps(seconds, rate), rate, block_ms=20)
    video = lk.from_video_frames(list(flash_frames(seconds, fps=fps)))
    return audio, video


def flash_times(frames: list[lk.VideoFrame], threshold: float = 128.0) -> list[float]:
    """Seconds of each flash: the first bright frame of each run of bright frames."""
    times, bright_before = [], False
    for frame in frames:
        bright = float(np.asarray(frame.data, np.float32).mean()) > threshold
        if bright and not bright_before:
            times.append(frame.timestamp_us / 1e6)
        bright_before = bright
    return times


def beep_onsets(samples: NDArray[Any], rate: int, threshold: float = 0.1) -> list[float]:
    """Seconds of each beep's start: the first sample over ``threshold`` of full scale,
    then nothing for half a second."""
    x = samples.reshape(samples.shape[0], -1)[:, 0].astype(np.float64)
    if samples.dtype == np.int16:
        x /= 32768.0
    loud = np.flatnonzero(np.abs(x) > threshold)
    onsets: list[float] = []
    for index in loud:
        if not onsets or index / rate - onsets[-1] > 0.5:
            onsets.append(index / rate)
    return onsets


def pair_offsets(flashes: list[float], onsets: list[float]) -> list[float]:
    """Flash minus beep, in seconds, for each flash paired with the nearest beep."""
    return [
        flash - min(onsets, key=lambda onset: abs(onset - flash)) for flash in flashes if onsets
    ]


def mov_clip(path: Path, seconds: int) -> Path:
    """Write ``path``: ffmpeg's test pattern (64x48, 25 fps, H.264) and a 440 Hz tone
    (48 kHz, PCM, so what was sent compares sample for sample), ``seconds`` long."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi",
         "-i", f"testsrc=size=64x48:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", str(path)],
        check=True,
    )  # fmt: skip
    return path

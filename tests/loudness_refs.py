"""The loudness tests' audio and references: espeak-ng speech with pauses, noise mixed in at
a given SNR, faded tones, and FFmpeg's ``ebur128`` measurement of a file."""

from __future__ import annotations

import functools
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk

ESPEAK = shutil.which("espeak-ng")
RATE = 48_000
SENTENCE = "Loudness is measured in blocks. Then we pause. And then we speak again, softer."


def espeak_speech(directory: Path) -> NDArray[np.float32]:
    """espeak-ng's sentence at 48 kHz, then a second of silence, then the sentence at half
    level (so the gating has pauses and a quieter part to judge)."""
    if ESPEAK is None:
        pytest.skip("the espeak-ng binary is not on PATH (apt-get install espeak-ng)")
    wav = directory / "espeak.wav"
    subprocess.run([ESPEAK, "-w", str(wav), SENTENCE], check=True, capture_output=True)
    said = lk.run_sync(lk.from_file(wav).resample(RATE).to_dtype("float32").to_array(squeeze=True))
    pause = np.zeros(RATE, np.float32)
    return np.concatenate([pause[: RATE // 2], said, pause, 0.5 * said]).astype(np.float32)


def with_noise(speech: NDArray[np.float32], snr_db: float, seed: int) -> NDArray[np.float32]:
    """Stereo: speech plus white noise ``snr_db`` below it (by power), right channel
    quieter, so the channels differ."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((speech.shape[0], 2))
    power = float(np.mean(speech.astype(np.float64) ** 2))
    noise *= math.sqrt(power / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    stereo = speech[:, None] * np.array([1.0, 0.7]) + noise
    out: NDArray[np.float32] = (0.5 * stereo).astype(np.float32)
    return out


def tone(hz: float, seconds: float, amplitude: float, phase: float = 0.0) -> NDArray[np.float32]:
    """A sine with 0.5 s fades (no edge for an oversampler to ring on)."""
    t = np.arange(round(seconds * RATE)) / RATE
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.5)
    return (amplitude * fade * np.sin(2 * np.pi * hz * t + phase)).astype(np.float32)


@functools.cache
def ffmpeg_r128(path: Path) -> dict[str, Any]:
    """FFmpeg's ``ebur128`` (peak=true) as its per-100-ms metadata: the last integrated
    loudness and loudness range (3 decimals), the true peak, and the momentary/short-term
    series by time."""
    out = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af",
         "ebur128=metadata=1:peak=true,ametadata=mode=print:file=-", "-f", "null", "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    times = [float(t) for t in re.findall(r"pts_time:([\d.]+)", out)]
    values = {
        key: [float(v) for v in re.findall(rf"lavfi\.r128\.{key}=(\S+)", out)] for key in "MSI"
    }
    peaks = [float(v) for v in re.findall(r"lavfi\.r128\.true_peak=(\S+)", out)]
    ranges = [float(v) for v in re.findall(r"lavfi\.r128\.LRA=(\S+)", out)]
    top = 20 * math.log10(max(peaks))
    return {**values, "I": values["I"][-1], "LRA": ranges[-1], "TP": top, "t": times}

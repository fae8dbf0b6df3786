"""5.1 and 7.1 WAV files made by the ffmpeg CLI, and ffmpeg's own down-mixes of them: the
reference `remix`'s default down-mix is held to (tests/stages/test_remix.py and the CLI's
tests/cli/test_cli_downmix.py).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray

FFMPEG = shutil.which("ffmpeg")

CHANNELS = {"5.1": 6, "5.1(side)": 6, "7.1": 8}
"""The layouts tested, by FFmpeg name: 5.1 is FL FR FC LFE BL BR (WAV's order), 5.1(side)
has SL SR for BL BR, 7.1 is FL FR FC LFE BL BR SL SR."""

CODECS = {"float32": "pcm_f32le", "int16": "pcm_s16le", "int24": "pcm_s24le"}
"""The WAV encodings tested (lkframes reads 24-bit PCM as float32)."""


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg CLI quietly; skip the test where it is not installed."""
    if FFMPEG is None:
        pytest.skip("the ffmpeg binary is not on PATH (apt-get install ffmpeg)")
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args], check=True)


def surround_wav(
    path: Path, layout: str, encoding: str, *, seconds: float = 0.5, level: float = 1.0
) -> Path:
    """A WAV of ``layout`` (its channel mask set) made by ffmpeg's aevalsrc: in channel i a
    tone of 110 * (i + 2) Hz at ``level`` * (0.2 + 0.08 * i) of full scale, so a gain given
    to the wrong channel or at the wrong level changes the mix."""
    tones = "|".join(
        f"{level * (0.2 + 0.08 * i):.3f}*sin(2*PI*{110 * (i + 2)}*t)"
        for i in range(CHANNELS[layout])
    )
    source = f"aevalsrc='{tones}':c={layout}:s=48000:d={seconds}"
    ffmpeg("-f", "lavfi", "-i", source, "-c:a", CODECS[encoding], str(path))
    return path


def ffmpeg_downmix(source: Path, channels: int, *args: str) -> NDArray[Any]:
    """``ffmpeg -i source [args] -ac channels out.wav``, read back as lkframes reads it
    (int16 for the default 16-bit PCM, else float32)."""
    out = source.with_name(f"{source.stem}-ffmpeg.wav")
    ffmpeg("-i", str(source), *args, "-ac", str(channels), str(out))
    dtype = "int16" if sf.info(str(out)).subtype == "PCM_16" else "float32"
    data, _ = sf.read(str(out), dtype=dtype, always_2d=True)
    out.unlink()
    result: NDArray[Any] = np.asarray(data)
    return result

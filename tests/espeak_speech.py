"""Test speech for the voice-activity tests: espeak-ng sentences with known pauses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Voice activity detection finds the speech in a recording.",
    "Then it stops, and the silence is dropped.",
)
LEAD_S = 0.7
"""Silence before the first sentence."""
PAUSES_S = (0.4, 1.0, 0.5)
"""Silence after each sentence."""


def sentences_with_pauses(folder: Path, rate: int) -> np.ndarray:
    """`SENTENCES` spoken by espeak-ng (its WAVs written into ``folder``), resampled to
    ``rate`` with soxr, after `LEAD_S` of silence and each followed by its pause (float32
    mono)."""
    parts = [np.zeros(int(LEAD_S * rate))]
    for i, sentence in enumerate(SENTENCES):
        wav = folder / f"{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), sentence], check=True)
        voice, voice_rate = sf.read(str(wav), dtype="float32")
        parts += [soxr.resample(voice, voice_rate, rate), np.zeros(int(PAUSES_S[i] * rate))]
    return np.concatenate(parts)

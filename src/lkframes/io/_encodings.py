"""What encoders accept: the rates of Opus and MP3, which libsndfile refuses otherwise, and
of AAC (FFmpeg's encoder)."""

from __future__ import annotations

__all__ = ("rate_problem",)

_CODEC_RATES = {
    "OPUS": ("Opus", (8_000, 12_000, 16_000, 24_000, 48_000)),
    "MPEG_LAYER_III": (
        "MP3",
        (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
    ),
    "AAC": (
        "AAC",
        (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000),
    ),
}
"""The only rates some encoders take (libsndfile refuses the others when the file opens,
FFmpeg's AAC encoder when it starts)."""


def rate_problem(subtype: str, sample_rate: int) -> tuple[str, int] | None:
    """Why audio at ``sample_rate`` cannot be encoded as ``subtype``, and the rate to
    resample to (the next one up, or the highest); None if it can.

    Examples:
        >>> rate_problem("OPUS", 22_050)
        ('Opus files hold 8000, 12000, 16000, 24000 or 48000 Hz, not 22050 Hz', 24000)
        >>> rate_problem("PCM_16", 22_050) is None
        True
    """
    if subtype not in _CODEC_RATES:
        return None
    name, rates = _CODEC_RATES[subtype]
    if sample_rate in rates:
        return None
    listed = ", ".join(str(r) for r in rates[:-1]) + f" or {rates[-1]}"
    target = next((r for r in rates if r > sample_rate), rates[-1])
    return f"{name} files hold {listed} Hz, not {sample_rate} Hz", target

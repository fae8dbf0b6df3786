"""What encoders accept: the rates of Opus and MP3, which libsndfile refuses otherwise, and
of AAC (FFmpeg's encoder)."""

from __future__ import annotations

from pathlib import Path

from .._core.errors import ParameterError

__all__ = (
    "AAC_CONTAINERS",
    "AAC_SUFFIXES",
    "channel_problem",
    "container_for",
    "default_subtype",
    "rate_problem",
)

AAC_CONTAINERS = {"M4A": "ipod", "MP4": "mp4"}
"""The containers `to_file` writes AAC in, and FFmpeg's muxer for each: ``ipod`` is the
MP4 muxer ffmpeg picks for .m4a (the same file, branded M4A for Apple's players)."""
AAC_SUFFIXES = {".m4a": "M4A", ".mp4": "MP4"}
"""The container each extension names."""

_DEFAULT_SUBTYPES = {
    ("WAV", "int16"): "PCM_16",
    ("WAV", "float32"): "FLOAT",
    ("FLAC", "int16"): "PCM_16",
    ("FLAC", "float32"): "PCM_24",
    ("OGG", "int16"): "VORBIS",
    ("OGG", "float32"): "VORBIS",
}


def container_for(path: Path, container: str | None) -> str:
    """The container name for ``path`` (from its extension) or ``container``: libsndfile's,
    or ``M4A``/``MP4`` for AAC (`AacEncoder`).

    Raises:
        ParameterError: The extension names no container libsndfile writes.
    """
    import soundfile

    if container is not None:
        return container.upper()
    suffix = path.suffix.lower().lstrip(".")
    known = {name.lower(): name for name in soundfile.available_formats()}
    if suffix == "opus":
        return "OGG"
    if f".{suffix}" in AAC_SUFFIXES:
        return AAC_SUFFIXES[f".{suffix}"]
    if suffix in known:
        return str(known[suffix])
    raise ParameterError(
        f"cannot tell the file format from the extension {path.suffix!r} (expected one of "
        f".wav, .flac, .ogg, .opus, .mp3, .m4a, ...); pass format="
    )


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


def default_subtype(path: Path, container: str, dtype: str) -> str:
    """The libsndfile subtype `to_file` writes when none is given: PCM_16 for int16 audio,
    FLOAT (WAV) or PCM_24 (FLAC) for float32, VORBIS for .ogg, OPUS for .opus, and the
    container's first subtype otherwise (MPEG layer III for .mp3)."""
    import soundfile

    if path.suffix.lower() == ".opus":
        return "OPUS"
    chosen = _DEFAULT_SUBTYPES.get((container, dtype))
    if chosen is None:
        chosen = soundfile.default_subtype(container) or "PCM_16"
    return chosen


_CODEC_CHANNELS = {"MPEG_LAYER_III": ("MP3", 2, 2), "OPUS": ("Opus", 8, 2), "AAC": ("AAC", 8, 1)}
"""The most channels some encoders take (libsndfile says only "Format not recognised";
FFmpeg's AAC encoder takes 8), and the count the command line suggests instead."""


def channel_problem(subtype: str, num_channels: int) -> tuple[str, int] | None:
    """Why ``num_channels`` cannot be encoded as ``subtype``, and a count to remix to;
    None if they can.

    Examples:
        >>> channel_problem("MPEG_LAYER_III", 6)
        ('MP3 files hold 1 or 2 channels, not 6', 2)
    """
    if subtype not in _CODEC_CHANNELS:
        return None
    name, most, suggested = _CODEC_CHANNELS[subtype]
    if num_channels <= most:
        return None
    held = f"1 {'or' if most == 2 else 'to'} {most}"
    return f"{name} files hold {held} channels, not {num_channels}", suggested

"""The encoding a converted file is written with: the input's own lossless encoding where
the output can hold it, else 16-bit PCM (or float) for PCM containers, else the codec's
default (AAC for .m4a and .mp4). The CLI and `lkframes.batch` choose by these same rules."""

from __future__ import annotations

from pathlib import Path

from .._core.errors import ParameterError
from ._encodings import AAC_SUFFIXES, container_for, default_subtype
from ._info import AudioFileInfo

__all__ = ("READABLE_ONLY", "WRITABLE", "output_encoding")

WRITABLE = ".wav, .flac, .ogg, .opus, .mp3, .m4a or .mp4"
READABLE_ONLY = {
    ".aac": "AAC (ADTS)",
    ".webm": "WebM",
    ".mkv": "Matroska",
    ".mov": "QuickTime",
}
"""Extensions lkframes reads (with FFmpeg) but cannot write."""

_DEEP = ("PCM_32", "FLOAT", "DOUBLE")
"""Input encodings deeper than 24 bits, which FLAC (24 bits at most) holds as PCM_24."""
_PCM_CONTAINERS = {"WAV", "FLAC", "AIFF", "W64", "RF64", "CAF", "AU"}


def output_encoding(
    output: Path,
    subtype: str | None,
    dtype: str | None,
    source: AudioFileInfo | None,
    *,
    subtype_name: str = "subtype",
) -> tuple[str, str]:
    """``output``'s container and subtype: ``subtype`` if given, else the input's lossless
    encoding (``source.codec``) where ``output`` can hold it (24-bit PCM in FLAC for a
    deeper one), else 16-bit PCM for WAV/FLAC-like files (float for ``dtype="float32"``),
    else the codec's own default; AAC for .m4a and .mp4 (``subtype`` AAC or None).

    Raises:
        ParameterError: ``output``'s extension cannot be written, or ``subtype`` does not
            fit it; the message names the file, or the subtype as ``subtype_name`` (the
            CLI's ``--subtype``).
    """
    import soundfile

    suffix = output.suffix.lower()
    if suffix in READABLE_ONLY:
        raise ParameterError(
            f"{output.name}: {READABLE_ONLY[suffix]} files can be read but not written; "
            f"write {WRITABLE}"
        )
    if suffix in AAC_SUFFIXES:
        container = AAC_SUFFIXES[suffix]
        if subtype is not None and subtype.upper() != "AAC":
            raise ParameterError(
                f"{subtype_name} {subtype} cannot be written to an {container} file; "
                "it holds AAC only"
            )
        return container, "AAC"
    try:
        container = container_for(output, None)
    except ParameterError:
        raise ParameterError(
            f"{output.name}: cannot write files ending in {repr(suffix) if suffix else 'nothing'}; "
            f"write {WRITABLE} (or another type libsndfile writes, such as .aiff)"
        ) from None
    if subtype is not None:
        if not soundfile.check_format(container, subtype.upper()):
            choices = ", ".join(soundfile.available_subtypes(container))
            raise ParameterError(
                f"{subtype_name} {subtype} cannot be written to {_article(container)} {container} "
                f"file; choose one of {choices}"
            )
        return container, subtype.upper()
    codec = source.codec if source is not None and dtype is None else ""
    lossless = codec.startswith("PCM_") or codec in ("FLOAT", "DOUBLE")
    if lossless and soundfile.check_format(container, codec):
        return container, codec  # a 24-bit WAV stays 24-bit in FLAC, a float WAV float
    if codec in _DEEP and soundfile.check_format(container, "PCM_24"):
        return container, "PCM_24"  # as deep as OUT holds: 32-bit or float WAV to FLAC
    if container in _PCM_CONTAINERS:
        if dtype == "float32":
            return container, default_subtype(output, container, "float32")
        return container, "PCM_16"
    return container, default_subtype(output, container, dtype or "float32")


def _article(word: str) -> str:
    """``an`` before MP3, OGG, AIFF, ``a`` before WAV, FLAC (said as letters or a word)."""
    return "an" if word[:1] in "AEFHILMNORSX" and word != "FLAC" else "a"

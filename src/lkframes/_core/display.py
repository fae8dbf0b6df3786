"""Rich display in Jupyter: an audio player and a small waveform, with no extra packages.

The player embeds the clip as a 16-bit WAV of at most `MAX_EMBED_BYTES`: a longer clip
embeds a preview (mono, 16 kHz, its first seconds) and the page says so in words, so one
output cell stays near 2 MB of HTML whatever the clip's length.
"""

from __future__ import annotations

import base64
import html
import io
import math
import wave
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .samples import convert_dtype

__all__ = ("MAX_EMBED_BYTES", "PREVIEW_RATE", "audio_html")

MAX_EMBED_BYTES = 1_500_000
"""The most WAV bytes a player embeds (about 2 MB of HTML once in base64): 7.8 s of 48 kHz
stereo, 46.9 s of 16 kHz mono. A clip over it embeds a preview."""

PREVIEW_RATE = 16_000
"""The sample rate of a preview: a clip over `MAX_EMBED_BYTES` is embedded as mono at this
rate (at its own rate when lower), cut to its first seconds if that is still over."""

_WIDTH = 320
_HEIGHT = 56


def _wav_bytes(data: NDArray[Any], sample_rate: int) -> bytes:
    pcm = convert_dtype(data, "int16")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.ascontiguousarray(pcm).tobytes())
    return buffer.getvalue()


def _waveform_svg(data: NDArray[Any]) -> str:
    mono = convert_dtype(data, "float32").mean(axis=1) if data.size else np.zeros(1, np.float32)
    columns = min(_WIDTH, max(1, mono.shape[0]))
    edges = np.linspace(0, mono.shape[0], columns + 1).astype(int)
    mid = _HEIGHT / 2
    lines = []
    for x, (a, b) in enumerate(pairwise(edges)):
        part = mono[a : max(b, a + 1)]
        top = mid - float(part.max()) * mid
        bottom = mid - float(part.min()) * mid
        lines.append(f"M{x} {top:.1f}V{max(bottom, top + 0.5):.1f}")
    return (
        f'<svg width="{_WIDTH}" height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" style="background:#f6f8fa">'
        f'<path d="{"".join(lines)}" stroke="#3b6ea8" stroke-width="1" fill="none"/></svg>'
    )


def _length(seconds: float) -> str:
    """The clip's length beside the player, whose own clock shows whole seconds (a 20 ms
    frame would read ``0:00 / 0:00``)."""
    if seconds < 1.0:
        return f"plays {seconds * 1000:.4g} ms"
    return f"plays {seconds:.3f} s"


def _rate_text(rate: int) -> str:
    return f"{rate / 1000:g} kHz"


def _preview(data: NDArray[Any], sample_rate: int) -> tuple[NDArray[Any], int, str]:
    """What the player embeds: the clip itself when its WAV fits in `MAX_EMBED_BYTES`, else
    a mono preview at `PREVIEW_RATE` (its first seconds if still too long), with the words
    saying what was left out ("" for the clip itself)."""
    frames, channels = data.shape
    if frames * channels * 2 <= MAX_EMBED_BYTES:
        return data, sample_rate, ""
    rate = min(sample_rate, PREVIEW_RATE)
    keep = MAX_EMBED_BYTES // 2  # samples of 16-bit mono
    # cut before resampling (plus a margin for the filter), so a long clip costs no more
    source = data[: math.ceil(keep * sample_rate / rate) + sample_rate // 10]
    mono = convert_dtype(source, "float32").mean(axis=1, dtype=np.float32)
    if rate != sample_rate:
        import soxr

        mono = soxr.resample(mono, sample_rate, rate)
    mono = np.clip(mono[:keep], -1.0, 1.0).reshape(-1, 1)
    full = frames * channels * 2
    what = [f"{_rate_text(rate)} mono"]
    if mono.shape[0] < round(frames * rate / sample_rate):
        what.append(f"its first {mono.shape[0] / rate:.3f} s")
    note = (
        f"the player holds a preview: {', '.join(what)} (the clip is "
        f"{_rate_text(sample_rate)}, {channels} channel{'s' if channels > 1 else ''}, "
        f"{frames / sample_rate:.3f} s: {full / 1e6:.1f} MB as WAV, over the "
        f"{MAX_EMBED_BYTES / 1e6:g} MB a page embeds)"
    )
    return mono, rate, note


def audio_html(data: NDArray[Any], sample_rate: int, title: str) -> str:
    """HTML with the waveform of the whole clip and a player of it, or of a preview of it
    when its WAV is over `MAX_EMBED_BYTES` (a note in the page says what it holds)."""
    seconds = data.shape[0] / sample_rate
    parts = [f"<div><code>{html.escape(title)}</code><br>", _waveform_svg(data)]
    if seconds > 0:
        played, rate, note = _preview(data, sample_rate)
        encoded = base64.b64encode(_wav_bytes(played, rate)).decode("ascii")
        parts.append(
            f'<br><audio controls preload="metadata" src="data:audio/wav;base64,{encoded}"></audio>'
            f" <small>{_length(played.shape[0] / rate)}</small>"
        )
        if note:
            parts.append(f"<br><small>{html.escape(note)}</small>")
    parts.append("</div>")
    return "".join(parts)

"""Rich display in Jupyter: an audio player and a small waveform, with no extra packages."""

from __future__ import annotations

import base64
import html
import io
import wave
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .samples import convert_dtype

__all__ = ("MAX_PLAYER_SECONDS", "audio_html")

MAX_PLAYER_SECONDS = 120.0
"""Longer clips show the waveform without an embedded player (the page would be huge)."""

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


def audio_html(data: NDArray[Any], sample_rate: int, title: str) -> str:
    """HTML with a waveform and, for clips up to `MAX_PLAYER_SECONDS`, an audio player."""
    seconds = data.shape[0] / sample_rate
    parts = [f"<div><code>{html.escape(title)}</code><br>", _waveform_svg(data)]
    if 0 < seconds <= MAX_PLAYER_SECONDS:
        encoded = base64.b64encode(_wav_bytes(data, sample_rate)).decode("ascii")
        parts.append(
            f'<br><audio controls preload="metadata" src="data:audio/wav;base64,{encoded}"></audio>'
            f" <small>{_length(seconds)}</small>"
        )
    elif seconds > MAX_PLAYER_SECONDS:
        parts.append(f"<br><small>player omitted: longer than {MAX_PLAYER_SECONDS:g} s</small>")
    parts.append("</div>")
    return "".join(parts)

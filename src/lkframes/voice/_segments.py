"""Speech segments from per-window probabilities, as Silero's ``get_speech_timestamps``
decides them, but streaming: each segment is given as soon as it is certain.

Silero's rules (silero-vad 6.2.3, ``utils_vad.get_speech_timestamps_from_probs``), in the
model's samples: a segment starts at the first window whose probability is at least
``threshold``; once below ``neg_threshold`` the segment may end where that quiet began,
and does when it has stayed quiet (no window back at ``threshold``) for ``min_silence``;
segments not longer than ``min_speech`` are dropped; a segment still open at the end of the
audio ends there. Each kept segment is then padded by ``speech_pad`` on each side, or, when
two are closer than twice that, the gap between them is split between the two.

Beyond Silero: ``max_samples`` cuts a segment into pieces of exactly that length, given
while the speech goes on (Silero's ``max_speech_duration_s`` searches back for a silence
instead, which a live stream cannot wait for).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ("Segment", "Segmenter")


class Segment(NamedTuple):
    """A piece of speech in the model's samples: ``[start, end)``."""

    start: int
    end: int
    continues: bool = False
    """The speech goes on in the next segment (it was cut at the longest length)."""


class Segmenter:
    """Silero's speech segments, window by window (all lengths in the model's samples).

    Args:
        window: Samples per model window (512 at 16 kHz).
        threshold: Probability at or above which a window is speech.
        neg_threshold: Probability below which a window is quiet during speech.
        min_speech: Segments of this length or shorter are dropped.
        min_silence: Quiet that ends a segment.
        speech_pad: Padding on each side of a segment.
        max_samples: The longest segment given (pieces of it beyond), or None.
    """

    def __init__(
        self,
        window: int,
        *,
        threshold: float,
        neg_threshold: float,
        min_speech: float,
        min_silence: float,
        speech_pad: float,
        max_samples: int | None = None,
    ) -> None:
        self._window = window
        self._threshold = threshold
        self._neg_threshold = neg_threshold
        self._min_speech = min_speech
        self._min_silence = min_silence
        self.pad = speech_pad
        """The padding on each side of a segment."""
        self._max = max_samples
        self._position = 0  # the first sample of the next window
        self.speaking = False
        """Whether the last window left a segment open (Silero's ``triggered``)."""
        self._start = 0  # the open segment's first speech window
        self._temp_end = 0  # where the quiet that may end it began (0: none)
        self._from: int | None = None  # the open segment's padded start, once fixed
        self._pending: tuple[int, int] | None = None  # the last kept one: padded start, end

    def push(self, probability: float) -> list[Segment]:
        """Take the next window's probability; return the segments now certain."""
        ended = self._step(probability)
        out = self._kept(*ended) if ended else []
        if self._pending is not None:
            next_start = self._start if self.speaking else self._position
            if next_start - self._pending[1] >= 2 * self.pad:
                out += self._release(self._pending[1] + self.pad)
        if self.speaking and self._max is not None and self._confirmed():
            out += self._cut()
        return out

    def finish(self, length: int, probability: float | None = None) -> list[Segment]:
        """End of the audio at ``length`` samples, after the last, partial window's
        probability if there is one: return every segment left."""
        out: list[Segment] = []
        if probability is not None:
            ended = self._step(probability)
            out += self._kept(*ended) if ended else []
        if self.speaking and (length - self._start > self._min_speech or self._from is not None):
            out += self._kept(self._start, length)
            self.speaking = False
        if self._pending is not None:
            out += self._release(min(length, self._pending[1] + self.pad))
        return out

    @property
    def needed_from(self) -> int:
        """The earliest sample a segment still to come can start at."""
        if self._pending is not None:
            return self._pending[0]
        if self._from is not None:
            return self._from
        return int((self._start if self.speaking else self._position) - self.pad)

    def _step(self, probability: float) -> tuple[int, int] | None:
        """Silero's hysteresis for one window: the raw segment it ends, if any."""
        current = self._position
        self._position += self._window
        if probability >= self._threshold:
            self._temp_end = 0
            if not self.speaking:
                self.speaking = True
                self._start = current
                self._from = None
            return None
        if probability >= self._neg_threshold or not self.speaking:
            return None
        if not self._temp_end:
            self._temp_end = current
        if current - self._temp_end < self._min_silence:
            return None
        end, self._temp_end, self.speaking = self._temp_end, 0, False
        if end - self._start > self._min_speech or self._from is not None:
            return self._start, end
        return None

    def _confirmed(self) -> bool:
        """Whether the open segment will be kept: its end is at least where a quiet began,
        or, with none begun, at least the next window."""
        end = self._temp_end or self._position
        return self._from is not None or end - self._start > self._min_speech

    def _open_start(self, start: int) -> tuple[list[Segment], int]:
        """The padded start of kept segment ``start``, and the previous one now padded."""
        if self._from is not None:
            return [], self._from
        if self._pending is None:
            return [], int(max(0, start - self.pad))
        gap = start - self._pending[1]
        if gap < 2 * self.pad:
            return self._release(self._pending[1] + gap // 2), int(max(0, start - gap // 2))
        return self._release(self._pending[1] + self.pad), int(max(0, start - self.pad))

    def _kept(self, start: int, end: int) -> list[Segment]:
        out, padded_start = self._open_start(start)
        self._from = None
        self._pending = (padded_start, end)
        return out

    def _release(self, padded_end: float) -> list[Segment]:
        """The pending segment, ending at ``padded_end``, in pieces of ``max_samples``."""
        assert self._pending is not None
        start, self._pending = self._pending[0], None
        end = int(padded_end)
        out = []
        while self._max is not None and end - start > self._max:
            out.append(Segment(start, start + self._max, continues=True))
            start += self._max
        out.append(Segment(start, end))
        return out

    def _cut(self) -> list[Segment]:
        """Pieces of ``max_samples`` of the open segment that it certainly contains."""
        assert self._max is not None
        out, self._from = self._open_start(self._start)
        limit = self._temp_end or self._position
        while self._from + self._max <= limit:
            out.append(Segment(self._from, self._from + self._max, continues=True))
            self._from += self._max
        return out

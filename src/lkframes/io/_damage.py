"""`DamageLog`: where a file's undecodable stretches were and how much audio they cost,
said once the file has been read (a warning), or at the first one (``on_damaged="error"``)."""

from __future__ import annotations

from typing import Literal

from .._core.errors import DamagedAudioError
from .._core.warnings import DamagedAudioWarning

__all__ = ("DamageLog", "OnDamaged")

OnDamaged = Literal["skip", "error"]
"""What `from_file` does with undecodable data mid-file: skip it, or raise at it.

``"skip"`` (the default) decodes on past it, as ffmpeg does, with one
`DamagedAudioWarning` at the end; ``"error"`` raises `DamagedAudioError` at it.

Examples:
    >>> import typing, lkframes as lk
    >>> typing.get_args(lk.OnDamaged)
    ('skip', 'error')
"""

_LISTED = 5
"""Positions named in a message; the rest are counted."""


class DamageLog:
    """The damaged stretches met while reading one input, at ``sample_rate``."""

    __slots__ = ("lost_unplaced", "sample_rate", "spots", "total_known")

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.spots: list[tuple[int, int | None]] = []
        """(where, samples lost there or None if unknown), in samples of the output."""
        self.lost_unplaced: int = 0
        """Samples lost at places the file does not tell (its declared length says how
        many): FFmpeg and mpg123 skip damaged MP3 frames without timestamps."""
        self.total_known = False
        """Whether the file's declared length settled how much was lost in all."""

    def add(self, position: int, lost: int | None) -> None:
        """A damaged stretch at ``position``; merged with the previous one if adjacent."""
        if self.spots:
            last, last_lost = self.spots[-1]
            if last_lost is not None and position <= last + last_lost:
                self.spots[-1] = (last, None if lost is None else position - last + lost)
                return
            if last == position:
                both = None if lost is None or last_lost is None else lost + last_lost
                self.spots[-1] = (last, both)
                return
        self.spots.append((position, lost))

    def __bool__(self) -> bool:
        return bool(self.spots) or self.lost_unplaced > 0

    @property
    def positions_s(self) -> tuple[float, ...]:
        """Where each damaged stretch starts, in seconds."""
        return tuple(round(at / self.sample_rate, 6) for at, _ in self.spots)

    @property
    def lost_samples(self) -> int:
        """Samples known to be lost: the stretches that say, and what the declared length
        says is missing besides (see `total_known`)."""
        return sum(lost or 0 for _, lost in self.spots) + self.lost_unplaced

    @property
    def at_least(self) -> bool:
        """Whether more than `lost_samples` may be lost: no declared length settles it (an
        ADTS AAC stream's parser skips damaged frames without a trace)."""
        return not self.total_known

    def message(self, name: str) -> str:
        """One line: where, how many places, how much audio was lost."""
        places = [f"{at / self.sample_rate:.3f} s" for at, _ in self.spots[:_LISTED]]
        more = len(self.spots) - _LISTED
        where = ", ".join(places) + (f" and {more} more places" if more > 0 else "")
        if not self.spots:
            where = "places the file does not tell"
        lost = self.lost_samples / self.sample_rate
        filled = sum(n or 0 for _, n in self.spots) / self.sample_rate
        how_much = f"{'at least ' if self.at_least else ''}{lost:.3f} s of audio lost"
        if filled and filled >= lost:
            how_much += ", silence in its place"
        elif filled:
            how_much += f" ({filled:.3f} s of it as silence in its place, the rest missing)"
        elif lost:
            how_much += " (missing: what follows comes that much earlier)"
        return f"{name} has damaged data, skipped at {where}; {how_much}"

    def warning(self, name: str) -> DamagedAudioWarning:
        """The warning that reports this log."""
        return DamagedAudioWarning(
            self.message(name),
            positions_s=self.positions_s,
            lost_s=self.lost_samples / self.sample_rate,
            at_least=self.at_least,
            filled_s=sum(lost or 0 for _, lost in self.spots) / self.sample_rate,
        )

    def error(self, name: str, position: int, reason: str) -> DamagedAudioError:
        """The error of ``on_damaged="error"``, at ``position``."""
        seconds = position / self.sample_rate
        error = DamagedAudioError(
            f"{name} has damaged data at {seconds:.3f} s ({reason}); everything before it "
            'was read (on_damaged="skip" reads past it, as ffmpeg does)'
        )
        error.position_s = seconds
        return error

"""`from_room` in a simulated room with a ``block``: where the timeline may go a block at a
time (see ``SimulatedRoom``'s ``block``), and when to hand such a block out."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ._sdk import block_end
from ._timeline import FRAME_S

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("BATCH_DELAY_S", "BATCH_MARGINS_S", "BLOCK_S", "stretch")

BLOCK_S = FRAME_S
"""The timeline is given out 10 ms at a time (LiveKit's own frame length, `FRAME_S`)."""

BATCH_DELAY_S = (0.02, 0.5)
"""The ``delay`` within which `from_room` takes a simulated room's ``block`` (see
`stretch`): at least two frames, so that the 10 ms after a block have come before they
are handed out, and at most `BATCH_MARGINS_S`'s after, so that a block handed out late is
still clear of the script's next event."""

BATCH_MARGINS_S = (0.03, BATCH_DELAY_S[1])
"""How far before and after a cell `stretch` asks a simulated room to be quiet: from the
stretch's start (up to 20 ms before the cell) until it is handed out (``delay`` after)."""


def stretch(
    room: rtc.Room, zero: float, rate: int, pts: int, end: int, limit: int | None, delay: float
) -> tuple[int, float | None]:
    """Where the next stretch of the timeline ends, and when to hand it out (None: ``delay``
    after its end): 10 ms, or in a quiet cell of a simulated room with a ``block`` (see
    `block_end`), up to that cell's end, handed out once the cell is over.

    A sample comes in a frame due at most 10 ms after it, and the participants' streams
    hand out a cell's frames by its end: the stretch holds the same samples as 10 ms at a
    time would. Nothing that the timeline watches (a leave, the end of a participant's
    stream) happens from the stretch's start until it is handed out.
    """
    step = max(1, round(BLOCK_S * rate))
    # The cell in which the frames of the next 10 ms are due (at most 20 ms after pts),
    # ending late enough for a stretch of at least 10 ms.
    cell = block_end(room, zero + pts / rate + 2 * BLOCK_S + 0.003, *BATCH_MARGINS_S)
    if cell is None:
        return end, None
    before = math.floor((cell - BLOCK_S - 0.002 - zero) * rate)  # due before the cell ends
    stretch = pts + max(0, (before - pts) // step) * step
    if limit is not None:
        stretch = min(stretch, limit)
    if stretch <= end:
        return end, None
    return stretch, max(cell, zero + stretch / rate + delay)

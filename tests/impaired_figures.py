"""The figures of one run of ``room_scenarios/impaired.py``: lkframes beside the plain SDK
stream on the same subscription. Asserted by ``livekit/test_impaired.py``, tabled by
``benchmarks/bench_impaired.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

RATE = 48_000
FRAME = 480
"""LiveKit's 10 ms frames, as both readers get them."""
QUIET = 100
"""Below the quietest of A's signal (the tone under the marks: peak 600, rms 425); the
jitter buffer's faint noise after its last packet stays under it (seen up to 30)."""


@dataclass
class Figures:
    """lkframes (``lk_``) beside the plain SDK stream (``plain_``) in one run."""

    offset: int | None
    """Where lkframes' samples start in the plain stream's, if they are the same samples
    (at some whole-frame offset within ±1 s); None if they are not."""
    tail_peak: int
    """The loudest sample the plain stream had after lkframes' last one (0 if none)."""
    lk_end_s: float | None
    """When lkframes' stream ended, after A left."""
    plain_end_s: float | None
    """When the plain stream's last audible frame arrived, after A left."""
    lk_length_vs_wall_s: float
    """lkframes' seconds minus the wall time they took to arrive (`length_vs_wall`)."""
    plain_length_vs_wall_s: float
    """The same for the plain stream, up to its last audible frame."""
    marks: list[int]
    """The marks both streams have (k: sent at ``k * every`` s)."""
    missing_in_one: list[int]
    """Marks one stream has and the other not (none expected)."""
    sync_errors_s: list[float]
    """Per mark of ``marks``: lkframes' arrival minus the plain stream's."""
    sample_errors: list[int]
    """Per mark: lkframes' sample position (shifted by ``offset``) minus the plain one's."""
    lk_delays_s: list[float]
    """Per mark: arrival in lkframes' stream minus when A's ``publish`` sent it."""
    plain_delays_s: list[float]


def offset_in(lk: NDArray[np.int16], plain: NDArray[np.int16]) -> int | None:
    """Where lkframes' samples start in the plain stream's, in whole frames (each reader
    gets what LiveKit delivered from its own start: 1.6 s apart seen on a busy machine,
    whose event loop stalled between them); None if they are not the same samples."""
    n = min(lk.size, plain.size) // FRAME
    if n < 2:
        return None
    frames_lk = lk[: lk.size // FRAME * FRAME].reshape(-1, FRAME)
    frames_plain = plain[: plain.size // FRAME * FRAME].reshape(-1, FRAME)
    for probe in (frames_plain.shape[0] // 2, frames_lk.shape[0] // 2):
        # A frame of one stream, looked for in the other, then the whole overlap compared.
        if probe == frames_plain.shape[0] // 2:
            found = np.flatnonzero((frames_lk == frames_plain[probe]).all(axis=1)) - probe
            candidates = [int(k) * FRAME for k in found]
        else:
            found = np.flatnonzero((frames_plain == frames_lk[probe]).all(axis=1)) - probe
            candidates = [-int(k) * FRAME for k in found]
        for shift in candidates:  # lkframes' sample i is the plain stream's i + offset
            a, b = (lk[shift:], plain) if shift >= 0 else (lk, plain[-shift:])
            m = min(a.size, b.size)
            if m >= RATE and np.array_equal(a[:m], b[:m]):
                return -shift
    return None


def length_vs_wall(arrivals: NDArray[np.float64], frames: int) -> float:
    """The audio in the first ``frames`` 10 ms frames, minus the wall time it arrived over.

    Each frame's arrival minus its place in the audio is constant while the audio keeps
    wall time, plus the reader's own delays, which a busy machine makes 300 ms and more now
    and then; so the least of it over the first and over the last second is compared.
    """
    if frames < 2:
        return 0.0
    late = arrivals[:frames] - np.arange(1, frames + 1) * FRAME / RATE
    window = min(100, frames)
    return float(late[:window].min() - late[frames - window : frames].min())


def _last_audible(samples: NDArray[np.int16]) -> int:
    """How many whole frames up to the last one with a sample above `QUIET`."""
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME)
    loud = np.flatnonzero(np.abs(frames, dtype=np.int32).max(axis=1) >= QUIET)
    return int(loud[-1]) + 1 if loud.size else 0


def figures(result: dict[str, Any]) -> Figures:
    """The `Figures` of a scenario result (its files are read)."""
    lk, plain = result["lkframes"], result["plain"]
    x, y = np.load(lk["file"]), np.load(plain["file"])
    offset = offset_in(x, y)
    after = y[max(0, (offset or 0) + x.size) :]
    lk_arrivals = np.load(lk["file"].replace(".npy", ".arrivals.npy"))
    plain_arrivals = np.load(plain["file"].replace(".npy", ".arrivals.npy"))
    audible = _last_audible(y)
    plain_last = plain_arrivals[audible - 1] if audible else plain["first_arrival"]
    lk_marks = {k: (s, t) for k, s, t in lk["marks"]}
    plain_marks = {k: (s, t) for k, s, t in plain["marks"]}
    both = sorted(lk_marks.keys() & plain_marks.keys())
    sent = {k: result["publish_started"] + k * result["every"] for k in both}
    return Figures(
        offset=offset,
        tail_peak=int(np.abs(after, dtype=np.int32).max(initial=0)),
        lk_end_s=lk["end"],
        plain_end_s=float(plain_last - result["left_at"]),
        lk_length_vs_wall_s=length_vs_wall(lk_arrivals, x.size // FRAME),
        plain_length_vs_wall_s=length_vs_wall(plain_arrivals, audible),
        marks=both,
        missing_in_one=sorted(lk_marks.keys() ^ plain_marks.keys()),
        sync_errors_s=[lk_marks[k][1] - plain_marks[k][1] for k in both],
        sample_errors=[lk_marks[k][0] + (offset or 0) - plain_marks[k][0] for k in both],
        lk_delays_s=[lk_marks[k][1] - sent[k] for k in both],
        plain_delays_s=[plain_marks[k][1] - sent[k] for k in both],
    )

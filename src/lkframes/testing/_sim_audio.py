"""What a simulated participant's audio sounds like at the subscriber: packets, a network,
a jitter buffer, and the 10 ms frames LiveKit's ``AudioStream`` hands out.

The model (see docs/cookbook/test-without-a-server.md for what it leaves out):

- The publisher sends its audio as 20 ms packets (Opus's), packet ``k`` at
  ``published_at + k * 0.02`` on the room's clock, or ``k * 0.02 / (1 + drift_ppm / 1e6)``
  when its clock runs fast or slow; the subscriber then plays that audio as fast as it
  comes (NetEq drops or stretches; the simulator drops or repeats samples evenly).
- The network loses a packet with probability ``loss`` (a seeded generator: the same seed,
  the same losses), loses every packet sent during an outage, and delays the others by
  ``delay`` plus a uniform ``±jitter``, so packets can arrive out of order.
- The subscriber's jitter buffer plays packet ``k`` at its send time plus ``delay +
  jitter + 0.02`` (a fixed buffer as deep as the worst delay, plus a packet). A packet
  that arrives later than that, or never, is played as silence (WebRTC's NetEq would
  conceal a short loss with a synthesised continuation; the simulator plays zeros).
- While muted, the publisher sends silence (LiveKit delivers digital zeros).
- Frames are cut on the subscriber's own 10 ms grid from the moment of subscription, and
  one is handed over once the jitter buffer has released its last sample; it begins to
  play then, as LiveKit's frames do (the SDK pulls each 10 ms as it starts to play).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ("PACKET_S", "Network", "Playout")

PACKET_S = 0.02
"""One packet of audio (Opus's 20 ms)."""
RATE = 48_000
"""The rate a simulated participant's audio is given and sent at (LiveKit's Opus rate)."""


@dataclass(frozen=True)
class Network:
    """What the network does to one participant's packets on their way to you.

    Args:
        delay: One-way delay, seconds.
        jitter: Each packet's delay varies uniformly within ``±jitter`` seconds (packets
            may then arrive out of order; the jitter buffer puts them back in order).
        loss: Probability that a packet is lost (0 to 1), drawn from the room's seed.
        outages: ``(start, end)`` seconds on the room's clock during which everything
            the participant sends is lost.
        drift_ppm: The participant's clock runs this many parts per million fast
            (negative: slow): a minute of their audio takes that much less (more) than a
            minute of the room's, and is heard so.

    Examples:
        >>> from lkframes.testing import Network
        >>> Network(delay=0.08, jitter=0.02, loss=0.01).loss
        0.01
    """

    delay: float = 0.0
    jitter: float = 0.0
    loss: float = 0.0
    outages: tuple[tuple[float, float], ...] = ()
    drift_ppm: float = 0.0

    def __post_init__(self) -> None:
        from .._core.errors import ParameterError

        for name in ("delay", "jitter"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ParameterError(f"Network {name}= must be seconds >= 0 (got {value!r})")
        if not 0.0 <= self.loss <= 1.0:
            raise ParameterError(f"Network loss= must be within 0 to 1 (got {self.loss!r})")
        for outage in self.outages:
            if len(outage) != 2 or not outage[0] <= outage[1]:
                raise ParameterError(
                    f"Network outages= are (start, end) pairs with start <= end (got {outage!r})"
                )
        if not (math.isfinite(self.drift_ppm) and abs(self.drift_ppm) < 100_000):
            raise ParameterError(
                f"Network drift_ppm= must be within ±100000 (got {self.drift_ppm!r})"
            )

    @property
    def speed(self) -> float:
        """The participant's audio seconds per second of the room's clock."""
        return 1 + self.drift_ppm / 1e6

    @property
    def buffer(self) -> float:
        """How long after its send time the subscriber plays a packet."""
        return self.delay + self.jitter + PACKET_S


@dataclass
class Playout:
    """One published audio track as the subscriber's jitter buffer plays it."""

    samples: NDArray[np.int16]
    """(frames, channels) at 48 kHz, as the participant publishes it."""
    published_at: float
    network: Network
    rng: np.random.Generator
    muted: list[tuple[float, float]] = field(default_factory=list)
    """(from, to) on the room's clock while the publisher was muted (sent silence)."""
    stopped_at: float = math.inf
    """When the publisher stopped sending (unpublished, left, or vanished)."""
    _arrival: NDArray[np.float64] = field(init=False)
    _converted: dict[tuple[int, int], tuple[NDArray[np.int16], list[int], list[int]]] = field(
        init=False
    )

    def __post_init__(self) -> None:
        packets = math.ceil(self.samples.shape[0] / (RATE * PACKET_S))
        net = self.network
        sent = self.sent_at(np.arange(packets))
        arrival = sent + net.delay
        if net.jitter:
            arrival = arrival + self.rng.uniform(-net.jitter, net.jitter, packets)
        lost = self.rng.random(packets) < net.loss if net.loss else np.zeros(packets, bool)
        for start, end in net.outages:
            lost |= (sent >= start) & (sent < end)
        self._arrival = np.where(lost, np.inf, arrival)
        self._converted = {}

    def sent_at(self, packet: Any) -> Any:
        """When packet(s) ``packet`` left the publisher, on the room's clock."""
        return self.published_at + packet * PACKET_S / self.network.speed

    def packets_arrived(self, now: float) -> int:
        """How many packets the subscriber received by ``now``."""
        return int(np.count_nonzero(self._arrival <= now))

    def last_played_at(self) -> float:
        """When the subscriber plays the last sample that was sent."""
        sent = min(
            self.samples.shape[0] / RATE / self.network.speed, self.stopped_at - self.published_at
        )
        return float(self.published_at + max(0.0, sent) + self.network.buffer)

    def frame(self, start: float, rate: int, channels: int, samples: int) -> NDArray[np.int16]:
        """The ``samples`` frames the subscriber plays from ``start`` on, at ``rate``."""
        first = _sample_at(start - self.published_at - self.network.buffer, rate)
        return self._span(first, rate, channels, samples)

    def frames(
        self, starts: NDArray[np.floating[Any]], rate: int, channels: int, samples: int
    ) -> NDArray[np.int16]:
        """The frames of ``samples`` beginning at each of ``starts``, one after another:
        the same as `frame` for each, concatenated (one slice when they are contiguous)."""
        exact = (starts - self.published_at - self.network.buffer) * rate
        # `_sample_at`'s ceil(round(x, 6)): up to 5e-7 past a whole sample is that sample.
        whole = np.floor(exact)
        past = exact - whole
        firsts = np.where(past <= 5e-7, whole, np.ceil(exact)).astype(np.int64)
        for i in np.flatnonzero(np.abs(past - 5e-7) < 1e-8):  # too close to tell: ask it
            seconds = float(starts[i]) - self.published_at - self.network.buffer
            firsts[i] = _sample_at(seconds, rate)
        first = int(firsts[0])
        if np.array_equal(firsts, first + np.arange(firsts.shape[0]) * samples):
            return self._span(first, rate, channels, samples * firsts.shape[0])
        return np.concatenate([self._span(int(f), rate, channels, samples) for f in firsts])

    def _span(self, first: int, rate: int, channels: int, samples: int) -> NDArray[np.int16]:
        """``samples`` frames of what is heard from sample ``first`` on (zeros outside)."""
        heard, silent_from, silent_to = self._heard(rate, channels)
        lo, hi = max(first, 0), min(first + samples, heard.shape[0])
        if lo == first and hi == first + samples:
            out = heard[lo:hi]  # a view: copied only where something falls silent
        else:
            out = np.zeros((samples, channels), np.int16)
            if lo < hi:
                out[lo - first : hi - first] = heard[lo:hi]
        i = bisect.bisect_right(silent_to, lo)
        if i < len(silent_from) and silent_from[i] < hi and out.base is not None:
            out = out.copy()
        while i < len(silent_from) and silent_from[i] < hi:
            out[max(silent_from[i], lo) - first : min(silent_to[i], hi) - first] = 0
            i += 1
        return out

    def stop(self, at: float) -> None:
        """The publisher stops sending at ``at`` (if not earlier)."""
        if at < self.stopped_at:
            self.stopped_at = at
            self.changed()

    def changed(self) -> None:
        """The script changed (a mute, an end): what is heard is worked out again."""
        self._converted.clear()

    def _heard(self, rate: int, channels: int) -> tuple[NDArray[np.int16], list[int], list[int]]:
        """The published samples at ``rate`` with ``channels`` (LiveKit converts too), on
        the room's clock, and the sorted, disjoint stretches ``[from, to)`` of them heard
        as silence: lost packets, while muted and after the publisher stopped.

        The buffer is deeper than the worst delay, so no packet that arrives is too late.
        """
        key = (rate, channels)
        if key in self._converted:
            return self._converted[key]
        data = self.samples
        if rate != RATE:
            import soxr

            data = np.asarray(soxr.resample(data, RATE, rate, "HQ"), np.int16)
        if data.shape[1] != channels:
            mono = data.astype(np.float64).mean(axis=1, keepdims=True)
            data = np.repeat(np.round(mono), channels, axis=1).astype(np.int16)
        heard = np.ascontiguousarray(data, np.int16)
        per_packet = round(rate * PACKET_S)
        lost: list[tuple[int, int]] = [
            (int(k) * per_packet, (int(k) + 1) * per_packet)
            for k in np.flatnonzero(np.isinf(self._arrival))
        ]
        speed = self.network.speed
        if speed != 1:  # onto the room's clock: drop or repeat samples evenly
            if lost:
                heard = heard.copy()
                for begin, end in lost:
                    heard[begin:end] = 0
                lost = []
            kept = np.floor(np.arange(math.floor(heard.shape[0] / speed)) * speed)
            heard = heard[kept.astype(np.int64)]
        silent = [*lost, *self._silent_while(rate, heard.shape[0])]
        self._converted[key] = (heard, *_merged(silent, heard.shape[0]))
        return self._converted[key]

    def _silent_while(self, rate: int, length: int) -> list[tuple[int, int]]:
        """The samples (of ``length`` on the room's clock) sent while muted or after the
        publisher stopped."""
        out: list[tuple[int, int]] = []
        for begin, end in [*self.muted, (self.stopped_at, math.inf)]:
            if begin >= self.published_at + length / rate:
                continue
            lo = max(0, math.ceil((begin - self.published_at) * rate))
            hi = length
            if end < self.published_at + hi / rate:
                hi = max(0, math.ceil((end - self.published_at) * rate))
            out.append((lo, hi))
        return out


def _merged(stretches: list[tuple[int, int]], length: int) -> tuple[list[int], list[int]]:
    """``stretches`` within ``length``, sorted and merged: their starts and their ends."""
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(stretches):
        lo, hi = max(lo, 0), min(hi, length)
        if lo >= hi:
            continue
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _sample_at(seconds: float, rate: int) -> int:
    """The first sample at or after ``seconds``, the same for every frame: a frame that
    starts half a sample off the grid (a track published at 1.37109375 s) is
    37387.49999999999 or 37867.50000000001 samples in, and both must go the same way."""
    return math.ceil(round(seconds * rate, 6))

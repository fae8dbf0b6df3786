"""A publishes a mark train with ``Stream.publish`` over an impaired network; B receives
it twice on the same subscription: with ``lk.from_participant`` (lkframes) and with a plain
``rtc.AudioStream`` loop (the control), noting when every frame arrived.

The signal: a quiet 300 Hz tone with a loud 1 kHz mark of 30 ms every ``--every`` seconds
(the first at ``--every``). For both streams the result has each mark's onset as a sample
position and as the wall time that sample arrived (``time.monotonic()``, one clock in
every namespace), the frames' pts continuity, how much audio arrived, and when the stream
ended after A left. Also A's own times (publish start, end, leave) and, for the notes on
sender time, B's RTP stats of the track at the end (`rtp_stats`).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.json_format import MessageToDict
from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run, subscribed_track

RATE = 48_000
MARK_S = 0.03
SUBSCRIBE_S = 20.0
THRESHOLD = 6_000
"""A mark is louder than this (int16); the tone under it never is."""


def mark_hz(k: int) -> float:
    """Mark k's pitch: which mark arrived is heard, not guessed from its position."""
    return 600.0 + 200.0 * k


def mark_train(seconds: float, every: float) -> np.ndarray:
    """The quiet tone, with mark k (1, 2, ...) at ``k * every`` seconds."""
    t = np.arange(round(seconds * RATE)) / RATE
    signal = 600 * np.sin(2 * np.pi * 300 * t)
    n = round(MARK_S * RATE)
    for k in range(1, int(seconds / every)):
        start = round(k * every * RATE)
        signal[start : start + n] = 16_000 * np.sin(2 * np.pi * mark_hz(k) * t[:n])
    return np.round(signal).astype(np.int16)


def which_mark(x: np.ndarray) -> int:
    """The k of the mark whose onset starts ``x`` (20 ms from 5 ms in, by its pitch)."""
    window = x[RATE // 200 : RATE // 200 + RATE // 50].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(window * np.hanning(window.size)))
    hz = float(np.fft.rfftfreq(window.size, 1 / RATE)[int(np.argmax(spectrum))])
    return round((hz - 600.0) / 200.0)


class Timed:
    """Samples and the monotonic arrival time of each frame, for either reader."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.arrivals: list[float] = []
        self.pts_continuous = True
        self.next_pts: int | None = None
        self.ended_at: float | None = None
        self.error: str | None = None
        self.paused_at: float | None = None

    def add(self, samples: np.ndarray, pts: int | None = None) -> None:
        if pts is not None:
            if self.next_pts is not None and pts != self.next_pts:
                self.pts_continuous = False
            self.next_pts = pts + samples.size
        self.chunks.append(samples)
        self.arrivals.append(time.monotonic())

    def marks(self) -> list[tuple[int, int, float]]:
        """(k, sample, arrival of that sample) of each mark's onset."""
        if not self.chunks:
            return []
        x = np.concatenate(self.chunks)
        ends = np.cumsum([c.size for c in self.chunks])
        loud = np.flatnonzero(np.abs(x.astype(np.int32)) > THRESHOLD)
        onsets = loud[np.insert(np.diff(loud) > RATE // 10, 0, True)] if loud.size else loud
        found = []
        for onset in onsets:
            k = which_mark(x[onset:])
            if k < 1:
                continue  # not a mark's pitch: a click where the audio resumed (seen once)
            i = int(np.searchsorted(ends, onset, side="right"))
            arrived = self.arrivals[i] - (ends[i] - onset) / RATE
            found.append((k, int(onset), arrived))
        return found

    def summary(self, left_at: float, path: Path) -> Result:
        samples = sum(c.size for c in self.chunks)
        np.save(path, np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16))
        np.save(path.with_suffix(".arrivals.npy"), np.array(self.arrivals))
        return {
            "file": str(path),
            "seconds": samples / RATE,
            "first_arrival": self.arrivals[0] if self.arrivals else None,
            "last_arrival": self.arrivals[-1] if self.arrivals else None,
            "frames": len(self.chunks),
            "pts_continuous": self.pts_continuous,
            "marks": self.marks(),
            "end": None if self.ended_at is None else self.ended_at - left_at,
            "error": self.error,
            "paused_at": self.paused_at,
            "longest_gap": max(np.diff(self.arrivals), default=0.0),
        }


async def read_lkframes(
    stream: lk.Stream[lk.AudioFrame], into: Timed, leaving: asyncio.Event, pause_s: float
) -> None:
    """Read lkframes' stream; once A begins to leave, stop reading for ``pause_s`` (a
    consumer busy elsewhere, or a busy machine, while the last audio is still coming),
    noting when in ``into.paused_at``."""
    try:
        async with stream.open() as frames:
            async for frame in frames:
                into.add(frame.data[:, 0].copy(), frame.pts)
                if pause_s and leaving.is_set():
                    into.paused_at = time.monotonic()
                    await asyncio.sleep(pause_s)
                    pause_s = 0.0
    except Exception as exc:
        into.error = f"{type(exc).__name__}: {exc}"
    finally:
        into.ended_at = time.monotonic()


async def read_plain(track: rtc.RemoteAudioTrack, into: Timed, stop: asyncio.Event) -> None:
    """The control: the SDK's stream, read until A has left and 0.5 s passed quietly."""
    stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
    try:
        while True:
            try:
                event = await asyncio.wait_for(anext(stream), 0.5)
            except TimeoutError:
                if stop.is_set():
                    break
                continue
            except StopAsyncIteration:
                break
            into.add(np.frombuffer(event.frame.data, np.int16).copy())
    finally:
        into.ended_at = time.monotonic()
        await stream.aclose()


def rtp_stats(stats: list[Any]) -> dict[str, Any]:
    """The track's ``inbound-rtp`` and ``remote-outbound-rtp`` reports (the timing the SDK
    exposes beside the frames)."""
    found: dict[str, Any] = {}
    for report in stats:
        fields = MessageToDict(report)
        for kind in ("inboundRtp", "remoteOutboundRtp"):
            if kind in fields:
                found[kind] = fields[kind]
    return found


async def main(args: argparse.Namespace) -> Result:
    signal = mark_train(args.seconds, args.every)
    lk_timed, plain_timed = Timed(), Timed()
    left = asyncio.Event()
    unsubscribed_at: list[float] = []
    async with participant(args, "B") as room_b:

        def on_unsubscribed(*_: Any) -> None:
            unsubscribed_at.append(time.monotonic())

        room_b.on("track_unsubscribed", on_unsubscribed)
        # A subscription through a 300 kbit/s cap takes 1.4 s; on a busy machine over 5 s.
        track_task = asyncio.create_task(subscribed_track(room_b, "A", SUBSCRIBE_S))
        by_lkframes = asyncio.create_task(
            read_lkframes(
                lk.from_participant(room_b, "A", sample_rate=RATE),
                lk_timed,
                left,
                args.pause,
            )
        )
        async with participant(args, "A") as room_a:
            started = time.monotonic()
            publishing = asyncio.create_task(lk.from_array(signal, RATE).publish(room_a, "marks"))
            track = await track_task
            print("publishing", flush=True)  # subscribed: the test may start an outage now
            plain = asyncio.create_task(read_plain(track, plain_timed, left))
            sent = await publishing
            published = time.monotonic()
            stats = rtp_stats(await track.get_stats())
            left.set()
        left_at = time.monotonic()
        await asyncio.wait_for(asyncio.gather(by_lkframes, plain), WAIT_S + 3)
    return {
        "sent_seconds": sent.duration,
        "publish_started": started,
        "publish_wall": published - started,
        "left_at": left_at,
        "unsubscribed_at": unsubscribed_at[0] if unsubscribed_at else None,
        "every": args.every,
        "lkframes": lk_timed.summary(left_at, args.out / "lkframes.npy"),
        "plain": plain_timed.summary(left_at, args.out / "plain.npy"),
        "rtp_stats": stats,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument(
        "--pause", type=float, default=0.0, help="lkframes' reader stops this long at the end"
    )


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))

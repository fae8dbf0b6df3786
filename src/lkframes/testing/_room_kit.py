"""Property tests of code that consumes a room: `RoomScenario`, `room_scenarios`,
`check_room_consumer` and what a consumer returns (`RoomKept`)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import anyio.lowlevel
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from .._core.errors import ParameterError
from .._core.loops import library
from .._core.resources import open_resources
from .._core.video import VideoFrame
from ._room_camera import camera_frames, check_seen
from ._sim_audio import Network
from ._sim_room import SimulatedParticipant, SimulatedRoom, SimulatedTrack, SimulatedVideoTrack
from ._stage_kit import phases
from ._virtual_clock import run_virtual

__all__ = (
    "RoomConsumer",
    "RoomKept",
    "RoomScenario",
    "Talker",
    "check_room_consumer",
    "room_scenarios",
)

RATE = 48_000


@dataclass(frozen=True)
class RoomKept:
    """What a consumer kept of a room, per identity, for `check_room_consumer` to check.

    A consumer returns this to have its video checked too; a plain mapping
    ``{identity: audio}`` is the same as ``RoomKept(audio=mapping)``. What is None is not
    checked: ``RoomKept(video=...)`` is a consumer of cameras only.

    Examples:
        >>> import numpy as np
        >>> from lkframes.testing import RoomKept
        >>> kept = RoomKept(audio={"alice": np.zeros(480, np.int16)}, video={"alice": []})
        >>> sorted(kept.video)
        ['alice']
    """

    audio: Mapping[str, NDArray[np.int16]] | None = None
    """Each one's audio: int16, 48 kHz, mono, shaped (samples,) or (samples, 1)."""
    video: Mapping[str, Sequence[VideoFrame]] | None = None
    """Each one's camera: the `lkframes.VideoFrame` objects kept, in the order kept, in a
    packed RGB layout (``rgba``, the default of `lkframes.from_participant_video`, ``bgra``,
    ``argb``, ``abgr``, ``rgb24`` or ``bgr24``: frames are told apart by their pixels;
    ``gray`` loses the colours that tell them)."""


RoomConsumer = Callable[[SimulatedRoom], Awaitable[Mapping[str, NDArray[np.int16]] | RoomKept]]
"""The type of a function `check_room_consumer` tests.

It reads the room and returns, per identity, the audio it kept (int16, 48 kHz, mono,
shaped (samples,) or (samples, 1)), or a `RoomKept` with the audio and the video.

Examples:
    >>> import lkframes as lk
    >>> from lkframes.testing import RoomConsumer
    >>> async def alice_only(room):
    ...     return {"alice": await lk.from_participant(room, "alice").to_array()}
    >>> consumer: RoomConsumer = alice_only
"""


@dataclass(frozen=True)
class Talker:
    """One participant of a `RoomScenario`.

    In the room from ``joins`` until ``gone`` (a goodbye, or with ``vanishes`` a
    connection that died), talking in ``talks`` ``(start, seconds)`` after joining, behind
    ``network``. With ``camera_fps``, they also show a camera from joining until gone, that
    many frames a second: small RGBA frames (`camera`) whose pixels say whose and which
    frame each is.

    Examples:
        >>> from lkframes.testing import Network, Talker
        >>> Talker("alice", joins=0.5, gone=3.0, talks=((0.2, 1.0),)).identity
        'alice'
        >>> Talker("bob", 0.0, 2.0, (), camera_fps=10.0).camera(number=1).shape
        (21, 24, 32, 4)
    """

    identity: str
    joins: float
    gone: float
    talks: tuple[tuple[float, float], ...]
    vanishes: bool = False
    network: Network = field(default_factory=Network)
    camera_fps: float | None = None

    def signal(self, seed: int) -> NDArray[np.int16]:
        """What they publish from joining: silence, with loud noise while they talk."""
        rng = np.random.default_rng(seed)
        out = np.zeros(round((self.gone - self.joins) * RATE), np.int16)
        for start, seconds in self.talks:
            lo, hi = round(start * RATE), min(out.size, round((start + seconds) * RATE))
            out[lo:hi] = np.clip(rng.standard_normal(max(0, hi - lo)) * 5_000 + 1, -32767, 32767)
        return out

    def camera(self, number: int) -> NDArray[np.uint8]:
        """What their camera shows from joining until gone, as (frames, 24, 32, 4) RGBA.

        Frame ``k``'s first pixel holds ``k`` (red: the low byte, green: the high byte) and
        ``number``, their place in the scenario (blue); the other pixels a pattern of both.
        A camera shows at most 65 536 frames.

        Raises:
            ParameterError: No camera (``camera_fps`` is None or not above 0), too many
                frames, or ``number`` over 255.
        """
        fps = self.camera_fps
        if fps is None or not (math.isfinite(fps) and fps > 0):
            raise ParameterError(
                f"Talker {self.identity!r}: camera_fps= must be frames per second > 0 (got {fps!r})"
            )
        count = math.ceil((self.gone - self.joins) * fps * self.network.speed) + 1
        return camera_frames(number, np.arange(count))


@dataclass(frozen=True)
class RoomScenario:
    """A script for a `SimulatedRoom`: who is there when, who says what, which network.

    Examples:
        >>> from lkframes.testing import RoomScenario, Talker
        >>> scenario = RoomScenario((Talker("alice", 0.0, 2.0, ((0.5, 1.0),)),))
        >>> sorted(scenario.room().present)  # a fresh room each time, not yet entered
        []
    """

    talkers: tuple[Talker, ...]
    seed: int = 0

    def room(self, *, block: float = 0.0) -> SimulatedRoom:
        """A new `SimulatedRoom` scripted with this scenario (a room is entered once),
        with ``block`` (see `SimulatedRoom`)."""
        room = SimulatedRoom(seed=self.seed, block=block)
        for i, talker in enumerate(self.talkers):
            who = room.participant(talker.identity, joins=talker.joins, network=talker.network)
            who.publish_audio(talker.signal(self.seed + i), at=talker.joins)
            if talker.camera_fps is not None:
                who.publish_video(talker.camera(i), fps=talker.camera_fps, at=talker.joins)
            (who.vanish if talker.vanishes else who.leave)(talker.gone)
        return room

    def last_gone(self, room: SimulatedRoom) -> float:
        """When the room learns that the last participant is gone (room clock)."""
        return max(
            t.gone + (room.removal_after if t.vanishes else t.network.delay) for t in self.talkers
        )


@st.composite
def room_scenarios(
    draw: st.DrawFn,
    *,
    max_participants: int = 3,
    max_seconds: float = 6.0,
    impairments: bool = True,
    vanishing: bool = True,
    cameras: bool = False,
) -> RoomScenario:
    """Hypothesis strategy: `RoomScenario` of 1 to ``max_participants`` talkers.

    Within ``max_seconds``, the room empties only when the last one goes; with
    ``impairments``, delay, jitter, loss, outages and clock drift; with ``vanishing``, participants
    whose connection dies; with ``cameras``, talkers who also show a camera (10, 12.5 or 30
    frames a second). Shrinks toward one talker on a perfect network, without a camera.

    Raises:
        hypothesis.errors.InvalidArgument: A bound is out of range (from Hypothesis).

    Examples:
        >>> from hypothesis import given
        >>> from lkframes.testing import room_scenarios
        >>> @given(room_scenarios(max_participants=2))
        ... def test(scenario):
        ...     assert 1 <= len(scenario.talkers) <= 2
        >>> test()
    """
    count = draw(st.integers(1, max_participants))
    talkers: list[Talker] = []
    for i in range(count):
        # Someone is always there until the last one goes (the room never empties early).
        latest = min(max_seconds / 2, max((t.gone for t in talkers), default=0.0) - 0.1)
        joins = draw(st.floats(0.0, max(0.0, latest))) if i else 0.0
        stay = draw(st.floats(0.5, max(0.5, max_seconds - joins)))
        talks = []
        at = 0.0
        for _ in range(draw(st.integers(1, 3))):
            start = at + draw(st.floats(0.0, 1.0))
            seconds = draw(st.floats(0.1, 1.5))
            if start + 0.05 >= stay:
                break
            talks.append((round(start, 3), round(min(seconds, stay - start), 3)))
            at = start + seconds
        network = Network()
        if impairments:
            delay = draw(st.floats(0.0, 0.2))
            loss = draw(st.sampled_from([0.0, 0.01, 0.05, 0.2]))
            outage = draw(st.none() | st.floats(0.0, stay))
            outages = () if outage is None else ((joins + outage, joins + outage + 0.5),)
            drift = draw(st.sampled_from([0.0, 50.0, -50.0, 500.0, -500.0]))
            network = Network(delay, draw(st.floats(0.0, 0.04)), loss, outages, drift)
        vanishes = vanishing and draw(st.booleans())
        fps = draw(st.none() | st.sampled_from([10.0, 12.5, 30.0])) if cameras else None
        talkers.append(
            Talker(
                f"p{i}",
                round(joins, 3),
                round(joins + stay, 3),
                tuple(talks),
                vanishes,
                network,
                camera_fps=fps,
            )
        )
    return RoomScenario(tuple(talkers), seed=draw(st.integers(0, 2**16)))


def check_room_consumer(
    consumer: RoomConsumer,
    *,
    scenarios: st.SearchStrategy[RoomScenario] | None = None,
    max_examples: int = 30,
    end_within: float = 1.0,
    backend: Literal["asyncio", "trio"] = "asyncio",
) -> None:
    """Check ``consumer`` against generated room scenarios; a failure names the smallest.

    For each scenario ``consumer(room)`` runs in a `SimulatedRoom` on a virtual clock and
    must: keep every sample each participant was heard saying (all but what the network
    lost, in order, nothing added); return within ``end_within`` seconds after the room
    learns that the last participant is gone; leave no task running and nothing open.
    A consumer that returns a `RoomKept` with ``video`` must also keep every frame of
    each camera that arrived (all but what the network lost; frames shown before the
    subscription or after the unsubscription never arrive), each once, in order, with
    increasing timestamps, and no frame they did not show (try it with
    ``scenarios=room_scenarios(cameras=True)``).

    Args:
        consumer: ``async def consumer(room) -> {identity: audio}`` (int16, 48 kHz, mono),
            or ``-> RoomKept(audio=..., video=...)``.
        scenarios: The scenarios to try (default `room_scenarios()`).
        max_examples: How many scenarios Hypothesis tries.
        end_within: Seconds (virtual) the consumer may take after the last one is gone.
        backend: The event loop `run_virtual` runs each scenario on: ``"asyncio"`` or
            ``"trio"`` (the same scenario gives the same frames on both).

    Raises:
        AssertionError: A property failed; the message names it, Hypothesis the scenario.

    Examples:
        >>> import lkframes as lk
        >>> from lkframes.testing import check_room_consumer
        >>> async def record(room):
        ...     audio = await lk.from_room(room, mix=False, until_empty=True).collect()
        ...     kept = {}
        ...     for identity, frame in audio:
        ...         kept.setdefault(identity, []).append(frame.data[:, 0])
        ...     return {k: np.concatenate(v) for k, v in kept.items()}
        >>> check_room_consumer(record, max_examples=3)
    """

    @settings(max_examples=max_examples, deadline=None, phases=phases())
    @given(scenarios if scenarios is not None else room_scenarios())
    def check(scenario: RoomScenario) -> None:
        run_virtual(lambda: _one(consumer, scenario, end_within), backend=backend)

    check()


async def _one(consumer: RoomConsumer, scenario: RoomScenario, end_within: float) -> None:
    room = scenario.room()
    async with room:
        deadline = scenario.last_gone(room) + end_within
        kept: Any = None
        with anyio.move_on_after(deadline - room.clock()) as limit:
            kept = await consumer(room)
        if limit.cancelled_caught:
            raise AssertionError(
                f"the consumer did not return within end_within={end_within} s after the "
                f"room learned the last participant was gone ({scenario.last_gone(room):.3f} s)"
            ) from None
        if not isinstance(kept, RoomKept):
            kept = RoomKept(audio=kept)
        for number, talker in enumerate(scenario.talkers):
            who = room.present.get(talker.identity) or _gone(room, talker.identity)
            if kept.audio is not None:
                _check_heard(talker.identity, who, kept.audio.get(talker.identity))
            cameras = [t for t in who.scripted if isinstance(t, SimulatedVideoTrack)]
            if kept.video is not None and cameras:
                check_seen(talker.identity, number, cameras[0], kept.video.get(talker.identity))
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        left = [name for name in _other_tasks() if name != "SimulatedRoom"]
        assert not left, f"the consumer left tasks running: {left}"
    assert not any(open_resources().values()), f"left open: {open_resources()}"


def _other_tasks() -> list[str]:
    """The names of the tasks running beside the current one (and those it runs in)."""
    if library() == "asyncio":
        import asyncio

        current = asyncio.current_task()
        return [t.get_name() for t in asyncio.all_tasks() if t is not current]
    import trio

    mine: set[Any] = set()
    task: Any = trio.lowlevel.current_task()
    while task is not None:  # the current task and those it is nested in
        mine.add(task)
        task = task.parent_nursery.parent_task if task.parent_nursery is not None else None
    root = trio.lowlevel.current_root_task()
    names, stack = [], [root]
    while stack:
        task = stack.pop()
        if task not in mine and not task.name.startswith(("<", "trio.")):  # trio's own
            names.append(task.name)
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return names


def _gone(room: SimulatedRoom, identity: str) -> SimulatedParticipant:
    for who, _ in room._cast:
        if who.identity == identity:
            return who
    raise AssertionError(f"{identity!r} is not in the scenario")


def _check_heard(identity: str, who: SimulatedParticipant, kept: Any) -> None:
    """``kept`` holds all that ``who`` was heard saying, in order, nothing added."""
    audio = [track for track in who.scripted if isinstance(track, SimulatedTrack)]
    expected = [heard for track in audio if (heard := _heard(track)).size]
    want = np.concatenate(expected) if expected else np.zeros(0, np.int16)
    if not want.any():
        return  # nothing was heard of them (all lost, or before the subscription)
    assert kept is not None, f"nothing kept of {identity!r}, who was heard talking"
    got = np.asarray(kept).reshape(-1)
    loud_want, loud_got = want[want != 0], got[got != 0]
    assert loud_got.size >= loud_want.size, (
        f"{identity!r}: {loud_want.size - loud_got.size} of the {loud_want.size} samples they"
        " were heard saying are missing"
    )
    assert np.array_equal(loud_got, loud_want), f"{identity!r}: what was kept is not what they said"


def _heard(track: Any) -> NDArray[np.int16]:
    """What the subscriber could hear of ``track``: from its subscription to the end of
    what was sent before it stopped (lost packets silent)."""
    playout = track.playout
    begin = track.subscribed_at
    if begin is None:
        return np.zeros(0, np.int16)
    end = playout.last_played_at()
    if not math.isfinite(end) or end <= begin:
        return np.zeros(0, np.int16)
    samples = round((end - begin) * RATE) + RATE // 10  # past the end: silence there
    heard: NDArray[np.int16] = playout.frame(begin, RATE, 1, samples)[:, 0]
    return heard

"""`record_room`: a room's audio into one mixed file, or one file per participant, aligned."""

from __future__ import annotations

import math
import os
import re
from collections.abc import AsyncGenerator, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._core.errors import OutputExistsError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.stream import Stream
from .._core.tasks import one_error
from ..io import to_file
from ..livekit import RoomStats, from_room
from ..livekit._events import require_asyncio

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("RoomRecording", "record_room")

SILENCE_BLOCK_S = 1.0
"""Silence before a participant's first audio (or in a gap) is written this much at a time."""


@dataclass(frozen=True)
class RoomRecording:
    """What `record_room` wrote.

    Examples:
        >>> from pathlib import Path
        >>> import lkframes as lk
        >>> done = lk.RoomRecording(mixed=Path("room.wav"), files={}, duration=12.5)
        >>> done.mixed.name, done.duration
        ('room.wav', 12.5)
    """

    mixed: Path | None
    """The mixed file (``mix=True``), else None."""
    files: dict[str, Path]
    """Each participant's file by identity (``mix=False``), else empty."""
    duration: float
    """Seconds of the room's timeline recorded (every file starts at its 0)."""


def file_name(identity: str, taken: Collection[str], suffix: str) -> str:
    """A file name for ``identity``: unsafe characters replaced, unique among ``taken``.

    Examples:
        >>> file_name("alice", set(), ".wav")
        'alice.wav'
        >>> file_name("bob smith", {"bob_smith.wav"}, ".wav")
        'bob_smith-2.wav'
        >>> file_name("../etc", set(), ".wav")
        '___etc.wav'
    """
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", identity) or "_"
    name, n = stem + suffix, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}{suffix}"
    return name


class _Apart:
    """One file per participant, each starting at the timeline's 0 (silence before their
    first audio and in their gaps), written by a task of its own."""

    def __init__(self, folder: Path, suffix: str, overwrite: bool, group: Any) -> None:
        self.folder = folder
        self.suffix = suffix
        self.overwrite = overwrite
        self.group = group
        self.files: dict[str, Path] = {}
        self._sends: dict[str, MemoryObjectSendStream[AudioFrame]] = {}
        self._next: dict[str, int] = {}

    async def add(self, identity: str, frame: AudioFrame) -> None:
        send = self._sends.get(identity)
        if send is None:
            send = self._open(identity, frame.format)
        at = self._next.get(identity, 0)
        for silence in _silence(frame.format, at, frame.pts):
            await send.send(silence)
        await send.send(frame)
        self._next[identity] = frame.end_pts

    def _open(self, identity: str, fmt: AudioFormat) -> MemoryObjectSendStream[AudioFrame]:
        name = file_name(identity, {p.name for p in self.files.values()}, self.suffix)
        path = self.files[identity] = self.folder / name
        self.folder.mkdir(parents=True, exist_ok=True)  # once someone is heard
        send, receive = anyio.create_memory_object_stream[AudioFrame](math.inf)
        self._sends[identity] = send
        self.group.start_soon(_write, receive, fmt, path, self.overwrite)
        return send

    def close(self) -> None:
        for send in self._sends.values():
            send.close()


async def _write(
    frames: MemoryObjectReceiveStream[AudioFrame], fmt: AudioFormat, path: Path, overwrite: bool
) -> None:
    async def received() -> AsyncGenerator[AudioFrame, None]:
        async with frames:
            async for frame in frames:
                yield frame

    recording = Stream(received, format=fmt, name="record_room", live=True)
    await to_file(recording, path, overwrite=overwrite)


def _silence(fmt: AudioFormat, start: int, end: int) -> list[AudioFrame]:
    """Zeros from pts ``start`` to ``end``, in blocks of at most `SILENCE_BLOCK_S`."""
    step = round(SILENCE_BLOCK_S * fmt.sample_rate)
    out = []
    for pts in range(start, end, step):
        samples = min(step, end - pts)
        out.append(AudioFrame.of(np.zeros((samples, fmt.num_channels), np.int16), fmt, pts))
    return out


def _check_folder(folder: Path, overwrite: bool) -> None:
    """Refuse a file, or (without ``overwrite``) a folder that holds files."""
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"mix=False records into a folder; {str(folder)!r} is a file")
    if not overwrite and folder.is_dir() and any(folder.iterdir()):
        raise OutputExistsError(
            f"{str(folder)!r} is not empty; pass overwrite=True to replace files of the same "
            "names there"
        )


async def record_room(
    room: rtc.Room,
    path: str | os.PathLike[str],
    *,
    mix: bool = True,
    sample_rate: int = 48_000,
    num_channels: int = 1,
    gains: Mapping[str, float] | None = None,
    identities: Collection[str] | None = None,
    suffix: str = ".wav",
    overwrite: bool = False,
    until_empty: bool = True,
    duration: float | None = None,
    delay: float = 0.25,
    stall_timeout: float | None = None,
    stats: RoomStats | None = None,
) -> RoomRecording:
    """Record a room's audio: one mixed file, or one file per participant, all aligned.

    Reads the room with `from_room` (everyone's microphone on one wall-clock timeline)
    and writes as it goes. With ``mix=False``, ``path`` is a folder (created when the
    first participant is heard) that gets one file per participant heard, named after
    their identity; every file starts at the same moment, the start of the recording
    (silence until the participant was first heard, and while they were away), so the
    files line up in an editor.

    The recording ends when the room empties (the last remote participant left, once
    someone was there; ``until_empty=False`` waits for the room to disconnect), at
    ``duration``, when the room disconnects, or when the caller cancels. The files are
    valid whatever ends it: a new file holds everything written until then; an existing
    file (``overwrite=True``) is replaced only when the recording ends without being
    cancelled (see `to_file`).

    Args:
        room: A connected ``rtc.Room`` (auto-subscribe on).
        path: The file (``mix=True``; the extension chooses the format) or the folder.
        mix: One mixed file, or one per participant.
        sample_rate: The rate to receive and write.
        num_channels: Channels to receive and write.
        gains: A linear gain per identity in the mix (see `from_room`).
        identities: Only these participants (default: everyone).
        suffix: The per-participant files' extension (``mix=False``), e.g. ``".flac"``.
        overwrite: Replace existing files (``mix=False``: the folder may hold files).
        until_empty: End when the room empties.
        duration: End after this many seconds.
        delay: Seconds each stretch waits for late audio (see `from_room`).
        stall_timeout: Stop listening to a participant whose connection died (see
            `from_participant`); a silent one is listened to until they leave.
        stats: A `RoomStats` filled in while recording (``started_at`` is the files' 0).

    Returns:
        A `RoomRecording` naming the files.

    Raises:
        OutputExistsError: The file exists, or (``mix=False``) the folder is not empty,
            and ``overwrite`` is false.
        ParameterError: A bad setting, or a file where the folder should be.
        NotConnectedError: The room is not connected.
        WrongEventLoopError: Not running on asyncio.

    Examples:
        An existing file is refused before anything is read:

        >>> import asyncio, os, tempfile
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> taken = os.path.join(tempfile.mkdtemp(), "room.wav")
        >>> open(taken, "wb").close()
        >>> async def main():
        ...     try:
        ...         await lk.record_room(rtc.Room(), taken)
        ...     except lk.OutputExistsError:
        ...         print("refused")
        >>> asyncio.run(main())
        refused
    """
    require_asyncio("record_room", room)
    target = Path(path)
    if not suffix.startswith(".") or len(suffix) < 2:
        raise ParameterError(f"suffix must be a file extension such as '.wav' (got {suffix!r})")
    stats = RoomStats() if stats is None else stats
    options: dict[str, Any] = {
        "sample_rate": sample_rate,
        "num_channels": num_channels,
        "gains": gains,
        "identities": identities,
        "delay": delay,
        "until_empty": until_empty,
        "duration": duration,
        "stall_timeout": stall_timeout,
        "stats": stats,
    }
    if mix:
        summary = await from_room(room, mix=True, **options).to_file(target, overwrite=overwrite)
        del summary
        return RoomRecording(target, {}, stats.seconds)
    apart_stream = from_room(room, mix=False, **options)  # checks the settings
    _check_folder(target, overwrite)
    with one_error():
        async with anyio.create_task_group() as writers:
            apart = _Apart(target, suffix, overwrite, writers)
            try:
                async with apart_stream.open() as items:
                    async for identity, frame in items:
                        await apart.add(identity, frame)
            finally:
                apart.close()
    return RoomRecording(None, dict(apart.files), stats.seconds)

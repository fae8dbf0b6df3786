"""`from_file` reads up to two blocks ahead in a worker thread; `to_file` writes one behind.

The frames and pts are the ones a block-by-block read gives, the pipeline after it is
unchanged, an error in the thread is raised where the same read made inline raised it,
and however the consumer leaves (``break``, an exception, a cancellation) the read in
flight ends before the file is closed and no thread or resource is left behind.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray

import lkframes as lk
from lkframes.io import _reader
from lkframes.testing import open_resources

pytestmark = pytest.mark.anyio

RATE = 44_100
BLOCK = RATE // 2  # from_file's 500 ms blocks


@pytest.fixture
def noise_flac(tmp_path: Path) -> tuple[Path, NDArray[np.int16]]:
    """5.3 s of stereo noise as FLAC, and its samples."""
    rng = np.random.default_rng(7)
    data = (rng.standard_normal((RATE * 5 + 12_345, 2)) * 4_000).astype(np.int16)
    path = tmp_path / "noise.flac"
    sf.write(str(path), data, RATE)
    return path, data


class Recorder:
    """Wraps `FileReader.read` and `close`: what ran, in which order, and how long."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, delay: float = 0.0) -> None:
        self.events: list[str] = []
        self.reading = 0
        self.fail_at: int | None = None
        self.reads = 0
        self._lock = threading.Lock()
        read, close = _reader.FileReader.read, _reader.FileReader.close

        def slow_read(reader: _reader.FileReader, samples: int) -> NDArray[Any]:
            with self._lock:
                self.reads += 1
                number = self.reads
                self.reading += 1
                self.events.append(f"read {number}")
            try:
                time.sleep(delay)
                if number == self.fail_at:
                    raise lk.AudioFileError(f"read {number} failed")
                return read(reader, samples)
            finally:
                with self._lock:
                    self.reading -= 1
                    self.events.append(f"read {number} done")

        def logged_close(reader: _reader.FileReader) -> None:
            with self._lock:
                self.events.append(f"close (reading: {self.reading})")
            close(reader)

        monkeypatch.setattr(_reader.FileReader, "read", slow_read)
        monkeypatch.setattr(_reader.FileReader, "close", logged_close)

    def wait_for(self, event: str) -> bool:
        """Block (the event loop too: nothing else may run) until ``event`` has happened."""
        for _ in range(400):
            if event in self.events:
                return True
            time.sleep(0.005)
        return False

    def closed_after_reads(self) -> bool:
        """The file was closed once, after every read had ended."""
        closes = [e for e in self.events if e.startswith("close")]
        return closes == ["close (reading: 0)"] and self.events[-1] == closes[0]


async def test_frames_and_pts_are_those_of_block_by_block_reading(
    anyio_backend: str, noise_flac: tuple[Path, NDArray[np.int16]]
) -> None:
    path, data = noise_flac
    frames = await lk.from_file(path).collect()
    assert [f.pts for f in frames] == list(range(0, data.shape[0], BLOCK))
    for frame in frames:
        np.testing.assert_array_equal(frame.data, data[frame.pts : frame.pts + BLOCK])
    # The whole pipeline after it: the same frames as from the samples in memory.
    planned = lk.from_file(path).resample(16_000).chunk(ms=20).map(lambda f: f.data // 2)
    in_memory = lk.from_array(data, RATE).resample(16_000).chunk(ms=20).map(lambda f: f.data // 2)
    got, expected = await planned.collect(), await in_memory.collect()
    assert [f.pts for f in got] == [f.pts for f in expected]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


async def test_start_end_and_small_blocks_read_ahead_exactly(
    anyio_backend: str, noise_flac: tuple[Path, NDArray[np.int16]]
) -> None:
    path, data = noise_flac
    frames = await lk.from_file(path, block_ms=7, start=1.0, end=2.5).collect()
    first, last = RATE, round(2.5 * RATE)
    np.testing.assert_array_equal(np.concatenate([f.data for f in frames]), data[first:last])
    assert frames[0].pts == first
    assert all(b.pts == a.pts + a.samples_per_channel for a, b in itertools.pairwise(frames))


async def test_the_next_block_is_read_while_the_consumer_works(
    anyio_backend: str, noise_flac: tuple[Path, NDArray[np.int16]], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    async with lk.from_file(noise_flac[0]).open() as frames:
        await anext(frames)
        # The worker thread reads the next blocks while the event loop does not run...
        assert recorder.wait_for("read 3 done")
        time.sleep(0.05)  # noqa: ASYNC251 - blocking on purpose: the loop must not run
        assert recorder.reads == 3  # ... two blocks ahead, no more
    assert recorder.closed_after_reads()


@pytest.mark.parametrize("ending", ["break", "error", "cancel"])
async def test_leaving_while_a_read_is_in_flight_waits_for_it_then_closes(
    anyio_backend: str,
    noise_flac: tuple[Path, NDArray[np.int16]],
    monkeypatch: pytest.MonkeyPatch,
    ending: str,
) -> None:
    recorder = Recorder(monkeypatch, delay=0.2)
    threads = threading.active_count()
    stream = lk.from_file(noise_flac[0]).resample(16_000).chunk(ms=20)
    failed: list[str] = []
    with anyio.CancelScope() as scope:
        try:
            async with stream.open() as frames:
                async for frame in frames:
                    if frame.pts >= 8_000:  # the second block: the third read is in flight
                        assert recorder.wait_for("read 3")
                        assert recorder.reading == 1
                        if ending == "break":
                            break
                        if ending == "error":
                            raise RuntimeError("consumer failed")
                        scope.cancel()
                        await anyio.lowlevel.checkpoint()
        except RuntimeError as exc:
            failed.append(str(exc))
    assert failed == (["consumer failed"] if ending == "error" else [])
    assert scope.cancelled_caught == (ending == "cancel")
    assert recorder.reads == 3
    assert recorder.closed_after_reads(), recorder.events
    assert open_resources() == {}
    assert threading.active_count() <= threads + 1  # a reused worker, at most


async def test_a_read_error_is_raised_after_the_blocks_before_it(
    anyio_backend: str, noise_flac: tuple[Path, NDArray[np.int16]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read 3 fails while block 2 is being consumed: the consumer sees blocks 1 and 2 first.
    recorder = Recorder(monkeypatch)
    recorder.fail_at = 3
    seen: list[int] = []

    async def consume() -> None:
        async with lk.from_file(noise_flac[0]).open() as frames:
            async for frame in frames:
                seen.append(frame.pts)  # noqa: PERF401 - each as it comes, before the error

    with pytest.raises(lk.AudioFileError, match=r"^read 3 failed$"):
        await consume()
    assert seen == [0, BLOCK]
    assert recorder.reads == 3
    assert recorder.closed_after_reads()
    assert open_resources() == {}


async def test_explain_shows_the_thread_boundary(
    anyio_backend: str, noise_flac: tuple[Path, NDArray[np.int16]]
) -> None:
    stream = lk.from_file(noise_flac[0]).resample(16_000).chunk(ms=20)
    steps = stream.explain().splitlines()
    assert steps[1] == (
        "  1. source: from_file('noise.flac')  [decoded in a worker thread, up to 2 blocks "
        "ahead]"
        "  -> 44100 Hz stereo int16"
    )
    assert "worker thread" not in "".join(steps[2:])
    assert "worker thread" not in lk.from_array(np.zeros(10, np.int16), RATE).explain()


async def test_written_behind_is_written_whole_and_in_order(
    anyio_backend: str, noise_flac: tuple[Path, NDArray[np.int16]], tmp_path: Path
) -> None:
    path, data = noise_flac
    out = tmp_path / "copy.wav"
    summary = await lk.from_file(path).chunk(ms=20).to_file(out)
    assert summary.samples_per_channel == data.shape[0]
    np.testing.assert_array_equal(sf.read(str(out), dtype="int16")[0], data)


async def test_more_files_at_once_than_worker_threads(anyio_backend: str, tmp_path: Path) -> None:
    # Each file's reader waits for its consumer with two blocks ready: from a pool of 32
    # workers, a mix of 40 files would wait forever for the 8 readers that never started.
    paths = []
    for n in range(40):
        path = tmp_path / f"tone-{n}.wav"
        sf.write(str(path), np.full(3_200, n, np.int16), 16_000)
        paths.append(path)
    threads = threading.active_count()
    with anyio.fail_after(30):
        mixed = await lk.mix(*(lk.from_file(p, block_ms=10) for p in paths)).to_array(squeeze=True)
    np.testing.assert_array_equal(mixed, np.full(3_200, sum(range(40)), np.int16))
    assert threading.active_count() <= threads + 1  # every reader's thread joined
    assert open_resources() == {}

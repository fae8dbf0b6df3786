"""open_resources(): the counter behind the no-leak check every test runs (root conftest)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import lkframes as lk
from lkframes.testing import open_resources

pytestmark = pytest.mark.anyio


async def test_an_open_pipeline_is_counted_until_closed() -> None:
    iterator = aiter(lk.sine(440, 1.0, 16_000).resample(8_000).chunk(ms=20).map(lambda f: f))
    await anext(iterator)
    # Each generator step holds its upstream: resample; chunk cutting lists; map on the
    # lists; and the frames handed out one by one from them.
    assert open_resources() == {"stage": 4}
    await iterator.aclose()
    assert open_resources() == {}


async def test_files_are_counted_while_read_and_written(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    await lk.sine(440, 1.0, 16_000).to_file(path)
    seen: list[dict[str, int]] = []
    out = tmp_path / "copy.wav"
    await lk.from_file(path, block_ms=100).tap(lambda f: seen.append(open_resources())).to_file(out)
    assert {"file": 2, "stage": 1} in seen  # the reader and the writer; tap reading from_file
    assert open_resources() == {}


async def test_cancelled_write_releases_everything(tmp_path: Path) -> None:
    with anyio.move_on_after(0.05):
        await lk.sine(440, None, 48_000).to_file(tmp_path / "endless.wav")
    assert open_resources() == {}


async def test_thousand_partial_reads_leave_nothing_open(tmp_path: Path) -> None:
    path = tmp_path / "tone.flac"
    await lk.sine(440, 2.0, 16_000).to_file(path)
    stream = lk.from_file(path, block_ms=20).resample(8_000).chunk(ms=10)
    for _ in range(1_000):
        async with stream.open() as frames:
            async for _ in frames:
                break
    assert open_resources() == {}

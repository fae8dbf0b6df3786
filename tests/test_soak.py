"""Soak: hours of 48 kHz stereo through resample → chunk → map → file, at full speed;
and backpressure: a fast source never runs ahead of a slow consumer.

The process's resident memory (VmRSS) is sampled every 10 s of audio: once the first
minute has warmed the pipeline up it must not trend upwards (`growth_mib_per_min`), and
the file must hold exactly the samples `lk.resampled_length` predicts (no frame dropped or
repeated). CI runs 10 minutes of audio; the 2-hour run is marked slow::

    python -m pytest -m slow tests/test_soak.py -s

The figures (start, warm, peak and end RSS, speed) are printed with ``-s`` and recorded as
test properties; docs/reliability.md quotes them.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import anyio
import numpy as np
import pytest
import sniffio
import soundfile as sf
from processes import rss_mib

import lkframes as lk

pytestmark = pytest.mark.anyio

IN_RATE = 48_000
OUT_RATE = 16_000
FRAME = OUT_RATE // 50  # chunk(ms=20)
SAMPLE_EVERY = 10 * OUT_RATE  # output samples between two RSS readings (10 s of audio)
WARM_AFTER = 60 * OUT_RATE  # the reading taken as the warm baseline (after 1 minute)
GROWTH_OVER_RUN_MIB = 16.0
"""The most RSS may grow over a run after warm-up, by its trend (`growth_mib_per_min`)."""
WINDOWS = 3


def growth_mib_per_min(readings: list[tuple[int, float]], rate: int) -> float:
    """How fast RSS grows, in MiB per minute of audio: the median of the least-squares
    slopes over `WINDOWS` consecutive stretches of ``(pts, MiB)`` readings.

    A leak grows in every stretch. The allocator's noise does not: glibc grows an arena
    in a step (and may keep it), and on a busy machine whatever else this test session
    left running (threads, garbage not yet collected) allocates at its own moments, so a
    single difference (peak minus warm) measured +17.4 MiB beside two CPU hogs with no
    leak. A step moves one stretch's slope; the median is the other two's.
    """
    minutes = np.array([pts / rate / 60 for pts, _ in readings])
    mib = np.array([rss for _, rss in readings])
    slopes = [
        float(np.polyfit(x, y, 1)[0])
        for x, y in zip(np.array_split(minutes, WINDOWS), np.array_split(mib, WINDOWS), strict=True)
    ]
    return float(np.median(slopes))


def _half(frame: lk.AudioFrame) -> np.ndarray:
    """The ``map`` of the soak: -6 dB, in float32."""
    return frame.data * np.float32(0.5)


async def _soak(seconds: int, path: Path, record_property: Callable[[str, object], None]) -> None:
    samples_in = seconds * IN_RATE
    expected = lk.resampled_length(samples_in, IN_RATE, OUT_RATE)
    readings: list[tuple[int, float]] = []

    def sample_rss(frame: lk.AudioFrame) -> None:
        if frame.pts % SAMPLE_EVERY == 0:
            readings.append((frame.pts, rss_mib()))

    source = lk.noise(seconds, IN_RATE, num_channels=2, dtype="float32", amplitude=0.5, seed=1)
    pipeline = (
        source.resample(OUT_RATE).chunk(ms=20).map(_half).tap(sample_rss)
    )  # fmt: skip
    start_rss = rss_mib()
    started = time.monotonic()
    summary = await pipeline.to_file(path, overwrite=True)
    wall = time.monotonic() - started
    end_rss = rss_mib()

    # Exactly the predicted length: in the summary, in the file's header and on disk.
    assert summary.samples_per_channel == expected
    assert summary.frames == math.ceil(expected / FRAME)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.frames) == (OUT_RATE, 2, expected)
    with sf.SoundFile(str(path)) as written:  # the last frames: the end of the signal
        written.seek(expected - 1_000)
        tail = written.read(dtype="float32")
    assert tail.shape == (1_000, 2)
    assert np.abs(tail).max() > 0.01

    warm = next(rss for pts, rss in readings if pts >= WARM_AFTER)
    peak = max(rss for _, rss in readings)
    after_warm = [(pts, rss) for pts, rss in readings if pts >= WARM_AFTER]
    growth = growth_mib_per_min(after_warm, OUT_RATE)
    run_min = (after_warm[-1][0] - after_warm[0][0]) / OUT_RATE / 60
    figures = {
        "audio_s": seconds,
        "wall_s": round(wall, 1),
        "x_realtime": round(seconds / wall),
        "samples_in": samples_in,
        "samples_out": summary.samples_per_channel,
        "samples_expected": expected,
        "frames_dropped": expected - summary.samples_per_channel,
        "rss_start_mib": round(start_rss, 1),
        "rss_warm_mib": round(warm, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_end_mib": round(end_rss, 1),
        "rss_readings": len(readings),
        "rss_growth_mib_per_min": round(growth, 3),
    }
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nSOAK [{sniffio.current_async_library()}]: {figures}")
    assert len(readings) == expected // SAMPLE_EVERY + (expected % SAMPLE_EVERY > 0)
    # 1 KiB kept per frame (a leak) grows 2.9 MiB a minute: 26 MiB over the 10-minute run.
    assert growth * run_min < GROWTH_OVER_RUN_MIB, figures


async def test_ten_minutes(
    anyio_backend: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    await _soak(10 * 60, tmp_path / "soak.wav", record_property)


@pytest.mark.slow
async def test_two_hours(
    anyio_backend: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    await _soak(2 * 60 * 60, tmp_path / "soak.wav", record_property)


# -- backpressure ------------------------------------------------------------------------------

LOOKAHEAD_SAMPLES = 4_000
"""How far (output samples) the source may be ahead of the consumer: its 100 ms block (1 600
at 16 kHz), the map's batch of 4 frames (1 280) and soxr's delay."""


async def test_a_fast_source_waits_for_a_slow_consumer(
    anyio_backend: str, record_property: Callable[[str, object], None]
) -> None:
    # Pipelines are pulled: the source makes a block only when the stage after it asks
    # for one, so a consumer that takes its time holds the whole pipeline back, and
    # memory stays bounded however fast the source could go.
    made = 0  # input samples the source has made

    def count(frame: lk.AudioFrame) -> None:
        nonlocal made
        made += frame.samples_per_channel

    async def identity(frame: lk.AudioFrame) -> lk.AudioFrame:
        return frame

    source = lk.noise(None, IN_RATE, num_channels=2, dtype="float32", block_ms=100)
    pipeline = (
        source.tap(count).resample(OUT_RATE).chunk(ms=20).map(identity, concurrency=4)
    )  # fmt: skip
    await pipeline.take(3).run()  # warm up: imports and caches are not what is measured
    made = 0
    consumed = 0
    ahead = 0
    tracemalloc.start()
    try:
        async with pipeline.open() as frames:
            async for frame in frames:
                consumed += frame.samples_per_channel
                ahead = max(ahead, made * OUT_RATE // IN_RATE - consumed)
                await anyio.sleep(0.001)  # the slow consumer
                if consumed >= 5 * OUT_RATE:
                    break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    record_property("max_ahead_samples", ahead)
    record_property("traced_peak_kib", round(peak / 1024))
    print(f"\nBACKPRESSURE: source at most {ahead} samples ahead, traced peak {peak >> 10} KiB")
    assert 0 < ahead <= LOOKAHEAD_SAMPLES
    assert peak < 2**20

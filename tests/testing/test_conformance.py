"""Every source and sink passes the conformance kit, on asyncio and trio.

`check_source` and `check_sink` (`lkframes.testing`) run against each of the project's
sources and sinks; broken ones made on purpose show that the kit catches what it claims to.
The stages pass `check_stage` in tests/test_testing_kit.py (the APM stages in
tests/test_apm.py), ``take`` and ``skip`` here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.lowlevel
import numpy as np
import pytest
import soundfile as sf
from hypothesis import strategies as st
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import StageFactory, audio_formats, check_sink, check_source, check_stage

Backend = Literal["asyncio", "trio"]
BACKENDS: list[Backend] = ["asyncio", "trio"]

RATE = 16_000
STEREO = np.random.default_rng(7).integers(-20_000, 20_000, (RATE // 2 + 37, 2)).astype(np.int16)
"""Half a second and 37 samples of stereo noise: no block size divides it."""


def _frames(x: NDArray[Any], sizes: list[int]) -> list[lk.AudioFrame]:
    """``x`` cut into frames of ``sizes`` (repeated), with continuous pts from 0."""
    frames = []
    start = 0
    i = 0
    while start < x.shape[0]:
        size = sizes[i % len(sizes)]
        frames.append(lk.AudioFrame(x[start : start + size], RATE, pts=start))
        start += size
        i += 1
    return frames


IRREGULAR = _frames(STEREO, [0, 1, 320, 7, 1_000, 0, 999])


def _generator() -> Generator[lk.AudioFrame, None, None]:
    yield from IRREGULAR


async def _async_generator() -> AsyncGenerator[lk.AudioFrame, None]:
    for frame in IRREGULAR:
        yield frame


def _synthetic(make: Callable[[], lk.Stream[lk.AudioFrame]]) -> NDArray[Any]:
    """A synthetic source's samples, as one array (the oracle: numpy, not the pipeline)."""
    return np.concatenate([f.data for f in lk.run_sync(make().collect())])


def _sine() -> lk.Stream[lk.AudioFrame]:
    return lk.sine(440, 0.3, 22_050, num_channels=2, dtype="float32", block_ms=17)


def _noise() -> lk.Stream[lk.AudioFrame]:
    return lk.noise(0.3, 8_000, seed=3, block_ms=33)


def _silence() -> lk.Stream[lk.AudioFrame]:
    return lk.silence(0.25, 48_000, num_channels=2)


def _sine_oracle() -> NDArray[np.float32]:
    n = round(0.3 * 22_050)
    mono = (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / 22_050)).astype(np.float32)
    return np.repeat(mono[:, None], 2, axis=1)


SOURCES: dict[str, tuple[Callable[[], lk.Stream[lk.AudioFrame]], NDArray[Any], bool]] = {
    # name: (factory, expected samples, re-iterable)
    "from_array": (lambda: lk.from_array(STEREO, RATE, block_ms=30), STEREO, True),
    "from_array-mono-1d": (
        lambda: lk.from_array(STEREO[:, 0].copy(), RATE, block_ms=7),
        STEREO[:, 0],
        True,
    ),
    "from_frames-list": (lambda: lk.from_frames(IRREGULAR), STEREO, True),
    "from_frames-generator": (lambda: lk.from_frames(_generator()), STEREO, False),
    "from_frames-async-generator": (lambda: lk.from_frames(_async_generator()), STEREO, False),
    "sine": (_sine, _sine_oracle(), True),
    "silence": (_silence, np.zeros((12_000, 2), np.int16), True),
    "concat": (
        lambda: lk.concat(lk.from_array(STEREO, RATE), lk.from_frames(IRREGULAR)),
        np.concatenate([STEREO, STEREO]),
        True,
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_sources_pass_the_kit(name: str, backend: Backend) -> None:
    make, expected, reiterable = SOURCES[name]
    check_source(make, expected=expected, reiterable=reiterable, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_noise_passes_the_kit(backend: Backend) -> None:
    # Seeded noise: the same samples on every iteration (the kit checks that).
    x = _synthetic(_noise)
    assert x.shape == (2_400, 1)
    check_source(_noise, expected=x, reiterable=True, backend=backend)


@pytest.fixture(scope="module")
def sound_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("conformance")
    files = {"wav": folder / "noise.wav", "flac": folder / "noise.flac"}
    for path in files.values():
        sf.write(str(path), STEREO, RATE, subtype="PCM_16")
    return files


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["wav", "flac"])
def test_from_file_passes_the_kit(
    sound_files: dict[str, Path], kind: str, backend: Backend
) -> None:
    path = sound_files[kind]
    check_source(
        lambda: lk.from_file(path, block_ms=70), expected=STEREO, reiterable=True, backend=backend
    )


FORMATS = audio_formats(sample_rates=st.sampled_from([8_000, 16_000, 48_000]))

# -- stages not in tests/test_testing_kit.py's table ------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("make", "length", "stops_early"),
    [
        (lambda fmt: lk.take(samples=500), lambda n, fmt: min(n, 500), True),
        (lambda fmt: lk.take(ms=25), lambda n, fmt: min(n, fmt.sample_rate // 40), True),
        (lambda fmt: lk.skip(samples=500), lambda n, fmt: max(0, n - 500), False),
        (lambda fmt: lk.skip(ms=25), lambda n, fmt: max(0, n - fmt.sample_rate // 40), False),
    ],
    ids=["take-samples", "take-ms", "skip-samples", "skip-ms"],
)
def test_take_and_skip_pass_the_stage_kit(
    make: StageFactory,
    length: Callable[[int, lk.AudioFormat], int],
    stops_early: bool,
    backend: Backend,
) -> None:
    # By samples or ms they cut the audio, not the frames: split-independent like the rest.
    # take stops reading at its limit, so an error the source would raise later never comes.
    check_stage(
        make,
        formats=FORMATS,
        expected_length=length,
        max_examples=20,
        stops_early=stops_early,
        backend=backend,
    )


# -- sinks ---------------------------------------------------------------------------------


def _samples_equal(result: Any, samples: NDArray[Any]) -> None:
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result.reshape(samples.shape), samples)


def _frames_equal(result: Any, samples: NDArray[Any]) -> None:
    assert isinstance(result, lk.FrameList)
    np.testing.assert_array_equal(np.concatenate([f.data for f in result]), samples)


def _counts_everything(result: Any, samples: NDArray[Any]) -> None:
    assert isinstance(result, lk.RunSummary)
    assert result.samples_per_channel == samples.shape[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_to_file_passes_the_kit(tmp_path: Path, backend: Backend) -> None:
    path = tmp_path / "sink.wav"

    def file_holds(result: Any, samples: NDArray[Any]) -> None:
        _counts_everything(result, samples)
        # PCM_16 for int16 and FLOAT for float32 streams: the file holds the samples exactly.
        written, rate = sf.read(str(path), dtype=samples.dtype.name, always_2d=True)
        assert rate == result.format.sample_rate
        np.testing.assert_array_equal(written, samples)

    check_sink(
        lambda stream: stream.to_file(path, overwrite=True),
        formats=FORMATS,
        check_result=file_holds,
        backend=backend,
    )


SINKS: dict[str, tuple[Callable[[lk.Stream[lk.AudioFrame]], Awaitable[Any]], Any, Any]] = {
    # name: (sink, error on a format change, result check)
    "to_array": (lambda s: s.to_array(), lk.FormatError, _samples_equal),
    # collect and run take frames of any kind: no format to enforce.
    "collect": (lambda s: s.collect(), None, None),
    "run": (lambda s: s.run(), None, None),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SINKS))
def test_terminals_pass_the_kit(name: str, backend: Backend) -> None:
    sink, on_format_change, check = SINKS[name]
    check_sink(
        sink,
        formats=FORMATS,
        on_format_change=on_format_change,
        check_result=check,
        backend=backend,
    )


def test_collect_and_run_results_are_complete() -> None:
    # The result checks that a stream of two formats rules out for collect and run.
    check_sink(
        lambda s: s.collect(), formats=FORMATS, on_format_change=None, check_result=_frames_equal
    )
    check_sink(
        lambda s: s.run(), formats=FORMATS, on_format_change=None, check_result=_counts_everything
    )


# -- the kit catches broken sources and sinks ----------------------------------------------------


def _drops_a_sample() -> lk.Stream[lk.AudioFrame]:
    return lk.from_array(STEREO[:-1], RATE)


def _duplicates_samples() -> lk.Stream[lk.AudioFrame]:
    return lk.from_array(np.concatenate([STEREO[:100], STEREO[93:]]), RATE)


def _lies_about_its_format() -> lk.Stream[lk.AudioFrame]:
    honest = lk.from_array(STEREO, RATE)
    return lk.Stream(honest.__aiter__, format=lk.AudioFormat(RATE, 1))


def _pts_gap() -> lk.Stream[lk.AudioFrame]:
    return lk.from_frames(
        [f.replace(pts=f.pts + (5 if i > 3 else 0)) for i, f in enumerate(IRREGULAR)]
    )


def _silently_empty_the_second_time() -> lk.Stream[lk.AudioFrame]:
    generator = _generator()

    async def run() -> AsyncGenerator[lk.AudioFrame, None]:
        for frame in generator:
            yield frame

    return lk.Stream(run, format=lk.AudioFormat(RATE, 2))


def _leaks_its_pipeline() -> lk.Stream[lk.AudioFrame]:
    inner = lk.from_array(STEREO, RATE).chunk(samples=100)

    async def run() -> AsyncGenerator[lk.AudioFrame, None]:
        iterator = aiter(inner)  # never closed: chunk's upstream stays open after a break
        async for frame in iterator:
            yield frame

    return lk.Stream(run, format=inner.format)


def _swallows_cancellation() -> lk.Stream[lk.AudioFrame]:
    async def run() -> AsyncGenerator[lk.AudioFrame, None]:
        for frame in IRREGULAR:
            try:
                await anyio.lowlevel.checkpoint()
            except anyio.get_cancelled_exc_class():
                return  # the bug: the cancelled read ends as if the source were complete
            yield frame

    return lk.Stream(run, format=lk.AudioFormat(RATE, 2))


@pytest.mark.parametrize(
    ("make", "reiterable", "message"),
    [
        (_drops_a_sample, None, "8037 samples per channel expected, got 8036 .lost samples"),
        (_duplicates_samples, None, r"got 8044 \(duplicated samples"),
        (_lies_about_its_format, None, "has format 16000 Hz stereo int16, stream declared"),
        (_pts_gap, None, "pts not continuous at frame 4"),
        (_silently_empty_the_second_time, None, r"second iteration.*expected, got 0"),
        (lambda: lk.from_frames(_generator()), True, "not re-iterable"),
        (lambda: lk.from_array(STEREO, RATE), False, "must raise anyio.ClosedResourceError"),
        (_leaks_its_pipeline, None, r"break after the first frame left open \{'stage': 1\}"),
        (_swallows_cancellation, None, "ended after 1 of 26 frames when cancelled"),
    ],
)
def test_kit_fails_broken_sources(
    make: Callable[[], lk.Stream[lk.AudioFrame]], reiterable: bool | None, message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        check_source(make, expected=STEREO, reiterable=reiterable)


async def _bare_iteration_sink(stream: lk.Stream[lk.AudioFrame]) -> int:
    """Reads with a bare ``async for`` and refuses other formats: never closes on error."""
    count = 0
    first = None
    async for frame in stream:
        first = first or frame.format
        if frame.format != first:
            raise lk.FormatError("changed", first, frame.format)
        count += frame.samples_per_channel
    return count


async def _reads_twice(stream: lk.Stream[lk.AudioFrame]) -> object:
    await stream.run()
    return await stream.to_array()


async def _swallows_errors(stream: lk.Stream[lk.AudioFrame]) -> object:
    try:
        return await stream.to_array()
    except Exception:
        return None


async def _wraps_errors(stream: lk.Stream[lk.AudioFrame]) -> object:
    async with anyio.create_task_group() as tg:
        tg.start_soon(stream.to_array)
    return None


async def _stops_early(stream: lk.Stream[lk.AudioFrame]) -> object:
    async with stream.open() as frames:
        async for _ in frames:
            break
    return None


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        (_stops_early, "sink stopped before the end of the stream"),
        (_reads_twice, "sink opened the probe 2 times"),
        (_bare_iteration_sink, "sink left the probe open"),
        (_swallows_errors, "sink accepted a frame of another format"),
        (_wraps_errors, r"sink raised ExceptionGroup\(.* for a frame of another format"),
    ],
)
def test_kit_fails_broken_sinks(
    sink: Callable[[lk.Stream[lk.AudioFrame]], Awaitable[object]], message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        check_sink(sink, max_samples=50, max_examples=20)

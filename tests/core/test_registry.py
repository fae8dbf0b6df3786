"""Each stage is defined once: its registry entry is reachable as a function, a `Stream`
method, a `|` stage, a pipeline-file stage and (where it names flags) ``lkframes convert``
options, all with the same parameters and defaults, and all giving the same audio."""

from __future__ import annotations

import argparse
import inspect
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from livekit import rtc
from numpy.typing import ArrayLike

import lkframes as lk
from lkframes._core import registry
from lkframes.cli import _main
from lkframes.cli._parser import build_parser
from lkframes.cli._stage_flags import CONVERT_ORDER, flag_values
from lkframes.pipeline import stage_models
from lkframes.testing import speech_like

pytestmark = pytest.mark.anyio

RATE = 16_000


def _reference() -> lk.Stream[lk.AudioFrame]:
    return lk.noise(0.3, RATE, amplitude=0.2, seed=3)


def _half(frame: lk.AudioFrame) -> Any:
    return frame.data // 2


def _split(frame: lk.AudioFrame) -> list[Any]:
    return [frame.data[:10], frame.data[10:]]


# One example call per registered stage: a new stage without an example fails
# test_every_stage_has_an_example, so none is left out of the checks below.
EXAMPLES: dict[str, dict[str, Any]] = {
    "resample": {"sample_rate": 8_000, "quality": "MQ"},
    "chunk": {"ms": 10, "tail": "pad"},
    "remix": {"num_channels": 2},
    "to_dtype": {"dtype": "float32"},
    "gain": {"db": -6.0},
    "denoise": {},
    "high_pass": {},
    "auto_gain": {},
    "echo_cancel": {"reference": "REFERENCE", "delay_ms": 20},
    "process": {"noise_suppression": True, "high_pass_filter": True},
    "map": {"fn": _half},
    "flat_map": {"fn": _split},
    "filter": {"predicate": lambda frame: frame.pts % 2 == 0},
    "tap": {"fn": lambda frame: None},
    "take": {"ms": 150},
    "skip": {"samples": 1_000},
    "take_while": {"predicate": lambda frame: frame.pts < 3_000},
    "skip_while": {"predicate": lambda frame: frame.pts < 3_000},
    "timeout": {"seconds": 30.0},
    "resize": {"width": 32, "keep_aspect": True, "interpolation": "area"},
    "to_pixel_format": {"pixel_format": "i420"},
    "fps": {"rate": 10},
    "vad": {"threshold": 0.4, "min_silence_ms": 200, "model_rate": 8_000},
    "utterances": {"threshold": 0.3, "min_speech_ms": 100, "max_ms": 100},
    "speech": {"threshold": 0.3, "min_speech_ms": 100, "speech_pad_ms": 10},
    "normalize": {"lufs": -20.0, "true_peak": -2.0, "limit": False},
    "limit": {"true_peak": -3.0},
    "meter_loudness": {"on_reading": lambda reading: None, "every_ms": 200},
    "window": {"ms": 50, "hop_ms": 50, "tail": "pad"},
}


def _kwargs(name: str, reference_path: Path | None = None) -> dict[str, Any]:
    kwargs = dict(EXAMPLES[name])
    if kwargs.get("reference") == "REFERENCE":
        kwargs["reference"] = (
            _reference() if reference_path is None else lk.from_file(reference_path)
        )
    return kwargs


def _tolerance(name: str) -> float:
    """0, except for resampling int16: libsoxr dithers its streamed int16 output (TPDF), so
    two runs of the same resample differ by up to 2 LSB."""
    return 2 if name == "resample" else 0


def _input() -> lk.Stream[lk.AudioFrame]:
    return lk.sine(440, 0.4, RATE, amplitude=0.3, block_ms=50)


def _speech_like() -> lk.Stream[lk.AudioFrame]:
    """0.3 s of silence, 1 s of vowel-like sound Silero VAD takes for speech, 0.3 s."""
    return lk.from_array(speech_like([0.3, 1.0, 0.3], RATE), RATE)


def _plain(annotation: object) -> str:
    """An annotation with type variables as Any, as text, for comparing two signatures."""
    text = repr(annotation)
    for var in ("~T_co", "~T", "+T_co"):
        text = text.replace(var, "typing.Any")
    return text


# Names the Stream module imports for type checking only.
_TYPING_NAMES = {
    "ArrayLike": ArrayLike,
    "rtc": rtc,
    "VideoFrame": lk.VideoFrame,
    "PixelFormat": lk.PixelFormat,
    "ModelRate": lk.ModelRate,
    "Stream": lk.Stream,  # the speech methods' module names it for type checking only
    "LoudnessReading": lk.LoudnessReading,
    "Loudness": lk.Loudness,
}


def _parameters(function: Any, *, skip_first: bool = False) -> list[tuple[str, Any, Any, str]]:
    hints = typing.get_type_hints(function, localns=_TYPING_NAMES)
    parameters = list(inspect.signature(function).parameters.values())
    if skip_first:
        parameters = parameters[1:]
    return [(p.name, p.kind, p.default, _plain(hints.get(p.name))) for p in parameters]


def test_every_stage_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(registry.stages())


@pytest.mark.parametrize("name", sorted(registry.stages()))
def test_the_function_is_public_and_is_the_registered_one(name: str) -> None:
    assert getattr(lk, name) is registry.stages()[name].function
    assert name in lk.__all__


@pytest.mark.parametrize("name", sorted(registry.stages()))
def test_the_stream_method_has_the_functions_parameters_and_defaults(name: str) -> None:
    method = getattr(lk.Stream, name)
    assert _parameters(method, skip_first=True) == _parameters(getattr(lk, name))


@pytest.mark.parametrize("name", ["to_file", "to_source", "publish", "concat", "loudness"])
def test_sink_and_combinator_methods_match_their_functions(name: str) -> None:
    method = getattr(lk.Stream, name)
    function = getattr(lk, name)
    if name == "to_source":  # the method takes audio and video sources; lk.to_source audio
        method_names = [p[0] for p in _parameters(method, skip_first=True)]
        assert method_names[: len(_parameters(function)) - 1] == [
            p[0] for p in _parameters(function, skip_first=True)
        ]
        return
    if name == "concat":  # the method's self is the first of the streams
        assert [p[1] for p in _parameters(method, skip_first=True)] == [
            inspect.Parameter.VAR_POSITIONAL
        ]
        return
    assert _parameters(method, skip_first=True) == _parameters(function, skip_first=True)


def _video_input() -> lk.Stream[lk.VideoFrame]:
    """Half a second of 64x48 rgb24 video at 30 fps, each frame a different grey."""
    return lk.from_video_frames(
        [
            lk.VideoFrame(np.full((48, 64, 3), 8 * i, np.uint8), "rgb24", timestamp_us=i * 33_333)
            for i in range(15)
        ]
    )


def _audio_input(name: str) -> lk.Stream[lk.AudioFrame]:
    return _speech_like() if name == "speech" else _input()


@pytest.mark.parametrize(
    "name", sorted(n for n, e in registry.stages().items() if not e.video and not e.records)
)
async def test_method_and_pipe_forms_give_the_same_audio(anyio_backend: str, name: str) -> None:
    via_method = getattr(_audio_input(name), name)(**_kwargs(name))
    via_pipe = _audio_input(name) | getattr(lk, name)(**_kwargs(name))
    assert via_method.format == via_pipe.format
    a = await via_method.to_array(squeeze=False)
    b = await via_pipe.to_array(squeeze=False)
    assert a.shape == b.shape
    assert a.size
    np.testing.assert_allclose(a, b, rtol=0, atol=_tolerance(name))


@pytest.mark.parametrize("name", sorted(n for n, e in registry.stages().items() if e.video))
async def test_method_and_pipe_forms_give_the_same_video(anyio_backend: str, name: str) -> None:
    via_method = await getattr(_video_input(), name)(**_kwargs(name)).collect()
    via_pipe = await (_video_input() | getattr(lk, name)(**_kwargs(name))).collect()
    assert via_method
    assert [(f.timestamp_us, f.pixel_format, f.width) for f in via_method] == [
        (f.timestamp_us, f.pixel_format, f.width) for f in via_pipe
    ]
    for a, b in zip(via_method, via_pipe, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def _record_key(record: Any) -> Any:
    if isinstance(record, lk.Utterance):
        return (record.start, record.end, record.continues, record.audio.tobytes())
    return record


@pytest.mark.parametrize("name", sorted(n for n, e in registry.stages().items() if e.records))
async def test_method_and_pipe_forms_give_the_same_records(anyio_backend: str, name: str) -> None:
    via_method = await getattr(_speech_like(), name)(**_kwargs(name)).collect()
    via_pipe = await (_speech_like() | getattr(lk, name)(**_kwargs(name))).collect()
    assert len(via_method) > 1
    assert [_record_key(r) for r in via_method] == [_record_key(r) for r in via_pipe]


def _spec_names() -> list[str]:
    return sorted(n for n, e in registry.stages().items() if e.spec)


def test_stages_taking_python_functions_are_the_ones_left_out_of_files() -> None:
    # ... and the video stages: pipeline files read audio files.
    left_out = {n for n, e in registry.stages().items() if not e.spec}
    takes_callable = {
        n
        for n, e in registry.stages().items()
        if any("Callable" in _plain(h) for h in typing.get_type_hints(e.function).values())
    }
    video = {n for n, e in registry.stages().items() if e.video}
    records = {n for n, e in registry.stages().items() if e.records}
    assert video == {"resize", "to_pixel_format", "fps"}
    assert records == {"vad", "utterances"}
    assert left_out == takes_callable | video | records
    assert sorted(stage_models()) == _spec_names()


@pytest.mark.parametrize("name", _spec_names())
def test_the_pipeline_file_stage_has_the_functions_parameters_and_defaults(name: str) -> None:
    model = stage_models()[name]
    fields = {k: v for k, v in model.model_fields.items() if k != "stage"}
    parameters = inspect.signature(getattr(lk, name)).parameters
    assert list(fields) == list(parameters)
    for key, parameter in parameters.items():
        if parameter.default is inspect.Parameter.empty:
            assert fields[key].is_required(), key
        else:
            assert fields[key].default == parameter.default, key


@pytest.mark.parametrize("name", _spec_names())
async def test_the_pipeline_file_gives_the_same_audio(
    anyio_backend: str, name: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.wav"
    reference = tmp_path / "reference.wav"
    await _audio_input(name).to_file(source)
    await _reference().to_file(reference)
    document: dict[str, Any] = {"stage": name, **EXAMPLES[name]}
    if document.get("reference") == "REFERENCE":
        document["reference"] = str(reference)
    spec = lk.PipelineSpec.parse({"input": str(source), "stages": [document]})
    from_file = await spec.build().to_array(squeeze=False)
    in_python = (
        await lk.from_file(source)
        .pipe(getattr(lk, name)(**_kwargs(name, reference)))
        .to_array(squeeze=False)
    )
    np.testing.assert_allclose(from_file, in_python, rtol=0, atol=_tolerance(name))


def _cli_names() -> list[str]:
    return sorted(n for n, e in registry.stages().items() if e.cli)


def test_convert_applies_every_stage_that_names_flags() -> None:
    assert sorted(CONVERT_ORDER) == _cli_names()


@pytest.mark.parametrize("name", _cli_names())
def test_convert_flags_have_the_functions_types_choices_and_defaults(name: str) -> None:
    entry = registry.stages()[name]
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    convert = commands.choices["convert"]
    by_flag = {flag: action for action in convert._actions for flag in action.option_strings}
    hints = typing.get_type_hints(entry.function)
    signature = inspect.signature(entry.function)
    for parameter, flag in entry.cli.items():
        action = by_flag[flag]
        if not parameter:  # a stage without parameters: an on/off flag
            assert action.nargs == 0
            continue
        choices = typing.get_args(hints[parameter])
        if typing.get_origin(hints[parameter]) is typing.Literal:
            assert list(action.choices) == list(choices)
        default = signature.parameters[parameter].default
        if default not in (inspect.Parameter.empty, None):
            assert f"(default {default})" in (action.help or "")


@pytest.mark.parametrize("name", _cli_names())
def test_convert_flags_give_the_functions_arguments(name: str) -> None:
    entry = registry.stages()[name]
    argv = ["convert", "in.wav", "out.wav"]
    wanted: dict[str, Any] = {}
    for parameter, flag in entry.cli.items():
        if not parameter:
            argv.append(flag)
            continue
        value = EXAMPLES[name].get(parameter)
        if value is None:
            continue
        argv += [flag, str(value)]
        wanted[parameter] = value
    args = build_parser().parse_args(argv)
    assert flag_values(name, args) == wanted


async def test_convert_equals_the_same_stages_in_python(anyio_backend: str, tmp_path: Path) -> None:
    source = tmp_path / "in.wav"
    await lk.sine(440, 0.5, 44_100, num_channels=2, amplitude=0.3).to_file(source)
    out = tmp_path / "out.wav"
    argv = ["convert", str(source), str(out), "--quiet", "--rate", "16000", "--quality", "MQ"]
    argv += ["--channels", "1", "--high-pass", "--denoise", "--gain-db", "-3", "--chunk-ms", "20"]
    assert _main.main(argv) == 0
    expected = await (
        lk.from_file(source)
        .remix(1)
        .resample(16_000, "MQ")
        .high_pass()
        .denoise()
        .gain(-3)
        .chunk(ms=20)
        .to_array(squeeze=False)
    )
    got, rate = sf.read(str(out), dtype="int16", always_2d=True)
    assert rate == 16_000
    np.testing.assert_allclose(got, expected, rtol=0, atol=_tolerance("resample"))


def test_the_command_line_page_documents_every_file_stage_and_convert_option() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for name in _spec_names():
        assert f"| `{name}` |" in page, f"docs/cli.md has no row for pipeline stage {name}"
    for name in _cli_names():
        for flag in registry.stages()[name].cli.values():
            assert f"`{flag}" in page, f"docs/cli.md does not describe {flag}"

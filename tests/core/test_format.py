"""`AudioFormat`: validation, immutability, hashing, JSON and duration conversion."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pydantic
import pytest

import lkframes as lk


def test_positional_and_keyword_construction_are_equal() -> None:
    positional = lk.AudioFormat(48_000, 2, "float32")
    keyword = lk.AudioFormat(sample_rate=48_000, num_channels=2, dtype="float32")
    assert positional == keyword
    assert (positional.sample_rate, positional.num_channels, positional.dtype) == (
        48_000,
        2,
        "float32",
    )


def test_dtype_defaults_to_int16() -> None:
    fmt = lk.AudioFormat(16_000, 1)
    assert fmt.dtype == "int16"
    assert fmt.numpy_dtype == np.dtype(np.int16)
    assert fmt.bytes_per_frame == 2


def test_numpy_integers_are_accepted_as_plain_ints() -> None:
    fmt = lk.AudioFormat(np.int64(16_000), np.int32(2))  # type: ignore[arg-type]
    assert fmt == lk.AudioFormat(16_000, 2)
    assert type(fmt.sample_rate) is int
    assert type(fmt.num_channels) is int


@pytest.mark.parametrize(
    ("kwargs", "field", "got"),
    [
        ({"sample_rate": 0, "num_channels": 1}, "sample_rate", "0"),
        ({"sample_rate": -16_000, "num_channels": 1}, "sample_rate", "-16000"),
        ({"sample_rate": 10**9, "num_channels": 1}, "sample_rate", "1000000000"),
        ({"sample_rate": 48_000, "num_channels": 0}, "num_channels", "0"),
        ({"sample_rate": 48_000, "num_channels": 65}, "num_channels", "65"),
        ({"sample_rate": 48_000, "num_channels": 1, "dtype": "float64"}, "dtype", "'float64'"),
        ({"sample_rate": 48_000, "num_channels": 1, "dtype": "int32"}, "dtype", "'int32'"),
        ({"sample_rate": True, "num_channels": 1}, "sample_rate", "True"),
        ({"sample_rate": 48_000.0, "num_channels": 1}, "sample_rate", "48000.0"),
        ({"sample_rate": "48000", "num_channels": 1}, "sample_rate", "'48000'"),
        ({"sample_rate": 48_000, "num_channels": False}, "num_channels", "False"),
        ({"sample_rate": 48_000, "num_channels": 1.0}, "num_channels", "1.0"),
    ],
)
def test_invalid_fields_raise_parameter_error_naming_the_field(
    kwargs: dict[str, Any], field: str, got: str
) -> None:
    with pytest.raises(lk.ParameterError, match=rf"{field}: .*\(got {got}\)"):
        lk.AudioFormat(**kwargs)


def test_invalid_positional_rate_names_the_field() -> None:
    with pytest.raises(lk.ParameterError, match=r"sample_rate: must be within 1 to .* \(got -1\)"):
        lk.AudioFormat(-1, 1)


def test_missing_fields_and_unknown_fields_are_rejected() -> None:
    # Python's own call errors: a missing or unknown argument is a TypeError, as for any call.
    with pytest.raises(TypeError, match="num_channels"):
        lk.AudioFormat(48_000)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="channels_count"):
        lk.AudioFormat(48_000, 1, channels_count=2)  # type: ignore[call-arg]


def test_parameter_error_is_an_lkframes_and_value_error() -> None:
    with pytest.raises(lk.LkFramesError):
        lk.AudioFormat(0, 1)
    with pytest.raises(ValueError, match="sample_rate"):
        lk.AudioFormat(0, 1)


def test_format_is_frozen() -> None:
    fmt = lk.AudioFormat(48_000, 1)
    with pytest.raises(AttributeError):
        fmt.sample_rate = 16_000  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        fmt._sample_rate = 16_000
    assert fmt.sample_rate == 48_000


def test_formats_are_interned_and_survive_copy_and_pickle() -> None:
    fmt = lk.AudioFormat(44_100, 2, "float32")
    assert lk.AudioFormat(np.int64(44_100), 2, "float32") is fmt  # type: ignore[arg-type]
    assert fmt.with_(num_channels=2) is fmt
    assert copy.copy(fmt) is fmt
    assert copy.deepcopy(fmt) is fmt
    assert pickle.loads(pickle.dumps(fmt)) is fmt


def test_format_is_hashable_and_equal_formats_hash_equal() -> None:
    a = lk.AudioFormat(48_000, 2, "int16")
    b = lk.AudioFormat(sample_rate=48_000, num_channels=2)
    c = lk.AudioFormat(48_000, 2, "float32")
    assert hash(a) == hash(b)
    assert {a, b, c} == {a, c}
    assert len({a, b, c}) == 2
    assert {a: "x"}[b] == "x"


@pytest.mark.parametrize(
    "fmt",
    [lk.AudioFormat(48_000, 1), lk.AudioFormat(44_100, 2, "float32"), lk.AudioFormat(8_000, 64)],
)
def test_json_round_trip(fmt: lk.AudioFormat) -> None:
    text = fmt.to_json()
    assert f'"sample_rate":{fmt.sample_rate}' in text
    back = lk.AudioFormat.from_json(text)
    assert back is fmt
    assert lk.AudioFormat.from_dict(fmt.to_dict()) is fmt
    # as a field of a pydantic model (how pipeline files and user configs carry it)
    adapter = pydantic.TypeAdapter(lk.AudioFormat)
    assert adapter.validate_json(text) is fmt
    assert adapter.dump_python(fmt) == fmt.to_dict()


def test_json_with_invalid_values_is_rejected() -> None:
    with pytest.raises(lk.ParameterError, match=r"sample_rate: .*\(got 0\)"):
        lk.AudioFormat.from_json('{"sample_rate": 0, "num_channels": 1}')
    with pytest.raises(lk.ParameterError, match="missing key 'num_channels'"):
        lk.AudioFormat.from_dict({"sample_rate": 8_000})
    with pytest.raises(lk.ParameterError, match="unknown key 'rate'"):
        lk.AudioFormat.from_dict({"sample_rate": 8_000, "num_channels": 1, "rate": 1})
    with pytest.raises(lk.ParameterError, match="not JSON"):
        lk.AudioFormat.from_json("{")
    # pydantic wraps the ParameterError in its ValidationError; both are ValueErrors.
    with pytest.raises(ValueError, match=r"sample_rate: .*\(got 0\)"):
        pydantic.TypeAdapter(lk.AudioFormat).validate_python({"sample_rate": 0, "num_channels": 1})


def test_with_changes_fields_and_validates() -> None:
    fmt = lk.AudioFormat(48_000, 2)
    assert fmt.with_(sample_rate=16_000) == lk.AudioFormat(16_000, 2)
    assert fmt.with_(dtype="float32").dtype == "float32"
    assert fmt == lk.AudioFormat(48_000, 2)
    with pytest.raises(lk.ParameterError, match=r"num_channels: .*\(got 0\)"):
        fmt.with_(num_channels=0)


def test_repr_and_str() -> None:
    fmt = lk.AudioFormat(48_000, 2, "float32")
    assert repr(fmt) == "AudioFormat(sample_rate=48000, num_channels=2, dtype='float32')"
    assert str(fmt) == "48000 Hz stereo float32"
    assert str(lk.AudioFormat(16_000, 1)) == "16000 Hz mono int16"
    assert str(lk.AudioFormat(16_000, 6)) == "16000 Hz 6 ch int16"


@pytest.mark.parametrize(
    ("rate", "ms", "expected"),
    [(16_000, 20, 320), (48_000, 20, 960), (44_100, 20, 882), (48_000, 10, 480), (8_000, 0.5, 4)],
)
def test_samples_for_ms(rate: int, ms: float, expected: int) -> None:
    assert lk.AudioFormat(rate, 1).samples_for(ms=ms) == expected


def test_samples_for_samples_passes_through() -> None:
    assert lk.AudioFormat(16_000, 1).samples_for(samples=123) == 123


def test_samples_for_non_whole_number_of_samples_raises() -> None:
    fmt = lk.AudioFormat(11_025, 1)
    with pytest.raises(lk.ParameterError, match=r"220\.5 samples, not a whole number"):
        fmt.samples_for(ms=20)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"exactly one of ms= or samples="),
        ({"ms": 20, "samples": 320}, r"exactly one of ms= or samples="),
        ({"ms": 0}, r"positive and finite \(got 0\)"),
        ({"ms": -20}, r"positive and finite \(got -20\)"),
        ({"ms": float("inf")}, r"positive and finite \(got inf\)"),
        ({"ms": float("nan")}, r"positive and finite \(got nan\)"),
        ({"samples": 0}, r"positive \(got 0\)"),
        ({"samples": 2.5}, r"must be an int \(got float\)"),
        ({"samples": True}, r"must be an int \(got bool\)"),
    ],
)
def test_samples_for_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.AudioFormat(16_000, 1).samples_for(**kwargs)

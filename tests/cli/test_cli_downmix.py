"""``lkframes convert --channels 2|1`` and ``lkframes run`` on 5.1 and 7.1 files: FFmpeg's
``-ac`` down-mix, checked against the ffmpeg CLI on the same file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from surround_files import ffmpeg_downmix, surround_wav

from lkframes.cli import _main

SCALED_FLOAT = ("-af", "aresample=rematrix_maxval=1", "-c:a", "pcm_f32le")


def _read(path: Path, dtype: str) -> Any:
    data, _ = sf.read(str(path), dtype=dtype, always_2d=True)
    return data


def test_convert_5_1_int16_to_stereo_as_ffmpeg_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = surround_wav(tmp_path / "in51.wav", "5.1", "int16")
    out = tmp_path / "out.wav"
    assert _main.main(["convert", str(source), str(out), "--channels", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["output_format"] == {"sample_rate": 48_000, "num_channels": 2, "dtype": "int16"}
    assert sf.info(str(out)).subtype == "PCM_16"
    got = _read(out, "int16").astype(np.int64)
    reference = ffmpeg_downmix(source, 2).astype(np.int64)
    assert np.abs(got - reference).max() <= 1  # FFmpeg's int16 gains are 15-bit


def test_convert_7_1_float_to_mono_as_ffmpeg_does(tmp_path: Path) -> None:
    source = surround_wav(tmp_path / "in71.wav", "7.1", "float32")
    out = tmp_path / "out.wav"
    assert _main.main(["convert", str(source), str(out), "--channels", "1", "--quiet"]) == 0
    assert sf.info(str(out)).subtype == "FLOAT"
    reference = ffmpeg_downmix(source, 1, *SCALED_FLOAT)
    np.testing.assert_allclose(_read(out, "float32"), reference, rtol=0, atol=1e-6)


def test_convert_loud_24_bit_5_1_does_not_clip(tmp_path: Path) -> None:
    """24-bit PCM is read as float32; the mix is scaled for it too, as FFmpeg scales it."""
    source = surround_wav(tmp_path / "in51.wav", "5.1", "int24", level=1.6)  # peaks 0.32..0.96
    out = tmp_path / "out.wav"
    assert _main.main(["convert", str(source), str(out), "--channels", "2", "--quiet"]) == 0
    assert sf.info(str(out)).subtype == "PCM_24"
    got = _read(out, "float32")
    reference = ffmpeg_downmix(source, 2, "-c:a", "pcm_s24le")
    assert np.abs(got).max() * (1 + math.sqrt(2)) > 1.2  # unscaled, the mix would clip
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-6)


def test_run_pipeline_remix_without_a_matrix(tmp_path: Path) -> None:
    surround_wav(tmp_path / "in51.wav", "5.1", "float32")
    pipeline = tmp_path / "downmix.yaml"
    pipeline.write_text(
        "input: in51.wav\noutput: out.wav\nstages:\n  - {stage: remix, num_channels: 2}\n"
    )
    assert _main.main(["run", str(pipeline), "--quiet"]) == 0
    reference = ffmpeg_downmix(tmp_path / "in51.wav", 2, *SCALED_FLOAT)
    got = _read(tmp_path / "out.wav", "float32")
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-6)

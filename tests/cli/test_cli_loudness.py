"""The command line's loudness: ``info --loudness`` measures as FFmpeg's ebur128 does, and
``convert --loudness`` normalises to the target, with the true-peak limit as a flag."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from loudness_refs import RATE, espeak_speech, ffmpeg_r128, with_noise

from lkframes.cli import _main


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng speech with pauses and noise 20 dB below it, 48 kHz stereo, 16-bit."""
    directory = tmp_path_factory.mktemp("cli_loudness")
    path = directory / "speech.wav"
    sf.write(path, with_noise(espeak_speech(directory), 20, seed=3), RATE, subtype="PCM_16")
    return path


def test_info_loudness_matches_ffmpeg(speech: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(["info", str(speech), "--loudness", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    reference = ffmpeg_r128(speech)
    assert abs(shown["integrated_lufs"] - reference["I"]) < 0.1
    assert abs(shown["true_peak_dbtp"] - reference["TP"]) < 0.1
    assert abs(shown["loudness_range_lu"] - reference["LRA"]) < 0.1
    assert shown["length"] == "decoded"
    assert _main.main(["info", str(speech), "--loudness"]) == 0
    text = capsys.readouterr().out
    assert f"{shown['integrated_lufs']:.1f} LUFS integrated" in text
    shown_range = re.search(r"range (\d+\.\d) LU", text)
    assert shown_range is not None
    assert abs(float(shown_range.group(1)) - shown["loudness_range_lu"]) <= 0.05


def test_info_without_the_flag_reads_the_header_only(
    speech: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main.main(["info", str(speech), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["length"] == "header"
    assert "integrated_lufs" not in shown


def test_convert_loudness_normalises_within_the_true_peak_flag(
    speech: Path, tmp_path: Path
) -> None:
    out = tmp_path / "talk.flac"
    argv = ["convert", str(speech), str(out), "--loudness", "-20", "--true-peak", "-0.5"]
    assert _main.main([*argv, "--quiet"]) == 0
    measured = ffmpeg_r128(out)
    assert abs(measured["I"] + 20) < 0.1
    assert measured["TP"] < -0.4


def test_convert_podcast_loudness_is_reached_by_limiting(speech: Path, tmp_path: Path) -> None:
    out = tmp_path / "podcast.wav"
    argv = ["convert", str(speech), str(out), "--loudness", "-16", "--quiet"]
    assert _main.main(argv) == 0
    measured = ffmpeg_r128(out)
    assert abs(measured["I"] + 16) < 0.1  # the gain alone would reach about -20
    assert measured["TP"] <= -1.0 + 0.005


def test_convert_limit_flag_limits_the_true_peak(speech: Path, tmp_path: Path) -> None:
    out = tmp_path / "limited.wav"
    argv = ["convert", str(speech), str(out), "--gain-db", "15", "--dtype", "float32"]
    assert _main.main([*argv, "--limit", "-3", "--subtype", "FLOAT", "--quiet"]) == 0
    assert ffmpeg_r128(out)["TP"] <= -3.0 + 0.005
    assert sf.info(out).frames == sf.info(speech).frames


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--limit", "1"], "--limit must be between -60 and 0 dBTP (got 1)"),
        (["--loudness", "5"], "--loudness must be between -70 and 0 LUFS (got 5)"),
        (["--loudness", "-16", "--true-peak", "1"], "--true-peak must be between -60 and 0"),
        (["--loudness", "loud"], "argument --loudness: not a number: 'loud'"),
        (["--true-peak", "-2"], "--true-peak needs --loudness too"),
    ],
)
def test_bad_loudness_flags_are_refused_in_flag_terms(
    speech: Path, tmp_path: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main.main(["convert", str(speech), str(tmp_path / "x.wav"), *flags]) == 2
    assert message in capsys.readouterr().err


def test_convert_loudness_refuses_stdin_in_flag_terms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["convert", "-", str(tmp_path / "x.wav"), "--loudness", "-16"]
    assert _main.main(argv) == 2
    assert "--loudness -16 reads IN twice" in capsys.readouterr().err


def test_info_says_a_file_too_short_to_measure_is_not_silent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short, quiet = tmp_path / "short.wav", tmp_path / "quiet.wav"
    t = np.arange(round(0.3 * RATE)) / RATE
    sf.write(short, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)
    sf.write(quiet, np.zeros(RATE, np.float32), RATE)
    assert _main.main(["info", str(short), "--loudness"]) == 0
    assert (
        "loudness  too short to measure (0.300 s; loudness needs 0.4 s)" in capsys.readouterr().out
    )
    assert _main.main(["info", str(quiet), "--loudness"]) == 0
    assert "loudness  silent (nothing above -70 LUFS)" in capsys.readouterr().out

"""The ``lkframes`` command: ``lkframes demo``, its output modes and exit statuses."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes.cli import _demo, _main

SRC = Path(lk.__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``lkframes demo`` writes out.wav into the working directory: keep it out of the repo."""
    monkeypatch.chdir(tmp_path)


def _env() -> dict[str, str]:
    """The environment of a fresh interpreter that imports this lkframes."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }


def _run(*args: str, executable: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command in a fresh interpreter that imports this lkframes."""
    command = [executable, *args] if executable else [sys.executable, "-m", "lkframes", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=_env(), timeout=60, check=False
    )


def _expected_layout(seconds: float) -> tuple[int, int, int, int]:
    """(input samples, output samples, frames, last frame size) from the duration alone."""
    n_in = round(seconds * 44_100)
    n_out = math.floor(n_in * 48_000 / 44_100 + 0.5)
    frames = math.ceil(n_out / 960)
    return n_in, n_out, frames, n_out - 960 * (frames - 1)


# -- in process ------------------------------------------------------------------------


def test_demo_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "44100 Hz mono int16: 220500 samples" in out
    assert "48000 Hz mono int16: 240000 samples" in out
    assert "250 frames of 960 samples (20 ms)" in out
    assert "x realtime" in out
    assert "wrote     out.wav" in out


def test_demo_writes_out_wav_with_what_it_reports(tmp_path: Path) -> None:
    assert _main.main(["demo", "--quiet", "--seconds", "1.5"]) == 0
    info = lk.file_info(tmp_path / "out.wav")
    assert info.format == lk.AudioFormat(48_000, 1, "int16")
    assert info.samples_per_channel == _expected_layout(1.5)[1]
    written = lk.run_sync(lk.from_file(tmp_path / "out.wav").to_array()).ravel()
    expected = _demo.attenuate(
        lk.AudioFrame(
            lk.run_sync(lk.from_array(_demo.speech_like(1.5), 44_100).resample(48_000).to_array()),
            48_000,
        )
    ).ravel()
    assert np.abs(written.astype(np.int32) - expected.astype(np.int32)).max() <= 2


def test_demo_draws_a_png_when_matplotlib_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the PNG is optional: needs lkframes[plot]")
    assert _main.main(["demo", "--quiet", "--seconds", "1", "--out", "demo.wav"]) == 0
    png = (tmp_path / "demo.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 10_000


@pytest.mark.parametrize("seconds", [0.5, 1.99, 2.0, 3.333])
def test_demo_json_matches_duration_math(
    seconds: float, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main.main(["demo", "--json", "--seconds", str(seconds)]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    n_in, n_out, frames, last = _expected_layout(seconds)
    assert summary["input"]["samples_per_channel"] == n_in
    assert summary["output"]["samples_per_channel"] == n_out
    assert summary["frames"]["count"] == frames
    assert summary["frames"]["samples_per_channel"] == 960
    assert summary["frames"]["last_samples_per_channel"] == last
    assert summary["output"]["duration_s"] == pytest.approx(seconds, abs=1 / 44_100)


def test_demo_quiet_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(["demo", "--quiet", "--seconds", "0.5"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["demo", "--bogus"],
        ["demo", "--json", "--quiet"],
        ["demo", "--seconds", "0"],
        ["demo", "--seconds", "-1"],
        ["demo", "--seconds", "nan"],
        ["demo", "--seconds", "soon"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "usage: lkframes" in err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert _main.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lkframes {lk.__version__}"


def test_failure_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def float64_signal(seconds: float, sample_rate: int = 44_100) -> Any:
        return np.zeros(round(seconds * sample_rate))  # float64: not audio lkframes takes

    monkeypatch.setattr(_demo, "speech_like", float64_signal)
    assert _main.main(["demo"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("lkframes demo: error: InvalidAudioError: array has unsupported dtype")


def test_signal_is_deterministic_and_speech_like() -> None:
    x = _demo.speech_like(2.0)
    np.testing.assert_array_equal(x, _demo.speech_like(2.0))
    assert x.dtype == np.int16
    assert x.shape == (88_200,)
    peak = int(np.abs(x.astype(np.int32)).max())
    assert 8_000 < peak < 32_767  # loud, not clipped
    pause = x[round(1.7 * 44_100) : round(1.95 * 44_100)]
    assert int(np.abs(pause.astype(np.int32)).max()) < 1_000  # only the noise floor


# -- as a program ----------------------------------------------------------------------


def test_python_m_lkframes_demo_json() -> None:
    done = _run("demo", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    summary: dict[str, Any] = json.loads(done.stdout)
    n_in, n_out, frames, last = _expected_layout(5.0)
    assert (n_in, n_out, frames, last) == (220_500, 240_000, 250, 960)
    assert summary["input"] == {
        "sample_rate": 44_100,
        "num_channels": 1,
        "dtype": "int16",
        "samples_per_channel": n_in,
        "duration_s": 5.0,
    }
    assert summary["output"]["sample_rate"] == 48_000
    assert summary["output"]["samples_per_channel"] == n_out
    assert summary["frames"]["count"] == frames
    assert summary["frames"]["last_samples_per_channel"] == last
    assert summary["frames"]["pts_continuous"] is True
    assert summary["x_realtime"] > 0


def test_python_m_lkframes_usage_error_exits_2() -> None:
    done = _run()
    assert done.returncode == 2
    assert done.stdout == ""
    assert "usage: lkframes" in done.stderr


def _into_a_closed_pipe(*args: str) -> tuple[int, str]:
    """Run the command with stdout a pipe whose reader left at once (``| head -0``); its exit
    status and stderr."""
    command = [sys.executable, "-m", "lkframes", *args]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.close()  # before the child has printed anything: it imports for ~0.5 s
        err = child.stderr.read().decode()
        return child.wait(timeout=60), err


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "in.wav"],
        ["info", "in.wav", "--json"],
        ["convert", "in.wav", "out.flac", "--rate", "16000"],
        ["run", "pipeline.json", "--json"],
        ["convert", "in.wav", "in2.wav", "folder/", "--jobs", "2"],
        ["demo", "--seconds", "0.5"],
    ],
)
def test_a_reader_that_left_ends_the_command_quietly_with_141(argv: list[str]) -> None:
    rng = np.random.default_rng(0)
    for name in ("in.wav", "in2.wav"):
        sf.write(name, rng.uniform(-0.5, 0.5, 44_100), 44_100, subtype="PCM_16")
    Path("pipeline.json").write_text(json.dumps({"input": "in.wav", "output": "p.wav"}))
    status, err = _into_a_closed_pipe(*argv)
    assert (status, err) == (128 + 13, "")  # 13 is SIGPIPE: as `seq 99999 | head -1` exits


def test_a_reader_that_leaves_before_stdout_is_flushed(monkeypatch: pytest.MonkeyPatch) -> None:
    class LeftReader(io.StringIO):  # the print fitted in the buffer; the flush finds no reader
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", LeftReader())
    assert _main.main(["demo", "--seconds", "0.5"]) == 141


def test_console_script_is_declared() -> None:
    (script,) = metadata.entry_points(group="console_scripts", name="lkframes")
    assert script.value == "lkframes.cli:main"
    assert script.load() is _main.main


def test_console_script_exit_statuses() -> None:
    path = Path(sysconfig.get_path("scripts")) / ("lkframes.exe" if os.name == "nt" else "lkframes")
    if not path.exists():
        pytest.skip(f"no lkframes script in {path.parent} (installed with --user?)")
    assert _run("demo", "--quiet", "--seconds", "0.5", executable=str(path)).returncode == 0
    assert _run(executable=str(path)).returncode == 2

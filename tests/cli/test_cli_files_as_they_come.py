"""The command line on the files people have: damaged, headerless, on a pipe, in part."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes.cli import _main

ENV = {**os.environ, "PYTHONPATH": str(Path(lk.__file__).resolve().parents[1])}


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "lkframes", *args]
    return subprocess.run(command, input=stdin, capture_output=True, env=ENV, check=False)


@pytest.fixture
def damaged_mp3(tmp_path: Path) -> Path:
    """4 s of noise as MP3, with 1 000 random bytes in its middle."""
    path = tmp_path / "damaged.mp3"
    lk.run_sync(lk.noise(4.0, 22_050, amplitude=0.3, dtype="float32").to_file(path))
    data = bytearray(path.read_bytes())
    at = len(data) // 2
    data[at : at + 1_000] = np.random.default_rng(7).integers(0, 256, 1_000, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def test_damage_is_a_warning_line_and_counted_in_json(
    damaged_mp3: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.wav"
    assert _main.main(["convert", str(damaged_mp3), str(out), "--json"]) == 0
    stdout, stderr = capfd.readouterr()
    summary = json.loads(stdout)
    assert summary["damage"]["places"] >= 1
    assert 0 < summary["damage"]["lost_s"] < 1
    (line,) = stderr.strip().splitlines()  # one line: mpg123's own notes are kept back
    assert line.startswith(f"lkframes convert: warning: {str(damaged_mp3)!r} has damaged data")
    assert sf.info(str(out)).frames == summary["samples_per_channel"]


def test_strict_fails_at_damage_and_leaves_no_output(
    damaged_mp3: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.wav"
    assert _main.main(["convert", str(damaged_mp3), str(out), "--strict", "--quiet"]) == 1
    (line,) = capfd.readouterr().err.splitlines()  # --quiet: the one line
    assert line.startswith("lkframes convert: error: DamagedAudioError: ")
    assert line.endswith(f"; {out} was not written")
    assert "on_damaged" not in line  # said in flags: "without --strict"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.mp3"]


@pytest.fixture
def cut_mp3(tmp_path: Path) -> Path:
    """An MP3 with a Xing tag, cut in half: mpg123 says so on stderr."""
    path = tmp_path / "cut.mp3"
    lk.run_sync(lk.noise(20.0, 22_050, amplitude=0.3, dtype="float32").to_file(path))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def test_a_cut_input_fails_with_what_the_decoder_said_or_is_kept_when_asked(
    cut_mp3: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.wav"
    assert _main.main(["convert", str(cut_mp3), str(out)]) == 1
    lines = capfd.readouterr().err.splitlines()
    assert lines[0].startswith("lkframes convert: error: TruncatedAudioError: ")
    assert lines[1] == "decoder output:"  # mpg123's own words explain the error
    assert "Xing stream size" in lines[2]
    assert not out.exists()
    assert _main.main(["convert", str(cut_mp3), str(out), "--keep-cut", "--verbose"]) == 0
    err = capfd.readouterr().err
    assert "lkframes convert: warning: " in err
    assert "is truncated after" in err
    assert "Xing stream size" in err  # --verbose: shown though nothing failed
    assert 9.0 < sf.info(str(out)).duration < 10.5


def test_a_cut_adts_stream_is_cut_not_damaged(tmp_path: Path) -> None:
    aac = tmp_path / "tone.aac"
    wav = tmp_path / "tone.wav"
    lk.run_sync(lk.sine(440, 4.0, 22_050).to_file(wav))
    command = ["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", "-f", "adts", str(aac)]
    subprocess.run(command, check=True)
    aac.write_bytes(aac.read_bytes()[: aac.stat().st_size // 2 + 7])  # mid-frame
    run = _cli("info", str(aac), "--exact", "--quiet")
    assert run.returncode == 1
    assert b"TruncatedAudioError" in run.stderr
    assert b"in the middle of a frame" in run.stderr


def test_an_mp3_of_more_than_two_channels_is_a_usage_error(tmp_path: Path) -> None:
    wav = tmp_path / "six.wav"
    lk.run_sync(lk.sine(440, 0.5, 44_100, num_channels=6).to_file(wav))
    target = tmp_path / "sub" / "six.mp3"
    run = _cli("convert", str(wav), str(target))
    assert run.returncode == 2
    last = run.stderr.decode().strip().splitlines()[-1]
    assert last.endswith(f"{target}: MP3 files hold 1 or 2 channels, not 6; add --channels 2")


def test_sighup_cleans_up_as_ctrl_c_does(tmp_path: Path) -> None:
    source = tmp_path / "long.wav"
    lk.run_sync(lk.noise(600.0, 44_100, num_channels=2).to_file(source))
    target = tmp_path / "out.flac"
    process = subprocess.Popen(
        [sys.executable, "-m", "lkframes", "convert", str(source), str(target), "--quiet"],
        stderr=subprocess.PIPE,
        env=ENV,
    )
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".out.flac.") for p in tmp_path.iterdir()):
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGHUP)  # a closed terminal, a dropped ssh session
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGHUP, err
    assert err.decode() == f"lkframes convert: stopped; {target} was not written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.wav"]


def _start_ignoring(ignored: signal.Signals, source: Path, target: Path) -> subprocess.Popen[bytes]:
    """``lkframes convert`` started with ``ignored`` ignored, as `cmd &` in a script starts
    it (SIGINT) or `nohup cmd` (SIGHUP), once its output is under way."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lkframes", "convert", str(source), str(target), "--quiet"],
        stderr=subprocess.PIPE,
        env=ENV,
        preexec_fn=lambda: signal.signal(ignored, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(f".{target.name}.") for p in source.parent.iterdir()):
            break
        time.sleep(0.005)
    return process


def test_kill_stops_a_background_convert_whose_ctrl_c_is_ignored(tmp_path: Path) -> None:
    # SIGTERM is handled as Ctrl-C; with SIGINT ignored that once did nothing at all.
    source, target = tmp_path / "long.wav", tmp_path / "out.flac"
    lk.run_sync(lk.noise(600.0, 44_100, num_channels=2).to_file(source))
    process = _start_ignoring(signal.SIGINT, source, target)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.decode() == f"lkframes convert: stopped; {target} was not written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.wav"]


def test_a_kill_with_ctrl_c_ignored_stops_a_loop_between_callbacks() -> None:
    # With SIGINT ignored, a SIGTERM must not raise KeyboardInterrupt wherever the main
    # thread happens to be: in the callback that hands a worker thread's result to its
    # task it was lost, and a convert waited forever (1 of 60 runs on Python 3.13 beside
    # the test suite). The loop raises it from a callback of its own.
    import asyncio
    import threading

    raised_in: list[str] = []
    cleaned_up = threading.Event()

    async def run() -> None:
        try:
            while True:  # a thread's results handed over, again and again
                await asyncio.to_thread(time.sleep, 0.001)
        finally:
            cleaned_up.set()

    def where(_loop: object, context: dict[str, object]) -> None:
        raised_in.append(str(context))  # an exception a callback lost

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(where)
        asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGTERM)
        await run()

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with (
            _main._terminate_as_interrupt() as terminated,
            pytest.raises(KeyboardInterrupt) as stopped,
        ):
            asyncio.run(main())
    finally:
        signal.signal(signal.SIGINT, previous)
    assert terminated == [signal.SIGTERM]
    # Raised by the loop's own callback, not by the signal handler wherever it struck.
    raised_by = [entry.name for entry in stopped.traceback]
    assert raised_by[-1] == "_interrupt", raised_by
    assert "on_terminate" not in raised_by
    assert cleaned_up.is_set()
    assert raised_in == []


def test_nohup_keeps_a_convert_running_through_a_hangup(tmp_path: Path) -> None:
    source, target = tmp_path / "long.wav", tmp_path / "out.flac"
    lk.run_sync(lk.noise(60.0, 44_100, num_channels=2).to_file(source))
    process = _start_ignoring(signal.SIGHUP, source, target)
    process.send_signal(signal.SIGHUP)  # the terminal closed; nohup said to carry on
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert sf.info(str(target)).frames == 60 * 44_100


def test_mu_law_takes_its_standard_for_what_is_not_given(tmp_path: Path) -> None:
    path = tmp_path / "wide.ul"
    path.write_bytes(bytes(range(256)) * 64)
    run = _cli("info", str(path), "--input-rate", "16000", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["format"] == {
        "sample_rate": 16_000,
        "num_channels": 1,
        "dtype": "int16",
    }
    assert b"the format's standard where not given" in run.stderr


def test_headerless_bytes_on_stdin_get_the_hint(tmp_path: Path) -> None:
    run = _cli("convert", "-", str(tmp_path / "out.wav"), stdin=bytes(range(256)) * 100)
    assert run.returncode == 1
    assert (
        run.stderr.decode()
        .rstrip()
        .endswith(
            "if it is headerless audio, give --input-rate, --input-channels, --input-encoding"
        )
    )


def test_info_reads_only_the_header_unless_it_cannot_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = tmp_path / "tone.wav"
    lk.run_sync(lk.sine(440, 2.0, 16_000).to_file(wav))
    assert _main.main(["info", str(wav)]) == 0
    out = capsys.readouterr().out
    assert "2.000 s (32000 samples, from the header)" in out
    assert "level" not in out
    raw = tmp_path / "tone.raw"
    raw.write_bytes(lk.run_sync(lk.sine(440, 1.0, 8_000).to_array()).astype("<i2").tobytes())
    argv = ["info", str(raw), "--input-rate", "8000", "--input-channels", "1"]
    assert _main.main([*argv, "--input-encoding", "s16le"]) == 0
    assert "1.000 s (8000 samples, from its size)" in capsys.readouterr().out


def test_headerless_input_without_its_layout_is_a_usage_error_in_flags(tmp_path: Path) -> None:
    raw = tmp_path / "call.raw"
    raw.write_bytes(bytes(16_000))
    run = _cli("convert", str(raw), str(tmp_path / "call.wav"))
    assert run.returncode == 2
    last = run.stderr.decode().strip().splitlines()[-1]
    assert last.endswith("give --input-rate, --input-channels, --input-encoding")
    run = _cli("convert", str(raw), str(tmp_path / "call.wav"), "--input-rate", "8000",
               "--input-channels", "1", "--input-encoding", "s16le", "--quiet")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert sf.info(str(tmp_path / "call.wav")).frames == 8_000


def test_stdin_to_stdout(tmp_path: Path) -> None:
    flac = tmp_path / "tone.flac"
    lk.run_sync(lk.sine(440, 3.0, 44_100, num_channels=2).to_file(flac))
    run = _cli("convert", "-", "-", "--rate", "16000", "--channels", "1", "--ext", "flac",
               stdin=flac.read_bytes())  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr.decode().startswith("<stdin> (44100 Hz stereo int16) -> - (16000 Hz mono")
    from_pipe = lk.run_sync(lk.from_file(run.stdout).to_array())
    from_file = lk.run_sync(lk.from_file(flac).remix(1).resample(16_000).to_array())
    np.testing.assert_array_equal(from_pipe, from_file)
    info = _cli("info", "-", "--json", stdin=flac.read_bytes())
    assert json.loads(info.stdout)["samples_per_channel"] == 3 * 44_100


def test_start_and_end(tmp_path: Path) -> None:
    flac = tmp_path / "tone.flac"
    lk.run_sync(lk.sine(440, 3.0, 16_000).to_file(flac))
    out = tmp_path / "part.wav"
    assert _main.main(["convert", str(flac), str(out), "--start", "1", "--end", "2.5", "-q"]) == 0
    got, _ = sf.read(str(out), dtype="int16")
    whole = lk.run_sync(lk.from_file(flac).to_array())
    np.testing.assert_array_equal(got, whole[16_000:40_000])

"""``lkframes convert IN... OUTDIR``: many files, in worker processes, resumable."""

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
from lkframes.io._replace import TEMP_MARK

SRC = str(Path(lk.__file__).resolve().parents[1])


def tone(path: Path, seconds: float, rate: int, channels: int = 1, hz: float = 440) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * rate)) / rate
    x = np.repeat((0.3 * np.sin(2 * np.pi * hz * t))[:, None], channels, axis=1)
    if path.suffix == ".mp3":
        sf.write(path, x, rate, format="MP3")
    else:
        sf.write(path, x, rate)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """in/a.flac (44.1 kHz stereo), in/talks/b.wav (48 kHz), in/talks/deep/c.mp3, a text file."""
    root = tmp_path / "in"
    tone(root / "a.flac", 1.5, 44_100, 2)
    tone(root / "talks" / "b.wav", 1.0, 48_000, hz=660)
    tone(root / "talks" / "deep" / "c.mp3", 2.0, 44_100, hz=880)
    (root / "notes.txt").write_text("not audio, and not picked from a folder")
    return root


def cli(*args: str) -> int:
    return _main.main(["convert", *args])


def test_a_folder_is_mirrored_and_each_file_equals_a_single_convert(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli(str(tree), f"{out}/", "--rate", "16000", "--channels", "1", "-j", "2") == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.wav", "talks/b.wav", "talks/deep/c.wav"]
    summary = capsys.readouterr().out
    assert "converted 3 files" in summary
    assert "0 failed" in summary
    for name, source in (("a", "a.flac"), ("talks/b", "talks/b.wav")):
        single = tmp_path / f"single-{name.replace('/', '-')}.wav"
        assert cli(str(tree / source), str(single), "--rate", "16000", "--channels", "1") == 0
        batch, rate = sf.read(out / f"{name}.wav", dtype="int16")
        alone, _ = sf.read(single, dtype="int16")
        assert rate == 16_000
        assert np.array_equal(batch, alone), name


def test_patterns_and_several_inputs(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pattern = str(tree / "**" / "*.mp3")
    assert cli(pattern, str(tree / "a.flac"), str(out), "--ext", "flac", "-q") == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.flac")) == [
        "a.flac",
        "talks/deep/c.flac",
    ]
    assert sf.info(str(out / "a.flac")).channels == 2  # no flags: the format is kept


def test_one_bad_file_is_reported_and_the_rest_converted(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "talks" / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    out = tmp_path / "out"
    assert cli(str(tree), str(out), "--rate", "16000", "-j", "2") == 1
    err = capsys.readouterr().err
    assert "broken.wav" in err
    assert "converted 3 files" in err
    assert "1 failed" in err
    assert (out / "talks" / "deep" / "c.wav").is_file()
    assert not (out / "talks" / "broken.wav").exists()
    assert not [p for p in out.rglob("*") if TEMP_MARK in p.name]


def test_done_files_are_skipped_and_overwrite_redoes_them(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli(str(tree), str(out), "--json", "-j", "1") == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["converted"], first["skipped"], first["failed"]) == (3, 0, 0)
    assert first["duration_s"] == pytest.approx(4.5, abs=0.1)
    assert cli(str(tree), str(out), "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["converted"], again["skipped"]) == (0, 3)
    assert cli(str(tree), str(out), "--json", "--overwrite") == 0
    assert json.loads(capsys.readouterr().out)["converted"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tree}/a.flac", "{tree}/talks", "{tmp}/out", "--ext", "xyz"], "--ext xyz"),
        (["{tree}/nothing-*.mp3", "{tmp}/out"], "matches no file"),
        (["{tree}/a.flac", "{tree}/talks/b.wav", "{tree}/a.flac"], "is a file"),
        (["{tree}", "{tmp}/out", "--jobs", "0"], "--jobs"),
        (["{tree}/a.flac", "{tmp}/one.wav", "--ext", "flac"], "--ext applies"),
        (["{tree}", "{tmp}/out.wav"], "looks like a file name"),
    ],
)
def test_bad_batches_are_refused_before_anything_is_written(
    tree: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    argv = [a.format(tree=tree, tmp=tmp_path) for a in args]
    assert cli(*argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_trailing_slash_makes_out_a_folder(tree: Path, tmp_path: Path) -> None:
    # argparse's Path would drop it: Path("out/") is Path("out")
    one = tree / "a.flac"
    assert cli(str(one), f"{tmp_path / 'single'}/", "--quiet") == 0
    assert sorted(p.name for p in (tmp_path / "single").iterdir()) == ["a.wav"]
    two = [str(one), str(tree / "talks" / "b.wav")]
    assert cli(*two, f"{tmp_path / 'named.wav'}/", "--quiet") == 0  # a folder named so
    assert sorted(p.name for p in (tmp_path / "named.wav").iterdir()) == ["a.wav", "b.wav"]
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"stages": []}))
    assert _main.main(["run", str(spec), str(one), f"{tmp_path / 'ran'}/", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "ran").iterdir()) == ["a.wav"]


def test_two_inputs_for_one_output_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tone(tmp_path / "in" / "x.flac", 0.1, 16_000)
    tone(tmp_path / "in" / "x.wav", 0.1, 16_000)
    assert cli(str(tmp_path / "in"), str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "x.flac" in err
    assert "x.wav" in err


def test_a_killed_batch_resumes_where_it_stopped(tmp_path: Path) -> None:
    # Each output appears only once complete: kill the batch mid-way, every file there is
    # whole; run it again and it converts only the rest.
    inputs = [tone(tmp_path / "in" / f"{n:02}.wav", 20.0, 48_000) for n in range(8)]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lkframes", "convert", str(tmp_path / "in"), str(out)]
    command += ["--rate", "16000", "-j", "2", "--quiet"]
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if out.exists() and len(list(out.glob("*.wav"))) >= 2:
            break
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)  # the batch and its workers, as a crash would
    process.wait(10)
    time.sleep(0.2)
    done = sorted(out.glob("*.wav"))
    assert 2 <= len(done) < len(inputs), done
    for path in done:
        assert sf.info(str(path)).frames == 320_000, path  # complete, never half-written
    resumed = subprocess.run([*command[:-1], "--json"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["skipped"] == len(done)
    assert report["converted"] == len(inputs) - len(done)
    assert [p.name for p in sorted(out.iterdir())] == [f"{n:02}.wav" for n in range(8)]


@pytest.mark.parametrize(
    ("stop", "status"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["ctrl-c to the group", "kill of the batch"],
)
def test_ctrl_c_stops_the_batch_at_once(tmp_path: Path, stop: signal.Signals, status: int) -> None:
    for n in range(6):
        tone(tmp_path / "in" / f"{n}.wav", 30.0, 48_000)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lkframes", "convert", str(tmp_path / "in"), str(out)]
    process = subprocess.Popen(
        [*command, "--rate", "16000", "-j", "2", "--quiet"],
        env={**os.environ, "PYTHONPATH": SRC},
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if out.exists() and any(TEMP_MARK in p.name for p in out.iterdir()):
            break  # a worker is writing
        time.sleep(0.005)
    started = time.monotonic()
    if stop == signal.SIGINT:
        os.killpg(process.pid, stop)  # as a terminal's Ctrl-C: the whole group
    else:
        process.send_signal(stop)  # `kill PID`, `timeout`: the batch process alone
    _, err = process.communicate(timeout=30)
    assert process.returncode == status, err.decode()
    assert time.monotonic() - started < 5
    for path in out.glob("*.wav"):
        assert sf.info(str(path)).frames == 480_000  # what is there is whole
    assert not [p.name for p in out.iterdir() if TEMP_MARK in p.name]  # nothing half-done


def test_run_takes_many_files_through_a_pipeline(tree: Path, tmp_path: Path) -> None:
    # A pipeline file for many files needs no input; its output's extension is kept.
    spec = tmp_path / "to16k.yaml"
    spec.write_text(
        "output: anything.flac\n"
        "stages:\n"
        "  - {stage: remix, num_channels: 1}\n"
        "  - {stage: resample, sample_rate: 16000}\n"
    )
    out = tmp_path / "out"
    assert _main.main(["run", str(spec), str(tree), str(out), "-j", "2", "--quiet"]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.flac"))
    assert written == ["a.flac", "talks/b.flac", "talks/deep/c.flac"]
    # The same as convert with the same stages, file for file.
    converted = tmp_path / "converted"
    argv = [str(tree), str(converted), "--channels", "1", "--rate", "16000", "--ext", "flac"]
    assert cli(*argv, "--quiet") == 0
    for name in written:
        ran, rate = sf.read(out / name, dtype="int16")
        alone, _ = sf.read(converted / name, dtype="int16")
        assert rate == 16_000
        assert np.array_equal(ran, alone), name


def test_a_batch_to_m4a(tree: Path, tmp_path: Path) -> None:
    # --ext m4a: each file is AAC of its input's exact length, as a single convert makes it.
    out = tmp_path / "out"
    assert cli(str(tree), str(out), "--ext", "m4a", "-j", "2", "-q") == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.m4a", "talks/b.m4a", "talks/deep/c.m4a"]
    for name, source in (
        ("a", "a.flac"),
        ("talks/b", "talks/b.wav"),
        ("talks/deep/c", "talks/deep/c.mp3"),
    ):
        info = lk.file_info(out / f"{name}.m4a")
        assert info.codec == "aac"
        assert info.samples_per_channel == lk.file_info(tree / source).samples_per_channel
        single = tmp_path / f"single-{name.replace('/', '-')}.m4a"
        assert cli(str(tree / source), str(single), "-q") == 0
        batch = lk.run_sync(lk.from_file(out / f"{name}.m4a").to_array())
        alone = lk.run_sync(lk.from_file(single).to_array())
        np.testing.assert_array_equal(batch, alone)  # the same encoder, the same input
    # The pipeline form writes the same files.
    spec = tmp_path / "copy.yaml"
    spec.write_text("output: anything.m4a\nstages: []\n")
    ran = tmp_path / "ran"
    assert _main.main(["run", str(spec), str(tree), str(ran), "--quiet"]) == 0
    for name in written:
        assert (
            lk.file_info(ran / name).samples_per_channel
            == lk.file_info(out / name).samples_per_channel
        )


def test_run_jobs_without_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"input": "in.wav", "stages": []}))
    assert _main.main(["run", str(spec), "--jobs", "2"]) == 1
    assert "--jobs applies to many files" in capsys.readouterr().err
    assert _main.main(["run", str(spec), str(tmp_path)]) == 2
    assert "then a folder OUT" in capsys.readouterr().err


def test_run_takes_one_file_into_another_as_convert_does(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stages = [
        {"stage": "remix", "num_channels": 1},
        {"stage": "resample", "sample_rate": 16_000},
        {"stage": "gain", "db": -3},
    ]
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    (pipes / "p.json").write_text(
        json.dumps({"input": "x.wav", "output": "y.wav", "stages": stages})
    )
    own = {"input": str(tree / "a.flac"), "output": str(tmp_path / "own.flac"), "stages": stages}
    (pipes / "own.json").write_text(json.dumps(own))
    monkeypatch.chdir(tmp_path)  # IN and OUT are the command line's: from here, not pipes/
    assert _main.main(["run", "pipes/p.json", "in/a.flac", "one.flac", "--quiet"]) == 0
    assert _main.main(["run", "pipes/own.json", "--quiet"]) == 0
    ran, rate = sf.read("one.flac", dtype="int32")
    expected, _ = sf.read("own.flac", dtype="int32")
    assert (rate, ran.shape) == (16_000, (24_000,))
    assert np.array_equal(ran, expected)
    assert sf.info("one.flac").subtype == sf.info("own.flac").subtype  # OUT's type: FLAC
    assert sorted(p.name for p in pipes.iterdir()) == ["own.json", "p.json"]  # no y.wav

    assert _main.main(["run", "pipes/p.json", "in/a.flac", "one.flac"]) == 1
    assert "'one.flac' exists; pass --overwrite" in capsys.readouterr().err
    assert _main.main(["run", "pipes/p.json", "in/a.flac", "one.flac", "--overwrite", "-q"]) == 0
    assert _main.main(["run", "pipes/p.json", "in/a.flac", "one"]) == 2  # no type: usage
    assert "one: cannot write files ending in nothing" in capsys.readouterr().err
    assert _main.main(["run", "pipes/p.json", "in/a.flac", "folder/", "-q"]) == 0  # many
    assert np.array_equal(sf.read("folder/a.wav", dtype="int32")[0], ran)  # p.json's .wav


def _signal_state(_: object) -> tuple[bool, bool, object]:
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return signal.SIGINT in blocked, signal.SIGTERM in blocked, signal.getsignal(signal.SIGTERM)


def test_batch_workers_start_with_the_stop_signals_held_until_set_up() -> None:
    # A SIGTERM that reached a worker before its initializer ran found the CLI's handler
    # and left the worker stuck with the pool's lock (a hang seen once under load). Workers
    # now start with SIGINT/SIGTERM blocked and unblock them once set up; the parent's mask
    # is given back.
    from lkframes.cli._batch import worker_pool

    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    pool = worker_pool(2)
    try:
        states = pool.map(_signal_state, range(4))
    finally:
        pool.terminate()
        pool.join()
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    assert all(state == (False, False, signal.SIG_DFL) for state in states), states


def test_the_pool_starts_its_workers_while_the_stop_signals_are_blocked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lkframes.cli import _batch

    seen: list[set[int]] = []

    class Context:
        def Pool(self, jobs: int, initializer: object) -> str:
            seen.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
            return "pool"

    monkeypatch.setattr(_batch, "get_context", lambda method: Context())
    assert _batch.worker_pool(2) == "pool"
    assert {signal.SIGINT, signal.SIGTERM} <= seen[0]  # what forked workers inherit
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])

"""``lkframes info``, ``convert`` and ``run``: what they write, print and exit with."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes.cli import _main
from lkframes.io._replace import TEMP_MARK


@pytest.fixture
def stereo_flac(tmp_path: Path) -> Path:
    """2 s of 44.1 kHz stereo 16-bit FLAC: 440 Hz left, 660 Hz right, -6 dBFS peak."""
    t = np.arange(88_200) / 44_100
    x = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1) * 0.5
    path = tmp_path / "in.flac"
    sf.write(path, x, 44_100, subtype="PCM_16")
    return path


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out, err = capsys.readouterr()
    assert err == ""
    result: dict[str, Any] = json.loads(out)
    return result


def test_info_reports_format_duration_and_level(
    stereo_flac: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main.main(["info", str(stereo_flac), "--json"]) == 0
    header_only = json.loads(capsys.readouterr().out)
    assert (header_only["length"], header_only["peak_dbfs"]) == ("header", None)
    assert header_only["samples_per_channel"] == 88_200
    assert _main.main(["info", str(stereo_flac), "--json", "--exact"]) == 0
    info = _json(capsys)
    assert info["container"] == "FLAC"
    assert info["codec"] == "PCM_16"
    assert info["format"] == {"sample_rate": 44_100, "num_channels": 2, "dtype": "int16"}
    assert info["samples_per_channel"] == 88_200
    assert info["duration_s"] == pytest.approx(2.0)
    assert info["peak_dbfs"] == pytest.approx(-6.02, abs=0.05)
    assert info["rms_dbfs"] == pytest.approx(-6.02 - 3.01, abs=0.05)  # a sine's RMS is -3 dB


def test_info_text(stereo_flac: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(["info", str(stereo_flac), "--exact"]) == 0
    out = capsys.readouterr().out
    assert "44100 Hz stereo int16" in out
    assert "2.000 s (88200 samples, counted by decoding)" in out
    assert "peak -6.0 dBFS" in out


def test_info_names_the_video_beside_the_audio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clip.mp4"
    pictures = [
        lk.VideoFrame(np.zeros((48, 64, 3), np.uint8), "rgb24", timestamp_us=n * 40_000)
        for n in range(25)
    ]
    video = lk.from_video_frames(pictures)
    lk.run_sync(lk.to_media_file(path, video=video, audio=lk.sine(440, 1.0)))
    assert _main.main(["info", str(path), "--json"]) == 0
    info = _json(capsys)
    assert info["video"] == {"width": 64, "height": 48, "fps": 25.0, "codec": "h264"}
    assert info["duration_s"] == pytest.approx(1.0, abs=0.03)
    assert _main.main(["info", str(path)]) == 0
    assert "video     64x48, 25 fps, h264 (not measured)" in capsys.readouterr().out
    assert _main.main(["info", str(path.with_suffix(".flac")), "--json"]) == 1  # no such file
    capsys.readouterr()


def test_info_describes_a_video_only_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with video and no audio is described (it was refused as 'no audio stream');
    its frames agree with ffprobe's count, from the header and by decoding with --exact."""
    path = tmp_path / "screen.mp4"
    pictures = [
        lk.VideoFrame(np.zeros((48, 64, 3), np.uint8), "rgb24", timestamp_us=n * 40_000)
        for n in range(30)
    ]
    lk.run_sync(lk.to_media_file(path, video=lk.from_video_frames(pictures)))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert _main.main(["info", str(path), "--json"]) == 0
    info = _json(capsys)
    assert info["format"] is None
    assert info["length"] == "header"
    assert info["video"] == {
        "width": 64, "height": 48, "fps": 25.0, "codec": "h264", "frames": 30,
    }  # fmt: skip
    assert int(probe.stdout) == 30
    assert _main.main(["info", str(path), "--exact"]) == 0
    out = capsys.readouterr().out
    assert "audio     none" in out
    assert "video     64x48, 25 fps, h264, 30 frames (counted by decoding)" in out
    assert _main.main(["info", str(path), "--loudness"]) == 1
    assert "--loudness: 'screen.mp4' has video and no audio stream" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("not media")
    assert _main.main(["info", str(tmp_path / "notes.txt")]) == 1  # still refused as before
    assert "not an audio file" in capsys.readouterr().err


def test_info_of_silence_says_silent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(1000, np.int16), 8_000)
    assert _main.main(["info", str(path), "--exact"]) == 0
    assert "silent" in capsys.readouterr().out


def test_convert_resamples_remixes_and_keeps_the_bit_depth(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.wav"
    argv = ["convert", str(stereo_flac), str(out), "--rate", "16000", "--channels", "1"]
    assert _main.main([*argv, "--chunk-ms", "20", "--json"]) == 0
    summary = _json(capsys)
    assert summary["frames"] == 100  # 2 s of 20 ms frames
    assert summary["output_format"] == {"sample_rate": 16_000, "num_channels": 1, "dtype": "int16"}
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (
        16_000,
        1,
        32_000,
        "PCM_16",
    )
    # The same as the library pipeline, sample for sample (to soxr's int16 rounding).
    expected = lk.run_sync(
        lk.from_file(stereo_flac).remix(1).resample(16_000).to_array(squeeze=False)
    )
    got, _ = sf.read(str(out), dtype="int16", always_2d=True)
    assert np.abs(got.astype(np.int32) - expected.astype(np.int32)).max() <= 2


def test_convert_gain_and_float_output(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.flac"
    argv = ["convert", str(stereo_flac), str(out), "--gain-db", "-6.0206", "--dtype", "float32"]
    assert _main.main([*argv, "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    y, rate = sf.read(str(out), always_2d=True)
    assert rate == 44_100
    assert np.abs(y).max() == pytest.approx(0.25, abs=1e-3)


def test_convert_to_m4a_writes_aac_of_the_exact_length(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.m4a"
    argv = ["convert", str(stereo_flac), str(out), "--rate", "16000", "--json"]
    assert _main.main(argv) == 0
    summary = _json(capsys)
    assert (summary["output_container"], summary["output_subtype"]) == ("M4A", "AAC")
    assert summary["samples_per_channel"] == 32_000
    # lkframes info (and ffprobe, in tests/io/test_write_aac.py) reads what was written.
    assert _main.main(["info", str(out), "--json", "--exact"]) == 0
    info = _json(capsys)
    assert (info["codec"], info["backend"], info["samples_per_channel"]) == ("aac", "pyav", 32_000)
    assert info["format"] == {"sample_rate": 16_000, "num_channels": 2, "dtype": "float32"}
    assert info["rms_dbfs"] == pytest.approx(-6.02 - 3.01, abs=0.3)  # peaks overshoot a little
    expected = lk.run_sync(lk.from_file(stereo_flac).resample(16_000).to_array(squeeze=False))
    got = lk.run_sync(lk.from_file(out).to_array(squeeze=False))
    error = np.sum((expected / 32_768 - got) ** 2)
    assert 10 * np.log10(np.sum((expected / 32_768) ** 2) / error) > 15
    # ... and back to FLAC: 16-bit PCM, as from any lossy input.
    assert _main.main(["convert", str(out), str(tmp_path / "back.flac"), "--quiet"]) == 0
    back = sf.info(str(tmp_path / "back.flac"))
    assert (back.frames, back.subtype) == (32_000, "PCM_16")


def test_run_writes_m4a(
    tmp_path: Path, stereo_flac: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {
        "input": stereo_flac.name,
        "output": "out.mp4",
        "stages": [{"stage": "remix", "num_channels": 1}],
    }
    assert _main.main(["run", str(_pipeline(tmp_path, spec)), "--json"]) == 0
    summary = _json(capsys)
    assert (summary["output_container"], summary["output_subtype"]) == ("MP4", "AAC")
    info = lk.file_info(tmp_path / "out.mp4")
    assert (info.codec, info.samples_per_channel, info.format.num_channels) == ("aac", 88_200, 1)


def test_convert_refuses_to_overwrite(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.wav"
    out.write_bytes(b"precious")
    assert _main.main(["convert", str(stereo_flac), str(out)]) == 1
    err = capsys.readouterr().err
    assert "exists; pass --overwrite" in err
    assert err.count("\n") == 1
    assert out.read_bytes() == b"precious"
    assert _main.main(["convert", str(stereo_flac), str(out), "--overwrite", "--quiet"]) == 0
    assert sf.info(str(out)).frames == 88_200


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", "in.wav"],
        ["convert", "in.wav", "out.wav", "--rate", "-5"],
        ["convert", "in.wav", "out.wav", "--rate", "16k"],
        ["convert", "in.wav", "out.wav", "--gain-db", "nan"],
        ["convert", "in.wav", "out.wav", "--quality", "best"],
        ["info"],
        ["run"],
        ["info", "x.wav", "--json", "--quiet"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["info", "convert"])
def test_missing_input_exits_1_with_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, str(tmp_path / "missing.wav")]
    if command == "convert":
        argv.append(str(tmp_path / "out.wav"))
    assert _main.main(argv) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"lkframes {command}: error: AudioFileError: no such file: '{tmp_path}/missing.wav'\n"
    )


def test_convert_rejects_a_chunk_size_that_is_not_whole(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["convert", str(stereo_flac), str(tmp_path / "o.wav"), "--chunk-ms", "0.01"]
    assert _main.main(argv) == 2  # a flag's value: a usage error, said before any audio
    assert "--chunk-ms 0.01: 0.01 ms at 44100 Hz is 0.441 samples" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()


def _pipeline(tmp_path: Path, document: object, name: str = "pipeline.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_run_pipeline_json(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _pipeline(
        tmp_path,
        {
            "input": stereo_flac.name,
            "output": "speech.wav",
            "stages": [
                {"stage": "remix", "num_channels": 1},
                {"stage": "resample", "sample_rate": 16_000},
                {"stage": "skip", "ms": 500},
                {"stage": "take", "ms": 1000},
                {"stage": "chunk", "ms": 20, "tail": "pad"},
            ],
        },
    )
    assert _main.main(["run", str(path), "--json"]) == 0
    summary = _json(capsys)
    assert summary["frames"] == 50
    assert sf.info(str(tmp_path / "speech.wav")).frames == 16_000


def test_run_pipeline_yaml_without_output(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"input: {stereo_flac.name}\nstages:\n  - stage: chunk\n    samples: 441\n")
    assert _main.main(["run", str(path), "--json"]) == 0
    summary = _json(capsys)
    assert summary["output"] is None
    assert summary["frames"] == 200


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"stages": []}, "input: Field required"),
        (
            {"input": "in.flac", "stages": [{"stage": "resample", "sample_rate": -5}]},
            r"stages\[0\]: sample_rate must be positive \(got -5\)",
        ),
        (
            {"input": "in.flac", "stages": [{"stage": "echo"}]},
            r"stages\[0\]: unknown stage 'echo' \(did you mean 'echo_cancel'\?\)",
        ),
        (
            {"input": "in.flac", "stages": [{"stage": "chunk", "ms": 20, "size": 3}]},
            r"stages\[0\].size: Extra inputs are not permitted",
        ),
        ({"input": "in.flac", "speed": 2}, "speed: Extra inputs are not permitted"),
    ],
)
def test_run_errors_point_to_the_offending_key(
    document: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main.main(["run", str(_pipeline(tmp_path, document))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lkframes run: error: PipelineError: invalid pipeline")
    assert err.count("\n") == 1
    assert re.search(message, err), err


def test_run_rejects_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"input": "a.wav",\n "stages": [}')
    assert _main.main(["run", str(path)]) == 1
    assert "is not valid JSON: Expecting value at line 2" in capsys.readouterr().err


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_during_convert_leaves_no_output_and_says_so(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    # OUT is written beside and renamed when complete: a stopped convert leaves nothing
    # under OUT's name and no temporary file, and says so in one line. (Closing the
    # decoder while a worker thread was inside libsndfile once crashed here: run it 3x.)
    source = tmp_path / "long.wav"
    with sf.SoundFile(source, "w", 44_100, 2, "PCM_16") as out:
        rng = np.random.default_rng(0)
        block = (rng.uniform(-0.3, 0.3, (441_000, 2)) * 32767).astype(np.int16)
        for _ in range(36):  # 6 minutes: about half a second of converting
            out.write(block)
    codes = []
    for attempt in range(3):
        target = tmp_path / f"out-{attempt}.wav"
        command = [sys.executable, "-m", "lkframes", "convert", str(source), str(target)]
        process = subprocess.Popen(
            [*command, "--rate", "16000", "--channels", "1", "--quiet"],
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(lk.__file__).resolve().parents[1])},
        )
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            if any(TEMP_MARK in p.name for p in tmp_path.iterdir()):
                break  # interrupt once the conversion is under way, not during start-up
            time.sleep(0.002)
        time.sleep(0.05 * attempt)
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
        codes.append(process.returncode)
        assert b"Traceback" not in err
        assert b"Segmentation fault" not in err
        if process.returncode == status:
            assert err.decode() == f"lkframes convert: stopped; {target} was not written\n"
            assert not target.exists()
        else:  # finished before the signal came: a complete file
            assert sf.info(str(target)).frames == 6 * 60 * 16_000
        assert not [p.name for p in tmp_path.iterdir() if TEMP_MARK in p.name]
    assert all(code in (0, status) for code in codes), codes
    assert status in codes, codes


def test_a_failing_convert_leaves_no_output(tmp_path: Path) -> None:
    # A cut input fails the convert (exit 1) after everything before the cut was
    # converted; OUT is not written at all, and the error line says so.
    source = tmp_path / "cut.flac"
    lk.run_sync(lk.sine(440, 4.0, 16_000).to_file(source))
    source.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    target = tmp_path / "out.wav"
    run = subprocess.run(
        [sys.executable, "-m", "lkframes", "convert", str(source), str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(lk.__file__).resolve().parents[1])},
        check=False,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("lkframes convert: error: TruncatedAudioError: ")
    assert run.stderr.rstrip().endswith(f"; {target} was not written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.flac"]


def test_run_pipeline_with_livekit_audio_processing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noisy = tmp_path / "noisy.wav"
    rng = np.random.default_rng(1)
    sf.write(noisy, (rng.uniform(-0.2, 0.2, 48_000 * 2) * 32767).astype(np.int16), 48_000)
    path = _pipeline(
        tmp_path,
        {
            "input": "noisy.wav",
            "output": "clean.wav",
            "stages": [
                {"stage": "high_pass"},
                {"stage": "denoise"},
                {"stage": "echo_cancel", "reference": "noisy.wav"},
            ],
        },
    )
    assert _main.main(["run", str(path), "--quiet"]) == 0
    clean, _ = sf.read(str(tmp_path / "clean.wav"), dtype="float64")
    assert clean.shape == (96_000,)
    before = np.sqrt(np.mean(rng.uniform(-0.2, 0.2, 48_000) ** 2))
    after = np.sqrt(np.mean(clean[48_000:] ** 2))  # after the APM has adapted
    assert 20 * np.log10(after / before) < -10


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg"])
def test_convert_in_place_keeps_the_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ext: str
) -> None:
    # The report that started issue 11: `convert a.wav ./a.wav --overwrite --rate 22050`
    # cut a 7.8 s file to 0.5 s. The input is read to its end before it is replaced.
    path = tmp_path / f"a.{ext}"
    t = np.arange(7 * 44_100 + 35_280) / 44_100  # 7.8 s
    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), 44_100)
    before = sf.info(str(path)).frames
    argv = ["convert", str(path), str(tmp_path / "." / path.name), "--overwrite"]
    assert _main.main([*argv, "--rate", "22050", "--json"]) == 0
    summary = _json(capsys)
    assert summary["samples_per_channel"] == lk.resampled_length(before, 44_100, 22_050)
    info = sf.info(str(path))
    assert (info.samplerate, info.frames) == (22_050, summary["samples_per_channel"])
    assert info.duration == pytest.approx(7.8, abs=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg"])
def test_run_with_its_input_as_output_edits_in_place(
    stereo_flac: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], ext: str
) -> None:
    path = tmp_path / f"talk.{ext}"
    sf.write(path, sf.read(stereo_flac)[0], 44_100)
    expected = lk.run_sync(lk.from_file(path).remix(1).gain(-6).to_array(squeeze=False))
    spec = {
        "input": path.name,
        "output": path.name,
        "overwrite": True,
        "stages": [{"stage": "remix", "num_channels": 1}, {"stage": "gain", "db": -6}],
    }
    assert _main.main(["run", str(_pipeline(tmp_path, spec)), "--json"]) == 0
    assert _json(capsys)["samples_per_channel"] == len(expected)
    got = lk.run_sync(lk.from_file(path).to_array(squeeze=False))
    assert got.shape == expected.shape
    if ext != "ogg":  # lossless: 16-bit PCM, as the input was
        np.testing.assert_allclose(got, expected, atol=2.0**-15)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.flac", "pipeline.json", path.name]


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_kill_during_an_in_place_convert_leaves_the_input_byte_for_byte(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    # SIGTERM (kill, timeout, systemd) cleans up as Ctrl-C does: no temporary file is left.
    source = tmp_path / "long.wav"
    with sf.SoundFile(source, "w", 44_100, 2, "PCM_16") as out:
        rng = np.random.default_rng(1)
        block = (rng.uniform(-0.3, 0.3, (441_000, 2)) * 32767).astype(np.int16)
        for _ in range(36):  # 6 minutes: about half a second of converting
            out.write(block)
    before = source.read_bytes()
    command = [sys.executable, "-m", "lkframes", "convert", str(source), str(source)]
    process = subprocess.Popen(
        [*command, "--overwrite", "--rate", "16000", "--channels", "1", "--quiet"],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(lk.__file__).resolve().parents[1])},
    )
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        if any(TEMP_MARK in p.name for p in tmp_path.iterdir()):
            break  # the replacement is being written
        time.sleep(0.002)
    process.send_signal(stop)
    _, err = process.communicate(timeout=30)
    assert process.returncode == status, err.decode()
    # --quiet prints nothing on success; a stop gets one line, never a traceback
    assert err.decode() == f"lkframes convert: stopped; {source} was left as it was\n"
    assert source.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [source.name]


@pytest.mark.parametrize(
    ("stages", "subtype"),
    [
        ([{"stage": "gain", "db": -3}], "PCM_24"),  # a PCM input keeps its depth
        ([{"stage": "to_dtype", "dtype": "float32"}], "FLOAT"),  # as convert --dtype float32
        ([{"stage": "to_dtype", "dtype": "int16"}], "PCM_16"),
    ],
)
def test_run_writes_wav_as_convert_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stages: list[Any], subtype: str
) -> None:
    source = tmp_path / "in.flac"
    sf.write(source, 0.3 * np.sin(np.arange(4_800) / 10), 48_000, subtype="PCM_24")
    spec = {"input": "in.flac", "output": "out.wav", "stages": stages}
    assert _main.main(["run", str(_pipeline(tmp_path, spec)), "--json"]) == 0
    assert _json(capsys)["output_subtype"] == subtype
    assert sf.info(str(tmp_path / "out.wav")).subtype == subtype


@pytest.mark.parametrize(
    ("subtype", "out", "written"),
    [
        ("PCM_32", "o.flac", "PCM_24"),  # as deep as FLAC holds
        ("FLOAT", "o.flac", "PCM_24"),
        ("PCM_32", "o.wav", "PCM_32"),
        ("FLOAT", "o.wav", "FLOAT"),
        ("PCM_24", "o.wav", "PCM_24"),
        ("PCM_U8", "o.flac", "PCM_16"),  # FLAC has no unsigned 8-bit: 16 bits hold it
    ],
)
def test_convert_keeps_a_lossless_inputs_depth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], subtype: str, out: str, written: str
) -> None:
    source = tmp_path / "in.wav"
    sf.write(source, 0.3 * np.sin(np.arange(8_000) / 7), 16_000, subtype=subtype)
    assert _main.main(["convert", str(source), str(tmp_path / out), "--json"]) == 0
    assert _json(capsys)["output_subtype"] == written
    assert sf.info(str(tmp_path / out)).subtype == written

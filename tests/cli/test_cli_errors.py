"""Every error path of every command speaks in flags and file names, never in Python."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lkframes.cli import _main

# What only a Python caller could act on: keyword arguments, method calls, module names.
PYTHON_WORDS = re.compile(
    r"\b[a-z_]+=(?![\d'\"-])|\b(?:lk|lkframes|stream|np)\.\w|\w\(\)|Traceback|\b(?:True|False|None)\b"
)

Setup = Callable[[Path], list[str]]


def _wav(path: Path, seconds: float = 1.0, rate: int = 44_100, channels: int = 2) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    x = np.repeat((0.3 * np.sin(2 * np.pi * 440 * t))[:, None], channels, axis=1)
    sf.write(path, x, rate, subtype="PCM_16")
    return path


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


CASES: dict[str, tuple[Setup, int, str]] = {
    # info
    "info: missing file": (lambda d: ["info", str(d / "nope.wav")], 1, "no such file"),
    "info: a directory": (lambda d: ["info", str(d)], 1, "is a directory"),
    "info: empty file": (lambda d: ["info", str(_write(d / "e.wav", b""))], 1, "empty file"),
    "info: not audio": (
        lambda d: ["info", str(_write(d / "notes.wav", "hello " * 200))],
        1,
        "not an audio file",
    ),
    # convert
    "convert: missing input": (
        lambda d: ["convert", str(d / "nope.wav"), str(d / "out.wav")],
        1,
        "no such file",
    ),
    "convert: output exists": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(_wav(d / "out.wav"))],
        1,
        "--overwrite",
    ),
    "convert: unknown output extension": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "out.xyz")],
        2,
        ".xyz",
    ),
    "convert: webm output": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "out.webm")],
        2,
        "WebM files can be read but not written; write .wav, .flac, .ogg, .opus, .mp3, .m4a "
        "or .mp4",
    ),
    "convert: m4a at 50 kHz": (
        lambda d: ["convert", str(_wav(d / "in.wav", rate=50_000)), str(d / "out.m4a")],
        2,
        "out.m4a: AAC files hold 7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, "
        "48000, 64000, 88200 or 96000 Hz, not 50000 Hz; add --rate 64000",
    ),
    "convert: m4a with 9 channels": (
        lambda d: ["convert", str(_wav(d / "in.wav", channels=9)), str(d / "out.m4a")],
        2,
        "out.m4a: AAC files hold 1 to 8 channels, not 9; add --channels 1",
    ),
    "convert: a PCM subtype for an mp4": (
        lambda d: [
            "convert",
            str(_wav(d / "in.wav")),
            str(d / "out.mp4"),
            "--subtype",
            "PCM_16",
        ],
        2,
        "--subtype PCM_16 cannot be written to an MP4 file; it holds AAC only",
    ),
    "convert: output is the input's own folder": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d)],
        2,
        "would be written over itself",
    ),
    "convert: negative rate": (
        lambda d: ["convert", "in.wav", "out.wav", "--rate", "-5"],
        2,
        "--rate",
    ),
    "convert: quality without rate": (
        lambda d: ["convert", "in.wav", "out.wav", "--quality", "VHQ"],
        2,
        "--rate",
    ),
    "convert: 20 ms at 11025 Hz": (
        lambda d: [
            "convert",
            str(_wav(d / "in.wav", rate=11_025)),
            str(d / "out.wav"),
            "--chunk-ms",
            "20",
        ],
        2,
        "--chunk-ms 20",
    ),
    "convert: denoise at 44.1 kHz": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "out.wav"), "--denoise"],
        2,
        "--rate 48000",
    ),
    "convert: 3 channels to 2": (
        lambda d: [
            "convert",
            str(_wav(d / "in.wav", channels=3)),
            str(d / "out.wav"),
            "--channels",
            "2",
        ],
        2,
        "--channels 2: no default mix from 3 to 2 channels (defaults exist to mono, from mono, "
        "and from 5.1 or 7.1 (6 or 8 channels) to stereo); for this mix, give a remix stage a "
        '"matrix" of 3 rows of 2 gains in a pipeline file (lkframes run)',
    ),
    "convert: 6 channels to 4": (
        lambda d: [
            "convert",
            str(_wav(d / "in.wav", channels=6)),
            str(d / "out.wav"),
            "--channels",
            "4",
        ],
        2,
        "--channels 4: no default mix from 6 to 4 channels (defaults exist to mono, from mono, "
        "and from 5.1 or 7.1 (6 or 8 channels) to stereo); for this mix, give a remix stage a "
        '"matrix" of 6 rows of 4 gains',
    ),
    "convert: bad subtype": (
        lambda d: [
            "convert",
            str(_wav(d / "in.wav")),
            str(d / "out.wav"),
            "--subtype",
            "VORBIS",
        ],
        2,
        "--subtype VORBIS",
    ),
    "convert: not audio": (
        lambda d: ["convert", str(_write(d / "a.wav", "text " * 300)), str(d / "out.wav")],
        1,
        "not an audio file",
    ),
    "convert: opus at 44.1 kHz": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "out.opus")],
        2,
        "Opus files hold 8000, 12000, 16000, 24000 or 48000 Hz, not 44100 Hz; add --rate 48000",
    ),
    "convert: mp3 at 96 kHz": (
        lambda d: ["convert", str(_wav(d / "in.wav", rate=96_000)), str(d / "out.mp3")],
        2,
        "add --rate 48000",
    ),
    "convert: a subtype libsndfile lists but cannot write": (
        lambda d: [
            "convert",
            str(_wav(d / "in.wav")),
            str(d / "out.wav"),
            "--subtype",
            "MPEG_LAYER_III",
        ],
        1,
        "unsupported encoding",
    ),
    "convert: a frame shorter than a sample": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "o.wav"), "--chunk-ms", "1e-9"],
        2,
        "--chunk-ms 1e-09",
    ),
    "convert: rate above the limit": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "o.wav"), "--rate", "2000000"],
        2,
        "argument --rate: at most 1536000 Hz (got 2000000)",
    ),
    "convert: too many channels": (
        lambda d: ["convert", str(_wav(d / "in.wav")), str(d / "o.wav"), "--channels", "300"],
        2,
        "argument --channels: at most 64 channels (got 300)",
    ),
    "info: headerless raw audio": (
        lambda d: ["info", str(_write(d / "x.raw", b"\x00\x01" * 4_000))],
        2,
        "give --input-rate, --input-channels, --input-encoding",
    ),
    # run
    "run: opus output at 44.1 kHz": (
        lambda d: (
            [
                "run",
                str(_write(d / "p.json", '{"input": "in.wav", "output": "out.opus"}')),
            ]
            if _wav(d / "in.wav")
            else []
        ),
        1,
        '{"stage": "resample", "sample_rate": 48000}',
    ),
    "run: m4a output at 50 kHz": (
        lambda d: (
            ["run", str(_write(d / "p.json", '{"input": "in.wav", "output": "out.m4a"}'))]
            if _wav(d / "in.wav", rate=50_000)
            else []
        ),
        1,
        '{"stage": "resample", "sample_rate": 64000}',
    ),
    "run: a misspelled stage": (
        lambda d: [
            "run",
            str(_write(d / "p.json", '{"input": "a.wav", "stages": [{"stage": "resampel"}]}')),
        ],
        1,
        "unknown stage 'resampel' (did you mean 'resample'?)",
    ),
    "run: an audio file given as the pipeline": (
        lambda d: ["run", str(_wav(d / "speech.wav"))],
        1,
        "not a pipeline file",
    ),
    "run: missing pipeline": (lambda d: ["run", str(d / "p.json")], 1, "cannot read pipeline"),
    "run: invalid JSON": (lambda d: ["run", str(_write(d / "p.json", "{"))], 1, "not valid JSON"),
    "run: invalid YAML": (
        lambda d: ["run", str(_write(d / "p.yaml", "a: [b"))],
        1,
        "not valid YAML",
    ),
    "run: unknown stage": (
        lambda d: [
            "run",
            str(_write(d / "p.json", '{"input": "a.wav", "stages": [{"stage": "x"}]}')),
        ],
        1,
        "stages[0]",
    ),
    "run: chunk not whole at the input rate": (
        lambda d: (
            [
                "run",
                str(
                    _write(
                        d / "p.json",
                        '{"input": "in.wav", "stages": [{"stage": "chunk", "ms": 20}]}',
                    )
                ),
            ]
            if _wav(d / "in.wav", rate=11_025)
            else []
        ),
        1,
        "stages[0]",
    ),
    "run: missing input": (
        lambda d: ["run", str(_write(d / "p.json", '{"input": "nope.wav"}'))],
        1,
        "no such file",
    ),
    "run: output exists": (
        lambda d: (
            [
                "run",
                str(_write(d / "p.json", '{"input": "in.wav", "output": "in.wav"}')),
            ]
            if _wav(d / "in.wav")
            else []
        ),
        1,
        "--overwrite",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_speak_in_flags_and_file_names(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    setup, status, words = CASES[case]
    argv = setup(tmp_path)
    assert _main.main(argv) == status
    err = capsys.readouterr().err
    message = err.strip().splitlines()[-1]  # usage errors print the usage line first
    assert message.startswith("lkframes ")
    assert words in message, message
    assert not PYTHON_WORDS.search(message), f"Python-speak in: {message}"
    if status == 1:
        assert err.count("\n") == 1  # one line, no traceback
    assert "object at 0x" not in err
    assert not [p.name for p in tmp_path.glob("o*.*") if p.stat().st_size == 0]  # no 0-byte file

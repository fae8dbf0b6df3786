"""Types that follow the data, pinned for the type checker.

The ``_check_*`` functions are never called: ``python -m mypy`` checks them (this file is in
the config's ``files``), so a regression in `Stream.map`'s overloads, `merge`'s or
`AudioFrame.dtype` fails mypy in CI. `test_mypy_rejects_wrong_uses` runs mypy on uses that
must be refused. tests/stages/test_map_contract.py checks the runtime side of the contract.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, assert_type

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk

ROOT = Path(__file__).resolve().parents[1]


def _check_map(audio: lk.Stream[lk.AudioFrame], video: lk.Stream[lk.VideoFrame]) -> None:
    # a frame of the stream's kind, or an array (which becomes one): that frame kind
    assert_type(audio.map(lambda f: f), lk.Stream[lk.AudioFrame])
    assert_type(audio.map(lambda f: f.data // 2), lk.Stream[lk.AudioFrame])
    assert_type(audio.map(lambda f: f.data.astype(np.float32)), lk.Stream[lk.AudioFrame])
    assert_type(video.map(lambda f: f), lk.Stream[lk.VideoFrame])
    assert_type(video.map(lambda f: 255 - f.data), lk.Stream[lk.VideoFrame])

    def louder(frame: lk.AudioFrame) -> NDArray[Any]:
        return frame.data * 2

    async def later(frame: lk.VideoFrame) -> lk.VideoFrame:
        return frame.at(frame.timestamp_us + 1)

    assert_type(audio.map(louder, concurrency=4), lk.Stream[lk.AudioFrame])
    assert_type(video.map(later), lk.Stream[lk.VideoFrame])

    # anything else is passed on as it is
    assert_type(audio.map(lambda f: float(f.data.mean())), lk.Stream[float])
    assert_type(video.map(lambda f: float(f.data.mean())), lk.Stream[float])
    assert_type(audio.map(lambda f: f.pts), lk.Stream[int])

    async def level(frame: lk.AudioFrame) -> float:
        return float(abs(frame.data).max())

    assert_type(audio.map(level), lk.Stream[float])
    assert_type(audio.map(lambda f: (f.pts, f.dtype)), lk.Stream[tuple[int, lk.DType]])
    pairs = lk.zip(audio, video)
    assert_type(pairs.map(lambda p: p[1]), lk.Stream[lk.VideoFrame])
    assert_type(pairs.map(lambda p: p[0].data), lk.Stream[NDArray[Any]])


def _check_merge(audio: lk.Stream[lk.AudioFrame], video: lk.Stream[lk.VideoFrame]) -> None:
    assert_type(lk.merge(audio, audio), lk.Stream[lk.AudioFrame])
    assert_type(lk.merge(audio, audio, audio, audio), lk.Stream[lk.AudioFrame])
    assert_type(lk.merge(audio, video), lk.Stream[lk.AudioFrame | lk.VideoFrame])
    assert_type(lk.merge(video, audio, video), lk.Stream[lk.VideoFrame | lk.AudioFrame])
    assert_type(lk.merge(audio), lk.Stream[lk.AudioFrame])


def _check_dtypes(frame: lk.AudioFrame, picture: lk.VideoFrame) -> None:
    assert_type(frame.dtype, lk.DType)
    assert_type(frame.format.dtype, lk.DType)
    assert_type(picture.data, NDArray[np.uint8])


WRONG_USES = """
    import numpy as np
    import lkframes as lk

    audio = lk.sine(440, 1.0, 16_000)
    video = lk.from_video_frames([lk.VideoFrame(np.zeros((2, 2, 4), np.uint8))])
    video.map(lambda f: float(f.data.mean())).resize(32, 24)  # refused: floats are not video
    audio.map(lambda f: f.data).resize(32, 24)  # refused: an array on audio is audio
    pending = lk.merge(audio, video).to_file("out.wav")  # refused: video is not audio


    def is_int8(frame: lk.AudioFrame) -> bool:
        return frame.dtype == "int8"  # refused: not a dtype lkframes has
"""
EXPECTED = [
    'Invalid self argument "Stream[float]" to attribute function "resize"',
    'Invalid self argument "Stream[AudioFrame]" to attribute function "resize"',
    'Invalid self argument "Stream[AudioFrame | VideoFrame]" to attribute function "to_file"',
    "Non-overlapping equality check",
]


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed here (the dev install has it; the wheel tests do not)",
)
def test_mypy_rejects_wrong_uses(tmp_path: Path) -> None:
    source = textwrap.dedent(WRONG_USES)
    snippet = tmp_path / "wrong_uses.py"
    snippet.write_text(source)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(snippet),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=600,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    refused = [i for i, line in enumerate(source.splitlines(), 1) if "# refused" in line]
    assert [int(line.split(":")[1]) for line in errors] == refused, run.stdout + run.stderr
    for error, expected in zip(errors, EXPECTED, strict=True):
        assert expected in error

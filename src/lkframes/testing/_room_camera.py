"""Cameras in the room kit: the frames a `Talker`'s camera shows, each telling by its pixels
whose and which it is, and the check that a consumer kept every frame that arrived."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .._core.errors import ParameterError
from .._core.pixels import RGB_AT as _RGB
from .._core.video import VideoFrame
from ._sim_track import SimulatedVideoTrack

__all__ = ("HEIGHT", "WIDTH", "camera_frames", "check_seen")

WIDTH, HEIGHT = 32, 24
"""A talker's camera frames: 32x24 RGBA."""

MAX_FRAMES = 2**16
"""Frame indices are two bytes of the first pixel."""


def camera_frames(number: int, indices: NDArray[np.int64]) -> NDArray[np.uint8]:
    """Talker ``number``'s frames ``indices``, RGBA shaped (frames, 24, 32, 4).

    The first pixel holds the frame's index (red: the low byte, green: the high byte) and
    ``number`` (blue); the others a pattern of both, never black (a black frame at the end
    of a track is dropped as the unpublish's).

    Examples:
        >>> import numpy as np
        >>> frames = camera_frames(2, np.arange(300))
        >>> frames.shape, frames[258, 0, 0].tolist()
        ((300, 24, 32, 4), [2, 1, 2, 255])
    """
    if not 0 <= number < 256:
        raise ParameterError(f"a scenario has at most 256 talkers with cameras (got {number + 1})")
    if indices.size and not 0 <= int(indices.min()) <= int(indices.max()) < MAX_FRAMES:
        raise ParameterError(
            f"a camera shows at most {MAX_FRAMES} frames (got {int(indices.max()) + 1})"
        )
    k = indices.astype(np.int64)[:, None, None]
    y = np.arange(HEIGHT)[None, :, None]
    x = np.arange(WIDTH)[None, None, :]
    frames = np.empty((indices.size, HEIGHT, WIDTH, 4), np.uint8)
    frames[..., 0] = (x * 8 + k) % 256
    frames[..., 1] = (y * 10 + number * 64) % 256
    frames[..., 2] = 128 + k % 128
    frames[..., 3] = 255
    frames[:, 0, 0, 0] = k[:, 0, 0] % 256
    frames[:, 0, 0, 1] = k[:, 0, 0] // 256
    frames[:, 0, 0, 2] = number
    return frames


def check_seen(
    identity: str, number: int, camera: SimulatedVideoTrack, kept: object | None
) -> None:
    """``kept`` holds every frame of ``camera`` that arrived, in order, each once, with
    increasing timestamps, and nothing else."""
    want = camera.delivered()
    if kept is None:
        assert not want, (
            f"nothing kept of {identity!r}'s camera, of which {len(want)} frames arrived"
        )
        return
    assert isinstance(kept, Sequence), (
        f"{identity!r}: video is kept as a list of VideoFrames (got {type(kept).__name__})"
    )
    got: list[int] = []
    for j, frame in enumerate(kept):
        index = _index_of(frame, number)
        assert index is not None, f"{identity!r}: video frame {j} kept is not one they published"
        if got:
            assert index not in got, f"{identity!r}: video frame {index} was kept twice"
            assert index > got[-1], (
                f"{identity!r}: video frames kept out of order (frame {index} after {got[-1]})"
            )
            before, now = kept[j - 1].timestamp_us, frame.timestamp_us
            assert now > before, (
                f"{identity!r}: video timestamps do not increase (frame {index} at {now} us, "
                f"frame {got[-1]} before it at {before} us)"
            )
        got.append(index)
    extra = sorted(set(got) - set(want))
    assert not extra, (
        f"{identity!r}: video frame {extra[0]} was kept but never arrived (lost by the "
        "network, or shown before the subscription or after the unsubscription)"
    )
    missing = sorted(set(want) - set(got))
    assert not missing, (
        f"{identity!r}: {len(missing)} of the {len(want)} video frames that arrived are "
        f"missing ({_listed(missing)})"
    )


def _listed(indices: list[int]) -> str:
    """``frame 9``, ``frames 3, 4 and 9``, ``the first frame 3, the last 40``."""
    if len(indices) == 1:
        return f"frame {indices[0]}"
    if len(indices) <= 3:
        return f"frames {', '.join(map(str, indices[:-1]))} and {indices[-1]}"
    return f"the first frame {indices[0]}, the last {indices[-1]}"


def _index_of(frame: object, number: int) -> int | None:
    """Which of talker ``number``'s frames ``frame`` is, or None if it is none of theirs."""
    assert isinstance(frame, VideoFrame), (
        f"video is kept as lkframes.VideoFrame objects (got {type(frame).__name__})"
    )
    order = _RGB.get(frame.pixel_format)
    assert order is not None, (
        f"a {frame.pixel_format} frame cannot be told apart by its pixels: keep video in "
        f"one of {tuple(_RGB)} (the default of lk.from_participant_video is rgba)"
    )
    if (frame.width, frame.height) != (WIDTH, HEIGHT):
        return None
    rgb = frame.data[..., list(order)]
    red, green, blue = (int(v) for v in rgb[0, 0])
    index = red + 256 * green
    if blue != number:
        return None
    shown = camera_frames(number, np.array([index]))[0, ..., :3]
    return index if np.array_equal(rgb, shown) else None

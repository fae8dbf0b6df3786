"""One exceptions module, one meaning per class, each also the builtin callers expect."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import lkframes as lk
from lkframes._core import errors
from lkframes._core import warnings as lk_warnings

pytestmark = pytest.mark.anyio


def test_every_lkframes_exception_is_defined_in_the_one_module() -> None:
    # Exceptions in errors, the warnings lkframes gives in warnings: one module each.
    public = [obj for name in lk.__all__ if inspect.isclass(obj := getattr(lk, name))]
    raised = [cls for cls in public if issubclass(cls, Exception) and not issubclass(cls, Warning)]
    warned = [cls for cls in public if issubclass(cls, Warning)]
    assert raised
    assert warned
    assert {cls.__module__ for cls in raised} == {errors.__name__}
    assert {cls.__module__ for cls in warned} == {lk_warnings.__name__}


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (lk.ParameterError, (lk.LkFramesError, ValueError)),
        (lk.PipelineError, (lk.ParameterError,)),
        (lk.FormatError, (lk.LkFramesError, ValueError)),
        (lk.TimestampError, (lk.LkFramesError, ValueError)),
        (lk.InvalidAudioError, (lk.InvalidMediaError, ValueError)),
        (lk.InvalidVideoError, (lk.InvalidMediaError, ValueError)),
        (lk.AudioFileError, (lk.MediaFileError, OSError)),
        (lk.OutputExistsError, (lk.MediaFileError, FileExistsError)),
        (lk.WrongEventLoopError, (lk.LkFramesError, RuntimeError)),
        (lk.NotConnectedError, (lk.LkFramesError, RuntimeError)),
        (lk.NeedsOpenError, (lk.LkFramesError, RuntimeError)),
        (lk.UnsupportedSDKError, (lk.LkFramesError, RuntimeError)),
        (lk.MissingExtraError, (lk.LkFramesError, ImportError)),
        (lk.StreamTimeoutError, (lk.LkFramesError, TimeoutError)),
    ],
)
def test_each_class_is_also_the_builtin_callers_catch(
    cls: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    assert all(issubclass(cls, base) for base in bases)


def test_video_errors_are_not_audio_errors() -> None:
    assert not issubclass(lk.InvalidVideoError, lk.InvalidAudioError)


def test_wrong_event_loop_names_both_loops() -> None:
    error = lk.WrongEventLoopError("from_track", got="trio")
    assert (error.expected, error.got) == ("asyncio", "trio")
    assert "from_track needs asyncio" in str(error)


def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "livekit.api", None)  # as if livekit-api were absent
    with pytest.raises(lk.MissingExtraError, match=r"pip install 'lkframes\[room\]'") as info:
        lk.make_token("key", "a-secret-of-at-least-32-bytes-for-hs256", room="r", identity="i")
    assert info.value.extra == "room"


async def test_counting_drops_on_an_sdk_without_the_frame_queue_is_refused(
    anyio_backend: str,
) -> None:
    from lkframes.livekit._live import LiveStats, count_frames

    class OldAudioStream:  # a livekit whose AudioStream keeps no _queue
        pass

    with pytest.raises(lk.UnsupportedSDKError, match="has no frame queue"):
        count_frames(OldAudioStream(), 10, LiveStats())


def test_nothing_raises_a_bare_lkframes_error() -> None:
    source = subprocess.run(
        ["grep", "-rn", "raise LkFramesError(", lk.__path__[0]],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert source == ""

"""`from_room` and `record_room` refuse bad settings, in the caller's terms, before anything
is read from a room (no server needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from livekit import rtc

import lkframes as lk

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # LiveKit runs on asyncio only


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({"delay": -0.1}, "delay"),
        ({"duration": 0}, "duration"),
        ({"gains": {"alice": float("inf")}}, "gains['alice']"),
        ({"gains": {"alice": "loud"}}, "gains['alice']"),
        ({"stall_timeout": -1}, "stall_timeout"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"identities": "alice"}, "identities"),
    ],
)
async def test_bad_settings_are_refused_when_the_stream_is_built(
    settings: dict[str, Any], names: str
) -> None:
    with pytest.raises(lk.ParameterError, match=names.replace("[", r"\[").replace("]", r"\]")):
        lk.from_room(rtc.Room(), **settings)


async def test_a_room_that_is_not_connected_is_named() -> None:
    with pytest.raises(lk.NotConnectedError, match="connected room"):
        await lk.from_room(rtc.Room()).collect()


async def test_a_gain_changed_to_nonsense_while_running_is_refused() -> None:
    from lkframes.livekit._room_audio import _gain

    gains = {"bob": 0.5}
    assert _gain(gains, "bob") == 0.5
    assert _gain(gains, "carol") == 1.0
    gains["bob"] = float("nan")
    with pytest.raises(lk.ParameterError, match=r"gains\['bob'\]"):
        _gain(gains, "bob")


async def test_record_room_refuses_what_it_would_overwrite(tmp_path: Path) -> None:
    taken = tmp_path / "room.wav"
    taken.write_bytes(b"keep me")
    with pytest.raises(lk.OutputExistsError):
        await lk.record_room(rtc.Room(), taken)
    folder = tmp_path / "apart"
    folder.mkdir()
    (folder / "alice.wav").write_bytes(b"keep me too")
    with pytest.raises(lk.OutputExistsError, match="not empty"):
        await lk.record_room(rtc.Room(), folder, mix=False)
    with pytest.raises(lk.ParameterError, match="is a file"):
        await lk.record_room(rtc.Room(), taken, mix=False, overwrite=True)
    with pytest.raises(lk.ParameterError, match="suffix"):
        await lk.record_room(rtc.Room(), tmp_path / "new", mix=False, suffix="wav")
    assert taken.read_bytes() == b"keep me"
    assert (folder / "alice.wav").read_bytes() == b"keep me too"
    assert not (tmp_path / "new").exists()


async def test_a_room_that_is_not_connected_leaves_no_files(tmp_path: Path) -> None:
    with pytest.raises(lk.NotConnectedError, match="connected room"):
        await lk.record_room(rtc.Room(), tmp_path / "room.wav")
    with pytest.raises(lk.NotConnectedError, match="connected room"):
        await lk.record_room(rtc.Room(), tmp_path / "apart", mix=False)
    assert not (tmp_path / "room.wav").exists()
    assert not (tmp_path / "apart").exists()

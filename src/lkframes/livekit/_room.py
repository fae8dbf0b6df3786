"""Rooms: `connect` with LiveKit CLI-style credentials, and `make_token`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from .._core.errors import MissingExtraError, ParameterError
from ._events import require_asyncio

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("connect", "make_token")


@asynccontextmanager
async def connect(
    url: str | None = None,
    token: str | None = None,
    *,
    room: str | None = None,
    identity: str = "lkframes",
    api_key: str | None = None,
    api_secret: str | None = None,
    options: rtc.RoomOptions | None = None,
) -> AsyncIterator[rtc.Room]:
    """Connect to a LiveKit room for the duration of an ``async with`` block.

    Credentials come from the arguments or, as with the LiveKit CLI, from the environment:
    ``LIVEKIT_URL``, and either a token or ``LIVEKIT_API_KEY`` / ``LIVEKIT_API_SECRET`` from
    which a token for ``room`` and ``identity`` is made (needs ``livekit-api``: ``pip install
    lkframes[room]``).

    Raises:
        ParameterError: No URL, or neither a token nor an API key and secret.
        WrongEventLoopError: Not running on asyncio.

    Examples:
        With a URL and credentials, ``async with lk.connect(url, token) as room:`` yields a
        connected ``rtc.Room``. Missing credentials are reported before any network I/O:

        >>> import asyncio
        >>> import lkframes as lk
        >>> async def main():
        ...     try:
        ...         async with lk.connect("ws://localhost:7880", api_key="k", api_secret="s"):
        ...             pass
        ...     except lk.ParameterError as exc:
        ...         print(exc)
        >>> asyncio.run(main())
        room= is needed to make a token from an API key
    """
    require_asyncio("connect")
    from livekit import rtc

    url = url or os.environ.get("LIVEKIT_URL")
    if not url:
        raise ParameterError("no LiveKit URL: pass url= or set LIVEKIT_URL")
    if token is None:
        key = api_key or os.environ.get("LIVEKIT_API_KEY")
        secret = api_secret or os.environ.get("LIVEKIT_API_SECRET")
        if not (key and secret):
            raise ParameterError(
                "no credentials: pass token=, or api_key=/api_secret= (or set "
                "LIVEKIT_API_KEY and LIVEKIT_API_SECRET)"
            )
        if not room:
            raise ParameterError("room= is needed to make a token from an API key")
        token = make_token(key, secret, room=room, identity=identity)
    lk_room = rtc.Room()
    await lk_room.connect(url, token, options=options or rtc.RoomOptions())
    try:
        yield lk_room
    finally:
        with anyio.CancelScope(shield=True):
            await lk_room.disconnect()


def make_token(api_key: str, api_secret: str, *, room: str, identity: str) -> str:
    """A join token for ``room`` as ``identity`` that may publish and subscribe.

    Args:
        api_key: The LiveKit API key.
        api_secret: The LiveKit API secret that signs the token.
        room: The room the token may join.
        identity: The participant identity (also used as its display name).

    Returns:
        The signed JWT.

    Raises:
        MissingExtraError: ``livekit-api`` is not installed (``pip install 'lkframes[room]'``).

    Examples:
        >>> import lkframes as lk
        >>> secret = "a-secret-of-at-least-32-bytes-for-hs256"
        >>> token = lk.make_token("key", secret, room="demo", identity="alice")
        >>> token.count(".")  # header.payload.signature
        2
    """
    try:
        from livekit import api
    except ImportError:
        raise MissingExtraError("making tokens", extra="room", module="livekit-api") from None
    grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
    token: str = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(identity)
        .with_grants(grants)
        .to_jwt()
    )
    return token

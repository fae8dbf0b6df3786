"""Closing LiveKit's native layer in an order that lets a finished script exit cleanly.

livekit 1.2.1 closes its native layer (``livekit_ffi_dispose``: rooms closed, then no more
events or log lines sent to Python) in an ``atexit`` hook, the last step before the
interpreter finalises. A native thread that took the event callback just before that
(a log line, a room event) then enters Python while it finalises: CPython ends such a
thread with a forced unwind, which may not cross the SDK's Rust frames, so Rust aborts
the process ("panic in a function that cannot unwind", SIGABRT) after the script's work
is done. lkframes closes the native layer itself (once) and then gives the callbacks in
flight a moment to return, while the interpreter can still run them.

``import lkframes`` registers the hook that calls `close_native_layer` (it imports this
module at exit, where ``livekit.rtc`` was imported): that is before the SDK registers its
own hook (when its native layer starts), so it runs after the SDK's (``atexit`` runs hooks
last in, first out) and only the wait is left to do. Registered later (a script that
started the layer before it imported lkframes), it closes the layer itself first.
"""

from __future__ import annotations

import time

from ._sdk import dispose_native_layer

__all__ = ("DRAIN_S", "close_native_layer")

DRAIN_S = 0.1
"""How long callbacks in flight get after the native layer is closed (they need ~µs)."""


def close_native_layer() -> None:
    """Close LiveKit's native layer if it was started, then let callbacks in flight return.

    Does nothing when ``livekit.rtc`` never started it (no room, track or source was made).
    """
    if dispose_native_layer():  # the SDK's own hook; a no-op when it already ran
        time.sleep(DRAIN_S)

"""PortAudio through python-sounddevice: importing it, finding devices, naming failures.

sounddevice is an optional dependency (``pip install 'lkframes[devices]'``) on the system's
PortAudio library (Debian: ``libportaudio2``); it is imported only when a device is used.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import sniffio

from .._core.errors import DeviceError, MissingExtraError
from .._core.resources import open_resources

__all__ = ("Waker", "device_error", "find_device", "sounddevice")


def sounddevice() -> Any:
    """The ``sounddevice`` module, or a typed error saying what to install."""
    try:
        import sounddevice as sd
    except ImportError as exc:
        raise MissingExtraError(
            "microphone and speaker access", extra="devices", module="sounddevice"
        ) from exc
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise DeviceError(
            f"the PortAudio library cannot be loaded ({exc}); install it "
            "(Debian/Ubuntu: apt install libportaudio2, macOS: brew install portaudio)"
        ) from exc
    return sd


def find_device(device: int | str | None, kind: str) -> int | None:
    """The PortAudio index of the ``kind`` (``"input"``/``"output"``) device ``device``
    names (an index, or part of a name), None for the system default."""
    sd = sounddevice()
    if device is None:
        try:
            sd.query_devices(kind=kind)
        except sd.PortAudioError as exc:
            if not _rescan(sd) or not _has_default(sd, kind):
                raise DeviceError(
                    f"no default {kind} device ({exc}); {_available(sd, kind)}"
                ) from exc
        return None
    if isinstance(device, bool) or not isinstance(device, int | str):
        raise DeviceError(f"device must be an index, a name or None (got {device!r})")
    try:
        info = sd.query_devices(device, kind=kind)
    except (ValueError, sd.PortAudioError):
        try:
            info = sd.query_devices(device, kind=kind) if _rescan(sd) else None
        except (ValueError, sd.PortAudioError) as exc:
            raise DeviceError(f"device={device!r}: {exc}; {_available(sd, kind)}") from exc
        if info is None:
            raise DeviceError(f"device={device!r}: not found; {_available(sd, kind)}") from None
    return int(info["index"])


def _rescan(sd: Any) -> bool:
    """Have PortAudio list the devices again (one plugged in, or a sound server started,
    since it was initialised); only while no device of this process is open.

    The one use of sounddevice's private parts: ``sd._terminate()`` and
    ``sd._initialize()`` (``Pa_Terminate``/``Pa_Initialize``; PortAudio lists devices
    only when initialised). ``tests/devices/test_devices.py::
    test_a_rescan_finds_a_sound_server_started_since`` checks it on the installed version.
    """
    if any(open_resources().get(kind) for kind in ("device.input", "device.output")):
        return False
    sd._terminate()
    sd._initialize()
    return True


def _has_default(sd: Any, kind: str) -> bool:
    try:
        sd.query_devices(kind=kind)
    except sd.PortAudioError:
        return False
    return True


def _available(sd: Any, kind: str) -> str:
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    names = [f"{d['index']}: {d['name']}" for d in sd.query_devices() if d[channels] > 0]
    return f"{kind} devices: " + (", ".join(names) if names else "none")


def device_error(exc: BaseException, what: str) -> DeviceError:
    """A PortAudio failure to open or run ``what``, as a `DeviceError` that says so."""
    text = str(exc)
    if "unavailable" in text.lower() or "busy" in text.lower():
        return DeviceError(f"{what} is busy (another program has it?): {text}")
    if "sample rate" in text.lower():
        return DeviceError(
            f"{what} refuses the format: {text} (resample first, e.g. .resample(48_000))"
        )
    return DeviceError(f"{what} failed: {text}")


class Waker:
    """Wakes the event loop from PortAudio's audio thread without blocking it.

    ``set()`` may be called from any thread; ``wait()`` from the event loop's task.
    Works on asyncio and on trio.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = False
        self._call_soon = _call_soon_threadsafe()
        import anyio

        self._event = anyio.Event()

    def set(self) -> None:
        with self._lock:
            if self._pending:
                return
            self._pending = True
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
            self._call_soon(self._fire)

    def _fire(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        import anyio

        with self._lock:
            self._pending = False
            self._event = anyio.Event()


def _call_soon_threadsafe() -> Callable[[Callable[[], None]], object]:
    library = sniffio.current_async_library()
    if library == "trio":
        import trio

        return trio.lowlevel.current_trio_token().run_sync_soon
    import asyncio

    return asyncio.get_running_loop().call_soon_threadsafe

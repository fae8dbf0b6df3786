"""`AudioFrame`: an immutable block of audio samples with its format and timestamp."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidAudioError
from ._format import SUPPORTED_DTYPES, AudioFormat

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("AudioFrame", "ensure_finite", "validate_samples")


def validate_samples(data: object, *, what: str = "audio data") -> NDArray[Any]:
    """Check that ``data`` can be used as samples and return it as a 2-D array.

    Accepts a C-contiguous numpy array of int16 or float32, 1-D (mono) or 2-D
    ``(samples_per_channel, num_channels)``. Never copies.

    Raises:
        InvalidAudioError: Not an ndarray, wrong dtype, wrong number of dimensions, zero
            channels, or not C-contiguous. The message names expected and got.
    """
    if not isinstance(data, np.ndarray):
        raise InvalidAudioError(
            f"{what} must be a numpy array (expected numpy.ndarray, got {type(data).__name__})"
        )
    if data.dtype.name not in SUPPORTED_DTYPES:
        hint = ""
        if data.dtype.kind == "f":
            hint = "; convert with array.astype(np.float32)"
        elif data.dtype.kind in "iu":
            hint = "; convert with array.astype(np.int16) after scaling to 16-bit range"
        raise InvalidAudioError(
            f"{what} has unsupported dtype (expected int16 or float32, got {data.dtype}){hint}"
        )
    if data.ndim == 1 and data.flags.c_contiguous:
        data = data.reshape(-1, 1)
    if data.ndim not in (1, 2):
        raise InvalidAudioError(
            f"{what} has invalid shape {data.shape} (expected (samples,) or "
            f"(samples, channels), got {data.ndim} dimensions)"
        )
    if data.ndim == 2 and data.shape[1] == 0:
        raise InvalidAudioError(
            f"{what} has invalid shape {data.shape} (expected >= 1 channel, got 0)"
        )
    if not data.flags.c_contiguous:
        raise InvalidAudioError(
            f"{what} is not C-contiguous (expected interleaved samples, got strides "
            f"{data.strides}); pass np.ascontiguousarray(array)"
        )
    return data


def ensure_finite(data: NDArray[Any], *, what: str = "audio data") -> None:
    """Raise `InvalidAudioError` if float samples contain NaN or infinity."""
    if data.dtype.kind == "f" and data.size and not np.isfinite(data).all():
        bad = np.flatnonzero(~np.isfinite(data.reshape(-1)))
        first = int(bad[0]) // data.shape[1] if data.ndim == 2 else int(bad[0])
        raise InvalidAudioError(
            f"{what} contains {bad.size} non-finite sample(s) (expected finite floats, got "
            f"{data.reshape(-1)[bad[0]]} at sample {first})"
        )


def _readonly(data: NDArray[Any]) -> NDArray[Any]:
    if data.flags.writeable:
        data = data.view()
        data.flags.writeable = False
    return data


class AudioFrame:
    """A block of audio: samples, sample rate and the timestamp of its first sample.

    ``data`` is a read-only numpy array of shape ``(samples_per_channel, num_channels)``,
    int16 or float32. Frames are immutable; lkframes never writes into a frame it has
    handed out, so a frame stays valid for as long as you hold it.

    Args:
        data: Samples, 1-D (mono) or 2-D ``(samples_per_channel, num_channels)``, C-contiguous
            int16 or float32. Not copied; a writable array is wrapped in a read-only view, so
            do not change it afterwards through your own reference.
        sample_rate: Samples per second per channel.
        pts: Index of the first sample, counted in samples at ``sample_rate`` from the start
            of the stream.
        check_finite: Reject NaN or infinity in float data (the default).

    Raises:
        InvalidAudioError: The data is not valid audio (see `validate_samples`), or contains
            NaN/infinity while ``check_finite`` is true.
        ParameterError: ``sample_rate`` is not a positive int.

    Examples:
        >>> import numpy as np
        >>> f = AudioFrame(np.zeros(320, np.int16), 16_000, pts=640)
        >>> f.samples_per_channel, f.num_channels, f.duration, f.pts
        (320, 1, 0.02, 640)
    """

    __slots__ = ("_data", "_format", "_pts")

    _data: NDArray[Any]
    _format: AudioFormat
    _pts: int

    def __init__(
        self,
        data: NDArray[Any],
        sample_rate: int,
        *,
        pts: int = 0,
        check_finite: bool = True,
    ) -> None:
        arr = validate_samples(data)
        if check_finite:
            ensure_finite(arr)
        if isinstance(pts, bool) or not isinstance(pts, int | np.integer):
            raise InvalidAudioError(f"pts must be an int sample index (got {type(pts).__name__})")
        self._format = AudioFormat(sample_rate, arr.shape[1], arr.dtype.name)  # type: ignore[arg-type]
        self._data = _readonly(arr)
        self._pts = int(pts)

    @classmethod
    def _wrap(cls, data: NDArray[Any], fmt: AudioFormat, pts: int) -> AudioFrame:
        """Build a frame from data already known to be valid (internal hot path)."""
        frame = object.__new__(cls)
        frame._data = _readonly(data)
        frame._format = fmt
        frame._pts = pts
        return frame

    @property
    def data(self) -> NDArray[Any]:
        """Samples, read-only, shape ``(samples_per_channel, num_channels)``."""
        return self._data

    @property
    def format(self) -> AudioFormat:
        """The frame's `AudioFormat`."""
        return self._format

    @property
    def sample_rate(self) -> int:
        """Samples per second per channel."""
        return self._format.sample_rate

    @property
    def num_channels(self) -> int:
        """Number of interleaved channels."""
        return self._format.num_channels

    @property
    def dtype(self) -> str:
        """``"int16"`` or ``"float32"``."""
        return self._format.dtype

    @property
    def samples_per_channel(self) -> int:
        """Number of samples in each channel."""
        return int(self._data.shape[0])

    @property
    def pts(self) -> int:
        """Index of the first sample in the stream, in samples at `sample_rate`."""
        return self._pts

    @property
    def end_pts(self) -> int:
        """``pts + samples_per_channel``: the pts the next contiguous frame starts at."""
        return self._pts + int(self._data.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return int(self._data.shape[0]) / self._format.sample_rate

    @property
    def timestamp(self) -> float:
        """Start time in seconds (``pts / sample_rate``)."""
        return self._pts / self._format.sample_rate

    def replace(self, data: NDArray[Any] | None = None, *, pts: int | None = None) -> AudioFrame:
        """Return a frame with new data and/or pts and the same sample rate.

        Raises:
            InvalidAudioError: ``data`` is not valid audio.
        """
        return AudioFrame(
            self._data if data is None else data,
            self.sample_rate,
            pts=self._pts if pts is None else pts,
            check_finite=data is not None,
        )

    def __repr__(self) -> str:
        return (
            f"AudioFrame({self.samples_per_channel} samples, {self._format}, pts={self._pts}, "
            f"{self.duration * 1000:g} ms)"
        )

    def _repr_html_(self) -> str:
        """Waveform and audio player for Jupyter."""
        from ._display import audio_html

        return audio_html(self._data, self.sample_rate, repr(self))

    # -- LiveKit interop -------------------------------------------------------------

    @classmethod
    def from_rtc(cls, frame: rtc.AudioFrame, *, pts: int = 0) -> AudioFrame:
        """Wrap a `livekit.rtc.AudioFrame` without copying its samples.

        Args:
            frame: A LiveKit frame (always interleaved int16).
            pts: Timestamp to give the frame, in samples at its rate.

        Returns:
            An int16 frame whose data is a read-only view of the LiveKit frame's buffer.

        Raises:
            InvalidAudioError: The buffer's byte length is odd or does not match
                ``samples_per_channel * num_channels``.
        """
        raw = memoryview(frame._data).cast("B")
        channels = frame.num_channels
        spc = frame.samples_per_channel
        if raw.nbytes % 2:
            raise InvalidAudioError(
                f"LiveKit frame has an odd byte length (expected a multiple of 2 for int16, "
                f"got {raw.nbytes} bytes)"
            )
        needed = spc * channels * 2
        if raw.nbytes < needed or channels <= 0:
            raise InvalidAudioError(
                f"LiveKit frame buffer too short (expected {needed} bytes for {spc} samples x "
                f"{channels} channels, got {raw.nbytes})"
            )
        data = np.frombuffer(raw, dtype=np.int16, count=spc * channels).reshape(spc, channels)
        fmt = AudioFormat(frame.sample_rate, channels, "int16")
        return cls._wrap(data, fmt, int(pts))

    def to_rtc(self, *, copy: bool = False) -> rtc.AudioFrame:
        """Convert to a `livekit.rtc.AudioFrame`.

        int16 data is shared with the LiveKit frame when numpy can hand out a writable view
        of it (LiveKit's native layer needs a writable buffer), otherwise copied once.
        float32 frames are scaled to int16 and clipped (a new buffer).

        Args:
            copy: Always copy, so that LiveKit code that changes frames in place (such as
                ``rtc.AudioProcessingModule``) cannot change this frame.

        Returns:
            A LiveKit frame with the same rate, channels and samples.
        """
        from livekit import rtc

        data = self._data
        if data.dtype != np.int16:
            from ._dsp import float_to_int16

            data = float_to_int16(data)
        elif copy:
            data = data.copy()
        else:
            data = _writable_view(data)
        buf = memoryview(data.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
        return rtc.AudioFrame(buf, self.sample_rate, self.num_channels, self.samples_per_channel)


def _writable_view(data: NDArray[Any]) -> NDArray[Any]:
    """A writable view of ``data`` if the memory allows it, else a writable copy."""
    if data.flags.writeable:
        return data
    view = data.view()
    try:
        view.flags.writeable = True
    except ValueError:
        return data.copy()
    return view

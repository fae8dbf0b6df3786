"""Block decoders for `from_file`: libsndfile's own reads, or FFmpeg through PyAV."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .._core.format import DType
from ._info import ffmpeg_reason, known_frames
from ._lengths import mp3_has_frame_count, ogg_problem

if TYPE_CHECKING:
    import soundfile

__all__ = ("Decoder", "PyAVDecoder", "SoundFileDecoder")


class Decoder(Protocol):
    def read(self, samples: int) -> NDArray[Any]: ...
    def close(self) -> None: ...
    @property
    def problem(self) -> str | None: ...


_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def declared_truncation(info: str) -> str | None:
    """libsndfile clamps a WAV whose data chunk is longer than the file; find that."""
    match = _DATA_SIZE.search(info)
    if match is None:
        return None
    declared, actual = int(match.group(1)), int(match.group(2))
    if declared == 0 or declared >= 0xFFFFFFF0 or actual >= declared:
        return None  # streaming writers leave 0 or 0xFFFFFFFF as a placeholder
    return f"data chunk declares {declared} bytes, file holds {actual}"


class SoundFileDecoder:
    """Reads with libsndfile's own ``sf_readf_*``, not `soundfile.SoundFile.read`.

    python-soundfile seeks to the new position after every read. For MP3, libsndfile's
    seek (even to where it already is) restarts mpg123 badly, so every block after the
    first decodes as garbage; and when a read hits corrupt data, python-soundfile raises
    and drops the samples that call did decode. Reading directly avoids both.
    """

    def __init__(self, handle: soundfile.SoundFile, dtype: DType, path: Path) -> None:
        import soundfile

        self._handle = handle
        self._dtype = dtype
        self._ffi = soundfile._ffi
        self._snd = soundfile._snd
        self._ctype = "short" if dtype == "int16" else "float"
        self._readf = getattr(soundfile._snd, f"sf_readf_{self._ctype}")
        self.problem: str | None = declared_truncation(handle.extra_info)
        if handle.format == "OGG":
            self.problem = ogg_problem(path)
        self._failed = False
        # A file cut or damaged while it is read ends early without any error from
        # libsndfile; the length its header declared tells (exact except for an MP3 file
        # without a Xing/Info frame count, whose length libsndfile only estimates).
        exact = handle.format != "MP3" or mp3_has_frame_count(path)
        self._declared = known_frames(handle) if exact else None
        self._total = 0
        # read() runs in a worker thread; close() may come from the event loop's thread
        # while a read is still in libsndfile (Ctrl-C, loop shutdown): closing the native
        # handle under it crashed the interpreter. The lock makes close wait for the read.
        self._lock = threading.Lock()
        self._closed = False

    def read(self, samples: int) -> NDArray[Any]:
        with self._lock:
            if self._failed or self._closed:
                return np.empty((0, self._handle.channels), self._dtype)
            out = np.empty((samples, self._handle.channels), self._dtype)
            file = self._handle._file
            pointer = self._ffi.cast(f"{self._ctype} *", out.ctypes.data)
            got = max(int(self._readf(file, pointer, samples)), 0)
            self._total += got
            if self._snd.sf_error(file):  # libsndfile reports corrupt data mid-stream
                self._failed = True
                message = self._ffi.string(self._snd.sf_strerror(file))
                self.problem = f"decoding failed: {message.decode('utf-8', 'replace')}"
            elif got < samples and self._declared is not None and self._total < self._declared:
                self._failed = True
                self.problem = (
                    f"the file ended after {self._total} of the {self._declared} samples "
                    "its header declares"
                )
            return out[:got]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._handle.close()


class PyAVDecoder:
    def __init__(self, path: Path, dtype: DType) -> None:
        import av

        self._container = av.open(str(path))
        self._stream = self._container.streams.audio[0]
        self._rate = self._stream.rate
        self._channels = self._stream.channels
        self._resampler = av.AudioResampler(
            format="s16" if dtype == "int16" else "flt",
            layout=self._stream.layout,
            rate=self._stream.rate,
        )
        self._start_skip = 0  # samples still to drop at the start (see _opus_skip_left)
        self._frames = self._decoded()
        # The length the container declares (an MP4 moov, a WebM duration): the decoder's
        # output is cut there (AAC and Opus encoders pad the last frame), and a file that
        # decodes to less than that is truncated.
        stream = self._stream
        self._declared: int | None = None
        if stream.duration is not None and stream.time_base is not None:
            self._declared = round(stream.duration * stream.time_base * self._rate)
        self._slack = max(int(getattr(stream.codec_context, "frame_size", 0) or 0), 1_024)
        # Without a stream length (WebM, Matroska) the container's duration, to the
        # millisecond and counting the codec delay, still tells a cut file: it is used to
        # judge the length, with 25 ms more slack, never to cut the audio.
        self._expected = self._declared
        container_us = self._container.duration  # of the longest stream: audio only here
        if self._expected is None and container_us and len(self._container.streams) == 1:
            self._expected = round(container_us * self._rate / 1_000_000)
            self._slack += round(0.025 * self._rate)
        self._total = 0
        self._pending: list[NDArray[Any]] = []
        self._pending_samples = 0
        self._done = False
        self._dtype = dtype
        self.problem: str | None = None
        self._lock = threading.Lock()  # see SoundFileDecoder: close waits for a read
        self._closed = False

    def _decoded(self) -> Iterator[Any]:
        """The stream's frames, as ``container.decode`` gives them, noting how much of the
        Opus pre-skip the decoder left in the first one."""
        first = True
        for packet in self._container.demux(self._stream):
            frames = packet.decode()
            if first and packet.size and frames:
                first = False
                self._start_skip = _opus_skip_left(self._stream, packet, frames[0])
            yield from frames

    def _decode_more(self) -> None:
        try:
            frame = next(self._frames)
        except StopIteration:
            outputs = self._resampler.resample(None)
            self._done = True
        except Exception as exc:  # FFmpeg reports corrupt data mid-stream
            outputs = []
            self._done = True
            self.problem = f"decoding failed: {ffmpeg_reason(exc)}"
        else:
            try:
                outputs = self._resampler.resample(frame)
            except ValueError:  # PyAV's resampler keeps the first frame's input format
                outputs = []
                self._done = True
                self.problem = (
                    f"the audio format changes mid-stream (from {self._rate} Hz "
                    f"{self._channels} ch to {frame.rate} Hz {frame.layout.nb_channels} ch)"
                )
        for out in outputs:
            data = out.to_ndarray().reshape(-1, self._channels)
            if self._start_skip:
                dropped = min(self._start_skip, data.shape[0])
                data, self._start_skip = data[dropped:], self._start_skip - dropped
            self._pending.append(data)
            self._pending_samples += data.shape[0]

    def read(self, samples: int) -> NDArray[Any]:
        with self._lock:
            if self._closed:
                return np.empty((0, self._channels), self._dtype)
            while self._pending_samples < samples and not self._done:
                self._decode_more()
            if not self._pending:
                if self._expected is not None:
                    self._check_length(self._total)
                return np.empty((0, self._channels), self._dtype)
            data = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            block, rest = data[:samples], data[samples:]
            self._pending = [rest] if rest.shape[0] else []
            self._pending_samples = rest.shape[0]
            if self._declared is not None:
                block = block[: max(0, self._declared - self._total)]  # the encoder's padding
            if self._expected is not None and self._done and not self._pending:
                self._check_length(self._total + block.shape[0])
            self._total += block.shape[0]
            return np.ascontiguousarray(block)

    def _check_length(self, total: int) -> None:
        assert self._expected is not None
        if self.problem is None and total < self._expected - self._slack:
            declared = (
                f"the {self._expected} samples its container declares"
                if self._expected == self._declared
                else f"the {self._expected / self._rate:.3f} s its container declares"
            )
            seconds = f" ({total / self._rate:.3f} s)" if self._expected != self._declared else ""
            self.problem = f"the file ended after {total}{seconds} of {declared}"

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._container.close()


_OPUS_FRAME_MS = (10, 20, 40, 60) * 3 + (10, 20) * 2 + (2.5, 5, 10, 20) * 4
"""The duration of one Opus frame by the TOC byte's configuration number (RFC 6716, 3.1)."""


def _opus_packet_samples(packet: bytes) -> int:
    """How many 48 kHz samples an Opus packet holds, from its TOC byte (RFC 6716, 3.1)."""
    toc = packet[0]
    code = toc & 3
    count = (
        1 if code == 0 else 2 if code in (1, 2) else (packet[1] & 0x3F if len(packet) > 1 else 0)
    )
    return int(_OPUS_FRAME_MS[toc >> 3] * 48 * count)


def _opus_skip_left(stream: Any, packet: Any, first: Any) -> int:
    """The part of an Opus stream's pre-skip that FFmpeg's decoder did not drop.

    The pre-skip (the encoder's look-ahead, in 48 kHz samples, OpusHead bytes 10-11) must
    be dropped from the start of the decoded audio. FFmpeg 8 (PyAV's) drops the container's
    codec delay instead, which for a WebM/Matroska or MP4 file that ffmpeg encoded from a
    16 or 22.05 kHz source is in the encoder's input rate: a third or half of it (measured:
    156 of 312 samples). Counted from the first packet: its TOC byte says how many samples
    it holds, the first frame how many came out.
    """
    if stream.codec_context.name != "opus":
        return 0
    head = bytes(stream.codec_context.extradata or b"")
    if len(head) < 12 or not head.startswith(b"OpusHead"):
        return 0
    pre_skip = int.from_bytes(head[10:12], "little")
    data = bytes(packet)
    if not data:
        return 0
    dropped = _opus_packet_samples(data) - int(first.samples)
    return max(0, pre_skip - max(0, dropped))

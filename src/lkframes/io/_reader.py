"""`FileReader`: one read of an input, to its real end, with the verdict on what it lacked.

libsndfile reads what it can (it is the fastest for WAV, FLAC, MP3, Ogg); FFmpeg reads the
rest, and takes over where libsndfile stops at damaged data (FLAC, MP3): FFmpeg skips the
damage and decodes on, as the ffmpeg command does. At the end, a length the file really
declares tells a cut file (`problem`) from one that lost audio to damage (`damage`).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.errors import AudioFileError, UnsupportedAudioError
from .._core.format import AudioFormat
from ._damage import DamageLog, OnDamaged
from ._decoders import Decoder, SoundFileDecoder, declared_truncation
from ._info import Probe, ffmpeg_reason, open_soundfile, quoted
from ._lengths import mp3_complete, mp3_damaged, ogg_damaged, ogg_problem
from ._pyav_decode import PyAVDecoder

__all__ = ("FileReader",)

_HANDED_OVER = frozenset({"FLAC", "MP3"})
"""Formats libsndfile stops reading at damage, where FFmpeg takes over."""


class FileReader:
    """Blocks of ``probe``'s input from sample ``start`` to ``end`` (None: its end), as
    ``fmt``; `read` runs in worker threads, `close` from any thread.

    Raises:
        AudioFileError: (on open) the input changed since it was probed.
    """

    def __init__(
        self,
        probe: Probe,
        fmt: AudioFormat,
        on_damaged: OnDamaged,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        self._probe = probe
        self._fmt = fmt
        self._strict = on_damaged == "error"
        self._start = start
        self._end = end
        self.position = start
        """Where the next sample read comes from, in samples from the input's start."""
        self.damage = DamageLog(fmt.sample_rate)
        self.problem: str | None = None
        """Why the input looks cut, once it has been read to its end."""
        self.error: AudioFileError | None = None
        """The error the read ends with: the damage it stopped at (``on_damaged="error"``),
        or an input of which nothing could be read."""
        self._truncation: str | None = None
        self._handed_over = False
        self._handed_over_failed: str | None = None
        self._lock = threading.Lock()
        self._decoder: Decoder = self._open()

    @property
    def name(self) -> str:
        return quoted(self._probe.source)

    def _changed(self, detail: str) -> AudioFileError:
        return AudioFileError(f"{self.name} changed since it was opened ({detail})")

    def _open(self) -> Decoder:
        info = self._probe.info
        mp3_late = info.container == "MP3" and self._start > 0  # libsndfile's MP3 seek is broken
        # libvorbis drops damaged Ogg pages, mpg123 resyncs past damaged MP3 frames, both
        # without a word: FFmpeg places what follows, and says where.
        damaged = (info.container == "OGG" and ogg_damaged(self._probe.source)) or (
            info.container == "MP3" and mp3_damaged(self._probe.source)
        )
        if info.backend == "soundfile" and not mp3_late and not damaged:
            handle = open_soundfile(self._probe.source, self._probe.raw)
            if handle is None:
                raise self._changed("libsndfile cannot read it now")
            self._check_layout(handle.samplerate, handle.channels, handle.close)
            self._truncation = declared_truncation(handle.extra_info)
            return SoundFileDecoder(handle, self._fmt.dtype, self._start)
        return self._pyav(self._start)

    def _pyav(self, start: int, *, seek: bool = True) -> PyAVDecoder:
        import av

        try:
            decoder = PyAVDecoder(
                self._probe,
                self._fmt.dtype,
                self.damage,
                start=start,
                stop_at_damage=self._strict,
                seek=seek,
            )
        except (av.FFmpegError, OSError, IndexError, ValueError) as exc:
            raise self._changed(ffmpeg_reason(exc)) from None
        self._check_layout(decoder._rate, decoder._channels, decoder.close)
        return decoder

    def _check_layout(self, rate: int, channels: int, close: Any) -> None:
        if (rate, channels) != (self._fmt.sample_rate, self._fmt.num_channels):
            close()
            raise self._changed(
                f"expected {self._fmt.sample_rate} Hz {self._fmt.num_channels} ch, "
                f"got {rate} Hz {channels} ch"
            )

    # -- reading --------------------------------------------------------------------------------

    def read(self, samples: int) -> NDArray[Any]:
        """Up to ``samples`` samples; empty at the end (then `problem`, `damage` and
        `error` say what the input lacked)."""
        with self._lock:
            if self._end is not None:
                samples = min(samples, self._end - self.position)
            if samples <= 0 or self.error is not None:
                return self._empty()
            data = self._decoder.read(samples)
            if isinstance(self._decoder, SoundFileDecoder) and data.shape[0] < samples:
                data = self._after_libsndfile(data, samples)
            self.position += data.shape[0]
            if not data.shape[0]:
                self._finish()
            return data

    def close(self) -> None:
        with self._lock:  # after a read in progress, which may hand over to FFmpeg
            self._decoder.close()

    def _empty(self) -> NDArray[Any]:
        return np.empty((0, self._fmt.num_channels), self._fmt.dtype)

    def _after_libsndfile(self, data: NDArray[Any], samples: int) -> NDArray[Any]:
        """libsndfile gave less than asked: its end, or damage it stopped at."""
        decoder = self._decoder
        assert isinstance(decoder, SoundFileDecoder)
        at = self.position + data.shape[0]
        declared = self._probe.declared
        stopped_early = decoder.failed is not None or (declared is not None and at < declared)
        if not stopped_early or self._probe.info.container not in _HANDED_OVER:
            return data
        decoder.close()
        # From the start, not by seeking: damaged data right after ``at`` can mislead a
        # seek (FFmpeg's FLAC seek landed a second off); demuxing up to ``at`` without
        # decoding costs little and is exact.
        try:
            self._decoder = self._pyav(at, seek=False)
        except AudioFileError:  # FFmpeg cannot read it at all: libsndfile's word stands
            self._handed_over_failed = decoder.failed or "the file ended early"
            return data
        self._handed_over = True
        more = self._decoder.read(samples - data.shape[0])
        return np.concatenate([data, more]) if more.shape[0] else data

    # -- the verdict ------------------------------------------------------------------------------

    def _finish(self) -> None:
        """At the end: was the input cut, or did it lose audio to damage?"""
        decoder = self._decoder
        if isinstance(decoder, PyAVDecoder):
            if decoder.damaged_at is not None:
                self.error = self.damage.error(self.name, *decoder.damaged_at)
                return
            if decoder.problem is not None and self.position == self._start == 0:
                self.error = UnsupportedAudioError(f"{self.name}: {decoder.problem}")
                return
            if decoder.problem is not None:
                self.problem = decoder.problem
                return
        if self._end is not None:
            return  # read to where asked, not to the end: nothing to judge
        if self._truncation is not None or self._handed_over_failed is not None:
            self.problem = self._truncation or self._handed_over_failed
            return
        self._judge_length(decoder)
        undeclared = self._probe.declared is None and self._probe.expected is None
        if undeclared and isinstance(decoder, PyAVDecoder) and decoder.ended_mid_frame:
            self.problem = "the stream ends in the middle of a frame (the file was cut)"

    def _judge_length(self, decoder: Decoder) -> None:
        info = self._probe.info
        declared = self._probe.declared
        slack = self._slack(decoder)
        if declared is None and self._probe.expected is not None:
            declared, slack = self._probe.expected, slack + self._probe.expected_slack
        if info.container.upper() == "OGG":
            cut = ogg_problem(self._probe.source)
            if cut is not None:
                self.problem = cut
                return
        if declared is None:
            return
        self.damage.total_known = True
        short = declared - self.position
        if short <= slack:
            return
        if self._lost_to_damage():
            if self._strict:
                reason = f"{short} samples its header declares are missing"
                self.error = self.damage.error(self.name, self.position, reason)
                return
            self.damage.lost_unplaced += short
            return
        self.problem = (
            f"the file ended after {self.position} of the {declared} samples its "
            f"{'container' if info.backend == 'pyav' else 'header'} declares"
        )
        # a cut file's last, partial packet fails to decode: that is the cut, not damage
        self.damage.spots = [s for s in self.damage.spots if s[0] < self.position - 1024]

    def _lost_to_damage(self) -> bool:
        """Whether audio missing at the end was lost to damage rather than a cut: Ogg pages
        that libsndfile skipped (the stream ends properly), or MP3 frames FFmpeg skipped in
        a file that holds every byte its Xing tag counts."""
        info = self._probe.info
        if info.container == "OGG":
            return True  # not cut (ogg_problem said so): libsndfile skipped damaged pages
        xing = self._probe.xing
        size = self._probe.source.size
        if xing is None or xing.stream_bytes is None or size is None:
            return False
        return mp3_complete(xing, size)

    def _slack(self, decoder: Decoder) -> int:
        """Samples a complete file may fall short of its declared length: none for PCM
        and FLAC; a codec frame for FFmpeg (containers round the encoder's padding)."""
        if isinstance(decoder, PyAVDecoder) and not self._handed_over:
            return decoder.frame_size
        if self._probe.info.container in ("MP3", "OGG"):
            return 1152
        return 0

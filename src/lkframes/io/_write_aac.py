"""`AacEncoder`: `to_file`'s encoder for .m4a and .mp4 files, AAC through PyAV (FFmpeg's
native ``aac`` encoder), with the interface of the libsndfile one in `_write`.

FFmpeg's MP4 muxer keeps the encoder's priming (1 024 samples) and the last frame's
padding out of the file's length with an edit list, counted in the movie's timescale:
FFmpeg's default, 1/1000 s, rounds the length to the millisecond (50 000 samples at
48 kHz became 49 968). Here the timescale is the sample rate, so the declared length is
exactly the samples written, which `from_file` and FFmpeg trim the decoded audio to.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import IO, Any

from .._core.errors import AudioFileError, MediaFileError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from ._encode import Codecs, MediaEncoder
from ._encodings import AAC_CONTAINERS, channel_problem, rate_problem
from ._info import ffmpeg_reason
from ._target import open_target, remove_made, report_failure

__all__ = ("AacEncoder",)


class AacEncoder:
    """The open output file: AAC in MP4, muxed through a `WriteTarget`, from worker threads.

    The bit rate is FFmpeg's default (as ``ffmpeg -i x.wav -c:a aac y.m4a`` chooses it:
    about 69 kb/s mono and 128 kb/s stereo). A lock makes a close wait for a write still
    running in a worker thread.
    """

    def __init__(
        self,
        file: Path,
        write_to: Path | IO[bytes],
        container: str,
        subtype: str | None,
        fmt: AudioFormat,
    ) -> None:
        import av

        self.file = file
        self.reported = False  # a write failure has been raised already
        self.kind = f"{container}/{(subtype or 'AAC').upper()}"
        cannot = f"cannot write {str(file)!r} as {self.kind}"
        problem = _problem(container, subtype, fmt)
        if problem is not None:
            raise AudioFileError(f"{cannot}: {problem}")
        self._write_to = write_to
        self.target = open_target(file, write_to, cannot)
        if not self.target.seekable:
            self.target.close()
            raise AudioFileError(
                f"{cannot}: FFmpeg writes an MP4 file's index last and seeks back to it, "
                "which a pipe or a terminal cannot do; write to a file"
            )
        self._fmt = fmt
        self._written = 0
        self._closed = False
        self._lock = threading.Lock()
        options = {"movie_timescale": str(fmt.sample_rate), "flush_packets": "0"}
        codecs = Codecs(AAC_CONTAINERS[container], video="", audio="aac")
        try:
            self._media = MediaEncoder(self.target, codecs, muxer_options=options)
            self._media.add_audio(fmt)
        except (MediaFileError, av.FFmpegError, ValueError) as exc:
            self.target.close()
            remove_made(write_to)
            raise AudioFileError(f"{cannot}: {ffmpeg_reason(exc)}") from None

    def write(self, data: Any) -> None:
        """Encode ``data`` (samples x channels, the stream's dtype) in a worker thread."""
        import av

        with self._lock:
            if self._closed:
                raise AudioFileError(f"writing {str(self.file)!r} failed: the file was closed")
            problem: object = None
            try:
                self._media.write_audio(AudioFrame.of(data, self._fmt, self._written))
            except (av.FFmpegError, OSError, ValueError) as exc:
                problem = ffmpeg_reason(exc)
            problem = self.target.error or problem
            if problem is not None:
                self.reported = True
                raise AudioFileError(f"writing {str(self.file)!r} failed: {problem}")
            self._written += data.shape[0]

    def close(self) -> None:
        """Flush the encoder, write the index and close the file; raise (or note) a write
        error. A stream without a single sample leaves no file: refused if the run did
        not fail otherwise."""
        import av

        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._media.close()
            except (av.FFmpegError, OSError) as exc:
                self.target._failed(OSError(ffmpeg_reason(exc)))
            finally:
                self.target.close()
        if self._written == 0:
            remove_made(self._write_to)  # nothing in it, not even a header
            if sys.exception() is None:
                raise AudioFileError(
                    f"cannot write {str(self.file)!r} as {self.kind}: the stream has no "
                    "samples, and an MP4 file without them holds no audio track"
                )
        elif self.target.error is not None and not self.reported:
            failure = AudioFileError(f"writing {str(self.file)!r} failed: {self.target.error}")
            report_failure(failure, sys.exception())


def _problem(container: str, subtype: str | None, fmt: AudioFormat) -> str | None:
    """Why ``fmt`` cannot be written as ``subtype`` in ``container`` (None if it can)."""
    if subtype is not None and subtype.upper() != "AAC":
        return f"an {container} file holds AAC only (subtype='AAC')"  # M4A, MP4
    problem = rate_problem("AAC", fmt.sample_rate)
    if problem is not None:
        return f"{problem[0]}; resample first, e.g. .resample({problem[1]})"
    too_many = channel_problem("AAC", fmt.num_channels)
    if too_many is not None:
        return f"{too_many[0]}; remix first, e.g. .remix(2)"
    return None

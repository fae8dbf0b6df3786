"""``lkframes info``: a file's format and duration, from its header or decoded."""

from __future__ import annotations

import argparse
import json
import math
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import lkframes as lk

from ..io._read import read_with_info
from ._input import STDIO, Caveats, decoder_output, in_flags, input_of, read_options
from ._report import LevelMeter, decibels, format_json, progress

__all__ = ("info_command",)

_LAYOUT = ("sample_rate", "num_channels", "encoding")


def info_command(args: argparse.Namespace) -> int:
    """``lkframes info FILE``: what the header says; the file decoded (length counted,
    level measured, damage reported) with ``--exact`` or where the header cannot say."""
    caveats = Caveats("info")
    source = input_of(args.file)
    options = read_options(args)
    with decoder_output(args.verbose, explain=not args.quiet), caveats.watching():
        try:
            info, stream = _header_or_stream(args, source, options)
        except lk.ParameterError as exc:
            args.parser.error(in_flags(str(exc)))
        except lk.UnsupportedAudioError:
            media = _video_only(source)
            if media is None:
                raise
            if args.loudness:
                raise lk.UnsupportedAudioError(
                    f"--loudness: {media.path.name!r} has video and no audio stream"
                ) from None
            counted = _count_frames(media) if args.exact else None
            _show_video_only(args, media, counted)
            return 0
        decode = stream is not None
        meter = LevelMeter()
        loudness: lk.Loudness | None = None
        if stream is not None:
            stream, close_bar = progress(
                stream.tap(meter),
                info.duration,
                not (args.quiet or args.json),
                "info",
            )
            try:
                if args.loudness:
                    loudness = lk.run_sync(stream.loudness())
                    samples = loudness.samples_per_channel
                else:
                    samples = lk.run_sync(stream.run()).samples_per_channel
                info = replace(info, samples_per_channel=samples)
            finally:
                close_bar()
    _show_info(args, info, decode, meter, caveats, loudness)
    return 0


def _header_or_stream(
    args: argparse.Namespace, source: Any, options: dict[str, Any]
) -> tuple[lk.AudioFileInfo, lk.Stream[lk.AudioFrame] | None]:
    """FILE's header (it raises for a cut the header shows), and a stream to decode where
    ``--exact`` asks or the header cannot say the length (stdin, an ADTS stream)."""
    if args.exact or args.loudness or str(args.file) == STDIO:
        return read_with_info(source, **options)
    info = lk.file_info(source, **{k: options[k] for k in _LAYOUT})
    if info.samples_per_channel is not None:
        return info, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.AssumedFormatWarning)  # said once already
        return read_with_info(source, **options)


def _show_info(
    args: argparse.Namespace,
    info: lk.AudioFileInfo,
    decoded: bool,
    meter: LevelMeter,
    caveats: Caveats,
    loudness: lk.Loudness | None,
) -> None:
    peak, rms = (decibels(meter.peak), decibels(meter.rms)) if decoded else (None, None)
    video = _video_of(info)
    length = "counted by decoding" if decoded else "from the header"
    if info.container == "RAW" and not decoded:
        length = "from its size"
    if args.json:
        result = {
            "command": "info",
            "path": info.name,
            "container": info.container,
            "codec": info.codec,
            "backend": info.backend,
            "format": format_json(info.format),
            "samples_per_channel": info.samples_per_channel,
            "duration_s": info.duration,
            "length": "decoded" if decoded else "header",
            "peak_dbfs": peak,
            "rms_dbfs": rms,
            **_loudness_json(loudness),
            "video": None
            if video is None
            else {
                "width": video.width,
                "height": video.height,
                "fps": video.fps,
                "codec": video.codec,
            },
            **caveats.to_json(),
        }
        print(json.dumps(result, indent=2))
        return
    if args.quiet:
        return
    lines = [
        info.name,
        f"  file      {info.container} / {info.codec} (read with {info.backend})",
        f"  format    {info.format}",
        f"  duration  {info.duration or 0:.3f} s ({info.samples_per_channel} samples, {length})",
    ]
    if decoded:
        level = (
            "silent" if peak is None or rms is None else f"peak {peak:.1f} dBFS, RMS {rms:.1f} dBFS"
        )
        lines.append(f"  level     {level}")
    if loudness is not None:
        lines.append(f"  loudness  {_loudness_text(loudness)}")
    if video is not None:
        fps = f", {video.fps:g} fps" if video.fps else ""
        lines.append(f"  video     {video.width}x{video.height}{fps}, {video.codec} (not measured)")
    print("\n".join(lines))


def _finite(value: float) -> float | None:
    """``value`` rounded for showing, None for the -inf of silence (JSON has no infinity)."""
    return round(value, 2) if math.isfinite(value) else None


def _loudness_json(loudness: lk.Loudness | None) -> dict[str, float | None]:
    """The loudness keys of ``info --json`` (present only with ``--loudness``)."""
    if loudness is None:
        return {}
    return {
        "integrated_lufs": _finite(loudness.integrated_lufs),
        "true_peak_dbtp": _finite(loudness.true_peak_dbtp),
        "max_short_term_lufs": _finite(loudness.max_short_term_lufs),
        "loudness_range_lu": round(loudness.loudness_range_lu, 2),
    }


def _loudness_text(loudness: lk.Loudness) -> str:
    """``-23.0 LUFS integrated, true peak -1.2 dBTP`` (or ``silent``)."""
    if loudness.unmeasured is not None:
        return loudness.unmeasured
    return (
        f"{loudness.integrated_lufs:.1f} LUFS integrated, true peak "
        f"{loudness.true_peak_dbtp:.1f} dBTP, loudest 3 s {loudness.max_short_term_lufs:.1f} LUFS, "
        f"range {loudness.loudness_range_lu:.1f} LU"
    )


def _video_of(info: lk.AudioFileInfo) -> lk.VideoInfo | None:
    """The video stream beside the audio, for a file FFmpeg read (an MP4, say)."""
    if info.backend != "pyav":
        return None
    try:
        return None if info.path is None else lk.open_media(info.path).info.video
    except lk.MediaFileError:
        return None


def _video_only(source: Any) -> lk.MediaInfo | None:
    """The header of a media file with video and no audio (None for anything else)."""
    if not isinstance(source, (str, Path)):
        return None
    try:
        media = lk.open_media(source).info
    except lk.MediaFileError:
        return None
    return media if media.video is not None and media.audio is None else None


def _show_video_only(args: argparse.Namespace, media: lk.MediaInfo, counted: int | None) -> None:
    """``info`` of a video-only file: its container and video stream, from the header, and
    with ``--exact`` its frames ``counted`` by decoding."""
    video = media.video
    assert video is not None
    frames_of = video.frames if counted is None else counted
    length = "header" if counted is None else "decoded"
    if args.json:
        result = {
            "command": "info",
            "path": media.path.name,
            "container": media.container,
            "format": None,
            "duration_s": media.duration,
            "length": length,
            "video": {
                "width": video.width,
                "height": video.height,
                "fps": video.fps,
                "codec": video.codec,
                "frames": frames_of,
            },
        }
        print(json.dumps(result, indent=2))
        return
    if args.quiet:
        return
    fps = f", {video.fps:g} fps" if video.fps else ""
    said = "counted by decoding" if counted is not None else "from the header"
    frames = f", {frames_of} frames ({said})" if frames_of is not None else ""
    duration = "unknown" if media.duration is None else f"{media.duration:.3f} s"
    print(
        "\n".join(
            [
                media.path.name,
                f"  file      {media.container} (read with pyav)",
                "  audio     none",
                f"  duration  {duration} (from the container)",
                f"  video     {video.width}x{video.height}{fps}, {video.codec}{frames}",
            ]
        )
    )


def _count_frames(media: lk.MediaInfo) -> int:
    """The frames of a video-only file's first video stream, counted by decoding."""
    video = lk.open_media(media.path).video
    assert video is not None  # media.video is not None
    return lk.run_sync(video.run()).frames

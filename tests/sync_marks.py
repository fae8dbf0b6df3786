"""A/V sync measured against LiveKit's Go SDK: find the flash-and-beep marks in what a client
received and time them.

The clip (`media_clips`): a white flash and a 1 kHz beep for the first 100 ms of every
second, so in the sent media every beep starts with its flash. A mark's **offset** is its
beep's time minus its flash's time (positive: audio late), in seconds:

- in a file (a `record_participant` recording): the times in the file;
- for the Go subscriber (``tests/goclient``, which logs every RTP packet and RTCP sender
  report and writes the media to ``audio.ogg`` and ``video.ivf``): each mark's RTP timestamp
  is found from the decoded media, then mapped to its **arrival** (the packet's arrival on
  CLOCK_MONOTONIC) and to its **sender** time (by the track's RTCP sender reports, NTP <-> RTP,
  as WebRTC's lip sync and LiveKit Egress do). Decoding includes the Opus encoder's
  look-ahead (6.5 ms), as every player's does.

Used by tests/livekit/test_sync_vs_go.py and benchmarks/bench_sync.py.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

import lkframes as lk
from media_clips import beep_onsets, beeps, flash_frames, flash_times

FPS = 25
CLIP_S = 12
SETTLED_S = 3.5
"""Marks from here on are judged: WebRTC lines the streams up over the first seconds."""
RTP_MASK = 0xFFFFFFFF
OPUS_20MS_PAGES = ("-frame_duration", "20", "-page_duration", "20000")
"""20 ms Opus packets, one per Ogg page, as the Go client reads them."""
VP8_REALTIME = ("-auto-alt-ref", "0", "-deadline", "realtime", "-cpu-used", "8")


@dataclass(frozen=True)
class Clip:
    """The flash-and-beep clip as lkframes publishes it (MP4) and the Go client does."""

    mp4: Path
    ogg: Path
    """Opus, 20 ms packets, one per Ogg page."""
    ivf: Path
    """VP8, a key frame every second."""
    seconds: int = CLIP_S
    """How long the clip is."""


@dataclass(frozen=True)
class Mark:
    """One flash and its beep, as a client got them."""

    at: float
    """Seconds from the start of the received audio to the flash."""
    offset: float
    """Beep minus flash, seconds (by the file, or by arrival for the Go subscriber)."""
    sender_offset: float | None = None
    """Beep minus flash by the RTCP sender reports (Go subscriber only)."""


def make_clip(folder: Path, seconds: int = CLIP_S, fps: int = FPS) -> Clip:
    """Write the clip as ``clip.mp4`` (lkframes), then ``clip.ogg`` and ``clip.ivf`` (ffmpeg)."""
    mp4, ogg, ivf = folder / "clip.mp4", folder / "clip.ogg", folder / "clip.ivf"
    audio = lk.from_array(beeps(seconds), 48_000, block_ms=20)
    video = lk.from_video_frames(list(flash_frames(seconds, fps=fps)))
    lk.run_sync(lk.to_media_file(mp4, audio=audio, video=video))
    ffmpeg = ["ffmpeg", "-v", "error", "-y", "-i", str(mp4)]
    subprocess.run(
        [*ffmpeg, "-vn", "-c:a", "libopus", "-b:a", "64k", *OPUS_20MS_PAGES, str(ogg)],
        check=True,
    )
    subprocess.run(
        [*ffmpeg, "-an", "-c:v", "libvpx", "-b:v", "400k", "-g", str(fps), *VP8_REALTIME, str(ivf)],
        check=True,
    )
    return Clip(mp4, ogg, ivf, seconds)


def pair(flashes: list[float], beeps_: list[float]) -> list[tuple[float, float]]:
    """(flash, beep) for each flash and the beep nearest to it, if within half a second."""
    pairs = []
    for flash in flashes:
        if beeps_:
            beep = min(beeps_, key=lambda b: abs(b - flash))
            if abs(beep - flash) < 0.5:
                pairs.append((flash, beep))
    return pairs


def file_marks(path: Path) -> list[Mark]:
    """The marks of a recording: times in the file."""
    media = lk.open_media(path)
    assert media.audio is not None, path
    assert media.video is not None, path
    flashes = flash_times(lk.run_sync(media.video.collect()))
    onsets = beep_onsets(lk.run_sync(media.audio.to_array()), media.audio.format.sample_rate)  # type: ignore[union-attr]
    return [Mark(flash, beep - flash) for flash, beep in pair(flashes, onsets)]


def _ogg_packets(path: Path) -> list[bytes]:
    data, packets, packet, pos = path.read_bytes(), [], b"", 0
    while pos + 27 <= len(data):
        assert data[pos : pos + 4] == b"OggS", f"{path}: no Ogg page at {pos}"
        count = data[pos + 26]
        body = pos + 27 + count
        for size in data[pos + 27 : pos + 27 + count]:
            packet += data[body : body + size]
            body += size
            if size < 255:
                packets.append(packet)
                packet = b""
        pos = body
    return packets


def _ivf_frames(path: Path) -> list[tuple[int, bytes]]:
    data = path.read_bytes()
    pos, frames = int.from_bytes(data[6:8], "little"), []
    while pos + 12 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "little")
        pts = int.from_bytes(data[pos + 4 : pos + 12], "little")
        frames.append((pts, data[pos + 12 : pos + 12 + size]))
        pos += 12 + size
    return frames


def _signed(delta: int) -> int:
    delta &= RTP_MASK
    return delta - (1 << 32) if delta >= 1 << 31 else delta


class _Track:
    """One track's RTP packets and sender reports from the Go subscriber's log."""

    def __init__(self, lines: list[dict[str, Any]], kind: str, clock: int) -> None:
        self.packets = [x for x in lines if x["type"] == "rtp" and x["kind"] == kind]
        self.reports = [x for x in lines if x["type"] == "sr" and x["kind"] == kind]
        self.clock = clock

    def sender_time(self, rtp: int) -> float | None:
        """NTP seconds of an RTP timestamp by the nearest sender report."""
        if not self.reports:
            return None
        sr = min(self.reports, key=lambda r: abs(_signed(rtp - r["rtp"])))
        return float(sr["ntp"]) + _signed(rtp - sr["rtp"]) / self.clock


def _audio_onsets(folder: Path, audio: _Track) -> list[tuple[int, float]]:
    """(RTP timestamp, arrival) of each beep's first loud sample.

    Each packet's samples are placed at its RTP timestamp: a sender with DTX (the Python
    SDK's) sends no packets for long stretches of silence.
    """
    packets = _ogg_packets(folder / "audio.ogg")
    sent = [p for p in audio.packets if p["size"] > 0]
    payloads = packets[2:]
    assert [len(p) for p in payloads] == [p["size"] for p in sent[: len(payloads)]], (
        "audio.ogg does not hold the logged packets in order"
    )
    decoder = av.CodecContext.create("opus", "r")
    decoder.extradata = packets[0]
    first = sent[0]["ts"]
    placed, arrivals = [], {}
    for payload, packet in zip(payloads, sent, strict=False):
        encoded = av.Packet(payload)
        encoded.pts = _signed(packet["ts"] - first)
        arrivals[encoded.pts] = packet["arrival"]
        for frame in decoder.decode(encoded):
            samples = frame.to_ndarray()
            placed.append((frame.pts or 0, samples.reshape(-1, samples.shape[-1])[0]))
    timeline = np.zeros(max(at + len(x) for at, x in placed), np.float32)
    for at, samples in placed:
        timeline[at : at + len(samples)] = samples
    starts = np.array([at for at, _ in placed])
    result = []
    for onset in beep_onsets(timeline, 48_000):
        n = round(onset * 48_000)
        index = int(np.searchsorted(starts, n, side="right")) - 1
        within = n - int(starts[index])
        arrival = arrivals[int(starts[index])] + within / 48_000
        result.append(((first + n) & RTP_MASK, arrival))
    return result


def _video_flashes(folder: Path, video: _Track) -> list[tuple[int, float]]:
    """(RTP timestamp, arrival of its last packet) of each flash's first bright frame."""
    frames = _ivf_frames(folder / "video.ivf")
    arrival: dict[int, float] = {}
    for p in video.packets:
        arrival[p["ts"]] = max(arrival.get(p["ts"], 0.0), p["arrival"])
    # The IVF's first frame is the first key frame: the first timestamp that fits them all.
    pts = [p for p, _ in frames[:50]]
    first = next(t for t in arrival if all((t + p) & RTP_MASK in arrival for p in pts))
    decoder = av.CodecContext.create("vp8", "r")
    result, bright_before = [], False
    for pts_, data in frames:
        for frame in decoder.decode(av.Packet(data)):
            bright = float(frame.to_ndarray(format="gray").mean()) > 128
            if bright and not bright_before:
                rtp = (first + pts_) & RTP_MASK
                result.append((rtp, arrival[rtp]))
            bright_before = bright
    return result


def go_marks(folder: Path) -> list[Mark]:
    """The marks the Go subscriber got (its ``--out`` folder), by arrival and sender time."""
    lines = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    audio, video = _Track(lines, "audio", 48_000), _Track(lines, "video", 90_000)
    onsets = _audio_onsets(folder, audio)
    flashes = _video_flashes(folder, video)
    start = audio.packets[0]["arrival"]
    marks = []
    for (v_rtp, v_arrival), (a_rtp, a_arrival) in _pairs_by_arrival(flashes, onsets):
        v_sender, a_sender = video.sender_time(v_rtp), audio.sender_time(a_rtp)
        sender = None if v_sender is None or a_sender is None else a_sender - v_sender
        marks.append(Mark(v_arrival - start, a_arrival - v_arrival, sender))
    return marks


def _pairs_by_arrival(
    flashes: list[tuple[int, float]], onsets: list[tuple[int, float]]
) -> list[tuple[tuple[int, float], tuple[int, float]]]:
    by_time = dict(onsets)
    arrivals = {a: rtp for rtp, a in onsets}
    found = pair([a for _, a in flashes], list(arrivals))
    flash_of = {a: rtp for rtp, a in flashes}
    return [((flash_of[f], f), (arrivals[b], by_time[arrivals[b]])) for f, b in found]


def settled(marks: list[Mark], since: float = SETTLED_S) -> list[Mark]:
    """The marks from ``since`` seconds into the received audio on."""
    return [m for m in marks if m.at >= since]


@dataclass(frozen=True)
class Error:
    """One scenario's sync in one round, against the Go -> Go control of that round (ms)."""

    scenario: str
    errors_ms: list[float]
    """Each settled mark's offset minus the control's median settled offset."""
    drift_ms: float
    """How far the offset moved over the judged marks, beyond the control's own move
    (the median slope times the span)."""
    sender_errors_ms: list[float] | None = None
    """As ``errors_ms``, by the RTCP sender reports (Go subscriber scenarios only)."""

    @property
    def worst_ms(self) -> float:
        """The largest error by size (0 without marks)."""
        return max((abs(e) for e in self.errors_ms), default=0.0)


def _slope(marks: list[Mark]) -> float:
    """The offset's slope over time, seconds per second: the median of the slopes between
    every two marks (Theil-Sen), so one mark thrown off by a stall does not tilt it."""
    slopes = [
        (b.offset - a.offset) / (b.at - a.at)
        for i, a in enumerate(marks)
        for b in marks[i + 1 :]
        if b.at > a.at
    ]
    return float(np.median(slopes)) if slopes else 0.0


def errors_against(control: list[Mark], marks: list[Mark], scenario: str) -> Error:
    """``marks`` from `SETTLED_S` on, against the settled ``control`` of the same round."""
    reference, judged = settled(control), settled(marks)
    base = float(np.median([m.offset for m in reference]))
    senders = [m.sender_offset for m in reference if m.sender_offset is not None]
    sender_errors = None
    if senders and all(m.sender_offset is not None for m in judged):
        sender_base = float(np.median(senders))
        sender_errors = [
            round((m.sender_offset - sender_base) * 1000, 1)  # type: ignore[operator]
            for m in judged
        ]
    span = judged[-1].at - judged[0].at if len(judged) > 1 else 0.0
    return Error(
        scenario,
        [round((m.offset - base) * 1000, 1) for m in judged],
        round((_slope(judged) - _slope(reference)) * span * 1000, 1),
        sender_errors,
    )

"""Draw the docs' figures from lkframes itself, into docs/figures/*.svg.

Each figure runs the code its page shows and draws what came out, so regenerating them
after a change shows the change:

- ``pipeline.svg`` (docs/index.md): a pipeline with the format each stage hands on, read
  from the streams, and the package's layers from the rule tests/test_layout.py enforces;
- ``loudness_normalize.svg`` (cookbook/loudness.md): the page's talk before and after
  ``normalize(-16)``, waveform and spectrogram, with the loudness ``loudness()`` measures;
- ``speech_gate.svg`` (cookbook/speech.md): the page's noisy speech before and after
  ``speech()`` (Silero VAD), with the utterances ``utterances()`` finds;
- ``room_timeline.svg`` (cookbook/record-room.md): a ``SimulatedRoom`` scenario read with
  ``from_room(mix=False)``: when each participant was present and when they were heard;
- ``sync_marks.svg`` (reliability.md): the flash-and-beep clip the A/V sync benchmark
  publishes, written with ``to_media_file`` and read back: each flash, its beep, the offset.

The benchmark charts (``bench_*.svg``) are drawn by the benchmarks themselves
(benchmarks/_common.py). Regenerating gives the same files for the same numbers
(``svg.hashsalt`` fixed, no date); tests/test_docs_figures.py checks that it does.

    python scripts/figures.py                    # all, into docs/figures
    python scripts/figures.py --out /tmp/figs    # elsewhere
    python scripts/figures.py pipeline speech_gate   # only these

Needs the ``plot``, ``loudness`` and ``vad`` extras (matplotlib, scipy, onnxruntime) and
PyAV's encoders (AAC, H.264) for the clip.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import Network, SimulatedRoom, run_virtual, speech_like

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "docs" / "figures"
INDIGO, GREY, LIGHT = "#3f51b5", "#9e9e9e", "#c5cae9"
Array = NDArray[Any]
LEVELS = plt.get_cmap("magma", 20)
"""A spectrogram's colours: 20 levels of 5 dB, which keeps its embedded PNG small."""

plt.rcParams.update(
    {
        "svg.hashsalt": "lkframes",  # the same drawing gives the same file
        "svg.fonttype": "none",  # text as text: smaller, searchable, read by screen readers
        "font.family": ["DejaVu Sans", "sans-serif"],
        "font.size": 9,
    }
)


def save(figure: Any, path: Path) -> Path:
    """Write ``figure`` as SVG without a date, so the same drawing gives the same bytes."""
    figure.savefig(
        path, format="svg", metadata={"Date": None}, dpi=100, bbox_inches="tight", pad_inches=0.05
    )
    plt.close(figure)
    return path


# -- the pipeline and the layers ---------------------------------------------------------


def layers() -> list[list[str]]:
    """The package's parts by layer, bottom first, from tests/test_layout.py's LAYERS:
    a part sits one above the highest part it may import."""
    tree = ast.parse((REPO / "tests" / "test_layout.py").read_text())
    allowed: dict[str, set[str]] = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "LAYERS"
        and node.value is not None
    )
    level: dict[str, int] = {}
    while len(level) < len(allowed):
        for part, below in allowed.items():
            below = below - {"lkframes"}
            if part not in level and below <= level.keys():
                level[part] = 1 + max((level[b] for b in below), default=-1)
    rows: list[list[str]] = [[] for _ in range(max(level.values()) + 1)]
    for part in sorted(level):
        rows[level[part]].append(part)
    return rows


def _box(axis: Any, x: float, y: float, w: float, h: float, text: str, color: str) -> None:
    axis.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="none"
        )
    )
    dark = color in (INDIGO, GREY)
    color = "white" if dark else "black"
    axis.text(x + w / 2, y + h / 2, text, ha="center", va="center", color=color, fontsize=8)


def _arrow(axis: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    axis.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.2))


def pipeline_steps(folder: Path) -> list[tuple[str, lk.Stream[lk.AudioFrame]]]:
    """The drawn pipeline, step by step, over a 1 s 44.1 kHz stereo FLAC in ``folder``."""
    flac = folder / "talk.flac"
    lk.run_sync(lk.sine(220, 1.0, 44_100, num_channels=2).to_file(flac))
    source = lk.from_file(flac)
    mono = source.remix(1)
    resampled = mono.resample(16_000)
    return [
        ("from_file(\n'talk.flac')", source),
        ("remix(1)", mono),
        ("resample(\n16_000)", resampled),
        ("chunk(ms=20)", resampled.chunk(ms=20)),
    ]


def _handed_on(stream: lk.Stream[lk.AudioFrame]) -> str:
    """What a step hands on: rate, channels, sample type, and how long its frames are."""
    frames = lk.run_sync(stream.collect())
    fmt = frames[0].format
    ms = np.median([f.samples_per_channel for f in frames]) * 1000 / fmt.sample_rate
    kind = "frames" if ms <= 20 else "blocks"
    return f"{fmt.sample_rate / 1000:g} kHz\n{fmt.num_channels} ch {fmt.dtype}\n{ms:.0f} ms {kind}"


def draw_pipeline(out: Path) -> Path:
    """A pipeline's stages with what each hands on, above the package's layers."""
    with tempfile.TemporaryDirectory(prefix="lkf-figures-") as work:
        steps = [(name, _handed_on(stream)) for name, stream in pipeline_steps(Path(work))]
    figure, axis = plt.subplots(figsize=(9.0, 4.9))
    axis.set(xlim=(0, 10), ylim=(0, 5.55), aspect="equal")
    axis.axis("off")
    axis.text(0, 5.35, "A pipeline: a source, stages, a terminal", fontweight="bold")
    names = [name for name, _ in steps] + ["map(fn)", "to_file(\n'out.wav')"]
    for i, name in enumerate(names):
        color = INDIGO if i in (0, len(names) - 1) else LIGHT
        _box(axis, 0.1 + i * 1.65, 4.0, 1.3, 0.9, name, color)
        if i:
            _arrow(axis, (i * 1.65 - 0.2, 4.45), (0.1 + i * 1.65, 4.45))
    for i, (_, handed_on) in enumerate(steps):
        axis.text(1.5 + i * 1.65, 3.9, handed_on, ha="center", va="top", fontsize=7, color="#333")
    axis.text(
        0.1,
        2.9,
        "Under each arrow: what the step hands on, read from the running pipeline. "
        "Nothing runs until a terminal is awaited.",
        fontsize=7.5,
        style="italic",
    )
    _draw_layers(axis)
    return save(figure, out / "pipeline.svg")


def _draw_layers(axis: Any) -> None:
    rows = layers()
    axis.text(
        0,
        2.55,
        "The package's layers (tests/test_layout.py): each imports only from below",
        fontweight="bold",
    )
    height, gap = 0.36, 0.08
    for level, parts in enumerate(rows):
        y = 0.05 + level * (height + gap)
        width = 8.6 / len(parts)
        for j, part in enumerate(parts):
            color = INDIGO if part == "_core" else (GREY if part == "cli" else LIGHT)
            _box(axis, 0.1 + j * width, y, width - 0.12, height, part, color)
    _arrow(axis, (9.55, 0.1 + len(rows) * (height + gap) - gap), (9.55, 0.1))
    axis.text(9.7, 1.3, "imports", rotation=90, va="center", fontsize=8)


# -- before and after ----------------------------------------------------------------------


def _envelope(axis: Any, samples: Array, rate: int, color: str, bins: int = 900) -> None:
    """The waveform as its min-max envelope per bin (a few KB of SVG, not a path per sample)."""
    x = samples.astype(np.float64)
    if samples.dtype.kind == "i":
        x /= 32768.0
    usable = x[: x.size - x.size % bins].reshape(bins, -1)
    times = (np.arange(bins) + 0.5) * usable.shape[1] / rate
    axis.fill_between(times, usable.min(axis=1), usable.max(axis=1), color=color, lw=0)
    axis.set(ylim=(-1, 1), xlim=(0, x.size / rate), ylabel="amplitude")


def _spectrogram(axis: Any, samples: Array, rate: int, top_hz: float) -> Any:
    # Noise at -140 dB (below the colour scale) so digital silence has a logarithm.
    x = samples.astype(np.float64) / 32768.0 + np.random.default_rng(0).normal(
        0, 1e-7, len(samples)
    )
    nfft = 1 << int(np.log2(rate * 0.032))
    _, _, _, image = axis.specgram(
        x,
        NFFT=nfft,
        Fs=rate,
        noverlap=nfft // 2,
        vmin=-120,
        vmax=-20,
        cmap=LEVELS,
        interpolation="nearest",
    )
    axis.set(ylim=(0, top_hz), ylabel="Hz", xlabel="seconds")
    return image


def before_after(
    rate: int, panels: Sequence[tuple[str, Array]], top_hz: float, title: str
) -> tuple[Any, Any]:
    """Waveform over spectrogram, one column per (title, samples); the figure and its axes."""
    figure, axes = plt.subplots(
        2,
        len(panels),
        figsize=(9.0, 4.6),
        sharex=True,
        height_ratios=(1, 1.4),
        squeeze=False,
        layout="constrained",
    )
    image: Any = None
    for column, (name, samples) in enumerate(panels):
        _envelope(axes[0, column], samples, rate, INDIGO if column else GREY)
        axes[0, column].set_title(name, fontsize=9, loc="left")
        image = _spectrogram(axes[1, column], samples, rate, top_hz)
    figure.suptitle(title, fontsize=10)
    figure.colorbar(image, ax=axes[1, :].tolist(), label="dB (power)", pad=0.01, aspect=12)
    return figure, axes


def draw_loudness(out: Path) -> Path:
    """The loudness page's talk, before and after ``normalize(-16)``."""
    rate = 48_000
    t = np.arange(rate * 20) / rate
    syllables = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
    voice = np.sin(2 * np.pi * 150 * t) + 0.5 * np.sin(2 * np.pi * 450 * t)
    talk = (0.1 * syllables * voice).astype(np.float32)
    talk[8 * rate : 10 * rate] = 0
    before = lk.run_sync(lk.from_array(talk, rate).to_dtype("int16").to_array())
    after = lk.run_sync(lk.from_array(before, rate).normalize(-16).to_array())
    measured = [lk.run_sync(lk.from_array(x, rate).loudness()) for x in (before, after)]
    names = [
        f"{name}: {m.integrated_lufs:.1f} LUFS, true peak {m.true_peak_dbtp:.1f} dBTP"
        for name, m in zip(("before", "after normalize(-16)"), measured, strict=True)
    ]
    figure, _ = before_after(
        rate,
        list(zip(names, (before, after), strict=True)),
        1_000,
        "lk.from_file('talk.wav').normalize(-16): one gain for the whole file",
    )
    return save(figure, out / "loudness_normalize.svg")


def draw_speech_gate(out: Path) -> Path:
    """The speech page's noisy speech, before and after ``speech()``."""
    rate = 16_000
    clean = speech_like([1.0, 1.5, 1.0, 1.2, 1.0], rate)
    noise = np.random.default_rng(1).normal(0, 800, clean.size)
    noisy = np.clip(clean + noise, -32_768, 32_767).astype(np.int16)
    kept = np.zeros_like(noisy)
    for frame in lk.run_sync(lk.from_array(noisy, rate).speech().collect()):
        kept[frame.pts : frame.end_pts] = frame.data[:, 0]
    found = lk.run_sync(lk.from_array(noisy, rate).utterances().collect())
    figure, axes = before_after(
        rate,
        [("before: speech-like syllables in loud hiss", noisy), ("after speech()", kept)],
        4_000,
        "lk.from_array(noisy, 16_000).speech(): Silero VAD keeps the speech, drops the rest",
    )
    for u in found:
        axes[0, 1].axvspan(u.start / rate, u.end / rate, color=LIGHT, zorder=0, lw=0)
        axes[0, 1].text(u.start / rate, 0.85, f" utterance {u.duration_ms:.0f} ms", fontsize=7)
    return save(figure, out / "speech_gate.svg")


# -- rooms and sync ------------------------------------------------------------------------


ROOM = (
    # identity, joins, leaves, network delay and jitter (s), speech parts (silence first)
    ("alice", 0.0, None, (0.02, 0.005), [0.3, 1.6, 1.1, 2.2, 1.0]),
    ("bob", 1.0, 5.5, (0.08, 0.02), [0.6, 1.4, 0.8, 1.0]),
    ("carol", 3.0, None, (0.15, 0.03), [0.4, 0.9, 0.5, 1.5, 0.4]),
)
ROOM_S = 8.0


def record_room_scenario() -> dict[str, list[lk.AudioFrame]]:
    """``from_room(room, mix=False)`` over the ROOM scenario, on a virtual clock."""

    async def scenario() -> dict[str, list[lk.AudioFrame]]:
        room = SimulatedRoom()
        for identity, joins, leaves, (delay, jitter), parts in ROOM:
            who = room.participant(
                identity, joins=joins, leaves=leaves, network=Network(delay, jitter)
            )
            who.publish_audio(speech_like(parts, 48_000), at=joins)
        heard: dict[str, list[lk.AudioFrame]] = {identity: [] for identity, *_ in ROOM}
        async with room:
            stream = lk.from_room(room, mix=False, duration=ROOM_S)
            async with stream.open() as pairs:
                async for identity, frame in pairs:
                    heard[identity].append(frame)
        return heard

    return run_virtual(scenario)


def draw_room_timeline(out: Path) -> Path:
    """Per participant: when lkframes had their audio on the room's timeline, and when it
    was speech (10 ms frames above -40 dBFS RMS)."""
    heard = record_room_scenario()
    figure, axis = plt.subplots(figsize=(9.0, 2.6))
    for row, (identity, joins, leaves, (delay, _), _parts) in enumerate(ROOM):
        frames = heard[identity]
        rate = frames[0].format.sample_rate
        spans = [(f.pts / rate, f.samples_per_channel / rate) for f in frames]
        loud = [
            span
            for span, f in zip(spans, frames, strict=True)
            if np.sqrt(np.mean(f.data.astype(np.float64) ** 2)) > 32768 * 10 ** (-40 / 20)
        ]
        axis.broken_barh(_merged(spans), (row - 0.35, 0.7), color=LIGHT)
        axis.broken_barh(_merged(loud), (row - 0.25, 0.5), color=INDIGO, ec=INDIGO, lw=0.4)
        gone = f", leaves at {leaves:g} s" if leaves is not None else ""
        axis.text(
            ROOM_S + 0.05,
            row,
            f"joins at {joins:g} s{gone}\nnetwork delay {delay * 1000:.0f} ms",
            va="center",
            fontsize=7,
        )
    axis.set_yticks(range(len(ROOM)), [identity for identity, *_ in ROOM])
    axis.invert_yaxis()
    axis.set(xlim=(0, ROOM_S), xlabel="seconds on the room's timeline (from_room's pts)")
    axis.set_title(
        "lk.from_room(room, mix=False) over a SimulatedRoom: light, a participant's stream; "
        "dark, speech",
        fontsize=9,
        loc="left",
    )
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return save(figure, out / "room_timeline.svg")


def _merged(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(start, width) spans with the touching ones joined."""
    merged: list[tuple[float, float]] = []
    for start, width in spans:
        if merged and abs(merged[-1][0] + merged[-1][1] - start) < 1e-6:
            merged[-1] = (merged[-1][0], merged[-1][1] + width)
        else:
            merged.append((start, width))
    return merged


def draw_sync_marks(out: Path) -> Path:
    """The flash-and-beep clip as an MP4 (``to_media_file``), read back: the video's
    brightness, the audio, and each mark's beep - flash offset as the file has it."""
    sys.path.insert(0, str(REPO / "tests"))
    from media_clips import beep_onsets, beeps, flash_frames, flash_times

    seconds, fps, rate = 4, 25, 48_000
    with tempfile.TemporaryDirectory(prefix="lkf-figures-") as work:
        clip = Path(work) / "clip.mp4"
        audio = lk.from_array(beeps(seconds, rate), rate, block_ms=20)
        video = lk.from_video_frames(list(flash_frames(seconds, fps=fps)))
        lk.run_sync(lk.to_media_file(clip, audio=audio, video=video))
        media = lk.open_media(clip)
        assert media.audio is not None, clip
        assert media.video is not None, clip
        pictures = lk.run_sync(media.video.collect())
        sound = lk.run_sync(media.audio.to_array())
    rate = media.audio.format.sample_rate  # type: ignore[union-attr]
    flashes, onsets = flash_times(pictures), beep_onsets(sound, rate)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9.0, 3.6), sharex=True)
    brightness = [float(np.mean(p.data)) for p in pictures]
    top.step([p.timestamp_us / 1e6 for p in pictures], brightness, where="post", color=GREY)
    top.set(ylabel="video\nbrightness", ylim=(-10, 270))
    _envelope(bottom, sound.reshape(-1), rate, INDIGO, bins=800)
    bottom.set(ylabel="audio", xlabel="seconds in the file")
    for flash in flashes:
        beep = min(onsets, key=lambda b: abs(b - flash))
        top.axvline(flash, color=INDIGO, lw=0.8)
        bottom.axvline(beep, color=INDIGO, lw=0.8)
        bottom.text(beep + 0.02, 0.55, f"{(beep - flash) * 1000:+.1f} ms", fontsize=7)
    top.set_title(
        "The flash-and-beep clip (lk.to_media_file to MP4, read back with lk.open_media): "
        "each mark's beep - flash",
        fontsize=9,
        loc="left",
    )
    figure.tight_layout()
    return save(figure, out / "sync_marks.svg")


DRAWINGS: dict[str, Callable[[Path], Path]] = {
    "pipeline": draw_pipeline,
    "loudness_normalize": draw_loudness,
    "speech_gate": draw_speech_gate,
    "room_timeline": draw_room_timeline,
    "sync_marks": draw_sync_marks,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", choices=[[], *DRAWINGS], help="(default: all)")
    parser.add_argument("--out", type=Path, default=FIGURES, help="(default docs/figures)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or DRAWINGS:
        print(DRAWINGS[name](args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

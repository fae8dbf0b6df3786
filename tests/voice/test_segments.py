"""The streaming segmenter gives Silero's ``get_speech_timestamps`` segments, each as soon
as it is certain, and cuts long speech into ``max_samples`` pieces that add up to them."""

from __future__ import annotations

import random

import pytest

from lkframes.voice._segments import Segment, Segmenter
from silero_reference import get_speech_timestamps_from_probs

WINDOW = 512
RATE = 16_000


def _segmenter(
    threshold: float = 0.5,
    min_speech_ms: float = 250,
    min_silence_ms: float = 100,
    speech_pad_ms: float = 30,
    max_samples: int | None = None,
) -> Segmenter:
    per_ms = RATE / 1000
    return Segmenter(
        WINDOW,
        threshold=threshold,
        neg_threshold=max(threshold - 0.15, 0.01),
        min_speech=per_ms * min_speech_ms,
        min_silence=per_ms * min_silence_ms,
        speech_pad=per_ms * speech_pad_ms,
        max_samples=max_samples,
    )


def _run(segmenter: Segmenter, probabilities: list[float], length: int) -> list[Segment]:
    """Full windows pushed, the last one given to finish (Silero pads it with zeros)."""
    out: list[Segment] = []
    for p in probabilities[:-1]:
        out += segmenter.push(p)
    return out + segmenter.finish(length, probabilities[-1] if probabilities else None)


def _bursty(seed: int) -> list[float]:
    """Probabilities that stay near a level for a while, then jump: speech-like runs."""
    rng = random.Random(seed)
    level, out = rng.random(), []
    for _ in range(rng.randint(0, 200)):
        if rng.random() < 0.15:
            level = rng.random()
        out.append(min(1.0, max(0.0, level + rng.uniform(-0.2, 0.2))))
    return out


@pytest.mark.parametrize("seed", range(400))
def test_segments_equal_silero_get_speech_timestamps(seed: int) -> None:
    rng = random.Random(-seed)
    threshold = rng.choice([0.3, 0.5, 0.7])
    min_speech_ms = rng.choice([0, 64, 250])
    min_silence_ms = rng.choice([0, 30, 100, 300])
    speech_pad_ms = rng.choice([0, 30, 100, 200])  # 100, 200: gaps shared
    probabilities = _bursty(seed)
    length = max(0, len(probabilities) * WINDOW - rng.randint(0, WINDOW - 1))
    expected = get_speech_timestamps_from_probs(
        probabilities,
        threshold=threshold,
        min_speech_duration_ms=min_speech_ms,
        min_silence_duration_ms=min_silence_ms,
        speech_pad_ms=speech_pad_ms,
        audio_length_samples=length,
    )
    segmenter = _segmenter(threshold, min_speech_ms, min_silence_ms, speech_pad_ms)
    got = _run(segmenter, probabilities, length)
    assert [{"start": s.start, "end": s.end} for s in got] == expected


def test_hysteresis_on_a_synthetic_sequence() -> None:
    # 0.5 starts speech, 0.4 (between 0.35 and 0.5) neither starts nor ends it, 0.3 is
    # quiet: the speech ends where the quiet began once 4 windows (> 100 ms) were quiet.
    probabilities = [0.1, 0.4, 0.5, 0.9, 0.4, 0.4, 0.9, 0.3, 0.9, 0.3, 0.3, 0.3, 0.3, 0.1]
    segmenter = _segmenter(min_speech_ms=0, speech_pad_ms=0)
    speaking, given_at = [], {}
    for i, p in enumerate(probabilities):
        for segment in segmenter.push(p):
            given_at[i] = segment
        speaking.append(segmenter.speaking)
    assert speaking == [False, False] + [True] * 11 + [False]
    # quiet from window 9 (sample 4608); 9 + ceil(1600 / 512) = window 13 ends it
    assert given_at == {13: Segment(2 * WINDOW, 9 * WINDOW)}
    assert segmenter.finish(len(probabilities) * WINDOW) == []


def test_a_short_burst_is_dropped_and_padding_is_clamped_at_both_ends() -> None:
    segmenter = _segmenter(min_speech_ms=250)
    # 5 windows of speech (160 ms <= 250 ms): dropped
    assert _run(segmenter, [0.9] * 5 + [0.0] * 10, 15 * WINDOW) == []
    # speech from the first sample to the end: padding cannot go outside the audio
    got = _run(_segmenter(), [0.9] * 20, 20 * WINDOW - 100)
    assert got == [Segment(0, 20 * WINDOW - 100)]


@pytest.mark.parametrize("seed", range(100))
def test_pieces_of_at_most_max_add_up_to_the_uncut_segments(seed: int) -> None:
    probabilities = _bursty(seed)
    length = len(probabilities) * WINDOW
    max_samples = random.Random(seed).choice([WINDOW, 3 * WINDOW, 4_000, 16_000])
    whole = _run(_segmenter(min_speech_ms=64), probabilities, length)
    pieces = _run(_segmenter(min_speech_ms=64, max_samples=max_samples), probabilities, length)
    assert all(0 < p.end - p.start <= max_samples for p in pieces)
    joined: list[Segment] = []
    for piece in pieces:
        if joined and joined[-1].continues:
            assert piece.start == joined[-1].end  # no gap, no overlap
            joined[-1] = Segment(joined[-1].start, piece.end, piece.continues)
        else:
            joined.append(piece)
    assert joined == whole


def test_pieces_come_while_the_speech_goes_on() -> None:
    segmenter = _segmenter(max_samples=4 * WINDOW)
    given: list[tuple[int, Segment]] = []
    for i in range(40):
        given += [(i, s) for s in segmenter.push(0.95)]
    # speech from window 0, padded start 0 (clamped); a piece each 4 windows once the
    # speech passed min_speech (250 ms: window 8)
    assert given[0] == (7, Segment(0, 4 * WINDOW, continues=True))
    assert [s.start for _, s in given] == [4 * WINDOW * k for k in range(len(given))]
    assert all(i * WINDOW + WINDOW >= s.end for i, s in given)  # never ahead of the audio
    assert len(given) == 10

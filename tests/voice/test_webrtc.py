"""``model="webrtc"``: WebRTC's VAD behind `vad`, `utterances`, `speech` and ``split --vad``.

- Decisions: equal to ``webrtcvad.Vad(mode).is_speech`` called here, in a plain loop, on
  the same 30 ms windows: the input's own int16 samples at 16 and 48 kHz; at 44.1 kHz,
  which WebRTC does not take, ``soxr.resample`` of the mono float copy to 16 kHz, made
  int16 (what lkframes' `resample` and `to_dtype` give, bit for bit).
- Segments: Silero's ``get_speech_timestamps`` rules (tests/silero_reference.py) over those
  decisions as probabilities 1.0 / 0.0, to the sample.
- On espeak-ng speech with pauses the utterances land near Silero VAD's (measured on
  these sentences, clean, at 16, 44.1 and 48 kHz: starts within 78 ms, ends within
  70 ms; asserted: 100 and 150 ms), and nothing is found in silence or in light noise at
  aggressiveness 3.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr
import webrtcvad
from espeak_speech import SENTENCES, sentences_with_pauses

import lkframes as lk
from lkframes.cli import _main
from lkframes.testing import open_resources, speech_like
from lkframes.voice import _model
from silero_reference import get_speech_timestamps_from_probs

pytestmark = pytest.mark.anyio

PARTS = [0.6, 1.2, 0.7, 0.9, 0.6]


def _noisy_speech(rate: int, seed: int = 3) -> np.ndarray:
    """speech_like syllables and pauses in hiss (int16 mono): WebRTC says yes and no."""
    clean = speech_like(PARTS, rate).astype(np.float64)
    noise = np.random.default_rng(seed).normal(0, 300, clean.shape)
    return np.clip(clean + noise, -32768, 32767).astype(np.int16)


def _reference(pcm: np.ndarray, rate: int, mode: int) -> list[float]:
    """webrtcvad on every 30 ms of ``pcm`` (int16 at ``rate``), the last padded with zeros."""
    vad = webrtcvad.Vad(mode)
    size = rate * 30 // 1000
    padded = np.zeros(-(-len(pcm) // size) * size, np.int16)
    padded[: len(pcm)] = pcm
    windows = padded.reshape(-1, size)
    return [1.0 if vad.is_speech(w.tobytes(), rate) else 0.0 for w in windows]


@pytest.mark.parametrize("mode", [0, 3])
@pytest.mark.parametrize("rate", [16_000, 48_000, 44_100])
async def test_decisions_equal_webrtcvad_on_the_same_windows(
    anyio_backend: str, rate: int, mode: int
) -> None:
    audio = _noisy_speech(rate)
    model_rate = 16_000 if rate == 44_100 else rate
    pcm = audio
    if rate != model_rate:  # the mono float copy, resampled by soxr, made int16
        mono = soxr.resample(audio.astype(np.float32) / np.float32(32768), rate, model_rate)
        pcm = np.clip(np.rint(mono * np.float32(32768)), -32768, 32767).astype(np.int16)
    expected = _reference(pcm, model_rate, mode)
    assert set(expected) == {0.0, 1.0}  # it decides both ways here
    stream = lk.from_array(audio, rate).chunk(ms=20)
    windows = await stream.vad(model="webrtc", aggressiveness=mode).collect()
    assert [w.probability for w in windows] == expected
    size = model_rate * 30 // 1000  # pts and duration in the input's samples
    starts = [lk.resampled_length(i * size, model_rate, rate) for i in range(len(windows))]
    assert [w.pts for w in windows] == starts
    assert [w.pts + w.duration for w in windows] == [*starts[1:], len(audio)]
    assert {w.sample_rate for w in windows} == {rate}


@pytest.mark.parametrize("rate", [16_000, 48_000])
async def test_utterances_are_silero_rules_over_the_decisions(
    anyio_backend: str, rate: int
) -> None:
    audio = _noisy_speech(rate)
    decisions = _reference(audio, rate, 3)
    expected = get_speech_timestamps_from_probs(
        decisions,
        sampling_rate=rate,
        audio_length_samples=len(audio),
        window_size_samples=rate * 30 // 1000,
    )
    assert len(expected) == 2
    found = await lk.from_array(audio, rate).utterances(model="webrtc").collect()
    assert [(u.start, u.end) for u in found] == [(s["start"], s["end"]) for s in expected]
    for u in found:
        np.testing.assert_array_equal(u.audio[:, 0], audio[u.start : u.end])
    # speech() keeps the same samples, in 30 ms frames
    frames = await lk.from_array(audio, rate).speech(model="webrtc").collect()
    kept = {f.pts + i for f in frames for i in range(f.samples_per_channel)}
    assert kept == {pts for u in found for pts in range(u.start, u.end)}
    assert max(f.samples_per_channel for f in frames) == rate * 30 // 1000


async def test_speaking_is_the_same_hysteresis(anyio_backend: str) -> None:
    # on at the first speech window, off once min_silence_ms of non-speech has passed
    rate = 16_000
    audio = _noisy_speech(rate)
    decisions = _reference(audio, rate, 3)
    windows = await lk.from_array(audio, rate).vad(model="webrtc").collect()
    speaking, quiet, expected = False, 0, []
    for d in decisions:
        quiet = 0 if d else quiet + 1
        speaking = bool(d) or (speaking and (quiet - 1) * 480 < 100 * 16)
        expected.append(speaking)
    assert [w.speaking for w in windows] == expected


@pytest.fixture(scope="module")
def sentences(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """Three espeak-ng sentences after 0.7 s and with 0.4, 1.0 and 0.5 s pauses, at 48 kHz
    (float)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (it speaks the test audio)")
    return sentences_with_pauses(tmp_path_factory.mktemp("espeak"), 48_000)


@pytest.mark.parametrize("rate", [16_000, 48_000, 44_100])
async def test_utterances_land_near_silero_vads(
    anyio_backend: str, sentences: np.ndarray, rate: int
) -> None:
    audio = soxr.resample(sentences, 48_000, rate) if rate != 48_000 else sentences
    stream = lk.from_array(audio.astype(np.float32), rate).chunk(ms=20)
    silero = await stream.utterances().collect()
    webrtc = await stream.utterances(model="webrtc").collect()
    assert len(silero) == len(webrtc) == len(SENTENCES)
    starts = [abs(w.start - s.start) / rate for w, s in zip(webrtc, silero, strict=True)]
    ends = [abs(w.end - s.end) / rate for w, s in zip(webrtc, silero, strict=True)]
    assert max(starts) < 0.1, starts
    assert max(ends) < 0.15, ends


@pytest.mark.parametrize("rate", [16_000, 48_000, 44_100])
async def test_nothing_in_silence_or_light_noise(anyio_backend: str, rate: int) -> None:
    for quiet in (lk.silence(5.0, rate), lk.noise(5.0, rate, amplitude=0.01, seed=2)):
        found = await quiet.utterances(model="webrtc", aggressiveness=3).collect()
        assert found == []
        windows = await quiet.vad(model="webrtc", aggressiveness=3).collect()
        assert not any(w.speaking for w in windows[10:])  # after its first 0.3 s


def test_split_takes_the_vad_model_flag(tmp_path: Path) -> None:
    talk = tmp_path / "talk.wav"
    sf.write(str(talk), _noisy_speech(48_000), 48_000, subtype="PCM_16")
    out = tmp_path / "parts"
    argv = ["split", str(talk), str(out), "--vad", "--quiet", "--vad-model", "webrtc"]
    assert _main.main([*argv, "--aggressiveness", "1"]) == 0
    stream = lk.from_file(talk).utterances(model="webrtc", aggressiveness=1)
    expected = lk.run_sync(stream.collect())
    index = json.loads((out / "index.json").read_text())
    assert [(r["start"], r["end"]) for r in index] == [(u.start, u.end) for u in expected]
    assert len(index) == 2


def test_split_refuses_aggressiveness_without_webrtc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    talk = tmp_path / "talk.wav"
    sf.write(str(talk), _noisy_speech(16_000), 16_000, subtype="PCM_16")
    argv = ["split", str(talk), str(tmp_path / "o"), "--vad", "--aggressiveness", "2"]
    assert _main.main(argv) == 2
    assert "--aggressiveness is WebRTC VAD's: use it with --vad-model webrtc" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "pyannote"}, r"model must be one of \('silero', 'webrtc'\)"),
        ({"aggressiveness": 2}, "aggressiveness is WebRTC VAD's: pass model='webrtc'"),
        ({"model": "webrtc", "aggressiveness": 4}, "aggressiveness must be 0, 1, 2 or 3"),
        ({"model": "webrtc", "aggressiveness": True}, "aggressiveness must be an int"),
        ({"model": "webrtc", "model_rate": 32_000}, "model_rate"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs: dict[str, Any], message: str) -> None:
    for stage in ("vad", "utterances", "speech"):
        with pytest.raises(lk.ParameterError, match=message):
            getattr(lk, stage)(**kwargs)
        with pytest.raises(lk.ParameterError, match=message):
            getattr(lk.silence(0.1, 16_000), stage)(**kwargs)


def test_max_ms_is_at_least_a_30_ms_window() -> None:
    with pytest.raises(lk.ParameterError, match="at least one model window, 30 ms"):
        lk.utterances(model="webrtc", max_ms=20)
    lk.utterances(model="webrtc", max_ms=30)


async def test_without_webrtcvad_the_error_names_the_light_extra(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "webrtcvad", None)  # import webrtcvad fails
    stream = lk.silence(0.1, 16_000).vad(model="webrtc")  # building it needs no webrtcvad
    with pytest.raises(lk.MissingExtraError, match=r"pip install 'lkframes\[vad-webrtc\]'"):
        await stream.collect()
    assert open_resources() == {}


async def test_it_runs_without_onnxruntime(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setattr(_model, "_session", None)
    found = await lk.from_array(_noisy_speech(16_000), 16_000).utterances(model="webrtc").collect()
    assert len(found) == 2

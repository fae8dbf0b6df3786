"""Files as other tools make them: lengths only from what a file declares (ADTS, MP3
without a frame count), headerless audio never guessed, bytes and file objects and pipes,
seeking to the sample, and cuts shown by the header alone."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk

FFMPEG = shutil.which("ffmpeg")
SOX = shutil.which("sox")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="needs ffmpeg (apt-get install ffmpeg)")
needs_sox = pytest.mark.skipif(SOX is None, reason="needs sox (apt-get install sox)")


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG or "ffmpeg", "-v", "error", "-y", *args], check=True)


def _ffmpeg_samples(path: Path) -> int:
    command = [FFMPEG or "ffmpeg", "-v", "quiet", "-i", str(path), "-f", "s16le", "-ac", "1", "-"]
    return len(subprocess.run(command, capture_output=True, check=True).stdout) // 2


# -- lengths only from what a file declares ---------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("order", ["noise first", "tone first"])
def test_an_adts_stream_is_read_to_its_real_end(tmp_path: Path, order: str) -> None:
    # ADTS declares no length; FFmpeg's "duration" is a guess from the first frames' bit
    # rate: loud noise first made it 6.29 s of a 10.03 s file (cut there, no error), a
    # quiet tone first 11.88 s (refused as truncated). Both are read whole now.
    noise = "anoisesrc=d=5:a=0.5:r=44100"
    tone = "sine=f=440:d=5:r=44100"
    first, second = (noise, tone) if order == "noise first" else (tone, noise)
    path = tmp_path / "talk.aac"
    graph = "[1]volume=0.1[q];[0][q]concat=n=2:v=0:a=1"
    _ffmpeg("-f", "lavfi", "-i", first, "-f", "lavfi", "-i", second, "-filter_complex", graph,
            "-c:a", "aac", "-f", "adts", str(path))  # fmt: skip
    assert lk.file_info(path).samples_per_channel is None  # only a guess exists
    whole = _ffmpeg_samples(path)
    assert lk.file_info(path, exact=True).samples_per_channel == whole
    assert len(lk.run_sync(lk.from_file(path).to_array())) == whole
    media = lk.open_media(path)  # the same answer from every reader
    assert media.info.duration is None
    assert media.audio is not None
    assert len(lk.run_sync(media.audio.to_array())) == whole


@needs_ffmpeg
def test_an_mp3_without_a_frame_count_has_no_declared_length(tmp_path: Path) -> None:
    path = tmp_path / "bare.mp3"
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=3:r=44100", "-write_xing", "0", str(path))
    assert lk.file_info(path).samples_per_channel is None  # libsndfile's would be a guess
    counted = lk.file_info(path, exact=True)
    assert counted.counted
    assert counted.samples_per_channel == len(lk.run_sync(lk.from_file(path).to_array()))


# -- headerless audio ------------------------------------------------------------------------


@needs_sox
def test_mu_law_is_read_at_its_standard_rate_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "phone.ul"
    subprocess.run([SOX or "sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", str(path),
                    "synth", "8.64", "sine", "440"], check=True)  # fmt: skip
    with pytest.warns(lk.AssumedFormatWarning, match="8000 Hz mono μ-law"):
        stream = lk.from_file(path)
    assert stream.format == lk.AudioFormat(8_000, 1, "int16")
    got = lk.run_sync(stream.to_array())
    assert len(got) == 69_120  # 8.64 s, not FFmpeg's 1.57 s at 44.1 kHz
    sox = subprocess.run([SOX or "sox", str(path), "-t", "s16", "-"], capture_output=True)
    np.testing.assert_array_equal(got, np.frombuffer(sox.stdout, "<i2"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rate given: nothing assumed, no warning
        assert lk.from_file(path, sample_rate=16_000, num_channels=1).format is not None


def test_raw_pcm_is_refused_without_its_layout(tmp_path: Path) -> None:
    pcm = (np.sin(np.arange(16_000) / 7) * 9_000).astype("<i2")
    path = tmp_path / "call.raw"
    path.write_bytes(pcm.tobytes())
    with pytest.raises(lk.ParameterError, match=r"headerless audio.*give sample_rate=, "):
        lk.from_file(path)
    with pytest.raises(lk.ParameterError, match="give num_channels=, encoding="):
        lk.from_file(path, sample_rate=16_000)
    stream = lk.from_file(path, sample_rate=16_000, num_channels=1, encoding="s16le")
    np.testing.assert_array_equal(lk.run_sync(stream.to_array()), pcm)
    as_float = lk.from_file(
        (pcm / 32768).astype("<f4").tobytes(),
        sample_rate=16_000,
        num_channels=1,
        dtype="float32",  # the sample type of a raw file, when no encoding is given
    )
    np.testing.assert_allclose(lk.run_sync(as_float.to_array()), pcm / 32768, atol=1e-7)


def test_a_layout_given_for_a_file_with_a_header_must_agree(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    lk.run_sync(lk.sine(440, 0.1, 16_000).to_file(path))
    assert lk.from_file(path, sample_rate=16_000).format is not None
    with pytest.raises(lk.ParameterError, match="has a header that says 16000 for sample_rate"):
        lk.from_file(path, sample_rate=8_000)


# -- bytes, file objects, pipes ----------------------------------------------------------------


def test_bytes_and_file_objects_read_as_the_path_does(tmp_path: Path) -> None:
    path = tmp_path / "tone.flac"
    lk.run_sync(lk.sine(440, 1.0, 44_100, num_channels=2).to_file(path))
    whole = lk.run_sync(lk.from_file(path).to_array())
    data = path.read_bytes()
    np.testing.assert_array_equal(lk.run_sync(lk.from_file(data).to_array()), whole)
    with path.open("rb") as file:
        file.read(10)  # a file object is read from where it is when given, and rewound
        stream = lk.from_file(io.BytesIO(data))
        for _ in range(2):  # re-iterable, as a path is
            np.testing.assert_array_equal(lk.run_sync(stream.to_array()), whole)
    assert lk.file_info(data).samples_per_channel == 44_100
    with pytest.raises(lk.ParameterError, match="binary file object"):
        lk.from_file(io.StringIO("not bytes"))  # type: ignore[arg-type]


def test_to_file_writes_a_file_object(tmp_path: Path) -> None:
    out = io.BytesIO()
    summary = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(out, format="FLAC"))
    assert summary.samples_per_channel == 8_000
    info = sf.info(io.BytesIO(out.getvalue()))
    assert (info.format, info.frames) == ("FLAC", 8_000)
    with pytest.raises(lk.ParameterError, match="path or a binary file object"):
        lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(io.StringIO(), format="WAV"))  # type: ignore[arg-type]


READ_STDIN = """
import sys, lkframes as lk
stream = lk.from_file(sys.stdin.buffer)
print(stream.format.sample_rate, len(lk.run_sync(stream.to_array())))
try:
    lk.run_sync(stream.run())
except Exception as error:
    print(type(error).__name__)
"""

WRITE_STDOUT = """
import sys, lkframes as lk
lk.run_sync(lk.sine(440, 1.0, 16_000).to_file(sys.stdout.buffer, format=sys.argv[1]))
"""


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "ogg"])
def test_a_pipe_is_read_once_to_its_end(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"tone.{ext}"
    lk.run_sync(lk.sine(440, 2.0, 16_000).to_file(path))
    expected = len(lk.run_sync(lk.from_file(path).to_array()))
    run = subprocess.run(
        [sys.executable, "-c", READ_STDIN], input=path.read_bytes(), capture_output=True
    )
    assert run.returncode == 0, run.stderr.decode()
    rate, count, error = run.stdout.decode().split()
    assert rate == "16000"
    # FFmpeg reads a pipe: an MP3's padding cannot be trimmed without its length, and its
    # Vorbis decoder gives 256 samples fewer than libvorbis (the ffmpeg command's count)
    assert abs(int(count) - expected) <= (1_152 if ext in ("mp3", "ogg") else 0)
    assert error == "ClosedResourceError"  # a pipe can be read once


@pytest.mark.parametrize("format_", ["WAV", "FLAC"])
def test_to_file_writes_a_pipe(tmp_path: Path, format_: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", WRITE_STDOUT, format_], capture_output=True, check=True
    )
    # (a WAV to a pipe says "length unknown": 0xFFFFFFFF, read to the end of the data)
    data = lk.run_sync(lk.from_file(run.stdout).to_array())
    assert lk.from_file(run.stdout).format == lk.AudioFormat(16_000, 1, "int16")
    np.testing.assert_array_equal(data, lk.run_sync(lk.sine(440, 1.0, 16_000).to_array()))


# -- seeking -----------------------------------------------------------------------------------

SEEK_FORMATS = {
    "wav": (),
    "flac": (),
    "mp3": (),
    "ogg": ("-c:a", "libvorbis"),
    "opus": ("-c:a", "libopus", "-ar", "48000"),
    "m4a": ("-c:a", "aac"),
    "aac": ("-c:a", "aac", "-f", "adts"),
    "webm": ("-c:a", "libopus", "-ar", "48000"),
    "mka": ("-c:a", "libvorbis"),
}


@needs_ffmpeg
@pytest.mark.parametrize("ext", list(SEEK_FORMATS))
def test_start_and_end_cut_exactly_where_a_whole_read_has_those_samples(
    tmp_path: Path, ext: str
) -> None:
    path = tmp_path / f"chirp.{ext}"
    chirp = "aevalsrc=sin(2*PI*(200+400*t)*t)*0.4:d=8:s=44100"
    _ffmpeg("-f", "lavfi", "-i", chirp, "-ac", "2", *SEEK_FORMATS[ext], str(path))
    whole = lk.run_sync(lk.from_file(path).to_array())
    rate = lk.file_info(path).format.sample_rate
    for start, end in ((0.0, 1.0), (3.3, 4.05), (6.0, None)):
        part = lk.run_sync(lk.from_file(path, start=start, end=end).collect())
        first = round(start * rate)
        assert part[0].pts == first
        got = np.concatenate([f.data for f in part])
        expected = whole[first : None if end is None else round(end * rate)]
        assert got.shape == expected.shape
        # AAC's noise substitution is random: after a seek, values differ a little
        atol = {"m4a": 0.02, "aac": 0.02, "mp3": 1e-5}.get(ext, 1e-6)
        np.testing.assert_allclose(got, expected, atol=atol)
        window = got[2_000:6_000, 0]
        misfit = [
            np.abs(window - expected[2_000 + lag : 6_000 + lag, 0]).max() for lag in range(-9, 10)
        ]
        assert int(np.argmin(misfit)) == 9  # in place to the sample


def test_start_after_the_end_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    lk.run_sync(lk.sine(440, 1.0, 16_000).to_file(path))
    with pytest.raises(lk.ParameterError, match=r"start=2.0 is at or after the end of .*1.000 s"):
        lk.from_file(path, start=2.0)
    with pytest.raises(lk.ParameterError, match="end must be after start"):
        lk.from_file(path, start=0.5, end=0.5)


# -- cuts the header shows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "reason"),
    [
        ("wav", "data chunk declares"),
        ("ogg", "the last Ogg page is incomplete"),
        ("mp3", "bytes its MP3 header counts"),
    ],
)
def test_file_info_shows_a_cut_the_header_and_size_show(
    tmp_path: Path, ext: str, reason: str
) -> None:
    path = tmp_path / f"noise.{ext}"
    lk.run_sync(lk.noise(20.0, 16_000, dtype="float32").to_file(path))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(lk.TruncatedAudioError, match=reason):
        lk.file_info(path)
    counted = lk.file_info(path, exact=True)  # decoded: what the cut file holds
    assert 0 < (counted.samples_per_channel or 0) < 320_000

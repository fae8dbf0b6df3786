"""``lkframes split IN OUT_DIR --vad``: one file per utterance, the same as
`lk.utterances` in Python, an index that names them, flags in the errors, and an OUT_DIR
that appears only complete."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes.cli import _main
from lkframes.testing import speech_like

RATE = 24_000
PARTS = [0.5, 1.0, 0.6, 0.8, 0.4]


@pytest.fixture
def talk(tmp_path: Path) -> Path:
    path = tmp_path / "talk.wav"
    sf.write(str(path), speech_like(PARTS, RATE), RATE, subtype="PCM_16")
    return path


def _utterances(
    path: Path, *, max_ms: float | None = None, speech_pad_ms: float = 30
) -> list[lk.Utterance]:
    stream = lk.from_file(path).utterances(max_ms=max_ms, speech_pad_ms=speech_pad_ms)
    return lk.run_sync(stream.collect())


def test_split_writes_the_utterances_and_an_index(talk: Path, tmp_path: Path) -> None:
    out = tmp_path / "parts"
    assert _main.main(["split", str(talk), str(out), "--vad", "--quiet"]) == 0
    expected = _utterances(talk)
    assert len(expected) == 2
    index = json.loads((out / "index.json").read_text())
    assert [row["file"] for row in index] == ["talk-0001.wav", "talk-0002.wav"]
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "talk-0001.wav", "talk-0002.wav"]
    source, _ = sf.read(str(talk), dtype="int16")
    for row, utterance in zip(index, expected, strict=True):
        assert (row["start"], row["end"]) == (utterance.start, utterance.end)
        assert row["start_s"] == pytest.approx(utterance.start / RATE, abs=1e-6)
        data, rate = sf.read(str(out / row["file"]), dtype="int16")
        assert rate == RATE
        np.testing.assert_array_equal(data, source[row["start"] : row["end"]])


def test_flags_reach_utterances_and_csv_is_the_same_index(talk: Path, tmp_path: Path) -> None:
    out = tmp_path / "parts"
    argv = ["split", str(talk), str(out), "--vad", "--quiet", "--index", "csv"]
    argv += ["--max-ms", "300", "--speech-pad-ms", "10", "--ext", "flac"]
    assert _main.main(argv) == 0
    expected = _utterances(talk, max_ms=300, speech_pad_ms=10)
    with (out / "index.csv").open() as rows:
        index = list(csv.DictReader(rows))
    assert [(int(r["start"]), int(r["end"])) for r in index] == [(u.start, u.end) for u in expected]
    assert [r["continues"] for r in index] == [str(u.continues) for u in expected]
    assert all(Path(r["file"]).suffix == ".flac" for r in index)
    assert sf.info(str(out / index[0]["file"])).frames == 300 * RATE // 1000


def test_the_json_summary(talk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main.main(["split", str(talk), str(tmp_path / "o"), "--vad", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["index"] == "index.json"
    assert len(summary["utterances"]) == 2


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--threshold", "1.5"], "--threshold must be between 0 and 1"),
        (["--max-ms", "10"], "--max-ms must be at least one model window"),
        (["--min-silence-ms", "-1"], "--min-silence-ms must be 0 or more"),
    ],
)
def test_bad_flags_are_usage_errors_in_flag_terms(
    talk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    out = tmp_path / "parts"
    assert _main.main(["split", str(talk), str(out), "--vad", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_without_vad_it_is_a_usage_error(talk: Path, tmp_path: Path) -> None:
    assert _main.main(["split", str(talk), str(tmp_path / "o")]) == 2


def test_a_folder_with_files_is_kept_unless_overwrite(
    talk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "parts"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert _main.main(["split", str(talk), str(out), "--vad", "--quiet"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert _main.main(["split", str(talk), str(out), "--vad", "--quiet", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "index.json",
        "mine.txt",
        "talk-0001.wav",
        "talk-0002.wav",
    ]


def test_a_failed_run_leaves_no_folder_and_no_temporary_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio")
    out = tmp_path / "parts"
    assert _main.main(["split", str(broken), str(out), "--vad", "--quiet"]) == 1
    assert "was not written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.wav"]

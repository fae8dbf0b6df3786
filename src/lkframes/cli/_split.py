"""``lkframes split IN OUT_DIR --vad``: one file per utterance, and an index of them.

The utterances are `utterances`' (Silero VAD, or WebRTC's with ``--vad-model webrtc``;
Silero's segment rules). Nothing appears in
OUT_DIR until the run has succeeded: the files and the index are written into a hidden
folder beside it, which becomes OUT_DIR (a new one) or whose files are moved into it (an
existing one, with ``--overwrite``), the index last. A failure or Ctrl-C leaves OUT_DIR as
it was.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

import lkframes as lk

from ..io._replace import TEMP_MARK
from ._input import decoder_output, input_of, read_options, saying_what_became_of

__all__ = ("FLAGS", "add_split_flags", "split_command")

FLAGS = {
    "threshold": "--threshold",
    "min_speech_ms": "--min-speech-ms",
    "min_silence_ms": "--min-silence-ms",
    "speech_pad_ms": "--speech-pad-ms",
    "max_ms": "--max-ms",
}
"""`utterances`' parameters that split takes, and their flags."""

_HELP = {
    "threshold": "speech probability from which a window is speech",
    "min_speech_ms": "speech this long or shorter is dropped",
    "min_silence_ms": "quiet that ends an utterance",
    "speech_pad_ms": "audio kept before and after the speech",
    "max_ms": "the longest file: longer speech is cut into pieces of exactly this length",
}


def add_split_flags(split: argparse.ArgumentParser) -> None:
    """`utterances`' parameters as flags, with its defaults."""
    defaults = inspect.signature(lk.utterances).parameters
    for name, flag in FLAGS.items():
        default = defaults[name].default
        shown = "" if default is None else f" (default {default:g})"
        split.add_argument(flag, type=float, default=default, metavar="N", help=_HELP[name] + shown)
    split.add_argument(
        "--vad-model",
        choices=["silero", "webrtc"],
        default="silero",
        help="the VAD: silero (the default; onnxruntime) or webrtc (WebRTC's, the light one: "
        "pip install 'lkframes[vad-webrtc]')",
    )
    split.add_argument(
        "--aggressiveness",
        type=int,
        choices=range(4),
        default=None,
        metavar="{0,1,2,3}",
        help="WebRTC VAD's mode, how readily it calls audio non-speech (default 3, the most); "
        "with --vad-model webrtc",
    )


def _in_flags(message: str) -> str:
    for name, flag in FLAGS.items():
        message = message.replace(name, flag)
    return message


def _utterances(args: argparse.Namespace) -> lk.Stage[lk.AudioFrame, lk.Utterance]:
    if args.aggressiveness is not None and args.vad_model != "webrtc":
        args.parser.error("--aggressiveness is WebRTC VAD's: use it with --vad-model webrtc")
    try:
        return lk.utterances(
            **{name: getattr(args, name) for name in FLAGS},
            model=args.vad_model,
            aggressiveness=args.aggressiveness,
        )
    except lk.ParameterError as exc:
        args.parser.error(_in_flags(str(exc)))
        raise  # pragma: no cover - error() exits


def _ready_folder(target: Path, overwrite: bool) -> Path:
    """A new hidden folder beside ``target`` to write into; refuse a target in the way."""
    if target.exists() and not target.is_dir():
        raise lk.OutputExistsError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise lk.OutputExistsError(
            f"{target} is not empty (--overwrite replaces the files of the same names in it)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}{TEMP_MARK}*.tmpdir"):  # a kill's
        shutil.rmtree(leftover, ignore_errors=True)
    folder = target.with_name(f".{target.name}{TEMP_MARK}{secrets.token_hex(4)}.tmpdir")
    folder.mkdir()
    return folder


def _put_in_place(folder: Path, target: Path, index: str) -> None:
    """The written files into ``target``: the folder renamed, or its files moved in with
    the index last, so that an index is never seen before the files it names."""
    if not target.exists():
        os.replace(folder, target)
        return
    names = [*sorted(p.name for p in folder.iterdir() if p.name != index), index]
    for name in names:
        os.replace(folder / name, target / name)
    folder.rmdir()


async def _write_all(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    stream = lk.from_file(input_of(args.input), **read_options(args)) | _utterances(args)
    stem = "stdin" if str(args.input) == "-" else Path(args.input).stem
    rows: list[dict[str, Any]] = []
    async with stream.open() as found:
        async for utterance in found:
            name = f"{stem}-{len(rows) + 1:04d}.{args.ext}"
            await lk.from_frames([utterance.frame()]).to_file(folder / name)
            rate = utterance.format.sample_rate
            rows.append(
                {
                    "file": name,
                    "start_s": round(utterance.start / rate, 6),
                    "end_s": round(utterance.end / rate, 6),
                    "start": utterance.start,
                    "end": utterance.end,
                    "continues": utterance.continues,
                }
            )
    return rows


def _write_index(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    path = folder / name
    if name.endswith(".json"):
        path.write_text(json.dumps(rows, indent=2) + "\n")
        return
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, ["file", "start_s", "end_s", "start", "end", "continues"])
        writer.writeheader()
        writer.writerows(rows)


def split_command(args: argparse.Namespace) -> int:
    """Run ``lkframes split``; 0 on success (the files and the index in place)."""
    _utterances(args)  # bad flags are a usage error before anything is read or made
    target = Path(args.out_dir)
    index = f"index.{args.index}"
    folder = _ready_folder(target, args.overwrite)
    try:
        with saying_what_became_of("split", target), decoder_output(args.verbose):
            rows = lk.run_sync(_write_all(args, folder))
            _write_index(folder, index, rows)
            _put_in_place(folder, target, index)
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    seconds = sum(r["end_s"] - r["start_s"] for r in rows)
    if args.json:
        print(json.dumps({"output": str(target), "index": index, "utterances": rows}, indent=2))
    elif not args.quiet:
        print(f"{len(rows)} utterances, {seconds:.2f} s of speech -> {target}/ ({index})")
    sys.stdout.flush()
    return 0

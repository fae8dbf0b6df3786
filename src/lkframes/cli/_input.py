"""How the file commands read IN: ``-`` for stdin, the layout of headerless input, damage
reported in one stderr line each (and counted in ``--json``), and native decoders'
chatter kept off the terminal unless it explains an error or ``--verbose`` asks."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, get_args

import lkframes as lk

from ..io._replace import TEMP_MARK

__all__ = (
    "DECODER_NOTE",
    "OUTCOME_NOTE",
    "STDIO",
    "Caveats",
    "add_input_flags",
    "add_reading_flags",
    "decoder_output",
    "in_flags",
    "input_of",
    "read_options",
    "saying_what_became_of",
)

STDIO = "-"
"""IN or OUT given as ``-``: stdin or stdout."""

DECODER_NOTE = "decoder output:"
"""The start of the note that carries what native decoders printed, for an error line."""

OUTCOME_NOTE = "lkframes-cli: "
"""Notes with this start are part of the error's line (what became of OUT, say)."""

_CHATTER_LINES = 20


def add_input_flags(parser: argparse.ArgumentParser) -> None:
    """``--input-rate``, ``--input-channels``, ``--input-encoding`` (headerless IN)."""
    group = parser.add_argument_group(
        "headerless input (raw PCM, μ-law, A-law: the file does not say its format)"
    )
    group.add_argument("--input-rate", type=int, metavar="HZ", help="IN's sample rate")
    group.add_argument("--input-channels", type=int, metavar="N", help="IN's channel count")
    group.add_argument(
        "--input-encoding",
        choices=get_args(lk.RawEncoding),
        metavar="ENC",
        help="IN's sample encoding, by ffmpeg's names: s16le, s24le, f32le, u8, mulaw, "
        "alaw, ... (.ul and .al files are μ-law and A-law, 8000 Hz mono unless given)",
    )


def add_reading_flags(parser: argparse.ArgumentParser) -> None:
    """``--strict``, ``--keep-cut`` and ``--verbose``: damage as an error; a cut input
    kept; decoders' own messages shown."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail at damaged data instead of skipping it (as ffmpeg does) with a warning",
    )
    parser.add_argument(
        "--keep-cut",
        action="store_true",
        help="a cut input (shorter than its header says) is read to where it was cut, with a "
        "warning, as ffmpeg and sox do; without it, a cut input is an error",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="show what the decoders (mpg123, FFmpeg) print; otherwise shown only with an error",
    )


def input_of(name: Path | str) -> Path | IO[bytes]:
    """IN as `from_file` takes it: a path, or stdin's bytes for ``-``."""
    return sys.stdin.buffer if str(name) == STDIO else Path(name)


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    """`from_file`'s keyword arguments for the flags given."""
    options: dict[str, Any] = {
        "sample_rate": getattr(args, "input_rate", None),
        "num_channels": getattr(args, "input_channels", None),
        "encoding": getattr(args, "input_encoding", None),
    }
    if getattr(args, "strict", False):
        options["on_damaged"] = "error"
    if getattr(args, "keep_cut", False):
        options["on_truncated"] = "warn"
    for flag in ("start", "end"):
        if getattr(args, flag, None) is not None:
            options[flag] = getattr(args, flag)
    return options


_PYTHON_WORDS = {
    "sample_rate=": "--input-rate",
    "num_channels=": "--input-channels",
    "encoding=": "--input-encoding",
    "start=": "--start ",
    "end=": "--end ",
    'on_damaged="skip" reads past it': "without --strict it is skipped",
}


def in_flags(message: str) -> str:
    """A message about reading IN, in the command line's words instead of Python's."""
    message = message.partition(" (e.g. from_file(")[0]  # a Python example: not for the CLI
    for python, flag in _PYTHON_WORDS.items():
        message = message.replace(python, flag)
    return message


@dataclass
class Caveats:
    """The warnings a read gave (damage skipped, a format assumed): printed as they come,
    one stderr line each, and kept for ``--json``."""

    command: str
    damage: list[lk.DamagedAudioWarning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Catch lkframes' warnings inside the block and report each."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", lk.DamagedAudioWarning)
            warnings.simplefilter("always", lk.AssumedFormatWarning)
            warnings.simplefilter("always", lk.TruncatedAudioWarning)
            try:
                yield
            finally:
                for warning in caught:
                    self._report(warning.message)

    def _report(self, message: Warning | str) -> None:
        if isinstance(message, lk.DamagedAudioWarning):
            self.damage.append(message)
        text = in_flags(str(message))
        self.notes.append(text)
        print(f"lkframes {self.command}: warning: {text}", file=sys.stderr, flush=True)

    def to_json(self) -> dict[str, Any]:
        """``damage``: where and how much, or None; ``warnings``: every message."""
        damage = None
        if self.damage:
            positions = [p for w in self.damage for p in w.positions_s]
            damage = {
                "places": len(positions),
                "positions_s": positions,
                "lost_s": sum(w.lost_s for w in self.damage),
                "at_least": any(w.at_least for w in self.damage),
            }
        return {"damage": damage, "warnings": self.notes}


@contextlib.contextmanager
def decoder_output(verbose: bool, explain: bool = True) -> Iterator[None]:
    """Keep what native decoders write to the process's stderr (mpg123's notes) in a
    temporary file while the block runs; lkframes' own messages (``sys.stderr``) still
    reach the terminal. Shown after the block with ``verbose``; otherwise attached to an
    error that ends the block (the last lines, as a note; not without ``explain``: the
    CLI's ``--quiet`` says one line), and dropped on success."""
    sys.stderr.flush()
    saved = os.dup(2)
    own = open(saved, "w", closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
    previous = sys.stderr
    if _fd(sys.stderr) == 2:  # Python's own stderr writes there too: point it past the trap
        sys.stderr = own
    with tempfile.TemporaryFile() as kept:
        os.dup2(kept.fileno(), 2)
        try:
            yield
        except BaseException as exc:
            said = _said(kept)
            if said and explain and not verbose:
                exc.add_note(DECODER_NOTE + "\n" + "\n".join(said[-_CHATTER_LINES:]))
            raise
        finally:
            own.flush()
            os.dup2(saved, 2)
            sys.stderr = previous
            own.close()
            os.close(saved)
            if verbose:
                for line in _said(kept):
                    print(line, file=sys.stderr)


def _fd(stream: object) -> int | None:
    try:
        return int(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None  # a stream that is not a file (pytest's capture, say)


def _said(kept: IO[bytes]) -> list[str]:
    kept.seek(0)
    text = kept.read().decode("utf-8", "replace")
    return [line for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def saying_what_became_of(command: str, output: Path | None) -> Iterator[None]:
    """If the block does not finish, say what became of ``output`` (not written, or left
    as it was): a line on stderr for Ctrl-C or SIGTERM, a part of the error's line."""
    existed = output is not None and output.exists()
    if output is not None:  # what a kill (SIGKILL, a power cut) left of an earlier run
        for leftover in output.parent.glob(f".{output.name}{TEMP_MARK}*.tmp"):
            leftover.unlink(missing_ok=True)
    try:
        yield
    except KeyboardInterrupt:
        if output is not None:
            print(f"lkframes {command}: stopped; {_fate(output, existed)}", file=sys.stderr)
        raise
    except Exception as exc:
        if output is not None:
            exc.add_note(OUTCOME_NOTE + _fate(output, existed))
        raise


def _fate(output: Path, existed: bool) -> str:
    return f"{output} was left as it was" if existed else f"{output} was not written"

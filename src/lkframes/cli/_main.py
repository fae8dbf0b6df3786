"""The ``lkframes`` command.

    $ lkframes demo                     # the core pipeline on built-in audio, writes out.wav
    $ lkframes info talk.flac           # format, duration, peak/RMS level
    $ lkframes convert talk.flac out.wav --rate 16000 --channels 1 --chunk-ms 20
    $ lkframes run pipeline.json        # a pipeline written as JSON or YAML

Every command takes ``--json`` (a machine-readable summary) or ``--quiet``; work that lasts
over a second shows a progress bar on stderr (not with ``--quiet``/``--json``).

Exit status: 0 on success, 2 for a usage error, 1 for any other failure (with a one-line
message on stderr), 130 when interrupted (Ctrl-C), 141 when the reader of stdout left
(``lkframes info x.flac | head -1``), silently, as for a Unix tool that SIGPIPE ended.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import lkframes as lk

from ._parser import build_parser, named_command

__all__ = ("EXIT_CLOSED_OUTPUT", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "main")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CLOSED_OUTPUT = 141
"""128 + SIGPIPE (13): what ``seq 9999999 | head -1`` or ``git log | head -1`` give."""


def _one_line(exc: BaseException) -> str:
    from ._input import OUTCOME_NOTE, in_flags

    text = " ".join(str(exc).split())
    if isinstance(exc, lk.MediaFileError):  # a file's problem, said in flags, not Python
        text = in_flags(text)
    for note in getattr(exc, "__notes__", ()):
        if note.startswith(OUTCOME_NOTE):
            text += "; " + note.removeprefix(OUTCOME_NOTE)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lkframes`` command line and return its exit status.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns:
        0 on success, 2 for a usage error, 1 for any other failure, 141 when the reader of
        stdout left before all was printed (nothing more is printed then).

    Examples:
        >>> main(["demo", "--quiet", "--seconds", "0.5"])
        0
    """
    try:
        status = _main(argv)
        sys.stdout.flush()  # a reader that left shows here, not as a message at exit
    except BrokenPipeError:
        return _closed_output()
    return status


def _closed_output() -> int:
    """stdout's reader left (``| head -1``): end quietly, as Unix tools do.

    What is still buffered for stdout goes to the null device instead, so that Python's
    own flush at exit does not print a ``BrokenPipeError`` of its own.
    """
    try:
        stdout = sys.stdout.fileno()
    except (OSError, ValueError):  # a stdout that is no file (a test's capture)
        return EXIT_CLOSED_OUTPUT
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stdout)
    os.close(devnull)
    return EXIT_CLOSED_OUTPUT


def _main(argv: Sequence[str] | None) -> int:
    try:
        parser = build_parser(named_command(argv))
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help, --version and usage errors
        code = exit_.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    except KeyboardInterrupt:  # Ctrl-C while the options are read: no traceback
        return 130
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    handler: Callable[[argparse.Namespace], int] = args.handler
    with _terminate_as_interrupt() as terminated:
        try:
            return handler(args)
        except SystemExit as exit_:  # a usage error found by the command (argparse's error())
            return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
        except KeyboardInterrupt:
            return 128 + terminated[0] if terminated else 130
        except BrokenPipeError:
            raise  # stdout's reader left: main's to handle, with no message
        except Exception as exc:  # the command line's last resort: one line, no traceback
            print(f"lkframes {args.command}: error: {_one_line(exc)}", file=sys.stderr)
            from ._input import DECODER_NOTE

            for note in getattr(exc, "__notes__", ()):
                if note.startswith(DECODER_NOTE):  # what a decoder said, where it explains
                    print(note.replace("\n", "\n  "), file=sys.stderr)
            return EXIT_FAILURE


@contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """Handle SIGTERM (``kill``, ``timeout``, systemd) and SIGHUP (a closed terminal, an ssh
    session that drops) as Ctrl-C, so that they clean up too.

    Python's default for them ends the process at once: a convert then left its hidden
    temporary file behind. Here they raise SIGINT, which cancels the run and runs every
    ``finally``; the exit status is still 128 + the signal (143, 129). The list holds the
    signal once it came. With SIGINT ignored (a shell's ``cmd &``) they raise
    KeyboardInterrupt themselves; one ignored at the start (``nohup``) stays ignored.
    """
    terminated: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield terminated  # signal handlers can only be set from the main thread
        return

    def on_terminate(signum: int, _frame: object) -> None:
        terminated.append(signum)
        if callable(signal.getsignal(signal.SIGINT)):
            signal.raise_signal(signal.SIGINT)  # asyncio's handler cancels the run cleanly
            return
        # SIGINT ignored (a shell's `cmd &`): stop as Python's own Ctrl-C would, but not
        # from here while a loop runs: raised between any two bytecodes, a KeyboardInterrupt
        # could land in the callback that hands a worker thread's result to its task and be
        # lost there, leaving the run waiting forever (seen once in CI). The loop raises
        # it from a callback of its own, between two callbacks.
        asyncio = sys.modules.get("asyncio")  # no loop can run before it is imported
        try:
            loop = asyncio.get_running_loop() if asyncio is not None else None
        except RuntimeError:
            loop = None
        if loop is None:
            raise KeyboardInterrupt
        loop.call_soon_threadsafe(_interrupt)

    # A signal ignored when we started stays ignored: `nohup` ignores SIGHUP so that a
    # closed terminal does not stop the run, and a background job may ignore SIGTERM.
    stops = [s for s in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(s) != signal.SIG_IGN]
    previous = {stop: signal.signal(stop, on_terminate) for stop in stops}
    try:
        yield terminated
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _interrupt() -> None:
    """Stop the running loop as Ctrl-C would (a loop callback: see `_terminate_as_interrupt`)."""
    raise KeyboardInterrupt

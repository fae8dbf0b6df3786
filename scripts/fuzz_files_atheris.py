"""Coverage-guided fuzzing of the file reader with atheris (libFuzzer), for long runs.

The hypothesis fuzzer in tests/test_fuzz_files.py runs in CI; this one follows coverage of
lkframes' own code and runs as long as you let it::

    python -m pip install atheris
    python scripts/fuzz_files_atheris.py -atheris_runs=50000
    python scripts/fuzz_files_atheris.py -max_total_time=600 /tmp/lkframes-corpus

Each input is written to a file (its first byte picks the extension) and read with
``lk.file_info`` and ``lk.from_file(...).run()``. Anything but success or an
``lk.LkFramesError`` (warnings included) is a crash: libFuzzer stops and saves the input
as ``crash-*``. Without a corpus folder the run starts from small valid WAV, FLAC, OGG and
MP3 files made here. libFuzzer's own options (``-help=1``) pass through. Coverage is that of
lkframes' Python code (libsndfile and FFmpeg are not instrumented).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import warnings
from pathlib import Path

import anyio
import atheris  # type: ignore[import-not-found]
import numpy as np
import soundfile as sf

with atheris.instrument_imports(include=["lkframes"]):
    import lkframes as lk

SUFFIXES = [".wav", ".flac", ".ogg", ".mp3", ".m4a", ".webm", ".bin"]
WORKDIR = Path(tempfile.mkdtemp(prefix="lkframes-atheris-"))


def make_corpus(folder: Path) -> None:
    """Seed inputs: a suffix byte, then a small valid file of that format."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(4_000) / 16_000
    x = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)], 1)
    for index, ext in enumerate(["wav", "flac", "ogg", "mp3"]):
        path = WORKDIR / f"seed.{ext}"
        sf.write(
            str(path), x.astype(np.float32), 16_000, subtype="VORBIS" if ext == "ogg" else None
        )
        (folder / f"seed-{ext}").write_bytes(bytes([index]) + path.read_bytes())


def read(data: bytes) -> None:
    if not data:
        return
    path = WORKDIR / f"input{SUFFIXES[data[0] % len(SUFFIXES)]}"
    path.write_bytes(data[1:])

    async def run() -> None:
        with anyio.fail_after(5):
            lk.file_info(path)
            await lk.from_file(path).run()

    with contextlib.suppress(lk.LkFramesError):  # refused with a typed error: fine
        anyio.run(run)


def main() -> None:
    warnings.simplefilter("error")
    args = list(sys.argv)
    if not any(not arg.startswith("-") for arg in args[1:]):
        corpus = WORKDIR / "corpus"
        make_corpus(corpus)
        args.append(str(corpus))
    atheris.Setup(args, read)
    atheris.Fuzz()  # libFuzzer prints its statistics ("Done N runs") and exits


if __name__ == "__main__":
    main()

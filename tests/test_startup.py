"""Start-up: ``import lkframes``, ``lkframes --version`` and ``lkframes --help`` import no
heavy or outside library (numpy, anyio, livekit, PyAV, soundfile, pydantic, ...), so they
stay fast (docs/performance.md, benchmarks/bench_startup.py). Checked on what a fresh
interpreter imports, not on time, which a busy machine breaks; and the lazy public face
still gives every name, the same objects, and a registry that finds every stage."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes._core import registry

SRC = Path(lk.__file__).resolve().parents[1]

OUTSIDE = (
    "av",
    "cv2",
    "hypothesis",
    "livekit",
    "matplotlib",
    "onnxruntime",
    "pydantic",
    "pyloudnorm",
    "ray",
    "scipy",
    "sounddevice",
    "soundfile",
    "soxr",
    "yaml",
)
"""Outside libraries that no start-up path may import: each loads when first used."""

HEAVY = ("numpy", "anyio", "asyncio", "dataclasses", "importlib.metadata", "inspect")
"""What ``import lkframes`` leaves out too: numpy alone takes ~100 ms, the others 5-20."""


BEFORE_A_COMMAND = ("numpy", "anyio", "asyncio")
"""What ``lkframes --version`` and ``--help`` leave out too: a command imports them."""

CLI = {"lkframes", "lkframes._core", "lkframes._core.registry"} | {
    "lkframes.cli",
    "lkframes.cli._main",
    "lkframes.cli._parser",
}
"""The lkframes modules that the command line imports before it knows the command."""


def _env() -> dict[str, str]:
    """The environment of a fresh interpreter that imports this lkframes."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }


def _imported(*args: str) -> set[str]:
    """The modules ``python -X importtime ARGS`` imports beyond what ``python -c pass``
    does (the site's own start-up), read from its import-time report."""

    def report(*argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *argv],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
            check=False,
        )
        lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
        names = {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # [0]: the header
        return done, names

    done, names = report(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    return names - report("-c", "pass")[1]


def _forbidden(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))


def test_import_lkframes_imports_only_the_registry() -> None:
    names = _imported("-c", "import lkframes")
    assert _forbidden(names, OUTSIDE + HEAVY) == []
    ours = sorted(n for n in names if n.split(".")[0] == "lkframes")
    assert ours == ["lkframes", "lkframes._core", "lkframes._core.registry"]


def test_import_lkframes_testing_imports_no_outside_library() -> None:
    names = _imported("-c", "import lkframes, lkframes.testing")
    assert _forbidden(names, OUTSIDE) == []


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_the_version_and_the_help_import_no_heavy_library(flag: str) -> None:
    names = _imported("-m", "lkframes", flag)
    assert _forbidden(names, (*OUTSIDE, *BEFORE_A_COMMAND)) == []
    ours = sorted(n for n in names if n.split(".")[0] == "lkframes")
    assert ours == sorted(CLI)  # (python -m runs lkframes.__main__ without importing it)


@pytest.mark.parametrize("command", ["demo", "info", "convert", "run", "split"])
def test_a_commands_help_imports_no_outside_library(command: str) -> None:
    # Its options come from the stage registry and the stage functions: numpy loads, and
    # soxr, which the resample stage's module imports.
    outside = tuple(name for name in OUTSIDE if name != "soxr")
    assert _forbidden(_imported("-m", "lkframes", command, "--help"), outside) == []


def test_info_on_a_wav_file_imports_no_pyav_pydantic_or_livekit(tmp_path: Path) -> None:
    # lkframes' soxi: what it does not use stays unloaded (pydantic alone is ~0.1 s)
    wav = tmp_path / "tone.wav"
    sf.write(str(wav), np.zeros(4_800, dtype=np.int16), 48_000)
    names = _imported("-m", "lkframes", "info", str(wav))
    assert (
        _forbidden(names, ("av", "livekit", "pydantic", "yaml", "sounddevice", "hypothesis")) == []
    )


def test_the_console_script_is_as_light() -> None:
    names = _imported("-c", "import sys; from lkframes.cli import main; sys.exit(main(['-h']))")
    assert _forbidden(names, (*OUTSIDE, *BEFORE_A_COMMAND)) == []
    assert sorted(n for n in names if n.split(".")[0] == "lkframes") == sorted(CLI)


def _type_checking_imports() -> dict[str, str]:
    """What the ``if TYPE_CHECKING:`` block of lkframes/__init__.py imports: name: module."""
    tree = ast.parse(Path(lk.__file__).read_text())
    (block,) = [  # `if _typing.TYPE_CHECKING:`, not the `if not ...` of __getattr__
        n
        for n in tree.body
        if isinstance(n, ast.If)
        and isinstance(n.test, ast.Attribute)
        and n.test.attr == "TYPE_CHECKING"
    ]
    found = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            assert alias.asname == alias.name  # a re-export, as the public face has it
            found[alias.name] = "." * node.level + (node.module or "")
    return found


def test_the_lazy_table_and_the_type_checkers_imports_agree() -> None:
    table = {n: m for m, names in lk._PUBLIC.items() for n in names.split()}
    assert table == _type_checking_imports()
    assert sorted(table) == sorted(lk.__all__)


@pytest.mark.parametrize("name", lk.__all__)
def test_every_public_name_is_its_modules_object(name: str) -> None:
    module = importlib.import_module(lk._MODULE_OF[name], "lkframes")
    assert getattr(lk, name) is getattr(module, name)
    assert name in dir(lk)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'resampel'"):
        _ = lk.resampel  # type: ignore[attr-defined]


def test_the_registry_finds_every_stage_without_importing_everything() -> None:
    # A fresh interpreter that imports only lkframes: stages() loads every stage module.
    code = (
        "import lkframes\nfrom lkframes._core import registry\n"
        "print(' '.join(sorted(registry.stages())))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True
    )
    parts = ("stages", "sources", "io", "livekit", "dsp", "voice", "devices", "media", "pipeline")
    for part in parts:
        importlib.import_module(f"lkframes.{part}")  # here: every module that could register
    assert done.stdout.split() == sorted(registry.stages())


def test_a_pipeline_in_a_fresh_interpreter_reaches_stages_and_sinks(tmp_path: Path) -> None:
    # from_array (sources) -> resample, chunk (stages) -> to_file (io): methods found by name.
    out = tmp_path / "out.wav"
    code = (
        "import numpy as np, lkframes as lk\n"
        "x = (np.arange(44_100, dtype=np.int16) % 200 - 100) * 100\n"
        "lk.run_sync(lk.from_array(x, sample_rate=44_100).resample(16_000).chunk(ms=20)"
        f".to_file({str(out)!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], env=_env(), check=True, timeout=60)
    data, rate = sf.read(str(out), dtype="int16")
    assert rate == 16_000
    assert len(data) == lk.resampled_length(44_100, 44_100, 16_000)
    assert np.abs(data).max() > 1_000

"""The documentation's code runs: every python block in README.md, docs/*.md and docs/*/*.md.

Blocks of one file run in order in one namespace, as one script would; each file gets a
fresh namespace and runs in an empty temporary directory. A failure names the markdown
file and line, and the traceback points into the markdown file itself. A block whose info
string is ``python no-run`` is skipped; use it only for code that cannot run here, and say
why in the text next to it.

A block whose info string is ``python livekit`` needs a room. It does not run with the
plain blocks: all ``python livekit`` blocks of one file, in order, form ONE script that
runs in a subprocess inside the test server's network namespace (the ``livekit_server``
fixture), with ``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` set, so
``lk.connect(room=..., identity=...)`` works. It shares nothing with the file's plain
blocks, runs in an empty temporary directory, must assert its own results and finish
within `ROOM_SCRIPT_TIMEOUT_S`. Tracebacks point into the markdown file here too.

A block whose info string is ``python shared`` is both: it runs with the plain blocks and
is part of the room script, so a page can define a test once and run it in a simulated
room (plain blocks) and against the real server (``python livekit`` blocks).
"""

from __future__ import annotations

import re
import shlex
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from livekit_server import LiveKitServer, finished

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ROOM_SCRIPT_TIMEOUT_S = 30.0
"""Per file; a cookbook page's room script takes well under 10 s."""

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced code block of a markdown file."""

    path: Path
    line: int
    """1-based line of the block's first line of code (the line after the opening fence)."""
    info: str
    """The info string: ``python``, ``python no-run``, ``bash``, ..."""
    code: str

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info else ""

    @property
    def flags(self) -> list[str]:
        """The words of the info string after the language: ``no-run``, ``livekit``."""
        return self.info.split()[1:]

    @property
    def runs(self) -> bool:
        """Runs in this process, with the file's other plain ``python`` blocks."""
        return self.language == "python" and not {"no-run", "livekit"} & set(self.flags)

    @property
    def needs_room(self) -> bool:
        """Part of the file's room script (`test_room_blocks_run`): ``livekit`` or ``shared``."""
        flags = set(self.flags)
        return (
            self.language == "python"
            and bool({"livekit", "shared"} & flags)
            and ("no-run" not in flags)
        )

    @property
    def where(self) -> str:
        path = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{path}:{self.line}"


def code_blocks(path: Path, text: str | None = None) -> list[CodeBlock]:
    """The fenced code blocks of a markdown file, in order.

    Raises:
        ValueError: A fence is never closed.
    """
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[CodeBlock] = []
    opening: tuple[int, str, str] | None = None  # (line index, fence, info)
    body: list[str] = []
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if opening is None:
            if match:
                opening = (index, match["fence"], match["info"])
                body = []
            continue
        start, fence, info = opening
        closes = (
            match is not None
            and not match["info"]
            and match["fence"][0] == fence[0]
            and len(match["fence"]) >= len(fence)
        )
        if closes:
            blocks.append(CodeBlock(path, start + 2, info, "\n".join(body) + "\n"))
            opening = None
        else:
            body.append(line)
    if opening is not None:
        raise ValueError(f"{path}:{opening[0] + 1}: code fence {opening[1]} is never closed")
    return blocks


def _doc_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


ROOM_DOC_FILES = [path for path in DOC_FILES if any(b.needs_room for b in code_blocks(path))]
LOCAL_DOC_FILES = [path for path in DOC_FILES if any(b.runs for b in code_blocks(path))]


@pytest.mark.parametrize("path", DOC_FILES, ids=_doc_id)
def test_every_doc_has_code_that_runs(path: Path) -> None:
    assert any(b.runs or b.needs_room for b in code_blocks(path)), (
        f"{_doc_id(path)} has no runnable ```python or ```python livekit block"
    )


@pytest.mark.parametrize("path", LOCAL_DOC_FILES, ids=_doc_id)
def test_python_blocks_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = [b for b in code_blocks(path) if b.runs]
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__", "__file__": str(path)}
    for block in blocks:
        # Pad with blank lines so that tracebacks give the line numbers of the markdown file.
        code = compile("\n" * (block.line - 1) + block.code, str(path), "exec")
        try:
            exec(code, namespace)
        except BaseException:
            failure = traceback.format_exc()
        else:
            continue
        output = capsys.readouterr()
        pytest.fail(
            f"the python block at {block.where} failed:\n{failure}"
            f"--- output of this file's blocks so far ---\n{output.out}{output.err}",
            pytrace=False,
        )


def room_script(blocks: list[CodeBlock]) -> str:
    """The ``python livekit`` blocks of one file as one script, each at its markdown line.

    Blank lines fill the gaps, so line N of the script is line N of the markdown file.
    """
    lines: list[str] = []
    for block in blocks:
        assert block.line - 1 >= len(lines), f"{block.where}: blocks out of order"
        lines += [""] * (block.line - 1 - len(lines))
        lines += block.code.splitlines()
    return "\n".join(lines) + "\n"


_ROOM_RUNNER = """\
import os, sys
script, markdown, workdir = sys.argv[1:4]
with open(script, encoding="utf-8") as file:
    code = compile(file.read(), markdown, "exec")
os.chdir(workdir)
exec(code, {"__name__": "__main__", "__file__": markdown})
print(DONE, flush=True)
"""
_ROOM_DONE = "lkframes-docs: room script finished"


@pytest.mark.livekit
@pytest.mark.parametrize("path", ROOM_DOC_FILES, ids=_doc_id)
def test_room_blocks_run(
    path: Path, livekit_server: LiveKitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    blocks = [b for b in code_blocks(path) if b.needs_room]
    script = tmp_path / "room_script.py"
    script.write_text(room_script(blocks), encoding="utf-8")
    if any(name in script.read_text() for name in ("from_microphone", "to_speaker", "play(")):
        request.getfixturevalue("pulse_audio")  # the script inherits its PULSE_SERVER
    workdir = tmp_path / "work"
    workdir.mkdir()
    runner = _ROOM_RUNNER.replace("DONE", repr(_ROOM_DONE))
    done = livekit_server.run(["-c", runner, script, path, workdir], timeout=ROOM_SCRIPT_TIMEOUT_S)
    if not (finished(done.returncode) and _ROOM_DONE in done.stdout):
        pytest.fail(
            f"the python livekit blocks of {_doc_id(path)} "
            f"(at lines {', '.join(str(b.line) for b in blocks)}) failed "
            f"with exit {done.returncode}:\n"
            f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}\n"
            f"--- livekit-server log (tail) ---\n{livekit_server.log_tail()}",
            pytrace=False,
        )


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    block = next(b for b in code_blocks(ROOT / "README.md", section) if b.language == "bash")
    return [line for line in block.code.splitlines() if line.strip()]


def test_readme_set_up_is_two_commands_that_ci_runs() -> None:
    install_and_demo, install_and_test = _setup_commands()  # exactly two
    assert install_and_demo.endswith("&& lkframes demo")
    assert shlex.split(install_and_test.split("&&")[0])[-1] == ".[dev]"
    ci_lines = [
        line.rstrip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    for command in (install_and_demo, install_and_test):
        for part in (p.strip() for p in command.split("&&")):
            assert any(line.endswith(f" {part}") for line in ci_lines), (
                f".ci/run does not run {part!r} (from the README's {command!r}) as is"
            )


# -- the block parser itself -------------------------------------------------------------

_SAMPLE = """\
# Title

```python
a = 1
```

````markdown
```python
not_a_block = True
```
````

~~~python no-run
import something_unavailable
~~~

```python livekit
b = 2
```

```python livekit no-run
c = 3
```

```bash
echo hi
```

```python shared
d = 4
```
"""


def test_code_blocks_lines_info_and_nesting() -> None:
    blocks = code_blocks(Path("sample.md"), _SAMPLE)
    assert [(b.line, b.info, b.runs) for b in blocks] == [
        (4, "python", True),
        (8, "markdown", False),
        (14, "python no-run", False),
        (18, "python livekit", False),
        (22, "python livekit no-run", False),
        (26, "bash", False),
        (30, "python shared", True),
    ]
    assert [b.line for b in blocks if b.needs_room] == [18, 30]
    assert blocks[0].code == "a = 1\n"
    assert blocks[1].code == "```python\nnot_a_block = True\n```\n"


def test_code_blocks_unclosed_fence() -> None:
    with pytest.raises(ValueError, match=r"sample\.md:3: code fence ``` is never closed"):
        code_blocks(Path("sample.md"), "text\n\n```python\nx = 1\n")


def test_room_script_keeps_markdown_lines() -> None:
    blocks = [b for b in code_blocks(Path("sample.md"), _SAMPLE + _ROOM_SAMPLE) if b.needs_room]
    script = room_script(blocks).splitlines()
    assert [b.line for b in blocks] == [18, 30, 34]
    assert (script[17], script[29], script[33]) == ("b = 2", "d = 4", "assert b == 2")
    assert "c = 3" not in script


_ROOM_SAMPLE = """
```python livekit
assert b == 2
```
"""


def test_every_test_file_the_docs_name_exists() -> None:
    texts = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").rglob("*.md")]
    texts += list((ROOT / "src").rglob("*.py"))
    missing = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in texts
        for name in set(re.findall(r"tests/[\w/]+\.py", path.read_text()))
        if not (ROOT / name).exists()
    )
    assert missing == []

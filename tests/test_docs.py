"""The documentation's code runs: every python block in README.md and docs/*.md.

Blocks of one file run in order in one namespace, as one script would; each file gets a
fresh namespace and runs in an empty temporary directory. A failure names the markdown
file and line, and the traceback points into the markdown file itself. A block whose info
string is ``python no-run`` is skipped; use it only for code that cannot run here, and say
why in the text next to it.
"""

from __future__ import annotations

import re
import shlex
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

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
    def runs(self) -> bool:
        return self.language == "python" and "no-run" not in self.info.split()[1:]

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


@pytest.mark.parametrize("path", DOC_FILES, ids=_doc_id)
def test_python_blocks_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = [b for b in code_blocks(path) if b.runs]
    assert blocks, f"{_doc_id(path)} has no runnable ```python block"
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

```bash
echo hi
```
"""


def test_code_blocks_lines_info_and_nesting() -> None:
    blocks = code_blocks(Path("sample.md"), _SAMPLE)
    assert [(b.line, b.info, b.runs) for b in blocks] == [
        (4, "python", True),
        (8, "markdown", False),
        (14, "python no-run", False),
        (18, "bash", False),
    ]
    assert blocks[0].code == "a = 1\n"
    assert blocks[1].code == "```python\nnot_a_block = True\n```\n"


def test_code_blocks_unclosed_fence() -> None:
    with pytest.raises(ValueError, match=r"sample\.md:3: code fence ``` is never closed"):
        code_blocks(Path("sample.md"), "text\n\n```python\nx = 1\n")

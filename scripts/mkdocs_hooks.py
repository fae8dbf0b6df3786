"""MkDocs hooks: render the test runner's code-block flags as plain Python, and fail the
build on a missing figure.

`tests/test_docs.py` reads flags after a block's language (```` ```python livekit ````,
```` ```python no-run ````). Markdown's fences take no such words, so without this hook
such a block is rendered as a paragraph and the next fence opens a stray code block.

Every image (`![alt](path)`) must name a file that exists, beside the page, and say in its
alt text what it shows; otherwise the build stops with an error naming the page and the
image (`tests/test_docs_figures.py` checks the same without building).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

_FLAGGED = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})python(?: [\w-]+)+[ \t]*$", re.M)
_FENCED = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,}).*?^ {0,3}(?P=fence)[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target>[^)\s]*)(?:\s+\"[^\"]*\")?\)")


class Image(NamedTuple):
    """An image a page shows: its alt text and its target as written."""

    alt: str
    target: str


def images(markdown: str) -> list[Image]:
    """The images of a page's markdown, outside code."""
    prose = _INLINE_CODE.sub("", _FENCED.sub("", markdown))
    return [Image(m["alt"].strip(), m["target"]) for m in _IMAGE.finditer(prose)]


def image_problems(markdown: str, page: Path) -> list[str]:
    """What is wrong with the images of ``page`` (a markdown file): a target that is not
    a file beside it, or no alt text. Images on other sites are not checked."""
    problems = []
    for image in images(markdown):
        if not image.alt:
            problems.append(f"{image.target!r} has no alt text (say what it shows)")
        if "://" in image.target:
            continue
        if not image.target or not (page.parent / image.target.split("#")[0]).is_file():
            problems.append(f"{image.target!r} is not a file (python scripts/figures.py?)")
    return problems


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """The page's markdown with ```` ```python FLAGS ```` fences as ```` ```python ````.

    Raises:
        PluginError: An image that is missing or has no alt text.
    """
    problems = image_problems(markdown, Path(page.file.abs_src_path))
    if problems:
        from mkdocs.exceptions import PluginError  # here: the tests import this without mkdocs

        raise PluginError(f"{page.file.src_uri}: " + "; ".join(problems))
    return _FLAGGED.sub(r"\g<indent>\g<fence>python", markdown)

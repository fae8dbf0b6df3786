"""MkDocs hooks: render the test runner's code-block flags as plain Python.

`tests/test_docs.py` reads flags after a block's language (```` ```python livekit ````,
```` ```python no-run ````). Markdown's fences take no such words, so without this hook
such a block is rendered as a paragraph and the next fence opens a stray code block.
"""

from __future__ import annotations

import re
from typing import Any

_FLAGGED = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})python(?: [\w-]+)+[ \t]*$", re.M)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """The page's markdown with ```` ```python FLAGS ```` fences as ```` ```python ````."""
    return _FLAGGED.sub(r"\g<indent>\g<fence>python", markdown)

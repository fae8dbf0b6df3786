"""``python -m lkframes``: the same as the ``lkframes`` command."""

from __future__ import annotations

import sys

from lkframes.cli import main

sys.exit(main())

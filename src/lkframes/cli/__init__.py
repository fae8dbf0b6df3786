"""The ``lkframes`` command line (``lkframes.cli.main``)."""

from __future__ import annotations

from ._main import main as main

__all__ = ("main",)

"""The one place lkframes uses a private part of scipy, and what it assumes of it.

The loudness meter (`stages._bs1770`) runs the K-weighting filter through scipy's
second-order-sections filter. Importing ``scipy.signal`` for it costs 0.4-0.8 s (it
imports scipy.stats, scipy.interpolate, scipy.linalg and more), which ``lkframes info
--loudness`` and every first ``loudness()`` paid for one function. That function's
kernel is a small compiled module of its own, ``scipy/signal/_sosfilt*.so``, which needs
only numpy and loads alone in well under a millisecond. `sosfilt` calls it as
``scipy.signal.sosfilt`` does (float64, C order, the state updated in place); where the
module is not there or does not load, it calls ``scipy.signal.sosfilt`` itself.
``tests/stages/test_sosfilt.py`` checks on the installed scipy that both give the same
output and state, so a release that changes the kernel fails there, by name.

Relies on: ``scipy/signal/_sosfilt.*`` (a compiled module) defining
``_sosfilt(sos, x, zi)``: ``sos`` (sections, 6), ``x`` (signals, samples) filtered in
place, ``zi`` (signals, sections, 2) updated in place, all float64 and C-contiguous.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.errors import MissingExtraError

__all__ = ("kernel", "sosfilt")


def kernel() -> Any:
    """scipy's compiled ``_sosfilt`` loaded without ``scipy.signal``, or None.

    Raises:
        MissingExtraError: scipy is not installed.
    """
    try:
        spec = importlib.util.find_spec("scipy")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise MissingExtraError("measuring loudness", extra="loudness", module="scipy.signal")
    return _load(Path(spec.origin).parent / "signal")


@cache
def _load(folder: Path) -> Any:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"_sosfilt{suffix}"
        if not path.is_file():
            continue
        try:
            found = importlib.util.spec_from_file_location("scipy.signal._sosfilt", path)
            if found is None or found.loader is None:
                return None
            module = importlib.util.module_from_spec(found)
            found.loader.exec_module(module)
        except Exception:  # not loadable alone (a scipy that changed): the public function
            return None
        return getattr(module, "_sosfilt", None)
    return None


def _public() -> Any:
    try:
        import scipy.signal
    except ImportError:
        raise MissingExtraError(
            "measuring loudness", extra="loudness", module="scipy.signal"
        ) from None
    return scipy.signal.sosfilt


def sosfilt(
    sos: NDArray[np.float64], x: NDArray[Any], zi: NDArray[np.float64], run: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)``: ``x`` (samples, channels) filtered
    along time from the state ``zi`` (sections, 2, channels) by ``run`` (what `kernel`
    gave: scipy's kernel, or None for the public function); the output and the new state.

    Raises:
        MissingExtraError: scipy is not installed.
    """
    if run is None:
        filtered, state = _public()(sos, x, axis=0, zi=zi)
        return filtered, state
    signals = np.array(x.T, np.float64, order="C")  # a copy, filtered in place
    state = np.array(np.moveaxis(zi, (0, 1), (1, 2)), np.float64, order="C")
    run(np.ascontiguousarray(sos, np.float64), signals, state)
    return signals.T, np.moveaxis(state, (1, 2), (0, 1))

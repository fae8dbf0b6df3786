"""What lkframes assumes of scipy's private ``scipy/signal/_sosfilt`` module
(``src/lkframes/stages/_sosfilt.py``): it loads alone, without importing ``scipy.signal``,
and ``_sosfilt(sos, x, zi)`` filters as ``scipy.signal.sosfilt`` does, output and state.
Checked on the installed scipy against its public function."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import lkframes as lk
from lkframes.stages import _sosfilt
from lkframes.stages._bs1770 import k_weighting


def test_the_kernel_loads_alone_without_importing_scipy_signal() -> None:
    # In a fresh interpreter: the loudness meter must not pay scipy.signal's import.
    code = (
        "import sys, lkframes as lk\n"
        "from lkframes.stages._sosfilt import kernel\n"
        "assert kernel() is not None, 'the compiled _sosfilt did not load'\n"
        "lk.run_sync(lk.sine(440, 1.0, 48_000).loudness())\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = eval(out)  # a list of module names
    assert "scipy.signal" not in loaded
    assert "scipy.stats" not in loaded


@given(
    rate=st.sampled_from([8_000, 16_000, 44_100, 48_000, 96_000]),
    channels=st.integers(1, 3),
    sizes=st.lists(st.integers(1, 3_000), min_size=1, max_size=5),
    seed=st.integers(0, 2**16),
)
def test_it_filters_as_scipy_signal_sosfilt_does(
    rate: int, channels: int, sizes: list[int], seed: int
) -> None:
    sos = k_weighting(rate)
    rng = np.random.default_rng(seed)
    mine = theirs = np.zeros((2, 2, channels))
    for size in sizes:
        x = rng.standard_normal((size, channels)).astype(np.float32)
        y, mine = _sosfilt.sosfilt(sos, x, mine, _sosfilt.kernel())
        expected, theirs = scipy.signal.sosfilt(sos, x.astype(np.float64), axis=0, zi=theirs)
        assert y.shape == expected.shape
        np.testing.assert_array_equal(y, expected)
        np.testing.assert_array_equal(mine, theirs)


def test_an_empty_block_leaves_the_state_as_it_was() -> None:
    # (scipy.signal.sosfilt itself raises on an empty block)
    state = np.arange(4.0).reshape(2, 2, 1)
    y, after = _sosfilt.sosfilt(k_weighting(48_000), np.zeros((0, 1)), state, _sosfilt.kernel())
    assert y.shape == (0, 1)
    np.testing.assert_array_equal(after, state)


def test_the_callers_state_is_not_changed_in_place() -> None:
    state = np.zeros((2, 2, 1))
    _sosfilt.sosfilt(k_weighting(48_000), np.ones((100, 1)), state, _sosfilt.kernel())
    assert not state.any()


def test_without_the_compiled_module_the_public_function_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_sosfilt, "_load", lambda _folder: None)
    sos, x = k_weighting(16_000), np.linspace(-1, 1, 500).reshape(250, 2)
    y, state = _sosfilt.sosfilt(sos, x, np.zeros((2, 2, 2)), _sosfilt.kernel())
    expected, expected_state = scipy.signal.sosfilt(sos, x, axis=0, zi=np.zeros((2, 2, 2)))
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(state, expected_state)
    # and the meter on top of it measures as before
    assert lk.run_sync(lk.sine(1_000, 1.0, 48_000, amplitude=0.5).loudness()).integrated_lufs == (
        pytest.approx(-9.0, abs=0.1)
    )

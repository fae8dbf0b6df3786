"""Testing tools for lkframes and for your own frame processors.

- Hypothesis strategies: `audio_formats`, `audio_arrays`, `audio_frames`, `splits`,
  `frame_streams` (irregular frame sizes, including 0 and 1 sample).
- `open_resources`: what lkframes holds open right now (stages, files, LiveKit streams and
  sources), for asserting that nothing leaks.
- A conformance kit: `check_source`, `check_stage` and `check_sink` assert the invariants
  every source, stage and sink keeps (no loss or duplication, split-independence, one
  declared format, continuous pts, errors propagate unchanged, `aclose` idempotent, prompt
  close on break, cancellation and error).

Needs ``hypothesis`` (``pip install lkframes[testing]``).
"""

from __future__ import annotations

from .._resources import open_resources as open_resources
from ._kit import StageFactory as StageFactory
from ._kit import check_sink as check_sink
from ._kit import check_source as check_source
from ._kit import check_stage as check_stage
from ._strategies import audio_arrays as audio_arrays
from ._strategies import audio_formats as audio_formats
from ._strategies import audio_frames as audio_frames
from ._strategies import frame_streams as frame_streams
from ._strategies import splits as splits

__all__ = (
    "StageFactory",
    "audio_arrays",
    "audio_formats",
    "audio_frames",
    "check_sink",
    "check_source",
    "check_stage",
    "frame_streams",
    "open_resources",
    "splits",
)

"""Pipelines as data: `PipelineSpec` (JSON or YAML), with one stage model per registered
stage."""

from __future__ import annotations

from ._spec import PipelineSpec as PipelineSpec
from ._stages import StageSpec as StageSpec
from ._stages import stage_models as stage_models

__all__ = ("PipelineSpec", "StageSpec", "stage_models")

"""Pipelines written as data (JSON or YAML), validated by pydantic, run by ``lkframes run``.

```json
{
  "input": "talk.flac",
  "output": "out.wav",
  "stages": [
    {"stage": "resample", "sample_rate": 16000},
    {"stage": "remix", "num_channels": 1},
    {"stage": "chunk", "ms": 20}
  ]
}
```

Every registered stage that takes no Python callables can be written here, with the
parameters of its function (see `stage_models`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._core.errors import FormatError, ParameterError, PipelineError
from .._core.frame import AudioFrame
from .._core.stream import Stream
from ..io import OnDamaged, OnTruncated, from_file
from ._stages import StageSpec

__all__ = ("PipelineSpec",)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if i == 2 and loc[0] == "stages":
            continue  # the tag pydantic inserts: stages.1.resample.x -> stages[1].x
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _unknown_stage(ctx: dict[str, Any]) -> str:
    """``unknown stage 'resampel' (did you mean 'resample'?); the stages are ...``."""
    import difflib

    tag = str(ctx.get("tag"))
    names = sorted(n.strip("'\" ") for n in str(ctx.get("expected_tags", "")).split(","))
    close = [n for n in names if n.startswith(tag)] or difflib.get_close_matches(tag, names, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown stage {tag!r}{guess}; the stages are {', '.join(names)}"


def _problems(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = _where(tuple(err["loc"]))
        if err["type"] == "value_error":  # raised by the stage itself: its own message
            parts.append(f"{where}: {err['ctx']['error']}")
        elif err["type"] == "missing":
            parts.append(f"{where}: {err['msg']}")
        elif err["type"] == "union_tag_invalid":
            parts.append(f"{where}: {_unknown_stage(err['ctx'])}")
        elif err["type"] == "model_attributes_type" and where == "(top level)":
            kind = type(err["input"]).__name__
            parts.append(f'a pipeline is an object with an "input" key, not a {kind}')
        else:
            parts.append(f"{where}: {err['msg']} (got {err['input']!r})")
    return "; ".join(parts)


class PipelineSpec(BaseModel):
    """A whole pipeline as data: input file, stages, output file.

    Attributes:
        input: Audio file to read (anything `lkframes.from_file` reads).
        output: File to write; None to run without writing (e.g. to measure).
        stages: Stage specs applied in order.
        overwrite: Replace ``output`` if it exists.
        block_ms: Read block size.

    Examples:
        >>> spec = PipelineSpec.model_validate(
        ...     {"input": "in.wav", "stages": [{"stage": "resample", "sample_rate": 16000}]}
        ... )
        >>> spec.stages[0].sample_rate
        16000
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: str
    output: str | None = None
    stages: list[StageSpec] = Field(default_factory=list)
    overwrite: bool = False
    block_ms: float = Field(default=500, gt=0)

    @classmethod
    def parse(cls, data: object, *, source: str = "pipeline") -> PipelineSpec:
        """Validate a decoded JSON/YAML document.

        Raises:
            PipelineError: One line per problem, each naming the key, e.g.
                ``stages[1]: sample_rate must be positive (got -5)``.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PipelineError(f"invalid {source}: {_problems(exc)}") from None

    @classmethod
    def load(cls, path: str | Path, *, input: str | None = None) -> PipelineSpec:
        """Read and validate a pipeline from a ``.json``, ``.yaml`` or ``.yml`` file.

        Relative ``input``/``output`` paths are taken relative to the pipeline file.
        ``input`` is used when the file names none (``lkframes run PIPELINE IN... OUT``
        gives each file itself).

        Raises:
            PipelineError: Unreadable, not valid JSON/YAML, or an invalid pipeline.
        """
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PipelineError(f"cannot read pipeline {str(file)!r}: {exc.strerror}") from None
        data: Any
        if file.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise PipelineError("YAML pipelines need PyYAML: pip install pyyaml") from None
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise PipelineError(f"{str(file)!r} is not valid YAML: {exc}") from None
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise PipelineError(
                    f"{str(file)!r} is not valid JSON: {exc.msg} at line {exc.lineno} "
                    f"column {exc.colno}"
                ) from None
        if input is not None and isinstance(data, dict):
            data = {"input": input, **data}
        spec = cls.parse(data, source=f"pipeline {str(file)!r}")
        base = file.parent
        updates: dict[str, Any] = {"input": str(base / spec.input)}
        if spec.output is not None:
            updates["output"] = str(base / spec.output)
        updates["stages"] = [stage.relative_to(base) for stage in spec.stages]
        return spec.model_copy(update=updates)

    def build(
        self, *, on_damaged: OnDamaged = "skip", on_truncated: OnTruncated = "raise"
    ) -> Stream[AudioFrame]:
        """The stream this pipeline describes, from its input through every stage.

        Args:
            on_damaged: What reading the input does with damaged data (see `from_file`).
            on_truncated: What it does with a cut input (see `from_file`).

        Raises:
            AudioFileError: The input cannot be read.
            ParameterError: A stage does not fit the stream (e.g. a chunk size that is not
                a whole number of samples at the input's rate).
        """
        stream: Stream[Any] = from_file(
            self.input, block_ms=self.block_ms, on_damaged=on_damaged, on_truncated=on_truncated
        )
        for index, spec in enumerate(self.stages):
            try:
                stream = spec.build()(stream)
            except ParameterError as exc:
                raise PipelineError(f"stages[{index}] ({spec.stage}): {exc.message}") from None
            except FormatError as exc:
                raise PipelineError(f"stages[{index}] ({spec.stage}): {exc}") from None
        return stream

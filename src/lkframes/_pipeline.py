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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._apm import auto_gain, denoise, echo_cancel, high_pass
from ._errors import ParameterError
from ._files import from_file
from ._format import DType
from ._frame import AudioFrame
from ._stages import chunk, gain, remix, resample, skip, take, to_dtype
from ._stream import Quality, Stage, Stream, Tail

__all__ = ("PipelineError", "PipelineSpec", "StageSpec")


class PipelineError(ParameterError):
    """A pipeline file is unreadable or invalid; the message names the offending key.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.PipelineSpec.parse({"input": "in.wav", "stages": [{"stage": "reverse"}]})
        ... except lk.PipelineError as exc:
        ...     print(isinstance(exc, lk.ParameterError))
        True
    """


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResampleSpec(_Spec):
    """``{"stage": "resample", "sample_rate": 16000, "quality": "HQ"}``"""

    stage: Literal["resample"]
    sample_rate: int = Field(gt=0)
    quality: Quality = "HQ"

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return resample(self.sample_rate, self.quality)


class ChunkSpec(_Spec):
    """``{"stage": "chunk", "ms": 20}`` or ``{"stage": "chunk", "samples": 320}``"""

    stage: Literal["chunk"]
    ms: float | None = Field(default=None, gt=0)
    samples: int | None = Field(default=None, gt=0)
    tail: Tail = "keep"

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return chunk(ms=self.ms, samples=self.samples, tail=self.tail)


class RemixSpec(_Spec):
    """``{"stage": "remix", "num_channels": 1}`` (optionally ``"matrix": [[...], ...]``)"""

    stage: Literal["remix"]
    num_channels: int = Field(gt=0)
    matrix: list[list[float]] | None = None

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return remix(self.num_channels, matrix=self.matrix)


class ToDtypeSpec(_Spec):
    """``{"stage": "to_dtype", "dtype": "float32"}``"""

    stage: Literal["to_dtype"]
    dtype: DType

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return to_dtype(self.dtype)


class GainSpec(_Spec):
    """``{"stage": "gain", "db": -6}``"""

    stage: Literal["gain"]
    db: float = Field(allow_inf_nan=False)

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return gain(self.db)


class TakeSpec(_Spec):
    """``{"stage": "take", "ms": 5000}`` (or ``"samples"`` / ``"frames"``)"""

    stage: Literal["take"]
    frames: int | None = Field(default=None, ge=0)
    ms: float | None = Field(default=None, ge=0)
    samples: int | None = Field(default=None, ge=0)

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return take(self.frames, ms=self.ms, samples=self.samples)


class SkipSpec(_Spec):
    """``{"stage": "skip", "ms": 1000}`` (or ``"samples"`` / ``"frames"``)"""

    stage: Literal["skip"]
    frames: int | None = Field(default=None, ge=0)
    ms: float | None = Field(default=None, ge=0)
    samples: int | None = Field(default=None, ge=0)

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return skip(self.frames, ms=self.ms, samples=self.samples)


class DenoiseSpec(_Spec):
    """``{"stage": "denoise"}``: LiveKit's noise suppression (8/16/32/48 kHz input)."""

    stage: Literal["denoise"]

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return denoise()


class HighPassSpec(_Spec):
    """``{"stage": "high_pass"}``: LiveKit's high-pass filter."""

    stage: Literal["high_pass"]

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return high_pass()


class AutoGainSpec(_Spec):
    """``{"stage": "auto_gain"}``: LiveKit's automatic gain control."""

    stage: Literal["auto_gain"]

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes."""
        return auto_gain()


class EchoCancelSpec(_Spec):
    """``{"stage": "echo_cancel", "reference": "played.wav"}``: remove that file's echo."""

    stage: Literal["echo_cancel"]
    reference: str
    delay_ms: int = Field(default=0, ge=0, le=500)

    def build(self) -> Stage[AudioFrame, AudioFrame]:
        """The stage this spec describes (the reference file is read as a stream)."""
        return echo_cancel(from_file(self.reference), delay_ms=self.delay_ms)


StageSpec = Annotated[
    ResampleSpec
    | ChunkSpec
    | RemixSpec
    | ToDtypeSpec
    | GainSpec
    | TakeSpec
    | SkipSpec
    | DenoiseSpec
    | HighPassSpec
    | AutoGainSpec
    | EchoCancelSpec,
    Field(discriminator="stage"),
]
"""One stage of a pipeline file, chosen by its ``"stage"`` key."""


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


class PipelineSpec(_Spec):
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
                ``stages[1].sample_rate: Input should be greater than 0 (got -5)``.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_where(tuple(err['loc']))}: {err['msg']}"
                + (f" (got {err['input']!r})" if err["type"] != "missing" else "")
                for err in exc.errors()
            )
            raise PipelineError(f"invalid {source}: {problems}") from None

    @classmethod
    def load(cls, path: str | Path) -> PipelineSpec:
        """Read and validate a pipeline from a ``.json``, ``.yaml`` or ``.yml`` file.

        Relative ``input``/``output`` paths are taken relative to the pipeline file.

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
        spec = cls.parse(data, source=f"pipeline {str(file)!r}")
        base = file.parent
        updates: dict[str, Any] = {"input": str(base / spec.input)}
        if spec.output is not None:
            updates["output"] = str(base / spec.output)
        updates["stages"] = [
            stage.model_copy(update={"reference": str(base / stage.reference)})
            if isinstance(stage, EchoCancelSpec)
            else stage
            for stage in spec.stages
        ]
        return spec.model_copy(update=updates)

    def build(self) -> Stream[AudioFrame]:
        """The stream this pipeline describes, from its input through every stage.

        Raises:
            AudioFileError: The input cannot be read.
            ParameterError: A stage does not fit the stream (e.g. a chunk size that is not
                a whole number of samples at the input's rate).
        """
        stream = from_file(self.input, block_ms=self.block_ms)
        for spec in self.stages:
            stream = spec.build()(stream)
        return stream

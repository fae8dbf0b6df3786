"""One pipeline-file stage model per registered stage, derived from its function's signature.

A parameter keeps its Python type in the file, except a `Stream` parameter (the reference
of ``echo_cancel``), which the file gives as an audio file path, and an array-like
parameter (``remix``'s matrix), which it gives as nested lists. Values are checked twice:
by pydantic for types, then by the stage function itself for ranges, with the same
messages as in Python.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import AsyncGenerator, Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from .. import dsp as _dsp  # noqa: F401 - registers the processing stages
from .. import stages as _stages  # noqa: F401 - registers the stages
from .._core import registry
from .._core.errors import ParameterError
from .._core.stage import Stage
from .._core.stream import Stream
from ..io import from_file

__all__ = ("StageSpec", "StageSpecBase", "stage_models")


class StageSpecBase(BaseModel):
    """What every pipeline-file stage has: its ``stage`` name, and a way to build it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    paths: ClassVar[frozenset[str]] = frozenset()
    """Parameters given as audio file paths (opened with `from_file` when built)."""

    @model_validator(mode="after")
    def _values_the_stage_takes(self) -> StageSpecBase:
        """Build the stage once, so a value it refuses is reported when the file is read."""
        kwargs = self.parameters()
        for name in self.paths:
            if kwargs.get(name) is not None:
                kwargs[name] = Stream(_nothing, name=f"file {kwargs[name]!r}")
        try:
            registry.stage(self.stage)(**kwargs)
        except ParameterError as exc:
            raise ValueError(exc.message) from None
        return self

    def parameters(self) -> dict[str, Any]:
        """The stage function's keyword arguments, as written in the file."""
        return self.model_dump(exclude={"stage"})

    def build(self) -> Stage[Any, Any]:
        """The stage this spec describes; path parameters are opened as file streams.

        Raises:
            ParameterError: The stage function refuses a value.
            AudioFileError: A path parameter names a file that cannot be read.
        """
        kwargs = self.parameters()
        for name in self.paths:
            if kwargs.get(name) is not None:
                kwargs[name] = from_file(kwargs[name])
        stage: Stage[Any, Any] = registry.stage(self.stage)(**kwargs)
        return stage

    def relative_to(self, base: Path) -> StageSpecBase:
        """A copy whose path parameters are taken relative to ``base``."""
        updates = {
            name: str(base / value)
            for name in self.paths
            if isinstance(value := getattr(self, name), str)
        }
        return self.model_copy(update=updates) if updates else self


async def _nothing() -> AsyncGenerator[Any, None]:
    """A stand-in for a file a stage parameter names, while the file is only being read."""
    nothing: tuple[Any, ...] = ()
    for item in nothing:
        yield item


def _mentions(annotation: object, kind: type) -> bool:
    if annotation is kind or get_origin(annotation) is kind:
        return True
    return any(_mentions(arg, kind) for arg in get_args(annotation))


def _file_type(annotation: object) -> tuple[object, bool]:
    """The type a parameter has in a pipeline file, and whether it is a path."""
    if _mentions(annotation, Stream):
        optional = type(None) in get_args(annotation)
        return (str | None if optional else str), True
    text = repr(annotation)
    if "ArrayLike" in text or "_SupportsArray" in text:
        return list[list[float]] | None, False
    return annotation, False


def _model(entry: registry.StageEntry) -> type[StageSpecBase]:
    hints = typing.get_type_hints(entry.function)
    fields: dict[str, Any] = {"stage": (Literal[entry.name], ...)}
    paths = []
    for parameter in inspect.signature(entry.function).parameters.values():
        annotation, is_path = _file_type(hints[parameter.name])
        if is_path:
            paths.append(parameter.name)
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    title = "".join(part.title() for part in entry.name.split("_")) + "Spec"
    model: type[StageSpecBase] = create_model(
        title, __base__=StageSpecBase, __doc__=_summary(entry.function), **fields
    )
    model.paths = frozenset(paths)
    return model


def _summary(function: Callable[..., Any]) -> str:
    doc = inspect.getdoc(function) or ""
    return doc.split("\n\n", 1)[0]


@cache
def stage_models() -> dict[str, type[StageSpecBase]]:
    """The pipeline-file model of every stage that files can name, by stage name."""
    return {name: _model(entry) for name, entry in registry.stages().items() if entry.spec}


if TYPE_CHECKING:
    StageSpec = StageSpecBase
else:
    StageSpec = typing.Annotated[
        Union[tuple(stage_models().values())],  # noqa: UP007 - a union built at run time
        Field(discriminator="stage"),
    ]
"""One stage of a pipeline file, chosen by its ``"stage"`` key."""

"""The one table of stages and stream methods.

Each stage function is registered once, where it is defined (``@stage_entry``), with what
the command line and pipeline files need to know about it. From that entry come the
fluent `Stream` method, the ``|`` form (the function itself returns a `Stage`), the
pipeline-file stage of the same name and the command line's options. Sinks and combinators
that `Stream` exposes as methods (``to_file``, ``publish``, ``concat``) register with
``@method_entry`` so `Stream` can reach them without importing the layers above it.

An entry exists once its module is imported. ``import lkframes`` imports none of them (it
loads names on first use), so it hands the registry a loader (`set_loader`): a lookup of a
name not registered yet, or of every stage, imports the modules that register them first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

__all__ = (
    "StageEntry",
    "method",
    "method_entry",
    "set_loader",
    "stage",
    "stage_entry",
    "stages",
)

F = TypeVar("F", bound=Callable[..., Any])


class StageEntry(NamedTuple):  # not a dataclass: `import lkframes` skips dataclasses' 10 ms
    """A registered stage: its function and how the other forms present it."""

    name: str
    """The stage's name: the function's, the `Stream` method's and the pipeline key's."""
    function: Callable[..., Any]
    """The stage function, returning a `Stage`."""
    cli: Mapping[str, str] = MappingProxyType({})
    """Command-line flags of ``lkframes convert`` for its parameters, e.g.
    ``{"sample_rate": "--rate"}``; a stage without parameters maps ``""`` to its flag."""
    spec: bool = True
    """Whether pipeline files can name it (false for stages taking Python callables, for
    video stages and for stages giving records: pipeline files turn audio into audio)."""
    video: bool = False
    """Whether it takes `VideoFrame` items (`resize`, `fps`) rather than audio frames."""
    records: bool = False
    """Whether it turns audio into records (`vad`, `utterances`) rather than frames."""


_stages: dict[str, StageEntry] = {}
_methods: dict[str, Callable[..., Any]] = {}
_loader: Callable[[str | None], object] | None = None
_loaded_every_stage = False


def set_loader(loader: Callable[[str | None], object]) -> None:
    """Use ``loader`` to import what registers entries: ``loader(name)`` the module that
    registers ``name``, ``loader(None)`` every module that registers stages."""
    global _loader
    _loader = loader


def _load(name: str | None) -> None:
    global _loaded_every_stage
    if _loader is None or (name is None and _loaded_every_stage):
        return
    _loader(name)
    _loaded_every_stage = _loaded_every_stage or name is None


def stage_entry(
    *,
    cli: Mapping[str, str] | None = None,
    spec: bool = True,
    video: bool = False,
    records: bool = False,
) -> Callable[[F], F]:
    """Register the decorated stage function under its own name."""

    def register(function: F) -> F:
        name = function.__name__
        if name in _stages:
            raise RuntimeError(f"stage {name!r} is registered twice")
        cli_flags = MappingProxyType(dict(cli or {}))
        usable_in_files = spec and not video and not records
        _stages[name] = StageEntry(name, function, cli_flags, usable_in_files, video, records)
        return function

    return register


def method_entry(function: F) -> F:
    """Register a sink or combinator that `Stream` offers as a method of the same name."""
    _methods[function.__name__] = function
    return function


def stages() -> Mapping[str, StageEntry]:
    """Every registered stage, by name (read-only)."""
    _load(None)
    return MappingProxyType(_stages)


def stage(name: str) -> Callable[..., Any]:
    """The stage function registered as ``name``."""
    if name not in _stages:
        _load(name)
    return _stages[name].function


def method(name: str) -> Callable[..., Any]:
    """The sink or combinator registered as ``name``."""
    if name not in _methods:
        _load(name)
    return _methods[name]

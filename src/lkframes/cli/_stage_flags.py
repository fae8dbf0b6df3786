"""The stage options of ``lkframes convert``, derived from the stage registry.

Each registered stage that names command-line flags (``@stage_entry(cli=...)``) gets those
flags, with the type, choices, default and help text of the function's parameter. The
order in which `convert` applies them is the one place written here: `CONVERT_ORDER`.
"""

from __future__ import annotations

import argparse
import inspect
import math
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from .._core import registry
from .._core.errors import ParameterError
from .._core.format import MAX_CHANNELS, MAX_SAMPLE_RATE

__all__ = ("CONVERT_ORDER", "add_stage_flags", "build_stage", "flag_values")

CONVERT_ORDER = (
    "remix",  # down-mix first: less to resample (an up-mix goes after resample instead)
    "resample",
    "high_pass",
    "denoise",
    "auto_gain",
    "gain",
    "normalize",  # after every stage that changes the level
    "limit",  # after normalize (which limits by itself) and every other level change
    "to_dtype",
    "chunk",
)
"""The order ``lkframes convert`` applies its stages in."""


_METAVARS = {"sample_rate": "HZ", "num_channels": "N", "true_peak": "DBTP"}
"""Short placeholders in the usage line for the stage parameters whose names are long."""


def _arg_help(function: Callable[..., Any], parameter: str) -> str:
    """The parameter's description from the function's Google-style ``Args:`` section."""
    doc = inspect.getdoc(function) or ""
    match = re.search(rf"^\s+{parameter}:\s*(.+?)(?=^\s+\w+:|^\S|\Z)", doc, re.M | re.S)
    text = doc.split("\n\n", 1)[0] if match is None else match.group(1)
    return _plain_text(" ".join(text.split()))


def _plain_text(text: str) -> str:
    """Docstring markup (double backquotes, Sphinx roles) as plain text for ``--help``."""
    text = re.sub(r'``"([^"`]*)"``', r"\1", text)
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
    return text.replace("``", "")


def _plain(annotation: object) -> object:
    """``X | None`` as ``X``."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return args[0] if len(args) == 1 else annotation
    return annotation


_LIMITS = {"sample_rate": (MAX_SAMPLE_RATE, "Hz"), "num_channels": (MAX_CHANNELS, "channels")}
"""Upper bounds of parameters that lkframes' formats bound, checked as the flag is read."""


def _number(kind: type, flag: str, parameter: str = "") -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not {'an integer' if kind is int else 'a number'}: {text!r}"
            ) from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be finite (got {text})")
        if parameter in _LIMITS and value > _LIMITS[parameter][0]:
            most, unit = _LIMITS[parameter]
            raise argparse.ArgumentTypeError(f"at most {most} {unit} (got {text})")
        return value

    parse.__name__ = flag
    return parse


def add_stage_flags(parser: argparse.ArgumentParser) -> None:
    """Add every registered stage's command-line flags to ``parser``."""
    group = parser.add_argument_group("stages (applied in this order)")
    for name in CONVERT_ORDER:
        entry = registry.stages()[name]
        hints = typing.get_type_hints(entry.function)
        signature = inspect.signature(entry.function)
        for parameter, flag in entry.cli.items():
            if not parameter:
                help_text = _arg_help(entry.function, "")
                group.add_argument(flag, action="store_true", help=help_text)
                continue
            annotation = _plain(hints[parameter])
            default = signature.parameters[parameter].default
            kwargs: dict[str, Any] = {"help": _arg_help(entry.function, parameter)}
            if get_origin(annotation) is Literal:
                kwargs["choices"] = list(get_args(annotation))
            elif annotation in (int, float):
                kwargs["type"] = _number(annotation, flag, parameter)
            if default is not inspect.Parameter.empty and default is not None:
                kwargs["help"] += f" (default {default})"
            metavar = (
                _METAVARS.get(parameter, parameter.upper()) if "choices" not in kwargs else None
            )
            group.add_argument(flag, dest=_dest(flag), metavar=metavar, **kwargs)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def flag_values(name: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """The keyword arguments for stage ``name`` given on the command line, or None when
    none of its flags was given."""
    entry = registry.stages()[name]
    values: dict[str, Any] = {}
    given: list[str] = []
    for parameter, flag in entry.cli.items():
        value = getattr(args, _dest(flag))
        if value is None or value is False:
            continue
        given.append(flag)
        if parameter:
            values[parameter] = value
    if not given:
        return None
    signature = inspect.signature(entry.function)
    for parameter, flag in entry.cli.items():
        required = parameter and signature.parameters[parameter].default is inspect.Parameter.empty
        if required and parameter not in values:
            raise ParameterError(f"{', '.join(given)} needs {flag} too")
    return values


def build_stage(name: str, values: dict[str, Any]) -> Any:
    """The stage ``name`` with ``values``; a refused value is reported in flags.

    Raises:
        ParameterError: The message names the flag instead of the Python parameter.
    """
    entry = registry.stages()[name]
    try:
        return entry.function(**values)
    except ParameterError as exc:
        message = str(exc)
        for parameter, flag in entry.cli.items():
            if parameter:
                message = re.sub(rf"\b{parameter}\b=?", flag, message)
        raise ParameterError(message) from None

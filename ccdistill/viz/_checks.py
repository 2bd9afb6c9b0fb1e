"""Checks of a value an explorer's control (or a plot function's argument) takes: one sentence
naming the argument, the value, what was expected and what to do; the constructor, update() and
the plot functions call the same ones."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from ccdistill.errors import InputError


def _given(value: Any) -> str:
    return f"{value!r} (a {type(value).__name__})"


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_integer(name: str, value: Any, low: int, high: int, what: str = "") -> int:
    """`value` as an int if it is an integer (not a bool) in [low, high], else InputError."""
    expected = f"{name} must be an integer from {low} to {high}{what}"
    if not _is_integer(value):
        example = low
        if isinstance(value, (str, float)) and not isinstance(value, bool):
            try:
                number = float(value)
                if number.is_integer() and low <= number <= high:
                    example = int(number)
            except ValueError:
                pass
        raise InputError(f"{expected}; got {_given(value)}: pass an int, e.g. {name}={example}")
    if not low <= value <= high:
        raise InputError(f"{expected}; got {value}: pass a value in that range, e.g. {name}={min(max(value, low), high)}")
    return int(value)


def check_number(name: str, value: Any, low: float, high: float, what: str = "") -> float:
    """`value` as a float if it is a finite real number (not a bool) in [low, high], else InputError."""
    expected = f"{name} must be a number from {low:g} to {high:g}{what}"
    if not _is_real(value):
        raise InputError(f"{expected}; got {_given(value)}: pass a float, e.g. {name}={low:g}")
    if not math.isfinite(value) or not low <= value <= high:
        example = min(max(value, low), high) if math.isfinite(value) else low
        raise InputError(f"{expected}; got {value}: pass a value in that range, e.g. {name}={example:g}")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[str], unavailable: Mapping[str, str] | None = None,
                 what: str = "") -> str:
    """`value` if it is one of `choices` (strings), else InputError; a known value that this
    explorer cannot offer (`unavailable`: value → why, with what to do) says why."""
    listed = ", ".join(repr(c) for c in choices)
    if isinstance(value, str) and value in choices:
        return value
    if isinstance(value, str) and unavailable and value in unavailable:
        raise InputError(f"{name}={value!r} is not available here{what}: {unavailable[value]} "
                         f"(available: {listed})")
    raise InputError(f"{name} must be one of {listed}{what}; got {_given(value)}: pass e.g. {name}={choices[0]!r}")


def check_flag(name: str, value: Any) -> bool:
    """`value` if it is a bool, else InputError (1, "yes" and None are not flags)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be True or False; got {_given(value)}: pass {name}=True or {name}=False")
    return bool(value)


def check_count(name: str, value: Any, low: int = 1) -> int:
    """`value` as an int if it is an integer ≥ low (not a bool), else InputError."""
    if not _is_integer(value) or value < low:
        raise InputError(f"{name} must be an integer ≥ {low}; got {_given(value)}: pass e.g. {name}={max(low, 1)}")
    return int(value)

"""Argument checks and small shared pieces of the loss modules.

Every check raises `InputError` with the argument's name, what was expected and what was
given, so a wrong call fails at the loss that received it rather than deep inside a matmul.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection

import torch
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.labels import IGNORE_INDEX  # noqa: F401  (re-exported for the loss modules)

GRANULARITIES = ("image", "token")
DISTANCES = ("l1", "mse")
PAIRS = ("all", "aligned")


def check_choice(name: str, value: str, valid: Collection[str]) -> None:
    """Raise unless `value` is one of `valid` (message lists the valid values)."""
    if value not in valid:
        choices = ", ".join(repr(v) for v in valid)
        raise InputError(f"{name} must be one of {choices}; got {value!r}")


def check_ndim(name: str, t: object, ndim: int, layout: str) -> None:
    """Raise unless `t` is a tensor with `ndim` dimensions (`layout` names them, e.g. 'N×D×H×W')."""
    if not isinstance(t, Tensor):
        raise InputError(f"{name} must be a torch.Tensor of shape {layout}; got {type(t).__name__}")
    if t.dim() != ndim:
        raise InputError(
            f"{name} must have {ndim} dimensions ({layout}); got shape {tuple(t.shape)}"
        )


def check_floating(name: str, t: Tensor) -> None:
    """Raise unless `t` holds floating-point values (cosines and softmaxes need them)."""
    if not t.is_floating_point():
        raise InputError(f"{name} must be a floating-point tensor; got dtype {t.dtype}")


def check_streams(streams: dict[str, Tensor], ndim: int = 4, layout: str = "N×C×H×W") -> None:
    """Check the four streams (keyed by argument name, first one is the reference) are
    floating tensors of `ndim` dimensions with equal shapes, on one device."""
    names = list(streams)
    for name, t in streams.items():
        check_ndim(name, t, ndim, layout)
        check_floating(name, t)
    ref_name = names[0]
    ref = streams[ref_name]
    for name in names[1:]:
        t = streams[name]
        if t.shape != ref.shape:
            raise InputError(
                f"{name} has shape {tuple(t.shape)} but {ref_name} has {tuple(ref.shape)}; "
                f"the four streams must have equal shapes"
            )
        if t.device != ref.device:
            raise InputError(
                f"{name} is on {t.device} but {ref_name} is on {ref.device}; "
                f"the four streams must be on one device"
            )


def check_positive_int(name: str, value: object) -> None:
    """Raise unless `value` is an int ≥ 1 (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}")


def check_unit_interval(name: str, value: float) -> None:
    """Raise unless 0 ≤ value ≤ 1."""
    if not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{name} must lie in [0, 1]; got {value!r}")


def correlation_distance(teacher: Tensor, student: Tensor, distance: str = "l1") -> Tensor:
    """ℓ between two correlations of equal shape: mean absolute ("l1") or squared ("mse") error.

    Returns a scalar; the mean runs over every entry, so the value does not grow with N.
    """
    check_choice("distance", distance, DISTANCES)
    diff = student - teacher
    if distance == "l1":
        return diff.abs().mean()
    return diff.square().mean()


def zero_with_grad(t: Tensor) -> Tensor:
    """A scalar 0 that is still connected to `t`'s graph, so backward() on it is valid."""
    return t.sum() * 0.0


def as_float(t: Tensor) -> Tensor:
    """`t` in at least float32: half-precision tensors are promoted, float64 is kept."""
    if t.dtype in (torch.float32, torch.float64):
        return t
    return t.float()


def full_precision(t: Tensor):
    """A context that switches autocast off on `t`'s device.

    Cosines of nearly equal vectors and Gram entries lose most of their digits in
    bfloat16/float16; the tensors involved are small, so float32 costs next to nothing.
    """
    try:
        return torch.autocast(device_type=t.device.type, enabled=False)
    except RuntimeError:  # a device type autocast does not know: nothing to switch off
        return contextlib.nullcontext()


def stop_gradient(symmetric: bool = False) -> contextlib.AbstractContextManager:
    """sg[·] for the teacher side of a distillation loss: computed without a graph unless
    the `symmetric` ablation is on (cheaper than building a graph and detaching it)."""
    return contextlib.nullcontext() if symmetric else torch.no_grad()


def unit_cosine(z_a: Tensor, z_b: Tensor, pairs: str = "all") -> Tensor:
    """Cosines of unit rows (P×D, Q×D): every row of a with every row of b ("all", P×Q) or
    row i of a with row i of b ("aligned", P; needs P = Q). The rows must already be
    L2-normalised, so a dot product is the cosine."""
    with full_precision(z_a):
        if pairs == "all":
            return z_a @ z_b.T
        return (z_a * z_b).sum(dim=1)

"""Strict state-dict loading that explains a mismatch instead of dumping every key."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ccdistill.errors import CheckpointError

SHOWN_KEYS = 5  # enough to recognise the other architecture without flooding the terminal


def _few(keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS])
    return shown + (f" … ({len(keys)} in all)" if len(keys) > SHOWN_KEYS else "")


def describe_mismatch(expected: Mapping[str, torch.Tensor], given: Mapping[str, object]) -> str:
    """A one-line account of missing, unexpected and wrongly shaped keys; '' when they fit."""
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    wrong_shape = [
        f"{key} {tuple(given[key].shape)} (model: {tuple(tensor.shape)})"
        for key, tensor in expected.items()
        if key in given
        and isinstance(given[key], torch.Tensor)
        and given[key].shape != tensor.shape
    ]
    not_tensors = [
        key for key in expected if key in given and not isinstance(given[key], torch.Tensor)
    ]
    parts = []
    if missing:
        parts.append(f"missing keys: {_few(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_few(unexpected)}")
    if wrong_shape:
        parts.append(f"wrong shapes: {_few(wrong_shape)}")
    if not_tensors:
        parts.append(f"values that are not tensors: {_few(not_tensors)}")
    return "; ".join(parts)


def load_strict(
    module: nn.Module, state_dict: Mapping[str, object], source: str, what_to_do: str
) -> None:
    """Load every tensor of `module` from `state_dict` or raise CheckpointError naming `source`
    (a file name or a description) and a few of the keys that do not fit."""
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(
            f"{source} holds a {type(state_dict).__name__}, but a state dict (a mapping of "
            f"parameter names to tensors) was expected; {what_to_do}"
        )
    problems = describe_mismatch(module.state_dict(), state_dict)
    if problems:
        raise CheckpointError(
            f"{source} does not fit {type(module).__name__} ({problems}); {what_to_do}"
        )
    module.load_state_dict(state_dict, strict=True)

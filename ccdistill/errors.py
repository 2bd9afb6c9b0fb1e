"""Error types whose messages are written for the user: what was given, what was expected,
what to do. The command line and the notebooks print them without a traceback, as
`user_message` words them."""

from __future__ import annotations


class CCDistillError(Exception):
    """Base of every error the package raises on purpose."""


class InputError(CCDistillError, ValueError):
    """A function argument or tensor has the wrong value, shape or type."""


class DataError(CCDistillError):
    """A dataset file or folder is missing, empty, corrupt or inconsistent."""


class ConfigError(CCDistillError, ValueError):
    """A configuration key or value is unknown or invalid."""


class CheckpointError(CCDistillError):
    """A checkpoint cannot be read or does not fit the model it is loaded into."""


class WeightsUnavailableError(CCDistillError, RuntimeError):
    """Pretrained weights were asked for but can be neither downloaded nor read from disk."""


class DependencyError(CCDistillError, ImportError):
    """An optional package a feature needs (ipywidgets for the explorers) is not installed."""


class TrainingDivergedError(CCDistillError):
    """A loss term or a weight to be saved became NaN or infinite; the last good checkpoint is kept."""


def user_message(error: CCDistillError) -> str:
    """The error's own message; for errors re-raised from a DataLoader worker, whose message is
    the worker's whole traceback, only the original message."""
    text = str(error)
    if "DataLoader worker" in text and "Original Traceback" in text:
        marker = f"{type(error).__module__}.{type(error).__qualname__}: "
        if marker in text:
            return text.rsplit(marker, 1)[1].strip()
    return text

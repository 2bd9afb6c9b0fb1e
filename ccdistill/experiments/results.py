"""Result files of the registry runs: one small JSON per (row, seed), committed to git.

A result holds the row, variant, seed, the full resolved config, the deployed model's metrics on
target-night val and test (mIoU, per-class IoU, pixel accuracy, confusion matrix), for
`source_only` also source day and target day, the training wall-clock, and the environment.
Every write goes to a temporary file first and is renamed into place, so a killed process never
leaves a half-written result (which `run` would otherwise take for a finished run).
"""

from __future__ import annotations

import dataclasses
import datetime as _datetime
import math
import os
import platform
from typing import Any

import numpy as np
import torch

from ccdistill.config import Config, config_to_dict
from ccdistill.runfolder.files import read_json, write_json_atomic  # noqa: F401 (the result files' reader and writer)

RESULT_FORMAT = "ccdistill-experiment-result-v1"
NIGHT_SPLITS: tuple[str, ...] = ("val", "test")
# Placement keys: where files live and how the machine runs, not what is trained. A result or a
# run folder written elsewhere (another machine, another data path) still matches the registry.
PLACEMENT_KEYS: frozenset[str] = frozenset({
    "output", "data.root", "data.num_workers", "train.device", "train.progress", "model.init_checkpoint",
})


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN: a class absent from ground truth and prediction is stored as null."""
    value = float(value)
    return value if math.isfinite(value) else None


def metrics_summary(result: dict[str, Any], with_confusion: bool = True) -> dict[str, Any]:
    """The JSON-ready part of a `ConfusionMatrix.compute()` dict (fractions in [0, 1])."""
    summary = {
        "miou": _finite_or_none(result["miou"]),
        "per_class_iou": [_finite_or_none(v) for v in np.asarray(result["per_class_iou"])],
        "pixel_accuracy": _finite_or_none(result["pixel_accuracy"]),
        "mean_accuracy": _finite_or_none(result["mean_accuracy"]),
        "num_pixels": int(result["num_pixels"]),
    }
    if with_confusion:
        summary["confusion"] = np.asarray(result["confusion"]).astype(int).tolist()
    return summary


def environment() -> dict[str, Any]:
    """What the wall-clock numbers depend on."""
    return {
        "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
        "system": platform.system(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def now() -> str:
    """UTC time, ISO 8601 to the second."""
    return _datetime.datetime.now(_datetime.timezone.utc).replace(microsecond=0).isoformat()


def flat_config(config: Config | dict[str, Any]) -> dict[str, Any]:
    """{'train.max_iterations': 400, ...} of a Config or of its config_to_dict."""
    tree = config_to_dict(config) if dataclasses.is_dataclass(config) else config
    flat: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    walk(tree, "")
    return flat


def config_differences(expected: Config, found: dict[str, Any]) -> list[str]:
    """'key: found X, registry says Y' for each non-placement key where `found` (a stored
    config_to_dict) differs from `expected`. A key that `found` lacks counts as its default:
    keys added to the schema later default to the behaviour that came before them."""
    want, have, default = flat_config(expected), flat_config(found), flat_config(Config())
    return [f"{key}: found {have.get(key)!r}, the registry resolves {want.get(key)!r}"
            for key in sorted(set(want) | set(have))
            if key not in PLACEMENT_KEYS and want.get(key) != have.get(key, default.get(key))]

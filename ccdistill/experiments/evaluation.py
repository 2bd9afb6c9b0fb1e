"""Evaluate a run's deployed model the way `ccdistill eval` does, on every split a result needs.

Target night val and test come from `build_datasets(config.data).evaluation` with
`data.eval_split` set, as in `ccdistill eval --split`. For `source_only` the domain shift is
measured too: source day (the source val split) and target day (ToyCity's day references with
their own labels); every dataset uses the evaluation dataset's transform, so the normalisation
and the network input size are the same for all of them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from ccdistill.config import Config
from ccdistill.experiments.results import NIGHT_SPLITS, metrics_summary

# The domain-shift splits of ToyCity, as named in a result file's `metrics`.
SHIFT_SPLITS: tuple[str, ...] = ("source_day_val", "target_day_val", "target_day_test")


def night_dataset(config: Config, split: str, normalization: Any = None):
    """The target-night evaluation dataset of `split` ("val" or "test"), as `ccdistill eval` builds
    it, normalised with `normalization` (default: the config's architecture's)."""
    from ccdistill.data.build import build_evaluation
    from ccdistill.models import input_normalization

    data = dataclasses.replace(config.data, eval_split=split)
    return build_evaluation(data, normalization or input_normalization(config.model.arch))


def shift_datasets(config: Config, normalization: Any = None) -> dict[str, Any]:
    """{source_day_val, target_day_val, target_day_test: dataset} for ToyCity ({} otherwise:
    real target-day images have no labels)."""
    if config.data.dataset != "toycity":
        return {}
    from ccdistill.data import CityscapesDataset
    from ccdistill.data.build import TOY_SOURCE
    from ccdistill.data.toycity_target_day import ToyCityTargetDay

    transform = night_dataset(config, "val", normalization).transform
    root = Path(config.data.root)
    datasets = (CityscapesDataset(root / TOY_SOURCE, "val", transform), ToyCityTargetDay(root, "val", transform),
                ToyCityTargetDay(root, "test", transform))
    return dict(zip(SHIFT_SPLITS, datasets))


def evaluate_deployed(config: Config, deploy_path: str | Path, device: torch.device | str = "cpu",
                      domain_shift: bool = False, splits: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """{"val": metrics, "test": metrics[, "source_day_val", "target_day_val", "target_day_test"]}
    of the deployed segmenter in `deploy_path` (metrics as `metrics_summary`), every image of
    each split, at `config.data.eval_size`; `splits` keeps only the named ones."""
    from ccdistill.runfolder.checkpoint import load_deployed
    from ccdistill.evaluation import evaluate

    from ccdistill.data import Normalization

    segmenter, meta = load_deployed(deploy_path, map_location=device)
    normalization = Normalization.from_meta(meta)  # as the model was trained
    datasets = {split: night_dataset(config, split, normalization) for split in NIGHT_SPLITS}
    if domain_shift:
        datasets.update(shift_datasets(config, normalization))
    if splits is not None:  # e.g. only the val splits while choosing settings
        datasets = {name: dataset for name, dataset in datasets.items() if name in splits}
    metrics = {}
    for name, dataset in datasets.items():
        result, _ = evaluate(segmenter, dataset, size=config.data.eval_size, device=device, progress=False)
        metrics[name] = metrics_summary(result, with_confusion=name in NIGHT_SPLITS)
    return metrics

"""Explorers that compare runs, each built from run folders in one call.

    browser = prediction_browser({"source-only": "runs/so", "CCDistill": "runs/full"}, nb.root)
    view = embedding_view({"before": "runs/so", "after": "runs/full"})

A run is given as its folder, a deploy.pt path, a `TrainedRun` or a segmenter already loaded;
images are fed at the evaluation size the run recorded (`data.eval_size` in deploy.pt's meta),
normalised as the model was trained (the explorers read the segmenter's own normalisation).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Sequence

import torch

from ccdistill.errors import InputError

RunLike = Any  # str | os.PathLike | TrainedRun | torch.nn.Module
EMBEDDING_DOMAINS = ("S_d", "T_n")  # what adaptation must bring together: source day, target night
STREAM_LABELS = {"S_d": "label", "S_n": "label", "T_n": "label_T_n"}  # toy_streams' label of each stream


def load_runs(runs: Mapping[str, RunLike], device: str | torch.device = "cpu") -> tuple[dict[str, Any], tuple | None]:
    """{name: run} -> ({name: segmenter in eval mode}, the first run's recorded eval size or None)."""
    from ccdistill.runfolder.checkpoint import load_deployed
    from ccdistill.workflow.runs import TrainedRun, deploy_path

    if not runs:
        raise InputError("runs is empty; pass {name: run folder}, e.g. {'source-only': so.folder, 'CCDistill': full.folder}")
    models, size = {}, None
    for name, run in runs.items():
        if isinstance(run, torch.nn.Module):
            models[name] = run.eval()
            continue
        if isinstance(run, TrainedRun):
            models[name], meta = run.segmenter.eval(), run.meta
        else:
            models[name], meta = load_deployed(deploy_path(run), map_location=device)
        if size is None and meta.get("eval_size"):
            size = tuple(meta["eval_size"])
    return models, size


def prediction_browser(
    runs: Mapping[str, RunLike],
    root: str | os.PathLike,
    split: str = "val",
    max_images: int | None = 12,
    size: tuple[int, int] | None = None,
) -> Any:
    """A `PredictionBrowser` of a ToyCity split for several runs (e.g. source-only vs CCDistill).

    Args:
        runs: {name: run folder | deploy.pt | TrainedRun | segmenter}.
        root: the ToyCity folder (`setup().root`).
        split: "val" or "test".
        max_images: the first images only (every prediction is computed up front).
        size: (H, W) the networks see (default: the runs' recorded eval size, else native).
    """
    from ccdistill.viz import PredictionBrowser, load_toycity_split

    models, recorded = load_runs(runs)
    return PredictionBrowser(models, load_toycity_split(root, split, max_images, size or recorded))


def embedding_view(
    runs: Mapping[str, RunLike],
    domains: Sequence[str] = EMBEDDING_DOMAINS,
    n: int = 4,
    seed: int = 0,
    size: tuple[int, int] | None = None,
    max_points: int = 2000,
) -> Any:
    """An `EmbeddingView` of several runs' features on ToyCity scenes rendered in memory.

    Args:
        runs: {name: run}, e.g. {"before (source-only)": so, "after (CCDistill)": full}.
        domains: streams of `toy_streams` to embed (default S_d and T_n: source day, on which
            both were trained with labels, and target night, which adaptation is for); each of
            S_d, S_n, T_n has labels, so points can be coloured by class.
        n, seed: how many scenes, which ones.
        size: (H, W) of the renderings (default: the runs' recorded eval size, else 128×256).
        max_points: feature cells drawn (`sample_points`).
    """
    from ccdistill.viz import EmbeddingView, toy_streams

    unknown = [d for d in domains if d not in ("S_d", "S_n", "T_d", "T_n")]
    if unknown or not domains:
        raise InputError(f"domains must be streams among S_d, S_n, T_d, T_n; got {list(domains)}")
    models, recorded = load_runs(runs)
    streams = toy_streams(n=n, size=size or recorded or (128, 256), seed=seed)
    labelled = all(d in STREAM_LABELS for d in domains)
    labels = {d: streams[STREAM_LABELS[d]] for d in domains} if labelled else None
    return EmbeddingView(models, {d: streams[d] for d in domains}, labels, max_points=max_points, seed=seed)

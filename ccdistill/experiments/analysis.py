"""What the runs did beyond one mIoU (docs/RESULTS.md, "Analysis"): class groups, the pseudo
labels' quality, and the correlation-consistency gaps of the trained networks.

- `class_group_miou`: the mIoU of the static classes (trainIds 0-10, the only ones the pseudo
  labels cover) and of the dynamic ones (11-18), from a result file's per-class IoU.
- the pseudo labels' per-class precision and coverage on the target training pairs, against
  ToyCity's true target-night labels (`ccdistill.evaluation.pseudo_labels`).
- `correlation_gaps`: on a fixed batch, with every network in eval mode (what the deployed M_n
  computes, not the per-stream BatchNorm statistics of a training step), the inherent gap
  mean|Cor(S_d,T_d) − Cor(S_n,T_n)| and the illumination gap mean|Cor_illu(S_d,S_n) −
  Cor_illu(T_d,T_n)| on the segmenter features F (image granularity), and how far M_n's mean
  feature moves between paired T_d and T_n.

`analyse_run` computes the last two from a finished run folder (its last checkpoint, or the
deploy.pt of `source_only`) and `python -m ccdistill.experiments analyse` writes one JSON per
run into `<results dir>/analysis/`, which the table reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from ccdistill.config import Config
from ccdistill.labels import DYNAMIC_CLASSES, STATIC_CLASSES

ANALYSIS_DIR = "analysis"  # below the results folder
ANALYSIS_FORMAT = "ccdistill-run-analysis-v1"
GAP_BATCH = 8  # images per stream for the correlation gaps
PSEUDO_PAIRS = 50  # target training pairs scored for the pseudo labels (a quarter of ToyCity's)
CLASS_GROUPS: dict[str, tuple[int, ...]] = {"static": STATIC_CLASSES, "dynamic": DYNAMIC_CLASSES}


def class_group_miou(per_class_iou: list[float | None], group: str) -> float:
    """Mean IoU over the classes of `group` ("static" or "dynamic") that have a value (NaN when
    none has); `per_class_iou` is a result file's list (fractions, None for absent classes)."""
    values = [per_class_iou[k] for k in CLASS_GROUPS[group] if per_class_iou[k] is not None]
    return float(np.mean(values)) if values else float("nan")


# ------------------------------------------------------------------------------ correlation gaps
def stream_batch(config: Config, size: int = GAP_BATCH) -> dict[str, torch.Tensor]:
    """{S_d, S_n, T_d, T_n: size×3×H×W}: the first `size` (at most all) source and target
    training items of epoch 0, normalised as the architecture expects (augmentations are a function of the seed
    and index, so the batch is the same for every run of a seed)."""
    from ccdistill.data import build_datasets
    from ccdistill.models import input_normalization

    bundle = build_datasets(config.data, seed=config.train.seed, normalization=input_normalization(config.model.arch))
    source = [bundle.source[i] for i in range(min(size, len(bundle.source)))]
    target = [bundle.target[i] for i in range(min(size, len(bundle.target)))]
    return {stream: torch.stack([sample[stream] for sample in (source if stream in ("S_d", "S_n") else target)])
            for stream in ("S_d", "S_n", "T_d", "T_n")}


@torch.no_grad()
def correlation_gaps(day: nn.Module, night: nn.Module, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """The correlation-consistency gaps of M_d (`day`) and M_n (`night`), both in eval mode, on
    the features F of `batch` at image granularity:

    inherent = mean |Cor(S_d,T_d) − Cor(S_n,T_n)| (all N×N entries, what CDC's first half reads),
    illumination = mean |Cor(S_d,S_n)_ii − Cor(T_d,T_n)_ii| (the aligned pairs CDC's second half
    reads), the two illumination correlations' means, and night_shift = ‖mean F_n(T_n) − mean
    F_n(T_d)‖ / ‖mean F_n(T_d)‖: how far the deployed M_n's features move from day to night.
    """
    from ccdistill.losses import content_correlation

    day.eval(), night.eval()
    f = {s: (day if s in ("S_d", "T_d") else night)(x).features for s, x in batch.items()}
    cor = {name: content_correlation(f[a], f[b], "image", pairs=pairs)
           for name, a, b, pairs in (("in_d", "S_d", "T_d", "all"), ("in_n", "S_n", "T_n", "all"),
                                     ("illu_S", "S_d", "S_n", "aligned"), ("illu_T", "T_d", "T_n", "aligned"))}
    mean_day = night(batch["T_d"]).features.mean(dim=(0, 2, 3))
    mean_night = f["T_n"].mean(dim=(0, 2, 3))
    return {"inherent_gap": float((cor["in_d"] - cor["in_n"]).abs().mean()),
            "illumination_gap": float((cor["illu_S"] - cor["illu_T"]).abs().mean()),
            "cor_illu_S": float(cor["illu_S"].mean()), "cor_illu_T": float(cor["illu_T"].mean()),
            "night_shift": float((mean_night - mean_day).norm() / mean_day.norm().clamp_min(1e-12))}


# ------------------------------------------------------------------------------ one run
def run_model(config: Config) -> tuple[nn.Module, str]:
    """The whole training model of the finished run folder `config.output` (M_d, M_n and the
    projection head, which deploy.pt leaves out) from its newest checkpoint, in eval mode, and the
    checkpoint's file name."""
    from ccdistill.runfolder.checkpoint import TRAIN_FORMAT, read_checkpoint
    from ccdistill.runfolder.names import checkpoint_name
    from ccdistill.errors import CheckpointError
    from ccdistill.runfolder.resume import newest_checkpoint_iteration
    from ccdistill.models import CCDistillModel

    folder = Path(config.output)
    iteration = newest_checkpoint_iteration(folder)
    if not iteration:
        raise CheckpointError(f"run folder {folder} has no ckpt_*.pt to load; train the run first "
                              "(python -m ccdistill.experiments run --rows ROW --seeds K, or train_or_load)")
    m = config.model
    model = CCDistillModel(m.arch, m.num_classes, weights=None, share_weights=m.share_weights,
                           projection=m.projection, embedding_dim=m.embedding_dim)
    model.load_state_dict(read_checkpoint(folder / checkpoint_name(iteration), TRAIN_FORMAT)["model"])
    return model.eval(), checkpoint_name(iteration)


def run_networks(config: Config) -> tuple[nn.Module, nn.Module, str]:
    """(M_d, M_n, the file they came from) of the finished run folder `config.output` (`run_model`);
    for a variant that deploys M_d (`source_only`, whose M_n never trained) M_d serves as both,
    which is where stage 2 starts."""
    from ccdistill.config.schema import DEPLOYED_STREAM

    model, source = run_model(config)
    night = model.segmenter_day if DEPLOYED_STREAM[config.variant] == "day" else model.segmenter_night
    return model.segmenter_day, night, source


def analyse_run(config: Config) -> dict[str, Any]:
    """The analysis of one finished run: the pseudo-label quality of its M_d (its rule, on the
    first `PSEUDO_PAIRS` target training pairs at `data.eval_size`) and its correlation gaps."""
    from ccdistill.data import build_datasets
    from ccdistill.evaluation.pseudo_labels import pseudo_label_counts, pseudo_label_quality
    from ccdistill.models import input_normalization

    day, night, source = run_networks(config)
    bundle = build_datasets(config.data, seed=config.train.seed, normalization=input_normalization(config.model.arch))
    counts = pseudo_label_counts(day, bundle.target.pairs, config.data.eval_size, config.distill.pseudo_rule,
                                 config.distill.confidence_threshold, max_pairs=PSEUDO_PAIRS,
                                 num_classes=config.model.num_classes)
    return {"format": ANALYSIS_FORMAT, "networks": source, "pseudo_pairs": min(PSEUDO_PAIRS, len(bundle.target.pairs)),
            "pseudo_labels": pseudo_label_quality(counts),
            "correlation_gaps": correlation_gaps(day, night, stream_batch(config))}

"""How good the pseudo labels are: the day network's prediction on T_d, turned into labels for
the paired T_n (`ccdistill.losses.pseudo_labels`), scored against the true night labels.

Only ToyCity has labels for its target training nights, so only there can the signal that the
pseudo-label term trains M_n on be checked pixel by pixel:

    counts = pseudo_label_counts(M_d, pairs, size=(128, 256))   # (K+1)×K: pseudo label × truth
    quality = pseudo_label_quality(counts)                      # per-class precision, coverage
    plot_pseudo_label_quality(quality); plot_pseudo_label_example(pseudo_label_example(M_d, pairs))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ccdistill.labels import CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES, STATIC_CLASSES, colorize

__all__ = ["pseudo_label_example", "pseudo_label_counts", "pseudo_label_quality", "plot_pseudo_label_example",
           "plot_pseudo_label_quality"]


@torch.no_grad()
def pseudo_label_example(teacher: nn.Module, pairs: Any, index: int = 0, size: tuple[int, int] | None = None,
                         rule: str = "static", confidence_threshold: float = 0.9) -> dict[str, np.ndarray]:
    """One target training pair through the pseudo-label rule.

    Args:
        teacher: M_d (a segmenter with `.normalization()`, e.g. a deployed `source_only`).
        pairs: the target training pairs (`DarkZurichPairs`/`ACDCNight` with `image_ref` and,
            for scoring, `label`): `build_datasets(config.data).target.pairs`.
        index: which pair.
        size: (H, W) the network sees (`data.eval_size`); None = the native size.
        rule, confidence_threshold: as `ccdistill.losses.pseudo_labels`.

    Returns:
        {"T_d", "T_n": H×W×3 uint8, "P_Td": H×W trainIds (argmax of the day prediction),
        "pseudo": H×W trainIds or IGNORE_INDEX, "label_T_n": H×W true night trainIds (if any)}.
    """
    from ccdistill.data.transforms import image_to_tensor
    from ccdistill.evaluation.inference import predict
    from ccdistill.losses import pseudo_labels

    sample = pairs.load(index)
    day = image_to_tensor(sample["image_ref"], teacher.normalization()).unsqueeze(0)
    day = day.to(next(teacher.parameters()).device)
    probabilities = predict(teacher, day, size=size, output_size=sample["image"].shape[:2])
    # The rule reads the softmax of its input: log-probabilities give back these probabilities.
    pseudo = pseudo_labels(probabilities.clamp_min(1e-12).log(), rule, confidence_threshold=confidence_threshold)
    example = {"T_d": sample["image_ref"], "T_n": sample["image"],
               "P_Td": probabilities.argmax(dim=1)[0].cpu().numpy(), "pseudo": pseudo[0].cpu().numpy()}
    if sample.get("label") is not None:
        example["label_T_n"] = sample["label"]
    return example


def pseudo_label_counts(teacher: nn.Module, pairs: Any, size: tuple[int, int] | None = None, rule: str = "static",
                        confidence_threshold: float = 0.9, max_pairs: int | None = None,
                        num_classes: int = NUM_CLASSES) -> np.ndarray:
    """(K+1)×K pixel counts over the pairs: row = the pseudo label (the last row: ignored),
    column = the true night label (pixels the truth ignores are left out). Arguments as
    `pseudo_label_example`; `max_pairs` limits the count to the first pairs."""
    counts = np.zeros((num_classes + 1, num_classes), dtype=np.int64)
    for index in range(len(pairs) if max_pairs is None else min(max_pairs, len(pairs))):
        example = pseudo_label_example(teacher, pairs, index, size, rule, confidence_threshold)
        truth, pseudo = example["label_T_n"].astype(np.int64), example["pseudo"].astype(np.int64)
        valid = truth != IGNORE_INDEX
        rows = np.where(pseudo[valid] == IGNORE_INDEX, num_classes, pseudo[valid])
        counts += np.bincount(rows * num_classes + truth[valid],
                              minlength=(num_classes + 1) * num_classes).reshape(num_classes + 1, num_classes)
    return counts


def pseudo_label_quality(counts: np.ndarray) -> dict[str, Any]:
    """Per class k, from `pseudo_label_counts`: precision = pixels labelled k that truly are k /
    pixels labelled k; coverage = pixels of true class k labelled k / pixels of true class k
    (None where a denominator is 0); the share of pixels left ignored; the pixel precision."""
    k = counts.shape[1]
    correct = np.diag(counts[:k])
    labelled, present = counts[:k].sum(axis=1), counts.sum(axis=0)

    def ratio(a: np.ndarray, b: np.ndarray) -> list[float | None]:
        return [float(x / y) if y else None for x, y in zip(a, b)]

    return {"classes": list(CLASS_NAMES[:k]), "precision": ratio(correct, labelled),
            "coverage": ratio(correct, present), "ignored_fraction": float(counts[k].sum() / max(counts.sum(), 1)),
            "pixel_precision": float(correct.sum() / max(labelled.sum(), 1))}


def plot_pseudo_label_quality(quality: dict[str, Any], title: str = "") -> Figure:
    """Per-class precision and coverage (%) as paired bars; classes absent from the truth are
    left out, and the dynamic classes (which the static rule never labels) are shaded."""
    shown = [k for k, c in enumerate(quality["coverage"]) if c is not None]
    figure = Figure(figsize=(8, 3.2), dpi=120, layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(shown))
    for offset, key, colour in ((-0.2, "precision", "#2171b5"), (0.2, "coverage", "#fd8d3c")):
        values = [100 * (quality[key][k] or 0.0) for k in shown]
        ax.bar(x + offset, values, width=0.4, color=colour, label=key)
    for position, k in enumerate(shown):
        if k not in STATIC_CLASSES:
            ax.axvspan(position - 0.5, position + 0.5, color="0.9", zorder=0)
    ax.set_xticks(x, [quality["classes"][k] for k in shown], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("% of pixels")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or f"pseudo labels vs true night labels (grey: dynamic classes, never labelled); "
                 f"{100 * quality['ignored_fraction']:.0f} % of pixels ignored", fontsize=9)
    return figure


def plot_pseudo_label_example(example: dict[str, np.ndarray]) -> Figure:
    """T_d, its prediction P_Td, the pseudo label it gives T_n (ignored pixels black), T_n and
    its true label, in one row."""
    panels = [("T_d (day)", example["T_d"]), ("P_Td: M_d's day prediction", colorize(example["P_Td"])),
              ("pseudo label for T_n (black: ignored)", colorize(example["pseudo"])),
              ("T_n (night)", example["T_n"])]
    if "label_T_n" in example:
        panels.append(("true night label (ToyCity only)", colorize(example["label_T_n"])))
    figure = Figure(figsize=(3.2 * len(panels), 2.1), dpi=120, layout="constrained")
    for ax, (title, image) in zip(figure.subplots(1, len(panels)), panels):
        ax.imshow(image)
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    return figure

"""Which loss terms move the night network, and how much: the table a reviewer asks for when
an ablation shows no effect.

For one batch, every enabled term of the total loss (docs/METHOD.md, section 7) is reported
with its value, its weighted share of the total, and the norm of its weighted gradient at M_n's
features (F_Sn and F_Tn, the maps M_n's classifier and the distillation terms read). A term
whose gradient share is tiny cannot change the deployed model, whatever its value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ccdistill.losses import ccdistill_loss
from ccdistill.train.forward import stream_images

NIGHT_STREAMS = ("S_n", "T_n")  # the streams M_n segments


@dataclass(frozen=True)
class TermReport:
    """One row of the table. `value` is unweighted; `weight` = λ·r(t); shares are in [0, 1]."""

    term: str
    value: float
    weight: float
    value_share: float  # |λ r value| / Σ |λ r value|
    grad_norm: float  # ‖∂(λ r value)/∂(F_Sn, F_Tn)‖₂
    grad_share: float  # grad_norm / Σ grad_norm


def term_reports(trainer, source: dict, target: dict, iteration: int | None = None) -> list[TermReport]:
    """The table for one batch, computed with the trainer's own forward and loss.

    Args:
        trainer: a `ccdistill.train.Trainer` (its model, stream plan and config are used).
        source, target: one batch of each loader (`next(trainer.source)`, `next(trainer.target)`).
        iteration: where in training to read the warm-ups; default past every warm-up, so the
            weights are those the term has for most of the run.
    """
    config = trainer.config
    max_iterations = config.train.max_iterations
    iteration = max_iterations - 1 if iteration is None else iteration
    images = stream_images(source, target, trainer.plan.streams, trainer.device)
    label_Tn = target.get("label_T_n") if config.loss.oracle > 0 else None
    outputs, embeddings = trainer.forward(images)
    terms = ccdistill_loss(outputs, embeddings, source["label"].to(trainer.device), config.loss,
                           config.distill, iteration=iteration, max_iterations=max_iterations,
                           label_Tn=None if label_Tn is None else label_Tn.to(trainer.device))
    night_features = [outputs[s].features for s in NIGHT_STREAMS if s in outputs]
    rows = []
    for name, value in terms.items():
        if name == "total":
            continue
        weight = getattr(config.loss, name) * config.loss.ramp(name, iteration, max_iterations)
        grads = torch.autograd.grad(weight * value, night_features, retain_graph=True, allow_unused=True)
        norm = math.sqrt(sum(float(g.square().sum()) for g in grads if g is not None))
        rows.append((name, float(value.detach()), weight, norm))
    value_total = sum(abs(w * v) for _, v, w, _ in rows) or 1.0
    grad_total = sum(n for *_, n in rows) or 1.0
    return [TermReport(name, v, w, abs(w * v) / value_total, n, n / grad_total) for name, v, w, n in rows]


def format_reports(rows: list[TermReport], title: str = "") -> str:
    """A fixed-width table of `term_reports`."""
    lines = [title] if title else []
    lines.append(f"{'term':<10}{'value':>10}{'λ·r(t)':>9}{'value share':>13}{'‖grad‖ at F_n':>15}{'grad share':>12}")
    for r in rows:
        lines.append(f"{r.term:<10}{r.value:>10.4f}{r.weight:>9.3f}{100 * r.value_share:>12.1f}%"
                     f"{r.grad_norm:>15.3e}{100 * r.grad_share:>11.1f}%")
    return "\n".join(lines)

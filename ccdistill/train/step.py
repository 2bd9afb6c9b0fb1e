"""One optimiser step of the Trainer: the learning rate of the poly schedule, the forward of the
streams and the loss equation (docs/METHOD.md, section 7),

    L = L_seg(P_Sd) + L_seg(P_Sn) + λ_pseudo L_pseudo + λ_cdc L_CDC + λ_js L_JS + λ_cds L_CDS

(`ccdistill.losses.ccdistill_loss`), the backward over `grad_accum` micro-batches, the step."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ccdistill.config import Config
from ccdistill.errors import TrainingDivergedError
from ccdistill.losses import ccdistill_loss
from ccdistill.runtime.distributed import DistributedContext
from ccdistill.train.forward import StreamPlan, stream_images

__all__ = ["TrainingStep", "poly_lr", "set_bn_eval"]


def poly_lr(base_lr: float, iteration: int, max_iterations: int, power: float) -> float:
    """Poly decay: base_lr · (1 − i/max)^power."""
    return base_lr * (1.0 - iteration / max_iterations) ** power


def set_bn_eval(module: nn.Module) -> None:
    """Put every BatchNorm of `module` in eval mode (frozen running statistics)."""
    for child in module.modules():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            child.eval()


class TrainingStep:
    """One optimiser step, given everything it uses when the Trainer builds it.

    Args:
        config: the run's configuration (losses, optimiser schedule, grad_accum, freeze_bn).
        context: the processes (a non-finite loss on any rank stops every rank).
        plan: the streams the variant needs.
        model: M_d, M_n and the head (trained in place); forward: its StreamForward (DDP-wrapped
            when several processes train).
        optimizer, scaler: the optimiser and the gradient scaler of mixed precision.
        amp_dtype: the autocast dtype, or None for float32; the autocast context is built here, once.
        output: the run folder (named when a loss becomes non-finite).
    """

    def __init__(self, config: Config, context: DistributedContext, plan: StreamPlan, model: nn.Module,
                 forward: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
                 amp_dtype: torch.dtype | None, output: Path) -> None:
        self.config, self.context, self.device, self.plan = config, context, context.device, plan
        self.model, self.forward, self.optimizer, self.scaler = model, forward, optimizer, scaler
        self.amp_dtype, self.output = amp_dtype, output
        # One context for every step (a torch.autocast may be entered again once exited).
        self.autocast: Any = (torch.autocast(self.device.type, dtype=amp_dtype) if amp_dtype
                              else contextlib.nullcontext())

    def set_learning_rate(self, iteration: int) -> float:
        """Set every group's rate for the coming step (poly decay × the group's lr_mult)."""
        o = self.config.optim
        lr = poly_lr(o.lr, iteration, self.config.train.max_iterations, o.poly_power)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_mult"]
        return lr

    def compute_losses(self, source: dict, target: dict, iteration: int) -> dict[str, torch.Tensor]:
        """Forward the streams and evaluate every enabled term of the total loss (docs/METHOD.md, 7)."""
        images = stream_images(source, target, self.plan.streams, self.device)
        with self.autocast:
            outputs, embeddings = self.forward(images)
            label_Tn = target.get("label_T_n") if self.config.loss.oracle > 0 else None
            return ccdistill_loss(
                outputs, embeddings, label_S=source["label"].to(self.device, non_blocking=True),
                weights=self.config.loss, options=self.config.distill, iteration=iteration,
                max_iterations=self.config.train.max_iterations,
                label_Tn=label_Tn.to(self.device, non_blocking=True) if label_Tn is not None else None)

    def _check_finite(self, values: dict[str, float], iteration: int) -> None:
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if not self.context.all_true(not bad):
            where = f"term(s) {', '.join(bad)}" if bad else "a term on another rank"
            raise TrainingDivergedError(
                f"the loss became non-finite at iteration {iteration + 1}: {where}. Training "
                f"stopped; the last good checkpoint in {self.output} is kept. Lower optim.lr, "
                "check the data, or set train.amp=off.")

    def __call__(self, source_loader: Any, target_loader: Any, iteration: int,
                 emit: Callable[[str], None] = lambda event: None) -> dict[str, float]:
        """Step `iteration` -> `iteration + 1` over `grad_accum` micro-batches drawn from the
        loaders (target_loader None when no T stream is needed); returns the logged terms.
        `emit("after_backward")` is called between the backward and the optimiser step (the
        Trainer's hooks; passed per call, so the step holds no reference back to the Trainer)."""
        self.model.train()
        if self.config.model.freeze_bn:
            # Only the segmenters: the projection head is fresh and must learn its statistics.
            for segmenter in self.model.segmenters():
                set_bn_eval(segmenter)
        lr = self.set_learning_rate(iteration)
        self.optimizer.zero_grad(set_to_none=True)
        accumulate = self.config.train.grad_accum
        logged: dict[str, float] = {}
        for micro in range(accumulate):
            source = next(source_loader)
            target = next(target_loader) if target_loader is not None else {}
            sync = micro == accumulate - 1 or not self.context.enabled
            with contextlib.nullcontext() if sync else self.forward.no_sync():
                terms = self.compute_losses(source, target, iteration)
                # One device-to-host copy of every term, for the finiteness check and the log.
                values = dict(zip(terms, torch.stack([v.detach().float() for v in terms.values()]).tolist()))
                self._check_finite(values, iteration)
                self.scaler.scale(terms["total"] / accumulate).backward()
            for name, value in values.items():
                logged[name] = logged.get(name, 0.0) + value / accumulate
        emit("after_backward")
        self.scaler.step(self.optimizer)
        self.scaler.update()
        logged["lr"] = lr
        return logged

"""One optimiser step of the Trainer: the learning rate of the poly schedule, the forward of the
streams and the loss equation of SPEC 4.6,

    L = L_seg(P_Sd) + L_seg(P_Sn) + λ_pseudo L_pseudo + λ_cdc L_CDC + λ_js L_JS + λ_cds L_CDS

(`ccdistill.losses.ccdistill_loss`), the backward over `grad_accum` micro-batches, the step."""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from ccdistill.errors import TrainingDivergedError
from ccdistill.losses import ccdistill_loss
from ccdistill.train.forward import stream_images

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
    """Mixed into `Trainer`: its step. Reads the state Trainer.__init__ sets (config, context,
    device, plan, model, forward, optimizer, scaler, amp_dtype, source, target, iteration)."""

    def set_learning_rate(self) -> float:
        """Set every group's rate for the coming step (poly decay × the group's lr_mult)."""
        o = self.config.optim
        lr = poly_lr(o.lr, self.iteration, self.config.train.max_iterations, o.poly_power)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_mult"]
        return lr

    def compute_losses(self, source: dict, target: dict) -> dict[str, torch.Tensor]:
        """Forward the streams and evaluate every enabled term of SPEC 4.6."""
        images = stream_images(source, target, self.plan.streams, self.device)
        autocast = (torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype
                    else contextlib.nullcontext())
        with autocast:
            outputs, embeddings = self.forward(images)
            label_Tn = target.get("label_T_n") if self.config.loss.oracle > 0 else None
            return ccdistill_loss(
                outputs, embeddings, label_S=source["label"].to(self.device, non_blocking=True),
                weights=self.config.loss, options=self.config.distill, iteration=self.iteration,
                max_iterations=self.config.train.max_iterations,
                label_Tn=label_Tn.to(self.device, non_blocking=True) if label_Tn is not None else None)

    def _check_finite(self, values: dict[str, float]) -> None:
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if not self.context.all_true(not bad):
            where = f"term(s) {', '.join(bad)}" if bad else "a term on another rank"
            raise TrainingDivergedError(
                f"the loss became non-finite at iteration {self.iteration + 1}: {where}. Training "
                f"stopped; the last good checkpoint in {self.output} is kept. Lower optim.lr, "
                "check the data, or set train.amp=off.")

    def train_step(self) -> dict[str, float]:
        """One optimiser step over `grad_accum` micro-batches; returns the logged terms."""
        self.model.train()
        if self.config.model.freeze_bn:
            # Only the segmenters: the projection head is fresh and must learn its statistics.
            for segmenter in {id(m): m for m in (self.model.segmenter_day, self.model.segmenter_night)}.values():
                set_bn_eval(segmenter)
        lr = self.set_learning_rate()
        self.optimizer.zero_grad(set_to_none=True)
        accumulate = self.config.train.grad_accum
        logged: dict[str, float] = {}
        for micro in range(accumulate):
            source = next(self.source)
            target = next(self.target) if self.target is not None else {}
            sync = micro == accumulate - 1 or not self.context.enabled
            with contextlib.nullcontext() if sync else self.forward.no_sync():
                terms = self.compute_losses(source, target)
                # One device-to-host copy of every term, for the finiteness check and the log.
                values = dict(zip(terms, torch.stack([v.detach().float() for v in terms.values()]).tolist()))
                self._check_finite(values)
                self.scaler.scale(terms["total"] / accumulate).backward()
            for name, value in values.items():
                logged[name] = logged.get(name, 0.0) + value / accumulate
        self._emit("after_backward")
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.iteration += 1
        logged["lr"] = lr
        return logged

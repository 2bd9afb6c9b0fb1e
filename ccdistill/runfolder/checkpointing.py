"""A training's checkpoints: resuming from the newest `ckpt_<7 digits>.pt` of its run folder,
saving training checkpoints, `best.pt` and the deployable `deploy.pt`, and refusing to save
weights that are not finite (docs/TRAINING.md, "Checkpoints and resuming").

`TrainingCheckpoints` is given everything it saves and restores when the Trainer builds it; the
counters that change as the run goes (iteration, best validation mIoU) are passed to each call."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ccdistill.runfolder.checkpoint import (
    TRAIN_FORMAT, check_compatible, deploy_payload, first_non_finite, optimizer_tensors,
    read_checkpoint, rng_state, save_atomic, set_rng_state,
)
from ccdistill.config import Config, config_to_dict
from ccdistill.config.schema import DEPLOYED_STREAM
from ccdistill.errors import CheckpointError, TrainingDivergedError
from ccdistill.labels import CLASS_NAMES
from ccdistill.runfolder.folder import RunFolder
from ccdistill.runfolder.names import BEST_NAME, DEPLOY_NAME, checkpoint_name
from ccdistill.runfolder.resume import RESUME_NOTED_KEYS, config_changes, describe_changes, refuse_changes
from ccdistill.runtime.distributed import DistributedContext

__all__ = ["Resumed", "TrainingCheckpoints"]


@dataclass(frozen=True)
class Resumed:
    """What `TrainingCheckpoints.resume` restored besides the objects it loads in place."""

    iteration: int
    best_miou: float
    checkpoint: Path
    config_changes: dict = field(default_factory=dict)  # stored -> new values accepted (all keys)


class TrainingCheckpoints:
    """The checkpoints of one training: what they hold is given here, once.

    Args:
        config: the run's configuration (stored in every training checkpoint).
        context: the processes (every rank joins the collectives; the main rank writes).
        folder: the run folder (its checkpoints, its messages).
        model, optimizer, scaler: saved and restored in place.
        source, target: the stream loaders, whose data position is saved and restored (target
            None when the variant reads no target stream).
    """

    def __init__(self, config: Config, context: DistributedContext, folder: RunFolder, model: nn.Module,
                 optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, source: Any, target: Any) -> None:
        self.config, self.context, self.folder = config, context, folder
        self.device, self.output = context.device, folder.output
        self.model, self.optimizer, self.scaler = model, optimizer, scaler
        self.source, self.target = source, target

    def meta(self, iteration: int) -> dict:
        """What a checkpoint says about its model (arch, classes, normalisation, iteration)."""
        from ccdistill.models import input_normalization

        m, d = self.config.model, self.config.data
        return {"arch": m.arch, "num_classes": m.num_classes, "class_names": list(CLASS_NAMES[: m.num_classes]),
                **input_normalization(m.arch).as_meta(), "variant": self.config.variant,
                "deployed_stream": DEPLOYED_STREAM[self.config.variant], "iteration": iteration,
                "eval_size": list(d.eval_size) if d.eval_size else None}

    def checkpoints(self) -> list[Path]:
        """The run's `ckpt_<7 digits>.pt` files, oldest first (sorted by iteration)."""
        return self.folder.checkpoints()

    def resume(self, latest: Path) -> Resumed:
        """Restore model, optimiser, scaler, data order and RNG from `latest` and return the
        counters, or refuse (train.resume=auto) when the stored configuration differs in a key
        that changes the result."""
        max_iterations = self.config.train.max_iterations
        payload = self._read_newest(latest)
        check_compatible(latest, payload["meta"], self.config.model.arch, self.config.model.num_classes)
        stored = payload.get("config", {})
        refused = {k: v for k, v in config_changes(stored, self.config).items() if k not in RESUME_NOTED_KEYS}
        if refused and self.config.train.resume != "force":
            raise refuse_changes(latest, refused, self.output)
        try:
            self.model.load_state_dict(payload["model"])
        except RuntimeError as error:
            raise CheckpointError(f"checkpoint {latest} does not fit this model (variant "
                                  f"{self.config.variant}): {str(error)[:300]}") from None
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scaler.load_state_dict(payload["scaler"])
        iteration = int(payload["iteration"])
        self.source.load_state(payload["data"]["source"])
        if self.target is not None:
            self.target.load_state(payload["data"]["target"])
        set_rng_state(payload["rng"][min(self.context.rank, len(payload["rng"]) - 1)])
        changes = config_changes(stored, self.config, ignore=frozenset({"train.resume"}))
        if refused:
            self.folder.say(f"train.resume=force: resuming with a changed configuration: {describe_changes(refused)}")
        noted = {k: v for k, v in changes.items() if k in RESUME_NOTED_KEYS}
        if noted:
            self.folder.say(f"resuming with {describe_changes(noted)}: the learning-rate decay and the "
                            "distillation warm-up follow the new length from here on")
        done = ("; the run is complete, nothing left to train (set train.resume=fresh to train again, "
                "or raise train.max_iterations)" if iteration >= max_iterations else "")
        self.folder.say(f"resumed from {latest} at iteration {iteration} of {max_iterations}{done}")
        return Resumed(iteration, float(payload["best_miou"]), latest, changes)

    def _read_newest(self, latest: Path) -> dict:
        """The newest checkpoint's payload; when it cannot be read, CheckpointError that also says
        whether an older checkpoint beside it can (resume from it by moving the damaged one aside)."""
        try:
            return read_checkpoint(latest, TRAIN_FORMAT, map_location=self.device)
        except CheckpointError as error:
            raise CheckpointError(f"{error}; {self._older_intact_advice(latest)}") from None

    def _older_intact_advice(self, damaged: Path) -> str:
        fresh = "set train.resume=fresh to start over (the old run is moved aside, not deleted)"
        for older in reversed([path for path in self.checkpoints() if path != damaged]):
            try:
                read_checkpoint(older, TRAIN_FORMAT)
            except CheckpointError:
                continue
            return (f"the older {older.name} beside it is intact: move the damaged file aside (`mv {damaged} "
                    f"{damaged}.damaged`) and run again to resume from {older.name}, or {fresh}")
        return f"no older checkpoint in {self.output} can be read either: {fresh}"

    def check_savable(self, what: str, tensors: list[tuple[str, torch.Tensor]], iteration: int) -> None:
        """Refuse to save non-finite weights: every rank checks the same (averaged) tensors, so
        all ranks stop together. The checkpoints already on disk are all finite and kept."""
        bad = first_non_finite(tensors)
        if bad is None:
            return
        name, kind = bad
        kept = self.checkpoints()
        if kept:
            recover = (f"The newest finite checkpoint, {kept[-1]}, is kept: lower optim.lr (now "
                       f"{self.config.optim.lr:g}) and resume from it with train.resume=force, or start over "
                       "with train.resume=fresh")
        else:
            recover = (f"{self.output} holds no checkpoint, so run again with a lower optim.lr (now "
                       f"{self.config.optim.lr:g}); it starts from the beginning")
        raise TrainingDivergedError(
            f"training diverged: by iteration {iteration}, {name} holds {kind} values, so {what} was not "
            f"saved. {recover}; check the data or set train.amp=off if it happens with a sane learning rate.")

    def training_tensors(self) -> list[tuple[str, torch.Tensor]]:
        return [*self.model.named_parameters(), *self.model.named_buffers(), *optimizer_tensors(self.optimizer)]

    def _train_payload(self, rng_states: list[dict], iteration: int, best_miou: float) -> dict:
        return {
            "format": TRAIN_FORMAT, "meta": self.meta(iteration), "config": config_to_dict(self.config),
            "iteration": iteration, "best_miou": best_miou,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "data": {"source": self.source.state(), "target": self.target.state() if self.target else None},
            "rng": rng_states,
        }

    def _gather_rng_states(self) -> list[dict]:
        """RNG state of every rank (each rank's dropout draws differ), rank order."""
        state = rng_state()
        if not self.context.enabled:
            return [state]
        gathered: list = [None] * self.context.world_size
        torch.distributed.all_gather_object(gathered, state)
        return gathered

    def save_checkpoint(self, iteration: int, best_miou: float) -> Path | None:
        """`ckpt_<iteration>.pt` (main rank; every rank joins the collectives), keeping the
        newest train.keep_last."""
        self.context.average_buffers(self.model)  # every rank joins these collectives
        name = checkpoint_name(iteration)
        self.check_savable(name, self.training_tensors(), iteration)
        rng_states = self._gather_rng_states()
        if not self.context.is_main:
            return None
        path = save_atomic(self._train_payload(rng_states, iteration, best_miou), self.output / name)
        # Every saved checkpoint passed the finiteness check, so rotation keeps finite ones only.
        for old in self.checkpoints()[: -self.config.train.keep_last]:
            old.unlink()
        return path

    def save_best(self, iteration: int, best_miou: float) -> Path:
        """`best.pt`: the training state at the best validation mIoU so far (main rank)."""
        # best.pt is for model selection; exact resume uses the ckpt_ files.
        return save_atomic(self._train_payload([rng_state()], iteration, best_miou), self.output / BEST_NAME)

    def save_deployable(self, iteration: int) -> Path | None:
        """`deploy.pt`: the deployed segmenter (M_n; M_d for source_only) and its meta."""
        stream = DEPLOYED_STREAM[self.config.variant]
        segmenter = self.model.deploy(stream)
        prefix = f"segmenter_{stream}."  # name tensors as in the training checkpoint
        self.check_savable(DEPLOY_NAME, [(prefix + name, t) for name, t in
                                         [*segmenter.named_parameters(), *segmenter.named_buffers()]], iteration)
        if not self.context.is_main:
            return None
        return save_atomic(deploy_payload(segmenter, self.meta(iteration)), self.output / DEPLOY_NAME)

    def deployed(self, device: str | torch.device | None = None) -> nn.Module:
        """The segmenter `deploy.pt` holds (M_n; M_d for source_only), in eval mode on `device`
        (default: the training device). Written when `fit()` completes."""
        from ccdistill.runfolder.checkpoint import load_deployed

        path = self.output / DEPLOY_NAME
        if not path.is_file():
            raise CheckpointError(f"{path} does not exist yet: it is written when training completes; "
                                  "call fit() first")
        segmenter, _ = load_deployed(path, map_location=device or self.device, arch=self.config.model.arch,
                                     num_classes=self.config.model.num_classes)
        return segmenter

"""The Trainer: builds everything from a Config, resumes from its run folder, and trains to
train.max_iterations, logging, validating and checkpointing on the way. The same entry point runs
on one CPU, one GPU or several processes under `torchrun` (DDP)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable, Sequence

import torch

from ccdistill.config import Config
from ccdistill.config.checks import validate_training_config
from ccdistill.config.schema import DEPLOYED_STREAM
from ccdistill.runfolder.checkpointing import TrainingCheckpoints
from ccdistill.runfolder.folder import RunFolder
from ccdistill.runfolder.log import RunLogger
from ccdistill.runfolder.names import checkpoint_name
from ccdistill.runfolder.stopping import StopRequest, TrainingInterrupted
from ccdistill.runtime.distributed import DistributedContext, init_distributed
from ccdistill.runtime.threads import configure_threads
from ccdistill.train.build import (
    amp_dtype, build_forward, build_loaders, build_model, build_optimizer, seed_everything,
)
from ccdistill.train.forward import StreamPlan
from ccdistill.train.progress import progress_reporter
from ccdistill.train.step import TrainingStep

__all__ = ["Hook", "Trainer", "train"]

Hook = Callable[[str, "Trainer"], None]


class Trainer:
    """Builds data, model and optimiser from a Config and trains with exact resume.

    Every part is built here, in `__init__`: the step (`TrainingStep`, ccdistill/train/step.py)
    and the checkpoints (`TrainingCheckpoints`, ccdistill/runfolder/checkpointing.py) are given
    what they use; the counters (iteration, best mIoU) live here and are passed to them.
    `hooks` are called as hook(event, trainer) with event in {"after_backward", "after_step"}
    (used by tests to interrupt a run at a precise point).
    """

    def __init__(self, config: Config, hooks: Sequence[Hook] = ()) -> None:
        validate_training_config(config)  # a Config built in code has not been through load_config
        self.config, self.hooks = config, list(hooks)
        self.context: DistributedContext = init_distributed(config.train.device)
        self.device = self.context.device
        self.output = Path(config.output)
        self.plan = StreamPlan.for_config(config)
        self.threads = configure_threads()  # $CCDISTILL_THREADS: docs/TRAINING.md, "Threads on a shared machine"
        seed_everything(config.train, self.context.rank)
        # Validate data and any checkpoint before anything is written to the output folder.
        self.source, self.target, self.evaluation_set = build_loaders(config, self.plan, self.context)
        self.model = build_model(config.model, self.device)
        self.forward = build_forward(self.model, self.plan, config.model.bn_streams, self.context)
        self.amp_dtype = amp_dtype(config.train.amp, self.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.optimizer = build_optimizer(self.model, config.optim)
        self.step = TrainingStep(config, self.context, self.plan, self.model, self.forward, self.optimizer,
                                 self.scaler, self.amp_dtype, self.output)
        self.folder = RunFolder(self.output, self.context)
        self.messages = self.folder.messages  # what the user was told ("resumed from ckpt_… at iteration N")
        self.saved = TrainingCheckpoints(config, self.context, self.folder, self.model, self.optimizer,
                                         self.scaler, self.source, self.target)
        self.iteration = 0
        self.best_miou = -math.inf
        self.resumed_from: Path | None = None  # the checkpoint resumed from (None: a fresh run)
        self.config_changes: dict = {}  # stored -> new values accepted on resume (all keys)
        self._resume_if_possible()

    def _resume_if_possible(self) -> None:
        """Lock the run folder, then resume, start fresh or refuse as `train.resume` says."""
        self.folder.acquire()
        try:
            self.folder.prepare(self.config.train.resume)
            existing = self.checkpoints()
            if existing:
                resumed = self.saved.resume(existing[-1])
                self.iteration, self.best_miou = resumed.iteration, resumed.best_miou
                self.resumed_from, self.config_changes = resumed.checkpoint, resumed.config_changes
            else:
                self.folder.say(f"starting a new run in {self.output} ({self.config.train.max_iterations} iterations)")
        except BaseException:
            self.folder.release()
            raise

    def close(self) -> None:
        """Release the run folder's lock (fit() does when it ends; for a Trainer never fitted)."""
        self.folder.release()

    def _emit(self, event: str) -> None:
        for hook in self.hooks:
            hook(event, self)

    # ------------------------------------------------------ the parts, at the current iteration
    @property
    def meta(self) -> dict:
        """What a checkpoint of this training says about its model (arch, classes, normalisation, iteration)."""
        return self.saved.meta(self.iteration)

    def checkpoints(self) -> list[Path]:
        """The run's `ckpt_<7 digits>.pt` files, oldest first (sorted by iteration)."""
        return self.saved.checkpoints()

    def train_step(self) -> dict[str, float]:
        """One optimiser step over `grad_accum` micro-batches; returns the logged terms."""
        logged = self.step(self.source, self.target, self.iteration, emit=self._emit)
        self.iteration += 1
        return logged

    def save_checkpoint(self) -> Path | None:
        """`ckpt_<iteration>.pt` of the current iteration (main rank), keeping the newest train.keep_last."""
        return self.saved.save_checkpoint(self.iteration, self.best_miou)

    def save_deployable(self) -> Path | None:
        """`deploy.pt`: the deployed segmenter (M_n; M_d for source_only) and its meta."""
        return self.saved.save_deployable(self.iteration)

    def deployed(self, device: str | torch.device | None = None) -> torch.nn.Module:
        """The segmenter `deploy.pt` holds, in eval mode on `device` (default: the training
        device). Written when `fit()` completes."""
        return self.saved.deployed(device)

    # ----------------------------------------------------------------- the loop
    def validate(self) -> dict:
        """Evaluate the deployed segmenter on the evaluation set (at most train.val_max_images)."""
        from ccdistill.evaluation import evaluate

        segmenter = self.model.deploy(DEPLOYED_STREAM[self.config.variant])
        result, _ = evaluate(segmenter, self.evaluation_set, size=self.config.data.eval_size,
                             device=self.device, progress=False,
                             max_images=self.config.train.val_max_images)
        return result

    def fit(self) -> dict:
        """Train to train.max_iterations, checkpointing and validating on the way.

        Holds the run folder's lock throughout and releases it at the end. On SIGTERM or
        SIGINT, finishes the step in progress, saves a checkpoint at that iteration and raises
        TrainingInterrupted saying how to resume. Returns the last validation result (or {})."""
        cfg = self.config.train
        self.folder.acquire_again(self.iteration)
        self.folder.lock.busy = True
        logger, progress = None, None
        last_result: dict = {}
        try:
            with StopRequest(announce=self.folder.say) as stop:
                logger = RunLogger(self.output, enabled=self.context.is_main, resume_iteration=self.iteration,
                                   announce=self.folder.say)
                if self.context.is_main and self.iteration < cfg.max_iterations:
                    self.folder.record_config(self.config, self.iteration, self.resumed_from, self.config_changes)
                    self.folder.record_environment(self.iteration, self.device)
                progress = progress_reporter(cfg.max_iterations, self.iteration, cfg.progress and self.context.is_main,
                                             every=cfg.log_every)
                while self.iteration < cfg.max_iterations:
                    started = time.perf_counter()
                    logged = self.train_step()
                    logged["seconds"] = time.perf_counter() - started
                    self._emit("after_step")
                    if self.iteration % cfg.log_every == 0 or self.iteration == cfg.max_iterations:
                        logger.log(self.iteration, logged)
                    progress.update(self.iteration, logged)
                    if cfg.val_every and (self.iteration % cfg.val_every == 0 or self.iteration == cfg.max_iterations):
                        last_result = self._validate_and_keep_best(logger, progress.write)
                    saved = self.iteration % cfg.checkpoint_every == 0 or self.iteration == cfg.max_iterations
                    if saved:
                        self.save_checkpoint()
                    # Every rank stops at the same iteration, whichever rank got the signal.
                    if not self.context.all_true(not stop.requested):
                        self._stop_on_signal(stop, saved)
                self.save_deployable()
        finally:
            if progress is not None:
                progress.close()
            if logger is not None:
                logger.close()
            self.folder.lock.busy = False
            self.folder.release()
        return last_result

    def _stop_on_signal(self, stop: StopRequest, saved: bool) -> None:
        if not saved:
            self.save_checkpoint()
        checkpoint = self.output / checkpoint_name(self.iteration)
        name = stop.signal_name or "a signal on another rank"
        raise TrainingInterrupted(
            f"training stopped by {name} at iteration {self.iteration} of {self.config.train.max_iterations}; "
            f"saved {checkpoint}. Run the same command again to resume from {checkpoint.name} (in Python: "
            "Trainer(config).fit() with the same config)", stop.signal_number or 0)

    def _validate_and_keep_best(self, logger: RunLogger, report: Callable[[str], None]) -> dict:
        result: dict = {}
        self.context.average_buffers(self.model)
        # Checked on every rank, before rank 0 alone decides whether best.pt is written.
        self.saved.check_savable("best.pt (validation)", self.saved.training_tensors(), self.iteration)
        if self.context.is_main:
            result = self.validate()
            logger.validation(self.iteration, result, self.meta["class_names"])
            if result["miou"] > self.best_miou:
                self.best_miou = result["miou"]
                self.saved.save_best(self.iteration, self.best_miou)
            report(f"validation at iteration {self.iteration}: mIoU {100 * result['miou']:.2f} "
                   f"(best {100 * self.best_miou:.2f})")
        self.context.barrier()
        return result


def train(config: Config, hooks: Sequence[Hook] = ()) -> Trainer:
    """Train a run to completion. With train.resume=auto (default) a folder holding checkpoints
    of the same configuration is resumed (`trainer.resumed_from`, `trainer.messages` say so);
    train.resume=fresh starts over, moving the old run aside; see ccdistill/runfolder/resume.py."""
    trainer = Trainer(config, hooks)
    try:
        trainer.fit()
    finally:
        trainer.close()
        trainer.context.shutdown()
    return trainer

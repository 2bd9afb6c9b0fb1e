"""The training engine (`ccdistill train` runs it; ccdistill/cli/train.py).

One step is the loss equation of SPEC 4.6:

    L = L_seg(P_Sd) + L_seg(P_Sn) + λ_pseudo L_pseudo + λ_cdc L_CDC + λ_js L_JS + λ_cds L_CDS

computed by `ccdistill.losses.ccdistill_loss` on the streams the variant needs. The same
entry point runs on one CPU, one GPU or several processes under `torchrun` (DDP).
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ccdistill.checkpoint import (
    TRAIN_FORMAT, check_compatible, deploy_payload, first_non_finite, optimizer_tensors, read_checkpoint,
    remove_orphaned_temporaries, rng_state, save_atomic, set_rng_state,
)
from ccdistill.config import Config, config_to_dict
from ccdistill.config_checks import validate_training_config
from ccdistill.config_schema import DEPLOYED_STREAM
from ccdistill.resume import (
    RESUME_NOTED_KEYS, config_changes, describe_changes, move_run_aside, refuse_changes, training_checkpoints,
    write_history,
)
from ccdistill.runlock import LOCK_NAME, RunLock, RunLockedError
from ccdistill.stopping import StopRequest, TrainingInterrupted
from ccdistill.labels import CLASS_NAMES
from ccdistill.distributed import (
    DistributedContext, all_true, average_buffers, barrier, init_distributed, shutdown,
)
from ccdistill.errors import CCDistillError, CheckpointError, ConfigError
from ccdistill.losses import ccdistill_loss
from ccdistill.models import CCDistillModel, SegmenterOutput
from ccdistill.streams import DAY_STREAMS, STREAMS, needs_embeddings, streams_needed



class TrainingDivergedError(CCDistillError):
    """A loss term became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class StreamPlan:
    """Which streams and embeddings a variant needs (nothing else is computed)."""

    streams: tuple[str, ...]
    embeddings: bool

    @classmethod
    def for_config(cls, config: Config) -> "StreamPlan":
        return cls(streams_needed(config.loss), needs_embeddings(config.loss))

    @property
    def uses_every_parameter(self) -> bool:
        """Whether a step reaches every parameter of M_d, M_n and the head (DDP needs to know)."""
        return len(self.streams) == len(STREAMS) and self.embeddings


class StreamForward(nn.Module):
    """Runs each stream through its segmenter (S_d, T_d -> M_d; S_n, T_n -> M_n) and, when the
    CDC/JS terms are on, the shared projection head. Wrapped by DDP as one module."""

    def __init__(self, model: CCDistillModel, plan: StreamPlan, bn_streams: str = "per_stream") -> None:
        super().__init__()
        self.model, self.plan, self.bn_streams = model, plan, bn_streams

    def segment(self, images: dict[str, torch.Tensor]) -> dict[str, SegmenterOutput]:
        """Each stream through its network. bn_streams="joint": the streams of one network
        (S_d with T_d for M_d, S_n with T_n for M_n) share one batch, hence one set of
        BatchNorm statistics, when their sizes match; "per_stream": one call per stream."""
        networks: dict[int, tuple[nn.Module, list[str]]] = {}
        for stream in self.plan.streams:
            network = self.model.segmenter_day if stream in DAY_STREAMS else self.model.segmenter_night
            networks.setdefault(id(network), (network, []))[1].append(stream)
        outputs: dict[str, SegmenterOutput] = {}
        for network, streams in networks.values():
            same_size = len({tuple(images[s].shape[1:]) for s in streams}) == 1
            if self.bn_streams == "joint" and len(streams) > 1 and same_size:
                joint = network(torch.cat([images[s] for s in streams]))
                sizes = [images[s].shape[0] for s in streams]
                for stream, logits, features in zip(streams, joint.logits.split(sizes), joint.features.split(sizes)):
                    outputs[stream] = SegmenterOutput(logits, features)
            else:
                outputs.update({s: network(images[s]) for s in streams})
        return {s: outputs[s] for s in self.plan.streams}

    def forward(self, images: dict[str, torch.Tensor]) -> tuple[dict[str, SegmenterOutput], dict | None]:
        outputs = self.segment(images)
        # One head call for the four streams: shared BatchNorm statistics keep the
        # stream-wide illumination shift that Cor(S_d,S_n) and Cor(T_d,T_n) measure.
        embeddings = (self.model.embed_streams({s: o.features for s, o in outputs.items()})
                      if self.plan.embeddings else None)
        return outputs, embeddings


def stream_images(source: dict, target: dict, streams: Sequence[str] = STREAMS,
                  device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """The data pipeline's source and target batches (keyed by the stream symbols) -> the
    images of `streams`, on `device`."""
    available = {**source, **target}
    return {s: available[s].to(device, non_blocking=True) if device else available[s] for s in streams}


def poly_lr(base_lr: float, iteration: int, max_iterations: int, power: float) -> float:
    """Poly decay: base_lr · (1 − i/max)^power."""
    return base_lr * (1.0 - iteration / max_iterations) ** power


def _set_bn_eval(module: nn.Module) -> None:
    for child in module.modules():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            child.eval()


Hook = Callable[[str, "Trainer"], None]


class Trainer:
    """Builds data, model and optimiser from a Config and trains with exact resume.

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
        self._seed_everything()
        # Validate data and any checkpoint before anything is written to the output folder.
        self._build_data()
        self._build_model()
        self._build_optimiser()
        self.iteration = 0
        self.best_miou = -math.inf
        self._resume_if_possible()

    # ----------------------------------------------------------------- construction
    def _seed_everything(self) -> None:
        seed = self.config.train.seed + self.context.rank
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        if self.config.train.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False

    def _build_data(self) -> None:
        from ccdistill.data import build_datasets
        from ccdistill.data.sampling import StreamLoader
        from ccdistill.models import input_normalization

        cfg = self.config
        # Images are normalised as the architecture's pretrained weights expect.
        bundle = build_datasets(cfg.data, seed=cfg.train.seed, normalization=input_normalization(cfg.model.arch))
        common = dict(batch_size=cfg.train.batch_size, seed=cfg.train.seed, rank=self.context.rank,
                      world_size=self.context.world_size, num_workers=cfg.data.num_workers,
                      pin_memory=self.device.type == "cuda")
        self.source = StreamLoader(bundle.source, **common)
        needs_target = any(s in self.plan.streams for s in ("T_d", "T_n"))
        if cfg.loss.oracle > 0 and not bundle.target.pairs.has_labels:
            raise ConfigError(
                f"variant '{cfg.variant}' trains on target-night labels, but the {cfg.data.dataset} target "
                "training pairs have none (ToyCity and ACDC night have them; Dark Zurich does not)")
        self.target = StreamLoader(bundle.target, **common) if needs_target else None
        self.evaluation_set = bundle.evaluation

    def _build_model(self) -> None:
        m = self.config.model
        self.model = CCDistillModel.from_config(m)
        if m.init_checkpoint:
            from ccdistill.checkpoint import load_deployed

            segmenter, _ = load_deployed(m.init_checkpoint, arch=m.arch, num_classes=m.num_classes)
            self.model.load_segmenter_state(segmenter.state_dict(), source=str(m.init_checkpoint))
        self.model.to(self.device)
        forward = StreamForward(self.model, self.plan, m.bn_streams)
        if self.context.enabled:
            everything_used = self.plan.uses_every_parameter or (
                len(self.plan.streams) == len(STREAMS) and self.model.projection is None)
            forward = DistributedDataParallel(
                forward, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=not everything_used)
        self.forward = forward
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    def _amp_dtype(self) -> torch.dtype | None:
        amp = self.config.train.amp
        if self.device.type != "cuda" or amp == "off":
            return None  # CPU autocast is slower than float32 for these models
        if amp == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]

    def _build_optimiser(self) -> None:
        o = self.config.optim
        groups = self.model.parameter_groups()
        # A pretrained backbone usually wants a smaller step than the fresh decoder on top.
        backbone = {id(p) for m in (self.model.segmenter_day, self.model.segmenter_night)
                    for p in m.backbone.parameters()}
        param_groups = [
            {"params": [p for p in groups["segmenters"] if id(p) in backbone],
             "lr": o.lr * o.backbone_lr_mult, "lr_mult": o.backbone_lr_mult},
            {"params": [p for p in groups["segmenters"] if id(p) not in backbone], "lr": o.lr, "lr_mult": 1.0},
            {"params": groups["projection"], "lr": o.lr * o.head_lr_mult, "lr_mult": o.head_lr_mult}]
        if o.name == "adamw":  # short CPU schedules: adaptive steps converge in far fewer iterations
            self.optimizer = torch.optim.AdamW(param_groups, lr=o.lr, betas=(o.momentum, 0.999),
                                               weight_decay=o.weight_decay)
        else:  # DANNet's SGD (SPEC 4.7)
            self.optimizer = torch.optim.SGD(param_groups, lr=o.lr, momentum=o.momentum,
                                             weight_decay=o.weight_decay)

    # ----------------------------------------------------------------- checkpoints
    @property
    def meta(self) -> dict:
        m, d = self.config.model, self.config.data
        from ccdistill.models import input_normalization

        return {"arch": m.arch, "num_classes": m.num_classes, "class_names": list(CLASS_NAMES[: m.num_classes]),
                **input_normalization(m.arch).as_meta(), "variant": self.config.variant,
                "deployed_stream": DEPLOYED_STREAM[self.config.variant], "iteration": self.iteration,
                "eval_size": list(d.eval_size) if d.eval_size else None}

    def checkpoints(self) -> list[Path]:
        """The run's `ckpt_<7 digits>.pt` files, oldest first (sorted by iteration)."""
        return training_checkpoints(self.output)

    def _say(self, message: str) -> None:
        """Tell the user (stderr, main rank) and keep the line in `messages` for notebooks."""
        self.messages.append(message)
        if self.context.is_main:
            print(f"ccdistill: {message}", file=sys.stderr, flush=True)

    def _resume_if_possible(self) -> None:
        """Lock the run folder, then resume, start fresh or refuse as `train.resume` says.

        Afterwards `resumed_from` is the checkpoint resumed from (None for a fresh run) and
        `messages` holds what the user was told (e.g. "resumed from ckpt_… at iteration N")."""
        self.resumed_from: Path | None = None
        self.messages: list[str] = []
        self.config_changes: dict = {}  # stored -> new values accepted on resume (all keys)
        self._lock = RunLock(self.output)
        self._acquire_lock()
        try:
            self._open_run()
        except BaseException:
            self._lock.release()
            raise

    def _acquire_lock(self) -> None:
        """Rank 0 locks the folder; every rank learns whether it could."""
        error: CCDistillError | None = None
        if self.context.is_main:
            try:
                self._lock.acquire()
            except CCDistillError as raised:
                error = raised
        if not all_true(error is None, self.context):
            raise error or RunLockedError(f"rank 0 could not lock the run folder {self.output}; see its message")
        for message in self._lock.messages:
            self._say(message)
        self._lock.messages.clear()

    def _open_run(self) -> None:
        mode, max_iterations = self.config.train.resume, self.config.train.max_iterations
        if self.context.is_main:
            if mode == "fresh":
                moved = move_run_aside(self.output, keep=(LOCK_NAME,))
                if moved is not None:
                    self._say(f"train.resume=fresh: moved the previous run in {self.output} to {moved}")
            removed = remove_orphaned_temporaries(self.output)
            if removed:
                self._say(f"removed {len(removed)} unfinished temporary file(s) left in {self.output} by an "
                          f"interrupted run (e.g. {removed[0].name})")
        barrier(self.context)
        existing = self.checkpoints()
        if not existing:
            self._say(f"starting a new run in {self.output} ({max_iterations} iterations)")
            return
        latest = existing[-1]
        payload = read_checkpoint(latest, TRAIN_FORMAT, map_location=self.device)
        check_compatible(latest, payload["meta"], self.config.model.arch, self.config.model.num_classes)
        stored = payload.get("config", {})
        refused = {k: v for k, v in config_changes(stored, self.config).items() if k not in RESUME_NOTED_KEYS}
        if refused and mode != "force":
            raise refuse_changes(latest, refused, self.output)
        try:
            self.model.load_state_dict(payload["model"])
        except RuntimeError as error:
            raise CheckpointError(f"checkpoint {latest} does not fit this model (variant "
                                  f"{self.config.variant}): {str(error)[:300]}") from None
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scaler.load_state_dict(payload["scaler"])
        self.iteration = int(payload["iteration"])
        self.best_miou = float(payload["best_miou"])
        self.source.load_state(payload["data"]["source"])
        if self.target is not None:
            self.target.load_state(payload["data"]["target"])
        set_rng_state(payload["rng"][min(self.context.rank, len(payload["rng"]) - 1)])
        self.resumed_from = latest
        self.config_changes = config_changes(stored, self.config, ignore=frozenset({"train.resume"}))
        if refused:
            self._say(f"train.resume=force: resuming with a changed configuration: {describe_changes(refused)}")
        noted = {k: v for k, v in self.config_changes.items() if k in RESUME_NOTED_KEYS}
        if noted:
            self._say(f"resuming with {describe_changes(noted)}: the learning-rate decay and the "
                      "distillation warm-up follow the new length from here on")
        done = ("; the run is complete, nothing left to train (set train.resume=fresh to train again, "
                "or raise train.max_iterations)" if self.iteration >= max_iterations else "")
        self._say(f"resumed from {latest} at iteration {self.iteration} of {max_iterations}{done}")

    def _record_config(self) -> None:
        """config.yaml for the first part of a run; config.resume-<iteration>.yaml for a resumed
        part whose configuration differs from the stored one (never overwrites config.yaml)."""
        if self.resumed_from is None:
            write_history(self.config, self.output, 0)
        elif self.config_changes:
            note = (f"resumed from {self.resumed_from.name} at iteration {self.iteration} with train.resume="
                    f"{self.config.train.resume}; changed: {describe_changes(self.config_changes)}")
            write_history(self.config, self.output, self.iteration, note)

    def _check_savable(self, what: str, tensors: list[tuple[str, torch.Tensor]]) -> None:
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
            f"training diverged: by iteration {self.iteration}, {name} holds {kind} values, so {what} was not "
            f"saved. {recover}; check the data or set train.amp=off if it happens with a sane learning rate.")

    def _training_tensors(self) -> list[tuple[str, torch.Tensor]]:
        return [*self.model.named_parameters(), *self.model.named_buffers(), *optimizer_tensors(self.optimizer)]

    def _train_payload(self, rng_states: list[dict]) -> dict:
        return {
            "format": TRAIN_FORMAT, "meta": self.meta, "config": config_to_dict(self.config),
            "iteration": self.iteration, "best_miou": self.best_miou,
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

    def save_checkpoint(self) -> Path | None:
        average_buffers(self.model, self.context)  # every rank joins these collectives
        name = f"ckpt_{self.iteration:07d}.pt"
        self._check_savable(name, self._training_tensors())
        rng_states = self._gather_rng_states()
        if not self.context.is_main:
            return None
        path = save_atomic(self._train_payload(rng_states), self.output / name)
        # Every saved checkpoint passed the finiteness check, so rotation keeps finite ones only.
        for old in self.checkpoints()[: -self.config.train.keep_last]:
            old.unlink()
        return path

    def save_deployable(self) -> Path | None:
        stream = DEPLOYED_STREAM[self.config.variant]
        segmenter = self.model.deploy(stream)
        prefix = f"segmenter_{stream}."  # name tensors as in the training checkpoint
        self._check_savable("deploy.pt", [(prefix + name, t) for name, t in
                                          [*segmenter.named_parameters(), *segmenter.named_buffers()]])
        if not self.context.is_main:
            return None
        return save_atomic(deploy_payload(segmenter, self.meta), self.output / "deploy.pt")

    def deployed(self, device: str | torch.device | None = None) -> nn.Module:
        """The segmenter `deploy.pt` holds (M_n; M_d for source_only), in eval mode on `device`
        (default: the training device). Written when `fit()` completes."""
        from ccdistill.checkpoint import load_deployed

        path = self.output / "deploy.pt"
        if not path.is_file():
            raise CheckpointError(f"{path} does not exist yet: it is written when training completes; "
                                  "call fit() first")
        segmenter, _ = load_deployed(path, map_location=device or self.device, arch=self.config.model.arch,
                                     num_classes=self.config.model.num_classes)
        return segmenter

    def close(self) -> None:
        """Release the run folder's lock (fit() does when it ends; for a Trainer never fitted)."""
        self._lock.release()

    # ----------------------------------------------------------------- the step
    def set_learning_rate(self) -> float:
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
        if not all_true(not bad, self.context):
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
                _set_bn_eval(segmenter)
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

    def _emit(self, event: str) -> None:
        for hook in self.hooks:
            hook(event, self)

    # ----------------------------------------------------------------- the loop
    def validate(self) -> dict:
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
        self._lock_again()
        self._lock.busy = True
        logger, progress = None, None
        last_result: dict = {}
        try:
            with StopRequest(announce=self._say) as stop:
                logger = RunLogger(self.output, enabled=self.context.is_main, resume_iteration=self.iteration,
                                   announce=self._say)
                if self.context.is_main and self.iteration < cfg.max_iterations:
                    self._record_config()
                progress = _progress(cfg.max_iterations, self.iteration, cfg.progress and self.context.is_main)
                while self.iteration < cfg.max_iterations:
                    started = time.perf_counter()
                    logged = self.train_step()
                    logged["seconds"] = time.perf_counter() - started
                    self._emit("after_step")
                    if self.iteration % cfg.log_every == 0 or self.iteration == cfg.max_iterations:
                        logger.log(self.iteration, logged)
                    progress.update(1)
                    progress.set_postfix(loss=f"{logged['total']:.3f}")
                    if cfg.val_every and (self.iteration % cfg.val_every == 0 or self.iteration == cfg.max_iterations):
                        last_result = self._validate_and_keep_best(logger)
                    saved = self.iteration % cfg.checkpoint_every == 0 or self.iteration == cfg.max_iterations
                    if saved:
                        self.save_checkpoint()
                    # Every rank stops at the same iteration, whichever rank got the signal.
                    if not all_true(not stop.requested, self.context):
                        self._stop_on_signal(stop, saved)
                self.save_deployable()
        finally:
            if progress is not None:
                progress.close()
            if logger is not None:
                logger.close()
            self._lock.busy = False
            self._lock.release()
        return last_result

    def _lock_again(self) -> None:
        """A second fit() of this Trainer locks the folder again, provided nothing else trained
        there in between (its state would be older than the folder's)."""
        if all_true(self._lock.held or not self.context.is_main, self.context):
            return
        self._acquire_lock()
        newest = self.checkpoints()
        newest_iteration = int(newest[-1].stem.removeprefix("ckpt_")) if newest else 0
        if newest_iteration > self.iteration:
            self._lock.release()
            raise RunLockedError(
                f"{self.output} was trained further by another Trainer or process since this one was created "
                f"(newest checkpoint {newest[-1].name}, this Trainer is at iteration {self.iteration}); create "
                "a new Trainer to continue from the folder")

    def _stop_on_signal(self, stop: StopRequest, saved: bool) -> None:
        if not saved:
            self.save_checkpoint()
        checkpoint = self.output / f"ckpt_{self.iteration:07d}.pt"
        name = stop.signal_name or "a signal on another rank"
        raise TrainingInterrupted(
            f"training stopped by {name} at iteration {self.iteration} of {self.config.train.max_iterations}; "
            f"saved {checkpoint}. Run the same command again to resume from {checkpoint.name} (in Python: "
            "Trainer(config).fit() with the same config)", stop.signal_number or 0)

    def _validate_and_keep_best(self, logger: "RunLogger") -> dict:
        result: dict = {}
        average_buffers(self.model, self.context)
        # Checked on every rank, before rank 0 alone decides whether best.pt is written.
        self._check_savable("best.pt (validation)", self._training_tensors())
        if self.context.is_main:
            result = self.validate()
            logger.scalar("val/miou", result["miou"], self.iteration)
            if result["miou"] > self.best_miou:
                self.best_miou = result["miou"]
                # best.pt is for model selection; exact resume uses the ckpt_ files.
                save_atomic(self._train_payload([rng_state()]), self.output / "best.pt")
        barrier(self.context)
        return result


class RunLogger:
    """CSV (`log.csv`) and TensorBoard (`tb/`) logs of every loss term. On resume, CSV rows past
    the resumed iteration (logged by the interrupted run) are dropped so the log has no repeats;
    unreadable rows (a write cut by a kill, a hand edit) are dropped too, after the original file
    is kept beside it as `log.csv.damaged-<time>`."""

    def __init__(self, output: Path, enabled: bool = True, resume_iteration: int = 0,
                 announce: Callable[[str], None] | None = None) -> None:
        self.enabled, self.path = enabled, output / "log.csv"
        self.columns: list[str] | None = None
        self.writer = None
        self._announce = announce or (lambda message: print(f"ccdistill: {message}", file=sys.stderr))
        if not enabled:
            return
        output.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            columns, rows = self._read_rows()
            if columns:
                self.columns = columns
                self._rewrite([row for row in rows if int(row["iteration"]) <= resume_iteration])
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(output / "tb"), purge_step=resume_iteration + 1)
        except ImportError:  # tensorboard is a dependency, but logging must not stop training
            self.writer = None

    def _read_rows(self) -> tuple[list[str] | None, list[dict]]:
        """(columns, readable rows) of an existing log.csv; damaged files are kept aside."""
        problem, columns, rows = "", None, []
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            text, problem = "", "it is not UTF-8 text"
        reader = csv.DictReader(text.splitlines())
        if not problem and text.strip():
            if not reader.fieldnames or reader.fieldnames[0] != "iteration":
                problem = f"its header {reader.fieldnames!r} does not start with 'iteration'"
            else:
                columns = list(reader.fieldnames)
                bad = 0
                for row in reader:
                    if None in row or None in row.values() or not str(row["iteration"]).strip().isdigit():
                        bad += 1
                    else:
                        rows.append(row)
                if bad:
                    problem = f"{bad} row(s) could not be read"
        if problem:
            kept = self.path.with_name(f"log.csv.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, kept)
            self._announce(f"{self.path}: {problem}; the original is kept as {kept.name} and the log "
                           "continues with the readable rows")
        return columns, rows

    def _rewrite(self, rows: list[dict]) -> None:
        temporary = self.path.with_suffix(".csv.tmp")
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, self.path)

    def log(self, iteration: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        if self.columns is None:
            self.columns = ["iteration", *values.keys()]
            self._rewrite([])
        with open(self.path, "a", newline="") as file:
            csv.DictWriter(file, fieldnames=self.columns, extrasaction="ignore").writerow(
                {"iteration": iteration, **values})
        for name, value in values.items():
            self.scalar(f"train/{name}", value, iteration)

    def scalar(self, name: str, value: float, iteration: int) -> None:
        if self.enabled and self.writer is not None:
            self.writer.add_scalar(name, value, iteration)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="train", dynamic_ncols=True)


def train(config: Config, hooks: Sequence[Hook] = ()) -> Trainer:
    """Train a run to completion. With train.resume=auto (default) a folder holding checkpoints
    of the same configuration is resumed (`trainer.resumed_from`, `trainer.messages` say so);
    train.resume=fresh starts over, moving the old run aside; see ccdistill/resume.py."""
    trainer = Trainer(config, hooks)
    try:
        trainer.fit()
    finally:
        trainer.close()
        shutdown(trainer.context)
    return trainer

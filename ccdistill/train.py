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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ccdistill.checkpoint import (
    TRAIN_FORMAT, check_compatible, deploy_payload, read_checkpoint, rng_state, save_atomic,
    set_rng_state,
)
from ccdistill.config import DEPLOYED_STREAM, Config, config_to_dict, dump_config, load_config
from ccdistill.labels import CLASS_NAMES
from ccdistill.distributed import (
    DistributedContext, all_true, average_buffers, barrier, init_distributed, shutdown,
)
from ccdistill.errors import CCDistillError, CheckpointError, ConfigError
from ccdistill.losses import ccdistill_loss
from ccdistill.models import CCDistillModel, SegmenterOutput

STREAMS = ("S_d", "S_n", "T_d", "T_n")
DAY_STREAMS = frozenset({"S_d", "T_d"})  # processed by M_d; S_n and T_n by M_n


class TrainingDivergedError(CCDistillError):
    """A loss term became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class StreamPlan:
    """Which streams and embeddings a variant needs (nothing else is computed)."""

    streams: tuple[str, ...]
    embeddings: bool

    @classmethod
    def for_config(cls, config: Config) -> "StreamPlan":
        w = config.loss
        distill = w.cdc > 0 or w.js > 0 or w.cds > 0
        needed = {"S_d"}
        if w.seg_night > 0 or distill:
            needed.add("S_n")
        if w.pseudo > 0 or distill:
            needed |= {"T_d", "T_n"}
        if w.oracle > 0:
            needed.add("T_n")
        return cls(tuple(s for s in STREAMS if s in needed), w.cdc > 0 or w.js > 0)


class StreamForward(nn.Module):
    """Runs each stream through its segmenter (S_d, T_d -> M_d; S_n, T_n -> M_n) and, when the
    CDC/JS terms are on, the shared projection head. Wrapped by DDP as one module."""

    def __init__(self, model: CCDistillModel, plan: StreamPlan) -> None:
        super().__init__()
        self.model, self.plan = model, plan

    def forward(self, images: dict[str, torch.Tensor]) -> tuple[dict[str, SegmenterOutput], dict | None]:
        outputs = {
            stream: (self.model.forward_day if stream in DAY_STREAMS else self.model.forward_night)(images[stream])
            for stream in self.plan.streams
        }
        # One head call for the four streams: shared BatchNorm statistics keep the
        # stream-wide illumination shift that Cor(S_d,S_n) and Cor(T_d,T_n) measure.
        embeddings = (self.model.embed_streams({s: o.features for s, o in outputs.items()})
                      if self.plan.embeddings else None)
        return outputs, embeddings


def stream_images(source: dict, target: dict, plan: StreamPlan, device: torch.device) -> dict[str, torch.Tensor]:
    """The batch dicts of the data pipeline -> {S_d, S_n, T_d, T_n} images on `device`."""
    available = {"S_d": source["image"], "S_n": source.get("image_night"),
                 "T_d": target.get("image_ref"), "T_n": target.get("image")}
    return {s: available[s].to(device, non_blocking=True) for s in plan.streams}


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

        cfg = self.config
        bundle = build_datasets(cfg.data, seed=cfg.train.seed)
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
        self.model = CCDistillModel(m.arch, m.num_classes, weights=m.weights, share_weights=m.share_weights,
                                    projection=m.projection, embedding_dim=m.embedding_dim)
        if m.init_checkpoint:
            from ccdistill.checkpoint import load_deployed

            segmenter, _ = load_deployed(m.init_checkpoint, arch=m.arch, num_classes=m.num_classes)
            self.model.load_segmenter_state(segmenter.state_dict(), source=str(m.init_checkpoint))
        self.model.to(self.device)
        forward = StreamForward(self.model, self.plan)
        if self.context.enabled:
            everything_used = len(self.plan.streams) == 4 and (self.plan.embeddings or self.model.projection is None)
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
        self.optimizer = torch.optim.SGD(
            [{"params": groups["segmenters"], "lr": o.lr, "lr_mult": 1.0},
             {"params": groups["projection"], "lr": o.lr * o.head_lr_mult, "lr_mult": o.head_lr_mult}],
            lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)

    # ----------------------------------------------------------------- checkpoints
    @property
    def meta(self) -> dict:
        m, d = self.config.model, self.config.data
        from ccdistill.data.transforms import IMAGENET_MEAN, IMAGENET_STD

        return {"arch": m.arch, "num_classes": m.num_classes, "class_names": list(CLASS_NAMES[: m.num_classes]),
                "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "variant": self.config.variant,
                "deployed_stream": DEPLOYED_STREAM[self.config.variant], "iteration": self.iteration,
                "eval_size": list(d.eval_size) if d.eval_size else None}

    def checkpoints(self) -> list[Path]:
        return sorted(self.output.glob("ckpt_*.pt"))

    def _resume_if_possible(self) -> None:
        existing = self.checkpoints()
        if not existing:
            return
        latest = existing[-1]
        payload = read_checkpoint(latest, TRAIN_FORMAT, map_location=self.device)
        check_compatible(latest, payload["meta"], self.config.model.arch, self.config.model.num_classes)
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
        rng_states = self._gather_rng_states()
        if not self.context.is_main:
            return None
        path = save_atomic(self._train_payload(rng_states), self.output / f"ckpt_{self.iteration:07d}.pt")
        for old in self.checkpoints()[: -self.config.train.keep_last]:
            old.unlink()
        return path

    def save_deployable(self) -> Path | None:
        if not self.context.is_main:
            return None
        segmenter = self.model.deploy(DEPLOYED_STREAM[self.config.variant])
        return save_atomic(deploy_payload(segmenter, self.meta), self.output / "deploy.pt")

    # ----------------------------------------------------------------- the step
    def set_learning_rate(self) -> float:
        o = self.config.optim
        lr = poly_lr(o.lr, self.iteration, self.config.train.max_iterations, o.poly_power)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_mult"]
        return lr

    def compute_losses(self, source: dict, target: dict) -> dict[str, torch.Tensor]:
        """Forward the streams and evaluate every enabled term of SPEC 4.6."""
        images = stream_images(source, target, self.plan, self.device)
        autocast = (torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype
                    else contextlib.nullcontext())
        with autocast:
            outputs, embeddings = self.forward(images)
            label_Tn = target.get("label") if self.config.loss.oracle > 0 else None
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

        Returns the last validation result (or {} if none ran)."""
        cfg = self.config.train
        logger = RunLogger(self.output, enabled=self.context.is_main, resume_iteration=self.iteration)
        if self.context.is_main:
            dump_config(self.config, self.output / "config.yaml")
        progress = _progress(cfg.max_iterations, self.iteration, cfg.progress and self.context.is_main)
        last_result: dict = {}
        try:
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
                if self.iteration % cfg.checkpoint_every == 0 or self.iteration == cfg.max_iterations:
                    self.save_checkpoint()
            self.save_deployable()
        finally:
            progress.close()
            logger.close()
        return last_result

    def _validate_and_keep_best(self, logger: "RunLogger") -> dict:
        result: dict = {}
        average_buffers(self.model, self.context)
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
    the resumed iteration (logged by the interrupted run) are dropped so the log has no repeats."""

    def __init__(self, output: Path, enabled: bool = True, resume_iteration: int = 0) -> None:
        self.enabled, self.path = enabled, output / "log.csv"
        self.columns: list[str] | None = None
        self.writer = None
        if not enabled:
            return
        output.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            with open(self.path, newline="") as file:
                rows = list(csv.DictReader(file))
            kept = [row for row in rows if int(row["iteration"]) <= resume_iteration]
            if rows:
                self.columns = list(rows[0].keys())
                self._rewrite(kept)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(output / "tb"), purge_step=resume_iteration + 1)
        except ImportError:  # tensorboard is a dependency, but logging must not stop training
            self.writer = None

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
    """Train a run to completion (resuming from its output folder if it has checkpoints)."""
    trainer = Trainer(config, hooks)
    try:
        trainer.fit()
    finally:
        shutdown(trainer.context)
    return trainer

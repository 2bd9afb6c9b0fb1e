"""What a Trainer is made of, built from a Config: seeds, the stream loaders, the model (wrapped
for DDP when several processes train), mixed precision and the optimiser (docs/TRAINING.md,
"The GPU recipe")."""

from __future__ import annotations

import os
import random

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ccdistill.config import Config
from ccdistill.config.schema import ModelConfig, OptimConfig, TrainConfig
from ccdistill.runtime.distributed import DistributedContext
from ccdistill.errors import ConfigError
from ccdistill.models import CCDistillModel
from ccdistill.streams import STREAMS
from ccdistill.train.forward import StreamForward, StreamPlan

__all__ = ["seed_everything", "build_loaders", "build_model", "build_forward", "amp_dtype", "build_optimizer"]


def seed_everything(train: TrainConfig, rank: int = 0) -> None:
    """Seed torch, numpy and random with train.seed + rank (each rank draws its own dropout)."""
    seed = train.seed + rank
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    if train.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def build_loaders(config: Config, plan: StreamPlan, context: DistributedContext):
    """(source loader, target loader or None when no T stream is needed, evaluation set).

    ConfigError when the variant trains on target-night labels the target pairs lack."""
    from ccdistill.data import build_datasets
    from ccdistill.data.sampling import StreamLoader
    from ccdistill.models import input_normalization

    cfg = config
    # Images are normalised as the architecture's pretrained weights expect.
    bundle = build_datasets(cfg.data, seed=cfg.train.seed, normalization=input_normalization(cfg.model.arch))
    common = dict(batch_size=cfg.train.batch_size, seed=cfg.train.seed, rank=context.rank,
                  world_size=context.world_size, num_workers=cfg.data.num_workers,
                  pin_memory=context.device.type == "cuda")
    source = StreamLoader(bundle.source, **common)
    needs_target = any(s in plan.streams for s in ("T_d", "T_n"))
    if cfg.loss.oracle > 0 and not bundle.target.pairs.has_labels:
        raise ConfigError(
            f"variant '{cfg.variant}' trains on target-night labels, but the {cfg.data.dataset} target "
            "training pairs have none (ToyCity and ACDC night have them; Dark Zurich does not)")
    target = StreamLoader(bundle.target, **common) if needs_target else None
    return source, target, bundle.evaluation


def build_model(m: ModelConfig, device: torch.device) -> CCDistillModel:
    """M_d, M_n and the head, warm-started from model.init_checkpoint when set, on `device`."""
    model = CCDistillModel.from_config(m)
    if m.init_checkpoint:
        from ccdistill.runfolder.checkpoint import load_deployed

        segmenter, _ = load_deployed(m.init_checkpoint, arch=m.arch, num_classes=m.num_classes)
        model.load_segmenter_state(segmenter.state_dict(), source=str(m.init_checkpoint))
    return model.to(device)


def build_forward(model: CCDistillModel, plan: StreamPlan, bn_streams: str,
                  context: DistributedContext) -> nn.Module:
    """The StreamForward of `plan`, wrapped by DDP when several processes train."""
    forward = StreamForward(model, plan, bn_streams)
    if not context.enabled:
        return forward
    device = context.device
    everything_used = plan.uses_every_parameter or (len(plan.streams) == len(STREAMS) and model.projection is None)
    return DistributedDataParallel(forward, device_ids=[device.index] if device.type == "cuda" else None,
                                   find_unused_parameters=not everything_used)


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """train.amp ("auto" | "bf16" | "fp16" | "off") on `device` -> the autocast dtype, or None."""
    if device.type != "cuda" or amp == "off":
        return None  # CPU autocast is slower than float32 for these models
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def build_optimizer(model: CCDistillModel, o: OptimConfig) -> torch.optim.Optimizer:
    """SGD or AdamW over three groups (backbones, decoders, head), each with its `lr_mult`."""
    groups = model.parameter_groups()
    # A pretrained backbone usually wants a smaller step than the fresh decoder on top.
    backbone = {id(p) for m in (model.segmenter_day, model.segmenter_night) for p in m.backbone.parameters()}
    param_groups = [
        {"params": [p for p in groups["segmenters"] if id(p) in backbone],
         "lr": o.lr * o.backbone_lr_mult, "lr_mult": o.backbone_lr_mult},
        {"params": [p for p in groups["segmenters"] if id(p) not in backbone], "lr": o.lr, "lr_mult": 1.0},
        {"params": groups["projection"], "lr": o.lr * o.head_lr_mult, "lr_mult": o.head_lr_mult}]
    if o.name == "adamw":  # short CPU schedules: adaptive steps converge in far fewer iterations
        return torch.optim.AdamW(param_groups, lr=o.lr, betas=(o.momentum, 0.999), weight_decay=o.weight_decay)
    # DANNet's SGD (docs/TRAINING.md, "The GPU recipe")
    return torch.optim.SGD(param_groups, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)

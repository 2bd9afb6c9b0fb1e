"""The configuration's schema: the dataclasses a run's settings live in, with their defaults, and
the named choices some keys take (variants, resume modes, BatchNorm stream grouping).

`loading.py` composes a Config from YAML and overrides; `checks.py` checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccdistill.losses.total import LossOptions, LossWeights

__all__ = ["DataConfig", "ModelConfig", "OptimConfig", "TrainConfig", "Config", "VARIANTS", "DEPLOYED_STREAM",
           "RESUME_MODES", "BN_STREAMS"]


@dataclass
class DataConfig:
    """Where the four streams come from and how they are augmented (docs/DATA.md; the paper's
    settings: docs/TRAINING.md, "The GPU recipe")."""

    dataset: str = "toycity"  # toycity | cityscapes_darkzurich | cityscapes_acdc
    root: str = "data/toycity"  # ToyCity root (dataset=toycity)
    source_root: str = ""  # Cityscapes root (leftImg8bit/, gtFine/)
    target_root: str = ""  # Dark Zurich or ACDC root (rgb_anon/, gt/, corresp/)
    corresp: str = ""  # optional single Dark Zurich pair-list CSV instead of corresp/train/night/
    translation: str = "fda"  # S_d -> S_n: fda | lab | relight | folder | none
    translation_beta: float = 0.01  # FDA low-frequency window (fraction of the image size)
    translation_folder: str = ""  # translation=folder: precomputed night images matched by stem
    source_scale: tuple[float, float] = (0.5, 1.0)  # Cityscapes random rescale range
    source_crop: tuple[int, int] = (512, 512)  # (H, W) crop of S_d/S_n/label
    target_scale: tuple[float, float] = (0.9, 1.1)  # shared T_d/T_n rescale range
    target_crop: tuple[int, int] = (960, 960)  # shared T_d/T_n crop before resizing
    target_size: tuple[int, int] = (512, 512)  # (H, W) after the crop is resized
    eval_split: str = "val"  # val | test
    eval_size: tuple[int, int] | None = None  # (H, W) the network sees at evaluation; None = native
    num_workers: int = 2


@dataclass
class ModelConfig:
    """The two segmenters M_d, M_n and the projection head (docs/METHOD.md, section 3)."""

    arch: str = "deeplabv2_resnet101"
    num_classes: int = 19
    weights: str | None = "imagenet"  # None | imagenet | path to a backbone state dict
    init_checkpoint: str = ""  # source-trained segmenter to warm-start M_d and M_n from
    share_weights: bool = False  # ablation: M_d is M_n
    projection: bool = True  # ablation no_proj: False
    embedding_dim: int = 128
    freeze_bn: bool = False  # segmenter BatchNorm in eval mode while training (small per-GPU batches)
    bn_streams: str = "per_stream"  # per_stream | joint: M_d sees S_d and T_d in one batch (M_n: S_n, T_n)
    allow_untrained_teacher: bool = False  # pseudo labels from an M_d never trained on the source


@dataclass
class OptimConfig:
    """SGD with poly decay, DANNet's settings (docs/TRAINING.md, "The GPU recipe")."""

    name: str = "sgd"  # sgd (docs/TRAINING.md, "The GPU recipe") | adamw (momentum is then Adam's beta1)
    lr: float = 2.5e-4
    head_lr_mult: float = 10.0  # projection head learns 10x faster
    backbone_lr_mult: float = 1.0  # the segmenters' (pretrained) backbones relative to their decoders
    momentum: float = 0.9
    weight_decay: float = 5e-4
    poly_power: float = 0.9


@dataclass
class TrainConfig:
    """The loop: length, batch, precision, checkpoints, logging, seeds."""

    max_iterations: int = 50_000
    batch_size: int = 2  # per stream and per process
    grad_accum: int = 1  # micro-batches per optimiser step
    amp: str = "auto"  # auto (bf16 if supported else fp16, CUDA only) | bf16 | fp16 | off
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    checkpoint_every: int = 1000
    keep_last: int = 3
    val_every: int = 5000  # 0 = never
    val_max_images: int | None = None
    log_every: int = 10
    seed: int = 0
    deterministic: bool = False
    progress: bool = True
    resume: str = "auto"  # auto | force | fresh: see ccdistill/runfolder/resume.py and docs/TRAINING.md
    # Forward T_d and T_n through M_d and M_n every step even when no term reads them: their
    # BatchNorm running statistics then follow the target domain with no target loss at all
    # (the control row `target_bn` of docs/RESULTS.md, so that effect is not credited to a loss).
    forward_target: bool = False


@dataclass
class Config:
    """A whole run. `variant` selects a baseline or an ablation (docs/METHOD.md, section 7) by one key."""

    variant: str = "full"
    profile: str = ""
    output: str = "runs/ccdistill"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    distill: LossOptions = field(default_factory=LossOptions)


# Each variant is a set of overrides on top of `full` (docs/METHOD.md, section 7): switching terms
# off gives the baselines; the ablations change one component of CCDistill.
_NO_DISTILLATION = {"loss.cdc": 0.0, "loss.js": 0.0, "loss.cds": 0.0}
VARIANTS: dict[str, dict[str, Any]] = {
    "source_only": {"loss.seg_night": 0.0, "loss.pseudo": 0.0, **_NO_DISTILLATION},
    "seg_night": {"loss.pseudo": 0.0, **_NO_DISTILLATION},
    "pseudo": dict(_NO_DISTILLATION),
    "cdc": {"loss.cds": 0.0},
    "cds": {"loss.cdc": 0.0, "loss.js": 0.0},
    "full": {},
    "oracle": {"loss.pseudo": 0.0, "loss.oracle": 1.0, **_NO_DISTILLATION},
    "no_js": {"loss.js": 0.0},
    "no_proj": {"model.projection": False},
    "share_weights": {"model.share_weights": True},
    # Controls for the terms without pseudo labels (docs/RESULTS.md): L_seg on S_d and S_n, and
    # the target streams only forwarded, so BatchNorm statistics adapt but no target loss acts.
    "target_bn": {"loss.pseudo": 0.0, **_NO_DISTILLATION, "train.forward_target": True},
}
# Which segmenter is deployed: only source_only deploys the day network M_d.
DEPLOYED_STREAM = {name: ("day" if name == "source_only" else "night") for name in VARIANTS}

RESUME_MODES = ("auto", "force", "fresh")  # train.resume: see ccdistill/runfolder/resume.py
BN_STREAMS = ("per_stream", "joint")  # model.bn_streams: see ccdistill/train/forward.py

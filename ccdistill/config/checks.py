"""Checks of a composed Config that its types alone cannot express: finite numbers, positive
sizes and counts, known choices (`validate_config`, run by `load_config`), and what only
training needs: a sane two-stage recipe and stream sizes the distillation terms can compare
(`validate_training_config`, run by the Trainer). Every error names the key and what to set."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

from ccdistill.config.schema import BN_STREAMS, RESUME_MODES, Config
from ccdistill.errors import ConfigError

__all__ = ["validate_config", "check_recipe", "validate_training_config"]

# numpy's seeds are 0..2**32-1 and each rank seeds with train.seed + rank: room for 2**31 ranks.
MAX_SEED = 2**31 - 1
# Checkpoint names hold the iteration in 7 digits (ckpt_0001000.pt), which resume reads back.
MAX_ITERATIONS = 9_999_999
# Data-loading processes per CPU core beyond which a config was surely meant for another machine
# (each worker is a process holding a copy of the dataset object).
WORKERS_PER_CORE = 8


def _float_settings(section: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Every float value of a Config (tuples included), by dotted key."""
    found = []
    for item in dataclasses.fields(section):
        value = getattr(section, item.name)
        key = f"{prefix}{item.name}"
        if dataclasses.is_dataclass(value):
            found += _float_settings(value, f"{key}.")
        elif isinstance(value, float):
            found.append((key, value))
        elif isinstance(value, tuple):
            found += [(key, v) for v in value if isinstance(v, float)]
    return found


def _at_least(key: str, value: float | int, low: float | int) -> None:
    if value < low:
        raise ConfigError(f"config key '{key}' must be at least {low}, got {value}; set {key} to a value >= {low}")


def _at_most(key: str, value: float | int, high: float | int, why: str) -> None:
    if value > high:
        raise ConfigError(f"config key '{key}' must be at most {high:,} ({why}), got {value:,}; set {key} "
                          f"to a value <= {high:,}")


def _check_counts(config: Config) -> None:
    """Integers the libraries below refuse, or that would break resume or the machine."""
    train = config.train
    if not 0 <= train.seed <= MAX_SEED:
        raise ConfigError(f"config key 'train.seed' must be between 0 and {MAX_SEED:,} (numpy's seed range, one "
                          f"seed per process), got {train.seed:,}; set e.g. train.seed=0")
    _at_most("train.max_iterations", train.max_iterations, MAX_ITERATIONS,
             "checkpoint names hold the iteration in 7 digits")
    cores = os.cpu_count() or 1
    _at_most("data.num_workers", config.data.num_workers, WORKERS_PER_CORE * cores,
             f"{WORKERS_PER_CORE} loader processes per CPU core; this machine has {cores}")


def validate_config(config: Config) -> None:
    """Value checks that types alone cannot express; each error names the key."""
    for key, value in _float_settings(config):
        if not math.isfinite(value):
            raise ConfigError(f"config key '{key}' is {value}, expected a finite number; set it to a "
                              "number (see configs/toycity.yaml for typical values)")
    if not str(config.output).strip():
        raise ConfigError("config key 'output' is empty, which would write the run into the current folder; "
                          "set output= to a run folder, e.g. output=runs/toycity")
    train = config.train
    for key, value, low in (("train.max_iterations", train.max_iterations, 1),
                            ("train.batch_size", train.batch_size, 1),
                            ("train.grad_accum", train.grad_accum, 1),
                            ("train.checkpoint_every", train.checkpoint_every, 1),
                            ("train.keep_last", train.keep_last, 1),
                            ("train.log_every", train.log_every, 1),
                            ("train.val_every", train.val_every, 0),
                            ("data.num_workers", config.data.num_workers, 0),
                            ("model.num_classes", config.model.num_classes, 1),
                            ("model.embedding_dim", config.model.embedding_dim, 1),
                            ("optim.momentum", config.optim.momentum, 0),
                            ("optim.weight_decay", config.optim.weight_decay, 0),
                            ("optim.head_lr_mult", config.optim.head_lr_mult, 0),
                            ("optim.poly_power", config.optim.poly_power, 0)):
        _at_least(key, value, low)
    if train.val_max_images is not None:
        _at_least("train.val_max_images", train.val_max_images, 1)
    _check_counts(config)
    if train.amp not in {"auto", "bf16", "fp16", "off"}:
        raise ConfigError(f"config key 'train.amp' must be auto, bf16, fp16 or off, got '{train.amp}'")
    if train.resume not in RESUME_MODES:
        raise ConfigError(f"config key 'train.resume' must be {', '.join(RESUME_MODES)}, got '{train.resume}' "
                          "(auto resumes if the configuration is unchanged; see docs/TRAINING.md)")
    if config.optim.name not in ("sgd", "adamw"):
        raise ConfigError(f"config key 'optim.name' must be sgd or adamw, got '{config.optim.name}'")
    if config.optim.lr <= 0:
        raise ConfigError(f"config key 'optim.lr' must be positive, got {config.optim.lr}")
    _check_sizes(config)
    # The loss dataclasses check their own values on construction; re-run those checks.
    for key, section in (("loss", config.loss), ("distill", config.distill)):
        try:
            type(section)(**dataclasses.asdict(section))
        except (ValueError, TypeError) as error:
            raise ConfigError(f"config section '{key}': {error}") from None


def check_recipe(config: Config) -> None:
    """Refuse a run whose pseudo labels would come from a segmenter that cannot segment yet.

    L_pseudo trains M_n on T_n with labels from M_d's prediction on T_d (docs/METHOD.md, section 6). If M_d has
    never been trained on the source (no `model.init_checkpoint`) and the pseudo term is not
    ramped in (`loss.pseudo_warmup_fraction`), those labels are noise from iteration 0;
    DANNet, which CCDistill builds on, starts from a Cityscapes-trained model (docs/TRAINING.md,
    "The GPU recipe").
    """
    if config.model.bn_streams not in BN_STREAMS:
        raise ConfigError(f"config key 'model.bn_streams' must be one of {', '.join(BN_STREAMS)}, "
                          f"got '{config.model.bn_streams}'")
    m, loss = config.model, config.loss
    if loss.pseudo == 0 or m.init_checkpoint or loss.pseudo_warmup_fraction > 0 or m.allow_untrained_teacher:
        return
    start = "random initialisation" if not m.weights else f"weights={m.weights}"
    raise ConfigError(
        f"variant '{config.variant}' trains M_n on pseudo labels from M_d (loss.pseudo={loss.pseudo}), "
        f"but M_d starts from {start} and has never segmented the source, so its pseudo labels "
        "would be noise. Run the source-only stage first and warm-start from it: "
        f"`ccdistill train --config CONFIG variant=source_only output={config.output}_source_only`, then "
        f"`ccdistill train --config CONFIG variant={config.variant} "
        f"model.init_checkpoint={config.output}_source_only/deploy.pt`; or ramp the pseudo labels in "
        "with loss.pseudo_warmup_fraction=0.2; or set model.allow_untrained_teacher=true to train "
        "this way anyway.")


def validate_training_config(config: Config) -> None:
    """validate_config plus what only training needs (evaluation reads the same files and
    does not care): the stream sizes the distillation terms compare."""
    validate_config(config)
    check_recipe(config)
    d, w = config.data, config.loss
    # CDC, JS and CDS compare the four streams' features entry by entry: S_d/S_n (cropped to
    # source_crop) and T_d/T_n (resized to target_size) must reach the network at one size.
    distill = [name for name in ("cdc", "js", "cds") if getattr(w, name) > 0]
    if distill and tuple(d.source_crop) != tuple(d.target_size):
        raise ConfigError(
            f"data.source_crop {tuple(d.source_crop)} and data.target_size {tuple(d.target_size)} differ, "
            f"but the {', '.join(distill)} term(s) compare source and target features of equal size; set "
            f"both to one size (e.g. data.target_size={d.source_crop[0]}x{d.source_crop[1]}) or use a "
            "variant without distillation (e.g. variant=pseudo)")


def _check_sizes(config: Config) -> None:
    d = config.data
    for key in ("source_crop", "target_crop", "target_size", "eval_size"):
        size = getattr(d, key)
        if size is not None and min(size) < 1:
            raise ConfigError(f"config key 'data.{key}' must be two positive sizes (H, W), got {size}")
    for key in ("source_scale", "target_scale"):
        low, high = getattr(d, key)
        if not 0 < low <= high:
            raise ConfigError(f"config key 'data.{key}' must be a range 0 < low <= high, got {getattr(d, key)}")

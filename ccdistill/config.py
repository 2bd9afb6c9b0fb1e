"""Configuration: dataclasses, YAML files in configs/, profiles, variants, command-line overrides.

A run's configuration is composed in this order, later winning:
dataclass defaults <- YAML file <- profile (configs/profiles/<name>.yaml) <- variant <- `key=value`
overrides. Every key is checked; an unknown one fails with the closest valid key.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ccdistill.errors import ConfigError
from ccdistill.losses.total import LossOptions, LossWeights

# Shipped inside the package, so a `pip install` has the profiles; the repository's configs/
# is a link to this folder.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"


@dataclass
class DataConfig:
    """Where the four streams come from and how they are augmented (SPEC 4.7, 5)."""

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
    """The two segmenters M_d, M_n and the projection head (SPEC 4.1, 4.2)."""

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
    """SGD with poly decay, DANNet's settings (SPEC 4.7)."""

    name: str = "sgd"  # sgd (SPEC 4.7) | adamw (momentum is then Adam's beta1)
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
    resume: str = "auto"  # auto | force | fresh: see ccdistill/resume.py and docs/TRAINING.md


@dataclass
class Config:
    """A whole run. `variant` selects a SPEC 4.6 baseline or ablation by one key."""

    variant: str = "full"
    profile: str = ""
    output: str = "runs/ccdistill"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    distill: LossOptions = field(default_factory=LossOptions)


# Each variant is a set of overrides on top of `full` (SPEC 4.6): switching terms off gives the
# baselines; the ablations change one component of CCDistill.
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
}
# Which segmenter is deployed: only source_only deploys the day network M_d.
DEPLOYED_STREAM = {name: ("day" if name == "source_only" else "night") for name in VARIANTS}


def _closest(key: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def valid_keys(config: Any = None, prefix: str = "") -> list[str]:
    """Every dotted key of a Config, e.g. 'train.max_iterations'."""
    config = config if config is not None else Config()
    keys = []
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        if dataclasses.is_dataclass(value):
            keys += valid_keys(value, f"{prefix}{item.name}.")
        else:
            keys.append(f"{prefix}{item.name}")
    return keys


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Turn a YAML value or a command-line string into the field's declared type."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(value, str) and value.lower() in {"none", "null"} and type(None) in args:
        return None
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if value is None:
            return None
        return _coerce(key, value, inner[0])
    try:
        if origin is tuple:
            items = value
            if isinstance(value, str):
                items = [v for v in value.strip("()[] ").replace("x", ",").split(",") if v.strip()]
            items = list(items)
            if len(items) != len(args):
                raise ValueError(f"expected {len(args)} values")
            return tuple(_coerce(key, v, a) for a, v in zip(args, items))
        if annotation is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in {"true", "1", "yes", "on"}:
                return True
            if str(value).lower() in {"false", "0", "no", "off"}:
                return False
            raise ValueError("expected true or false")
        if annotation is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("expected an integer")
            return int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)
        if annotation is float:
            return float(value)
        if annotation is str:
            return "" if value is None else str(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"config key '{key}' got {value!r}, which is not a valid {_type_name(annotation)} "
            f"({error}); e.g. {key}={_example(annotation)}"
        ) from None
    return value


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation))


def _example(annotation: Any) -> str:
    if typing.get_origin(annotation) is tuple:
        return ",".join("256" if a is int else "0.5" for a in typing.get_args(annotation))
    return {bool: "true", int: "10", float: "0.5", str: "name"}.get(annotation, "value")


def _set(config: Config, key: str, value: Any) -> None:
    keys = valid_keys(config)
    if key not in keys:
        raise ConfigError(f"unknown config key '{key}'.{_closest(key, keys)} "
                          f"Valid keys: {', '.join(sorted(keys))}")
    *parents, name = key.split(".")
    target = config
    for parent in parents:
        target = getattr(target, parent)
    hints = typing.get_type_hints(type(target))
    setattr(target, name, _coerce(key, value, hints[name]))


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict -> flat dotted keys: {'train': {'seed': 0}} -> {'train.seed': 0}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def shipped_configs() -> list[str]:
    """The names of the configs shipped with the package, e.g. ['cityscapes_acdc', 'toycity']."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def resolve_config_path(path: str | Path) -> Path:
    """A config file path, or the name of a shipped config ("toycity", "toycity.yaml",
    "configs/toycity.yaml" from any working directory) -> the file."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder; give a YAML file, e.g. {CONFIG_DIR / 'toycity.yaml'}")
    if path.is_file():
        return path
    shipped = CONFIG_DIR / (path.name if path.suffix else f"{path.name}.yaml")
    if path.parent in (Path("."), Path("configs")) and shipped.is_file():
        return shipped
    raise ConfigError(f"config file {path} does not exist; the shipped configs are "
                      f"{', '.join(shipped_configs())} (pass e.g. --config toycity, or a path to a YAML file)")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a config YAML file into flat dotted keys."""
    path = resolve_config_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {error.start} cannot be decoded); "
                          "save it as UTF-8 YAML") from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read ({error.strerror}); check its permissions") from None
    try:
        tree = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(tree, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, got {type(tree).__name__}")
    return flatten(tree)


def parse_overrides(overrides: list[str] | tuple[str, ...]) -> dict[str, str]:
    """['train.max_iterations=20', 'variant=cdc'] -> {'train.max_iterations': '20', ...}."""
    parsed = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}' is not of the form key=value "
                              f"(e.g. train.max_iterations=100)")
        key, value = item.split("=", 1)
        parsed[key.strip()] = value.strip()
    return parsed


def load_config(path: str | Path | None = None, overrides: list[str] | dict[str, Any] = ()) -> Config:
    """Compose a Config: defaults <- YAML <- profile <- variant <- overrides."""
    file_values = read_yaml(path) if path else {}
    override_values = dict(overrides) if isinstance(overrides, dict) else parse_overrides(overrides)
    profile = str(override_values.get("profile", file_values.get("profile", "")) or "")
    variant = str(override_values.get("variant", file_values.get("variant", "full")))
    if variant not in VARIANTS:
        raise ConfigError(f"unknown variant '{variant}'.{_closest(variant, list(VARIANTS))} "
                          f"Valid variants: {', '.join(VARIANTS)}")
    profile_values = read_yaml(CONFIG_DIR / "profiles" / f"{profile}.yaml") if profile else {}
    config = Config()
    for layer in (file_values, profile_values, VARIANTS[variant], override_values):
        for key, value in layer.items():
            _set(config, key, value)
    config.profile, config.variant = profile, variant
    validate_config(config)
    return config


RESUME_MODES = ("auto", "force", "fresh")


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


BN_STREAMS = ("per_stream", "joint")


def check_recipe(config: Config) -> None:
    """Refuse a run whose pseudo labels would come from a segmenter that cannot segment yet.

    L_pseudo trains M_n on T_n with labels from M_d's prediction on T_d (SPEC 4.5). If M_d has
    never been trained on the source (no `model.init_checkpoint`) and the pseudo term is not
    ramped in (`loss.pseudo_warmup_fraction`), those labels are noise from iteration 0;
    DANNet, which CCDistill builds on, starts from a Cityscapes-trained model (SPEC 4.7).
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


def config_to_dict(config: Config) -> dict[str, Any]:
    """Plain nested dict (tuples as lists) for YAML dumps and checkpoint metadata."""
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return list(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    return plain(dataclasses.asdict(config))


def dump_config(config: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))

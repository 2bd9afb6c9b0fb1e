"""Configuration: YAML files in configs/, profiles, variants, command-line overrides.

A run's configuration is composed in this order, later winning:
dataclass defaults <- YAML file <- profile (configs/profiles/<name>.yaml) <- variant <- `key=value`
overrides. Every key is checked; an unknown one fails with the closest valid key.

The dataclasses and named choices are in `config_schema.py`, the value checks in
`config_checks.py`; `Config` and `DataConfig` are importable from here as well.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from ccdistill.config_checks import validate_config
from ccdistill.config_schema import VARIANTS, Config, DataConfig
from ccdistill.errors import ConfigError

__all__ = ["CONFIG_DIR", "Config", "DataConfig", "load_config", "valid_keys", "flatten", "shipped_configs",
           "resolve_config_path", "read_yaml", "parse_overrides", "config_to_dict", "dump_config"]

# Shipped inside the package, so a `pip install` has the profiles; the repository's configs/
# is a link to this folder.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"


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

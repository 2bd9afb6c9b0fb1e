"""Loading a configuration: YAML files in configs/, profiles, variants, command-line overrides.

A run's configuration is composed in this order, later winning:
dataclass defaults <- YAML file <- profile (configs/profiles/<name>.yaml) <- variant <- `key=value`
overrides. Every key is checked; an unknown one fails with the closest valid key.

The dataclasses and named choices are in `schema.py`, the value checks in `checks.py`;
`ccdistill.config` exports what the rest of the package uses from all three.
"""

from __future__ import annotations

import dataclasses
import difflib
import reprlib
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from ccdistill.config.checks import validate_config
from ccdistill.config.schema import VARIANTS, Config, DataConfig
from ccdistill.errors import ConfigError
from ccdistill.runfolder.files import not_a_file

__all__ = ["CONFIG_DIR", "Config", "DataConfig", "load_config", "valid_keys", "flatten", "shipped_configs",
           "resolve_config_path", "read_yaml", "read_yaml_file", "parse_overrides", "config_to_dict", "dump_config"]

# Shipped inside the package, so a `pip install` has the profiles; the repository's configs/
# is a link to this folder.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
# Bounds on a YAML file, far above any real config (a few KB, a few hundred values, nested 2-3
# levels) and far below what hurts: aliases (`*name`) may repeat a value exponentially often
# (an "alias bomb"), and printing or walking the expanded value would take gigabytes.
MAX_YAML_BYTES = 100_000  # 25 times the experiment registry, the largest YAML file here
MAX_YAML_WEIGHT = 1_000_000  # values + characters of the value once every alias is expanded
MAX_YAML_DEPTH = 32
# libyaml's parser where PyYAML was built with it (tens of times faster on a large file).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Values quoted in messages are cut to a readable length (a value may be huge).
_SHORT = reprlib.Repr()  # keyword arguments only from Python 3.12
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = 6
_SHORT.maxlevel = 3


def short_repr(value: Any) -> str:
    """repr(value) cut to about a line, for messages."""
    return _SHORT.repr(value)


def short_text(text: str, limit: int = 160) -> str:
    """`text` on one line, cut to `limit` characters (library messages may quote a huge value)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


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
            f"config key '{key}' got {short_repr(value)}, which is not a valid {_type_name(annotation)} "
            f"({short_text(str(error))}); e.g. {key}={_example(annotation)}"
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
        raise ConfigError(f"unknown config key {short_repr(key)}.{_closest(key[:200], keys)} "
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
    raise ConfigError(f"config file {path} {not_a_file(path)}; the shipped configs are "
                      f"{', '.join(shipped_configs())} (pass e.g. --config toycity, or a path to a YAML file)")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _yaml_bounds_problem(root: yaml.Node) -> str | None:
    """Why a composed YAML document is refused, or None: a value that contains itself, or more
    than MAX_YAML_WEIGHT once aliases are expanded. Counted on the node graph, where an alias is
    one shared node, so nothing is expanded to count it."""
    weight: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            ancestors.discard(id(node))
            own = 1 + (len(node.value) if isinstance(node, yaml.ScalarNode) else 0)
            weight[id(node)] = min(MAX_YAML_WEIGHT + 1, own + sum(weight[id(c)] for c in _children(node)))
            if weight[id(node)] > MAX_YAML_WEIGHT:
                return (f"its aliases (*name) expand it to more than {MAX_YAML_WEIGHT:,} values and characters "
                        f"(from line {node.start_mark.line + 1}), an alias bomb; write the values out")
            continue
        if id(node) in weight:
            continue
        if id(node) in ancestors:
            return (f"the value starting at line {node.start_mark.line + 1} contains itself through an alias "
                    "(*name inside its own &name); remove that alias")
        ancestors.add(id(node))
        stack.append((node, True))
        stack += [(child, False) for child in _children(node)]
    return None


def _check_nesting(text: str, where: str) -> None:
    """Refuse nesting deeper than MAX_YAML_DEPTH from the parser's events, which come one at a
    time: composing the document recurses once per level and would overflow Python's stack."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_YAML_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise ConfigError(f"{where} is refused: it is nested more than {MAX_YAML_DEPTH} levels deep (at "
                                      f"line {event.start_mark.line + 1}); a config nests sections two levels deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as error:
        raise ConfigError(f"{where} is not valid YAML: {short_text(str(error), 300)}") from None


def read_yaml_file(path: str | Path, what: str = "config file") -> Any:
    """The YAML document of a file, refused with a ConfigError naming `what` and the path when it
    is not readable UTF-8 YAML, or is bigger, deeper or more alias-expanded than any config is."""
    path = Path(path)
    problem = not_a_file(path)
    if problem is not None:
        raise ConfigError(f"{what} {path} {problem}; pass the path of a YAML file")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"{what} {path} is {path.stat().st_size:,} bytes, more than {MAX_YAML_BYTES:,}; "
                          "a config is a few KB of YAML: pass the YAML file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark from a Windows editor is fine
    except UnicodeDecodeError as error:
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte {error.start} cannot be decoded); "
                          "save it as UTF-8 YAML") from None
    except OSError as error:
        raise ConfigError(f"{what} {path} cannot be read ({error.strerror}); check its permissions") from None
    _check_nesting(text, f"{what} {path}")
    loader = _YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        problem = _yaml_bounds_problem(node) if node is not None else None
        if problem:
            raise ConfigError(f"{what} {path} is refused: {problem}")
        return loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise ConfigError(f"{what} {path} is not valid YAML: {short_text(str(error), 300)}") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a config YAML file into flat dotted keys."""
    path = resolve_config_path(path)
    tree = read_yaml_file(path) or {}
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
        raise ConfigError(f"unknown variant {short_repr(variant)}.{_closest(variant[:200], list(VARIANTS))} "
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

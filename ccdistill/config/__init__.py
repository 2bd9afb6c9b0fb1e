"""A run's configuration: the schema (`schema.py`: the dataclasses, their defaults, the named
choices), the checks (`checks.py`) and the loader (`loading.py`: YAML files, profiles, variants,
`key=value` overrides, in that order).

    from ccdistill.config import load_config
    config = load_config("toycity", ["profile=ci", "variant=full"])
"""

from ccdistill.config.loading import (
    CONFIG_DIR, MAX_YAML_BYTES, config_to_dict, dump_config, flatten, load_config, parse_overrides, read_yaml,
    read_yaml_file, resolve_config_path, shipped_configs, valid_keys,
)
from ccdistill.config.schema import Config, DataConfig, ModelConfig, OptimConfig, TrainConfig

__all__ = ["CONFIG_DIR", "MAX_YAML_BYTES", "Config", "DataConfig", "ModelConfig", "OptimConfig", "TrainConfig",
           "config_to_dict", "dump_config", "flatten", "load_config", "parse_overrides", "read_yaml", "read_yaml_file",
           "resolve_config_path", "shipped_configs", "valid_keys"]

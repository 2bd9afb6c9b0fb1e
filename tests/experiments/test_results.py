"""Result files: a stored config matches the registry when only later-added keys are absent."""

from __future__ import annotations

from ccdistill.config import config_to_dict, load_config
from ccdistill.experiments.results import config_differences

CONFIG = "configs/toycity.yaml"


def test_a_key_missing_from_an_older_result_counts_as_its_default():
    stored = config_to_dict(load_config(CONFIG, ["variant=full"]))
    del stored["train"]["forward_target"]  # result files written before the key existed
    assert config_differences(load_config(CONFIG, ["variant=full"]), stored) == []
    # ... but not when the registry now asks for a non-default value.
    differences = config_differences(load_config(CONFIG, ["variant=target_bn"]), stored)
    assert any(d.startswith("train.forward_target: found None") for d in differences)

"""Pseudo labels need an M_d that can segment: an untrained start with no ramp is refused."""

from __future__ import annotations

import pytest

from ccdistill.config import load_config
from ccdistill.config.checks import check_recipe
from ccdistill.errors import ConfigError
from ccdistill.train import Trainer

from .helpers import CONFIG, ci_overrides


def test_pseudo_labels_from_an_untrained_segmenter_are_refused_with_what_to_run_first(tmp_path):
    config = load_config(CONFIG, ci_overrides(tmp_path / "no_root", tmp_path / "run", "variant=full",
                                              "loss.pseudo_warmup_fraction=0"))
    with pytest.raises(ConfigError, match="variant=source_only") as error:
        Trainer(config)
    message = str(error.value)
    assert "model.init_checkpoint=" in message and "pseudo_warmup_fraction" in message
    assert "allow_untrained_teacher" in message
    assert not (tmp_path / "run").exists()  # refused before anything is written


@pytest.mark.parametrize("override", ["loss.pseudo_warmup_fraction=0.2", "model.allow_untrained_teacher=true",
                                      "model.init_checkpoint=runs/x/deploy.pt", "variant=seg_night"])
def test_a_source_trained_start_a_ramp_or_an_explicit_override_is_accepted(tmp_path, override):
    config = load_config(CONFIG, ci_overrides(tmp_path, tmp_path / "run", "variant=full",
                                              "loss.pseudo_warmup_fraction=0", override))
    check_recipe(config)


def test_bn_streams_must_be_known(tmp_path):
    config = load_config(CONFIG, ci_overrides(tmp_path, tmp_path / "run", "model.bn_streams=shared"))
    with pytest.raises(ConfigError, match="model.bn_streams"):
        check_recipe(config)

import pytest

from ccdistill.config import load_config, valid_keys
from ccdistill.config.schema import VARIANTS
from ccdistill.errors import ConfigError
from tests.engine.helpers import CONFIG


def test_unknown_key_suggests_the_closest_valid_key():
    with pytest.raises(ConfigError) as error:
        load_config(CONFIG, ["train.max_iteration=5"])
    assert "train.max_iteration" in str(error.value)
    assert "Did you mean 'train.max_iterations'" in str(error.value)


def test_unknown_variant_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="Valid variants: source_only"):
        load_config(CONFIG, ["variant=ful"])


def test_layers_apply_in_order_defaults_file_profile_variant_overrides():
    config = load_config(CONFIG, ["profile=ci", "variant=no_js", "train.max_iterations=7"])
    assert config.data.dataset == "toycity"  # from the file
    assert config.model.arch == "tiny"  # from the ci profile
    assert config.loss.js == 0.0 and config.loss.cdc == 1.0  # from the variant
    assert config.train.max_iterations == 7  # override wins over the profile's 20


def test_an_override_beats_the_variant():
    config = load_config(CONFIG, ["profile=ci", "variant=no_js", "loss.js=0.3"])
    assert config.loss.js == pytest.approx(0.3)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_is_selectable_by_one_key(variant):
    config = load_config(CONFIG, ["profile=ci", f"variant={variant}"])
    assert config.variant == variant
    if variant == "source_only":
        assert config.loss.seg_night == 0 and config.loss.pseudo == 0
    if variant == "no_proj":
        assert config.model.projection is False
    if variant == "share_weights":
        assert config.model.share_weights is True
    if variant == "oracle":
        assert config.loss.oracle == 1.0


def test_values_are_coerced_to_the_field_types():
    config = load_config(CONFIG, ["profile=ci", "data.source_crop=32x64", "optim.lr=1e-3",
                                  "model.weights=none", "train.deterministic=true"])
    assert config.data.source_crop == (32, 64)
    assert config.optim.lr == pytest.approx(1e-3)
    assert config.model.weights is None
    assert config.train.deterministic is True


@pytest.mark.parametrize("override, fragment", [
    ("train.max_iterations=abc", "train.max_iterations"),
    ("train.deterministic=maybe", "true or false"),
    ("data.source_crop=64", "expected 2 values"),
    ("train.max_iterations=0", "at least 1"),
    ("train.amp=fp8", "auto, bf16, fp16 or off"),
    ("max_iterations", "key=value"),
])
def test_bad_values_name_the_key_and_what_is_expected(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_config(CONFIG, ["profile=ci", override])


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_profiles_exist_for_ci_cpu_gpu():
    for profile in ("ci", "cpu", "gpu"):
        assert load_config(CONFIG, [f"profile={profile}"]).profile == profile
    assert "loss.cdc" in valid_keys() and "distill.granularity" in valid_keys()


def test_loss_option_values_are_checked():
    with pytest.raises(ConfigError, match="distill"):
        load_config(CONFIG, ["profile=ci", "distill.granularity=pixel"])

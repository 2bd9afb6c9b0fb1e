"""Configuration faults: each bad file or value is refused before anything is written, with a
message naming the file or key, the value, and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccdistill.cli import main
from ccdistill.config import load_config
from ccdistill.config.checks import validate_training_config
from ccdistill.errors import ConfigError
from ccdistill.runfolder.lock import RunFolderError
from ccdistill.train import Trainer
from tests.engine.helpers import CONFIG, ci_overrides


def test_a_non_utf8_config_file_is_named(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("variant: full\n# Zürich\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{path} is not UTF-8 text.*save it as UTF-8"):
        load_config(path)


def test_an_unreadable_config_file_is_named(tmp_path, monkeypatch):
    path = tmp_path / "secret.yaml"
    path.write_text("variant: full\n")

    def denied(self, *args, **kwargs):  # chmod 000 does not stop root, so fake the OS error
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError, match=f"{path} cannot be read \\(Permission denied\\); check its permissions"):
        load_config(path)


def test_a_config_path_that_is_a_folder_is_not_called_missing(tmp_path):
    with pytest.raises(ConfigError, match=f"{tmp_path} is a folder; give a YAML file"):
        load_config(tmp_path)


@pytest.mark.parametrize("override, key", [
    ("optim.lr=nan", "optim.lr"),
    ("optim.poly_power=nan", "optim.poly_power"),
    ("optim.momentum=inf", "optim.momentum"),
    ("loss.cdc=inf", "loss.cdc"),
    ("loss.warmup_fraction=nan", "loss.warmup_fraction"),
    ("distill.tau=-inf", "distill.tau"),
    ("data.translation_beta=nan", "data.translation_beta"),
    ("data.source_scale=0.5,nan", "data.source_scale"),
])
def test_nan_and_inf_in_any_float_setting_are_refused(override, key):
    with pytest.raises(ConfigError, match=f"config key '{key}' is (nan|inf|-inf), expected a finite number"):
        load_config(CONFIG, ["profile=ci", override])


@pytest.mark.parametrize("override, key, low", [
    ("optim.momentum=-0.9", "optim.momentum", 0),
    ("optim.weight_decay=-0.0001", "optim.weight_decay", 0),
    ("data.num_workers=-1", "data.num_workers", 0),
    ("train.log_every=0", "train.log_every", 1),
    ("train.val_every=-5", "train.val_every", 0),
    ("train.val_max_images=0", "train.val_max_images", 1),
    ("optim.poly_power=-1", "optim.poly_power", 0),
])
def test_out_of_range_values_name_the_key_the_value_and_the_bound(override, key, low):
    value = override.split("=")[1]
    with pytest.raises(ConfigError) as error:
        load_config(CONFIG, ["profile=ci", override])
    message = str(error.value)
    assert f"'{key}' must be at least {low}" in message and f"got {value}" in message


@pytest.mark.parametrize("output", ["", "  "])
def test_an_empty_output_would_write_into_the_current_folder_and_is_refused(output):
    with pytest.raises(ConfigError, match="'output' is empty.*set output= to a run folder"):
        load_config(CONFIG, ["profile=ci", f"output={output}"])


def test_an_unknown_resume_mode_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="'train.resume' must be auto, force, fresh, got 'yes'"):
        load_config(CONFIG, ["profile=ci", "train.resume=yes"])


def test_stream_sizes_that_the_distillation_terms_cannot_compare_are_named_by_key(toycity_root, tmp_path):
    config = load_config(CONFIG, ci_overrides(toycity_root, tmp_path / "run", "data.target_size=32x64"))
    with pytest.raises(ConfigError) as error:
        validate_training_config(config)
    message = str(error.value)
    assert "data.source_crop (64, 128)" in message and "data.target_size (32, 64)" in message
    assert "cdc, js, cds" in message and "data.target_size=64x128" in message
    # Variants without distillation accept different sizes.
    validate_training_config(load_config(CONFIG, ci_overrides(toycity_root, tmp_path, "data.target_size=32x64",
                                                              "variant=pseudo")))


def test_the_command_line_refuses_the_size_mismatch_before_writing(toycity_root, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", str(CONFIG),
                 *ci_overrides(toycity_root, run, "data.target_size=32x64")]) == 2
    assert "data.source_crop" in capsys.readouterr().err
    assert not run.exists()


def test_a_config_built_in_code_is_validated_by_the_trainer(toycity_root, tmp_path):
    config = load_config(CONFIG, ci_overrides(toycity_root, tmp_path / "run"))
    config.train.log_every = 0  # a notebook edits the dataclass directly
    with pytest.raises(ConfigError, match="train.log_every"):
        Trainer(config)
    assert not (tmp_path / "run").exists()


def test_an_output_that_is_a_file_is_refused(toycity_root, tmp_path):
    output = tmp_path / "run"
    output.write_text("a file")
    with pytest.raises(RunFolderError, match=f"output {output} is a file, not a folder"):
        Trainer(load_config(CONFIG, ci_overrides(toycity_root, output)))
    assert output.read_text() == "a file"

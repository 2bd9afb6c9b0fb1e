"""Issue 18, item 5: the inputs still answered with a traceback or an unclear message, and their
siblings (configs, command-line paths, the notebook entry point, run folders, checkpoints). Each
is answered by one sentence naming the file, key or value, what was expected and what to do,
with exit status 2 on the command line, and nothing is lost. Data-tree inputs are in
test_issue18_data.py; the explorer inputs belong to tests/viz."""

from __future__ import annotations

import hashlib
import shutil
import tracemalloc
from pathlib import Path

import pytest

from ccdistill.runfolder.checkpoint import load_deployed
from ccdistill.cli import main
from ccdistill.config import MAX_YAML_BYTES, load_config, read_yaml_file
from ccdistill.errors import CheckpointError, ConfigError, InputError
from ccdistill.notebook import profile_name, setup
from ccdistill.train import Trainer, train
from tests.engine.helpers import CONFIG, ci_overrides
from tests.reliability.faults import assert_clear, deploy_checkpoint, run_cli

NINE = ", ".join(["lol"] * 9)


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _alias_bomb(levels: int = 9) -> str:
    """Nine lists of nine lists ... of 'lol' (9**levels strings once expanded), all inside one value."""
    anchors = [f"&a0 [{NINE}]"] + [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(anchors) + "]"


# ------------------------------------------------------------------------------ YAML files
YAML_CASES = {
    "alias bomb under a valid key": (f"train:\n  max_iterations: {_alias_bomb()}\n", "is refused: its aliases"),
    "alias bomb as the whole file": (f"{_alias_bomb()}\n", "is refused: its aliases"),
    "alias bomb under an unknown key": (f"x-anchors: {_alias_bomb()}\n", "is refused: its aliases"),
    "a section containing itself": ("train: &t\n  seed: 1\n  again: *t\n", "is refused: the value starting at line 1 contains itself"),
    "a list containing itself": ("train:\n  seed: &s [1, *s]\n", "is refused: the value starting at line 2 contains itself"),
    "nesting a hundred deep": ("train:\n  seed: " + "[" * 100 + "]" * 100 + "\n", "is refused: it is nested more"),
    "nesting thousands deep": ("train:\n  seed: " + "[" * 5000 + "]" * 5000 + "\n", "nesting depth"),
}


@pytest.mark.parametrize("case", YAML_CASES)
def test_yaml_files_that_explode_or_recurse_are_refused_unexpanded(capsys, tmp_path, case):
    text, needle = YAML_CASES[case]
    path = tmp_path / "config.yaml"
    path.write_text(text)
    tracemalloc.start()
    try:
        status, err = run_cli(["train", "--config", path, f"output={tmp_path / 'run'}"], capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_clear(status, err, f"config file {path} ", needle)
    assert peak < 50_000_000  # the expanded bomb is gigabytes; the file is a few hundred bytes
    assert len(err) < 600 and not (tmp_path / "run").exists()


def test_an_alias_bomb_in_the_experiment_registry_is_refused(capsys, tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_text(f"defaults:\n  overrides: {_alias_bomb()}\nrows:\n  - id: full\n")
    status, err = run_cli(["experiments", "status", "--registry", registry], capsys)
    assert_clear(status, err, f"registry file {registry} is refused", "alias bomb")


def test_a_config_larger_than_any_config_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_YAML_BYTES + "\n")
    with pytest.raises(ConfigError, match=f"{path} is [\\d,]+ bytes, more than .*a config is a few KB"):
        read_yaml_file(path)


def test_a_byte_order_mark_in_a_config_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfvariant: cdc\ntrain:\n  seed: 3\n")
    config = load_config(path)
    assert config.variant == "cdc" and config.train.seed == 3


def test_a_device_given_as_config_is_not_called_missing(capsys):
    status, err = run_cli(["train", "--config", "/dev/null"], capsys)
    assert_clear(status, err, "config file /dev/null is not a regular file", "--config toycity")
    assert "does not exist" not in err


def test_a_huge_override_value_is_quoted_short(capsys, tmp_path):
    status, err = run_cli(["train", "--config", CONFIG, "train.seed=x" + "9" * 100_000,
                           f"output={tmp_path / 'run'}"], capsys)
    assert_clear(status, err, "config key 'train.seed' got 'x999", "...", "not a valid int", "e.g. train.seed=")
    assert len(err) < 600


# ------------------------------------------------------------------------------ numbers out of range
@pytest.mark.parametrize("override, needle", [
    ("train.seed=-1", "'train.seed' must be between 0 and 2,147,483,647"),
    ("train.seed=4294967296", "'train.seed' must be between 0 and 2,147,483,647"),
    ("train.seed=1e30", "'train.seed' must be between 0 and 2,147,483,647"),
    ("train.max_iterations=10000000", "'train.max_iterations' must be at most 9,999,999"),
    ("data.num_workers=100000", "'data.num_workers' must be at most"),
])
def test_integers_the_libraries_refuse_are_named_before_training(capsys, tmp_path, override, needle):
    run = tmp_path / "run"
    status, err = run_cli(["train", "--config", CONFIG, "profile=ci", override, f"output={run}"], capsys)
    assert_clear(status, err, needle, "set ")
    assert not run.exists()


# ------------------------------------------------------------------------------ paths of the wrong kind
@pytest.fixture(scope="module")
def deploy(tmp_path_factory) -> Path:
    return deploy_checkpoint(tmp_path_factory.mktemp("deployed") / "deploy.pt")


def _eval(checkpoint: Path, root: Path, *extra) -> list:
    return ["eval", "--checkpoint", checkpoint, "--config", CONFIG, "--split", "test", "--device", "cpu", *extra,
            f"data.root={root}", "data.eval_size=null"]


def test_eval_output_naming_a_file_fails_before_evaluating(capsys, monkeypatch, toycity_root, deploy, tmp_path):
    from ccdistill.evaluation import deployed

    def never(*args, **kwargs):
        raise AssertionError("evaluated although the output cannot be written")

    monkeypatch.setattr(deployed, "evaluate_checkpoint", never)
    existing = tmp_path / "results.txt"
    existing.write_text("my notes")
    for output, needle in ((existing, "is a file, expected a folder"), (existing / "sub", "which is a file")):
        status, err = run_cli(_eval(deploy, toycity_root, "--output", output), capsys)
        assert_clear(status, err, f"--output {output}", needle, "pass a folder path")
    assert existing.read_text() == "my notes"


def test_eval_checkpoint_given_a_run_folder_names_its_deploy_pt(capsys, toycity_root, deploy, tmp_path):
    status, err = run_cli(_eval(deploy.parent, toycity_root), capsys)
    assert_clear(status, err, f"checkpoint {deploy.parent} is a folder, expected a file", f"e.g. {deploy}")
    empty = tmp_path / "empty"
    empty.mkdir()
    status, err = run_cli(_eval(empty, toycity_root), capsys)
    assert_clear(status, err, "is a folder, expected a file", "pass the path of a deploy.pt file")


def test_load_deployed_given_a_folder(deploy):
    with pytest.raises(CheckpointError, match="is a folder, expected a file; pass the file inside it"):
        load_deployed(deploy.parent)


def test_export_checkpoint_given_a_folder(capsys, deploy, toycity_root, tmp_path):
    status, err = run_cli(["export", "darkzurich", "--checkpoint", deploy.parent, "--root", toycity_root / "target",
                           "--out", tmp_path / "submission", "--device", "cpu"], capsys)
    assert_clear(status, err, "is a folder, expected a file", "deploy.pt")


@pytest.mark.parametrize("key, needle", [("model.init_checkpoint", "checkpoint"), ("model.weights", "weights file")])
def test_config_paths_naming_a_folder(capsys, toycity_root, tmp_path, key, needle):
    status, err = run_cli(["train", "--config", CONFIG, *ci_overrides(toycity_root, tmp_path / "run"),
                           f"{key}={tmp_path}"], capsys)
    assert_clear(status, err, f"{needle} {tmp_path} is a folder, expected a file")


def test_translate_source_given_a_file(capsys, tmp_path):
    source = tmp_path / "image.png"
    source.write_bytes(b"x")
    status, err = run_cli(["data", "translate", "--method", "relight", "--source", source, "--out", tmp_path / "out",
                           "--quiet"], capsys)
    assert_clear(status, err, f"source folder {source} is a file, expected a folder")


def test_validate_given_a_file(capsys, tmp_path):
    out = tmp_path / "submission.zip"
    out.write_bytes(b"PK")
    capsys.readouterr()
    assert main(["export", "validate", "--out", str(out)]) == 1
    assert f"problem: {out}: is a file, expected the submission folder" in capsys.readouterr().out


# ------------------------------------------------------------------------------ the notebook entry point
@pytest.mark.parametrize("arguments, needle", [
    ({"profile": 3}, "setup() takes the profile as a string, one of ci, cpu, gpu, got 3 (int)"),
    ({"profile": ["ci"]}, "got ['ci'] (list)"),
    ({"root": 3}, "setup() takes root as a folder path, got 3 (int)"),
])
def test_setup_with_arguments_of_the_wrong_type(arguments, needle):
    with pytest.raises(InputError) as error:
        setup(**arguments)
    assert needle in str(error.value) and "call e.g. setup(" in str(error.value)


def test_profile_names_in_any_letter_case():
    assert profile_name("CPU") == "cpu" and profile_name(" ci ") == "ci"
    with pytest.raises(ConfigError, match="profile 'tpu'"):
        profile_name("TPU")


# ------------------------------------------------------------------------------ run folders
@pytest.mark.parametrize("entry, kind", [
    ("log.csv", "folder"), ("deploy.pt", "folder"), ("best.pt", "folder"), ("ckpt_0000010.pt", "folder"),
    ("config.yaml", "folder"), ("val.csv", "folder"), ("environment.yaml", "folder"), ("tb", "file"),
])
def test_run_folder_entries_of_the_wrong_kind_are_refused_before_training(toycity_root, tmp_path, entry, kind):
    run = tmp_path / "run"
    run.mkdir()
    if kind == "folder":
        (run / entry).mkdir()
        (run / entry / "keep.txt").write_text("mine")
    else:
        (run / entry).write_text("mine")
    before = _fingerprint(run)
    with pytest.raises(ConfigError) as error:
        Trainer(load_config(CONFIG, ci_overrides(toycity_root, run)))
    message = str(error.value)
    assert f"the run folder {run} cannot be written: {entry} is a {kind}" in message
    assert "move or rename those entries, or choose another output= folder" in message
    assert _fingerprint(run) == before


def test_log_csv_as_a_folder_on_the_command_line(capsys, toycity_root, tmp_path):
    run = tmp_path / "run"
    (run / "log.csv").mkdir(parents=True)
    status, err = run_cli(["train", "--config", CONFIG, *ci_overrides(toycity_root, run)], capsys)
    assert_clear(status, err, "log.csv is a folder (training writes a file of that name)")


# ------------------------------------------------------------------------------ damaged checkpoints
@pytest.fixture(scope="module")
def two_checkpoints(toycity_root, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("two")
    train(load_config(CONFIG, ci_overrides(toycity_root, run, "train.max_iterations=4", "train.checkpoint_every=2",
                                           "train.val_every=0")))
    return run


@pytest.mark.parametrize("damage", ["truncated", "empty", "foreign"])
def test_a_damaged_newest_checkpoint_names_the_intact_older_one(two_checkpoints, toycity_root, tmp_path, damage):
    run = Path(shutil.copytree(two_checkpoints, tmp_path / "run"))
    newest, older = run / "ckpt_0000004.pt", run / "ckpt_0000002.pt"
    newest.write_bytes({"truncated": newest.read_bytes()[:1000], "empty": b"", "foreign": b"not a checkpoint"}[damage])
    before = _fingerprint(run)
    config = load_config(CONFIG, ci_overrides(toycity_root, run, "train.max_iterations=6"))
    with pytest.raises(CheckpointError) as error:
        Trainer(config)
    message = str(error.value)
    assert f"checkpoint {newest} cannot be read" in message
    assert f"the older {older.name} beside it is intact" in message and f"mv {newest} {newest}.damaged" in message
    assert _fingerprint(run) == before
    # The advice works: with the damaged file aside, the run resumes from the older one.
    newest.rename(f"{newest}.damaged")
    resumed = train(config)
    assert resumed.resumed_from == older and resumed.iteration == 6


def test_when_every_checkpoint_is_damaged_the_message_says_so(two_checkpoints, toycity_root, tmp_path):
    run = Path(shutil.copytree(two_checkpoints, tmp_path / "run"))
    for checkpoint in run.glob("ckpt_*.pt"):
        checkpoint.write_bytes(checkpoint.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="no older checkpoint in .* can be read either: set train.resume=fresh"):
        Trainer(load_config(CONFIG, ci_overrides(toycity_root, run, "train.max_iterations=6")))


def test_eval_of_a_training_checkpoint_names_the_deploy_pt_beside_it(two_checkpoints):
    with pytest.raises(CheckpointError) as error:
        load_deployed(two_checkpoints / "ckpt_0000004.pt")
    assert "a training checkpoint" in str(error.value)
    assert f"the deployable model of that run is {two_checkpoints / 'deploy.pt'}" in str(error.value)

"""Bad input gives a clear error and leaves existing checkpoints and logs untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from ccdistill.config import load_config
from ccdistill.errors import CheckpointError, CCDistillError, DataError, TrainingDivergedError
from ccdistill.train import Trainer, train
from tests.engine.helpers import CONFIG, ci_overrides


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def trained_run(toycity_root, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run")
    train(load_config(CONFIG, ci_overrides(toycity_root, run, "train.max_iterations=10", "train.val_every=0")))
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    return copy


def test_checkpoint_of_another_architecture_is_refused_untouched(trained_run, toycity_root, tmp_path):
    run = _copy(trained_run, tmp_path)
    before = _fingerprint(run)
    config = load_config(CONFIG, ci_overrides(toycity_root, run, "model.arch=mobilenetv3_lraspp"))
    with pytest.raises(CheckpointError, match="holds a tiny with 19 classes.*mobilenetv3_lraspp"):
        Trainer(config)
    assert _fingerprint(run) == before


def test_checkpoint_of_another_class_count_is_refused_untouched(trained_run, toycity_root, tmp_path):
    run = _copy(trained_run, tmp_path)
    before = _fingerprint(run)
    with pytest.raises(CheckpointError, match="12 classes"):
        Trainer(load_config(CONFIG, ci_overrides(toycity_root, run, "model.num_classes=12")))
    assert _fingerprint(run) == before


def test_unreadable_checkpoint_is_named_and_left_alone(trained_run, toycity_root, tmp_path):
    run = _copy(trained_run, tmp_path)
    latest = sorted(run.glob("ckpt_*.pt"))[-1]
    latest.write_bytes(latest.read_bytes()[:100])  # truncated, as after a crash of a naive writer
    before = _fingerprint(run)
    with pytest.raises(CheckpointError, match=f"{latest.name} cannot be read"):
        Trainer(load_config(CONFIG, ci_overrides(toycity_root, run)))
    assert _fingerprint(run) == before


def test_dataset_root_failing_the_layout_check_writes_nothing(tmp_path):
    empty_root, run = tmp_path / "not_toycity", tmp_path / "run"
    empty_root.mkdir()
    with pytest.raises(DataError) as error:
        Trainer(load_config(CONFIG, ci_overrides(empty_root, run)))
    assert str(empty_root) in str(error.value)
    assert not run.exists()


def test_non_finite_loss_names_the_term_and_keeps_the_last_good_checkpoint(trained_run, toycity_root, tmp_path):
    run = _copy(trained_run, tmp_path)

    def poison(event: str, trainer: Trainer) -> None:
        if event == "after_step" and trainer.iteration == 12:
            with torch.no_grad():
                next(trainer.model.segmenter_night.parameters()).fill_(float("nan"))

    config = load_config(CONFIG, ci_overrides(toycity_root, run, "train.max_iterations=20", "train.val_every=0"))
    before = _fingerprint(run)
    with pytest.raises(TrainingDivergedError) as error:
        Trainer(config, hooks=[poison]).fit()
    message = str(error.value)
    assert "iteration 13" in message and "seg_night" in message
    # ckpt_0000010.pt from before is intact; nothing after the divergence was saved.
    assert _fingerprint(run)["ckpt_0000010.pt"] == before["ckpt_0000010.pt"]
    assert not (run / "deploy.pt").exists() or _fingerprint(run)["deploy.pt"] == before["deploy.pt"]
    assert isinstance(error.value, CCDistillError)


def test_bad_dataset_root_leaves_an_existing_run_untouched(trained_run, tmp_path):
    run = _copy(trained_run, tmp_path)
    before = _fingerprint(run)
    with pytest.raises(DataError):
        Trainer(load_config(CONFIG, ci_overrides(tmp_path / "missing_root", run)))
    assert _fingerprint(run) == before


def test_keep_last_and_gradient_accumulation(toycity_root, tmp_path):
    run = tmp_path / "run"
    trainer = Trainer(load_config(CONFIG, ci_overrides(
        toycity_root, run, "train.max_iterations=6", "train.checkpoint_every=1", "train.keep_last=2",
        "train.grad_accum=2", "train.val_every=0")))
    trainer.fit()
    assert [p.name for p in trainer.checkpoints()] == ["ckpt_0000005.pt", "ckpt_0000006.pt"]
    # Two micro-batches per step: each stream loader advanced 2 batches per iteration.
    assert trainer.source.state()["batches"] + trainer.source.state()["epoch"] * trainer.source.batches_per_epoch == 12


@pytest.mark.parametrize("variant, term", [("oracle", "oracle"), ("source_only", "seg_day")])
def test_variants_train_only_their_terms(variant, term, toycity_root, tmp_path):
    run = tmp_path / variant
    Trainer(load_config(CONFIG, ci_overrides(toycity_root, run, f"variant={variant}", "train.max_iterations=2",
                                             "train.val_every=0", "train.log_every=1"))).fit()
    header = (run / "log.csv").read_text().splitlines()[0].split(",")
    assert term in header
    assert "cdc" not in header and "pseudo" not in header
    meta = torch.load(run / "deploy.pt", weights_only=True)["meta"]
    assert meta["deployed_stream"] == ("day" if variant == "source_only" else "night")

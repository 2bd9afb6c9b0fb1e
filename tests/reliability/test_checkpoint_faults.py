"""Checkpoint faults: diverged weights, stray and orphaned files, a damaged log. Nothing
non-finite is saved, the last finite checkpoint survives rotation, nothing else is lost."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import torch

from ccdistill.runfolder.checkpoint import first_non_finite, save_atomic
from ccdistill.config import load_config
from ccdistill.errors import TrainingDivergedError
from ccdistill.train import Trainer, train
from tests.engine.helpers import CONFIG, ci_overrides


def _config(root: Path, output: Path, *extra: str):
    return load_config(CONFIG, ci_overrides(root, output, "train.val_every=0", *extra))


def _all_finite(path: Path) -> bool:
    payload = torch.load(path, weights_only=True)
    tensors = [*payload["model"].values(),
               *(v for state in payload["optimizer"]["state"].values() for v in state.values())]
    return first_non_finite([(str(i), t) for i, t in enumerate(tensors)]) is None


@pytest.fixture(scope="module")
def ten_steps(toycity_root, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("ten")
    train(_config(toycity_root, run, "train.max_iterations=10", "train.checkpoint_every=5"))
    return run


def test_first_non_finite_names_the_first_bad_tensor():
    named = [("a", torch.ones(3)), ("ids", torch.tensor([1, 2])), ("b", torch.tensor([1.0, float("inf")])),
             ("c", torch.tensor([float("nan")]))]
    assert first_non_finite(named) == ("b", "inf")
    assert first_non_finite(named[:2]) is None


@pytest.mark.slow
def test_divergence_stops_saves_nothing_non_finite_and_a_sane_lr_resumes(ten_steps, toycity_root, tmp_path):
    """The acceptance case: optim.lr=1e3 on the ci profile."""
    run = Path(shutil.copytree(ten_steps, tmp_path / "run"))
    good = hashlib.sha256((run / "ckpt_0000010.pt").read_bytes()).hexdigest()
    with pytest.raises(TrainingDivergedError) as error:
        Trainer(_config(toycity_root, run, "optim.lr=1e3", "train.resume=force")).fit()
    message = str(error.value)
    # Names the tensor, the iteration, the checkpoint kept and what to do.
    assert "running_var holds inf" in message or "holds nan" in message
    assert "by iteration 20" in message and "ckpt_0000020.pt was not saved" in message
    assert f"{run / 'ckpt_0000010.pt'}, is kept" in message and "lower optim.lr (now 1000)" in message
    kept = sorted(run.glob("ckpt_*.pt"))
    assert kept and all(_all_finite(p) for p in kept)
    assert hashlib.sha256((run / "ckpt_0000010.pt").read_bytes()).hexdigest() == good
    assert _all_finite(run / "ckpt_0000010.pt")
    # The sane lr is the stored one, so a plain resume (train.resume=auto) continues the run.
    resumed = train(_config(toycity_root, run))
    assert resumed.resumed_from == run / "ckpt_0000010.pt" and resumed.iteration == 20
    assert first_non_finite(torch.load(run / "deploy.pt", weights_only=True)["state_dict"].items()) is None


@pytest.mark.slow
def test_divergence_with_a_checkpoint_every_step_keeps_only_finite_checkpoints(toycity_root, tmp_path):
    """The reported case: lr=1e3 and checkpoint_every=1 used to keep three inf checkpoints."""
    run = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match=r"by iteration \d+, segmenter_\w+\.[\w.]+ holds (inf|nan)"):
        train(_config(toycity_root, run, "optim.lr=1e3", "train.checkpoint_every=1"))
    kept = sorted(run.glob("ckpt_*.pt"))
    assert kept and all(_all_finite(p) for p in kept)
    assert not (run / "deploy.pt").exists()


POISONED = "segmenter_night.backbone.1.running_var"


def _poison(trainer: Trainer) -> None:
    # A BatchNorm running variance reaching inf does not change the training loss (BatchNorm
    # uses the batch statistics while training): only a check of the buffers finds it.
    dict(trainer.model.named_buffers())[POISONED].fill_(float("inf"))


@pytest.mark.parametrize("target", ["ckpt", "best"])
def test_non_finite_buffers_with_a_finite_loss_are_never_saved(toycity_root, tmp_path, target):
    run = tmp_path / "run"
    extra = {"ckpt": ("train.max_iterations=4", "train.checkpoint_every=2"),
             "best": ("train.max_iterations=2", "train.val_every=2", "train.checkpoint_every=10")}[target]
    at = {"ckpt": 3, "best": 1}[target]

    def poison(event: str, trainer: Trainer) -> None:
        if event == "after_step" and trainer.iteration == at:
            _poison(trainer)

    config = load_config(CONFIG, ci_overrides(toycity_root, run, *extra))
    with pytest.raises(TrainingDivergedError, match=f"{POISONED} holds inf") as error:
        Trainer(config, hooks=[poison]).fit()
    assert "was not saved" in str(error.value)
    for path in run.glob("*.pt"):
        assert first_non_finite(torch.load(path, weights_only=True)["model"].items()) is None, path.name
    assert not (run / "deploy.pt").exists() and not (run / "best.pt").exists()
    if target == "ckpt":
        assert [p.name for p in run.glob("ckpt_*.pt")] == ["ckpt_0000002.pt"]


def test_a_non_finite_deployed_segmenter_is_not_written(ten_steps, toycity_root, tmp_path):
    run = Path(shutil.copytree(ten_steps, tmp_path / "run"))
    before = (run / "deploy.pt").read_bytes()
    trainer = Trainer(_config(toycity_root, run, "train.max_iterations=10", "train.checkpoint_every=5"))
    _poison(trainer)
    with pytest.raises(TrainingDivergedError, match=f"{POISONED} holds inf.*deploy.pt was not saved"):
        trainer.save_deployable()
    trainer.close()
    assert (run / "deploy.pt").read_bytes() == before


def test_only_seven_digit_checkpoints_count_and_sort_by_iteration(ten_steps, toycity_root, tmp_path):
    run = Path(shutil.copytree(ten_steps, tmp_path / "run"))
    shutil.copy(run / "ckpt_0000005.pt", run / "ckpt_old.pt")  # a user's backup copy
    shutil.copy(run / "ckpt_0000005.pt", run / "ckpt_99.pt")
    trainer = Trainer(_config(toycity_root, run, "train.max_iterations=10", "train.checkpoint_every=5"))
    assert [p.name for p in trainer.checkpoints()] == ["ckpt_0000005.pt", "ckpt_0000010.pt"]
    assert trainer.resumed_from == run / "ckpt_0000010.pt" and trainer.iteration == 10
    trainer.close()
    assert (run / "ckpt_old.pt").exists() and (run / "ckpt_99.pt").exists()  # left alone


def test_orphaned_temporary_files_are_removed_at_start(ten_steps, toycity_root, tmp_path):
    run = Path(shutil.copytree(ten_steps, tmp_path / "run"))
    orphans = [run / ".ckpt_0000015.pt.abc123.tmp", run / ".deploy.pt.x9.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"half a checkpoint")  # what a SIGKILL during torch.save leaves
    (run / "notes.tmp").write_text("not ours")
    trainer = Trainer(_config(toycity_root, run, "train.max_iterations=10", "train.checkpoint_every=5"))
    assert not any(p.exists() for p in orphans)
    assert (run / "notes.tmp").exists()
    assert any("removed 2 unfinished temporary file(s)" in m for m in trainer.messages)
    trainer.close()


def test_save_atomic_leaves_no_temporary_when_the_write_fails(tmp_path):
    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError):
        save_atomic({"x": Unpicklable()}, tmp_path / "ckpt_0000001.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["garbage row", "cut row", "not utf-8", "bad header"])
def test_a_damaged_log_is_kept_aside_and_the_resume_continues(ten_steps, toycity_root, tmp_path, damage):
    run = Path(shutil.copytree(ten_steps, tmp_path / "run"))
    log = run / "log.csv"
    original = log.read_bytes()
    lines = log.read_text().splitlines()
    damaged = {"garbage row": original + b"\x00garbage,,\n",
               "cut row": original + lines[-1][:8].replace(lines[-1].split(",")[0], "15").encode(),
               "not utf-8": original + b"\xff\xfe\n",
               "bad header": b"\xef\xbb\xbfiter,total\n" + original}[damage]
    log.write_bytes(damaged)
    trainer = Trainer(_config(toycity_root, run, "train.max_iterations=12", "train.checkpoint_every=5"))
    trainer.fit()
    kept = list(run.glob("log.csv.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # nothing lost
    assert any(kept[0].name in m and str(log) in m for m in trainer.messages)
    rows = log.read_text().splitlines()
    assert rows[0].startswith("iteration,")
    iterations = [int(r.split(",")[0]) for r in rows[1:]]
    assert iterations == sorted(set(iterations)) and iterations[-1] == 12

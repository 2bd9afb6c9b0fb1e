"""Training-lifecycle faults: two trainings on one folder, resume with another configuration,
signals from a scheduler or Ctrl-C. Each ends in a message naming what happened and what to do,
and no file of the run is lost."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ccdistill.cli import main
from ccdistill.config import load_config
from ccdistill.errors import CCDistillError, ConfigError
from ccdistill.runfolder.lock import LOCK_NAME, RunLockedError
from ccdistill.runfolder.stopping import TrainingInterrupted
from ccdistill.train import Trainer, train
from tests.engine.helpers import CONFIG, ci_overrides

SCRIPT = Path(__file__).with_name("run_until.py")
REPO = Path(__file__).resolve().parents[2]
SHORT = ("train.max_iterations=6", "train.checkpoint_every=3", "train.val_every=0", "train.log_every=1")


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "tb" not in p.parts}


def _config(root: Path, output: Path, *extra: str):
    return load_config(CONFIG, ci_overrides(root, output, *SHORT, *extra))


def _start(root: Path, output: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(SCRIPT), *args, *ci_overrides(root, output, *SHORT)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the training exited early: {process.stderr.read()[-3000:]}")
        assert time.monotonic() < deadline, "the training never reached the step"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def finished_run(toycity_root, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("finished")
    train(_config(toycity_root, run))
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, tmp_path / "copy"))


# ----------------------------------------------------------------- the lock (item 3)
@pytest.mark.slow
def test_second_training_is_refused_naming_the_first_then_a_killed_ones_lock_is_taken_over(
        toycity_root, tmp_path, capsys):
    run, marker, release = tmp_path / "run", tmp_path / "at_step", tmp_path / "release"
    first = _start(toycity_root, run, "--hold-after-step", "2", "--marker", str(marker), "--release", str(release))
    try:
        _wait_for(marker, first)
        status = main(["train", "--config", str(CONFIG), *ci_overrides(toycity_root, run, *SHORT)])
        error = capsys.readouterr().err
        assert status == 2
        assert f"pid {first.pid}" in error and "in use by another training" in error and str(run) in error
        assert "choose another output=" in error
        # SIGKILL leaves the lock file behind: the next training takes it over, saying so.
        first.kill()
        first.wait(60)
    finally:
        release.touch()
        if first.poll() is None:
            first.kill()
    assert (run / LOCK_NAME).exists()
    trainer = Trainer(_config(toycity_root, run))
    took_over = [m for m in trainer.messages if "took over the lock" in m]
    assert took_over and f"pid {first.pid}" in took_over[0] and "no longer running" in took_over[0]
    trainer.fit()
    assert not (run / LOCK_NAME).exists()  # released at the end
    assert (run / "deploy.pt").exists()


def test_a_trainer_holds_the_lock_until_fit_ends_and_a_second_process_is_refused(toycity_root, tmp_path):
    run = tmp_path / "run"
    trainer = Trainer(_config(toycity_root, run))
    assert (run / LOCK_NAME).exists()
    code = ("import sys; from ccdistill.runfolder.lock import RunLock\n"
            f"RunLock({str(run)!r}).acquire()")
    refused = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert refused.returncode != 0 and f"pid {os.getpid()}" in refused.stderr
    trainer.fit()
    assert not (run / LOCK_NAME).exists()


def test_a_notebook_cell_run_again_takes_the_lock_of_its_idle_predecessor(toycity_root, tmp_path):
    run = tmp_path / "run"
    earlier = Trainer(_config(toycity_root, run))  # never fitted, still holds the lock
    again = Trainer(_config(toycity_root, run))
    assert any("earlier Trainer of this process" in m for m in again.messages)
    again.fit()
    with pytest.raises(RunLockedError, match="trained further"):
        earlier.fit()  # its state is older than the folder's now


# ----------------------------------------------------------------- resume (item 4)
def test_resume_with_changed_keys_is_refused_naming_each_old_and_new_value(finished_run, toycity_root, tmp_path):
    run = _copy(finished_run, tmp_path)
    before = _fingerprint(run)
    with pytest.raises(ConfigError) as error:
        Trainer(_config(toycity_root, run, "optim.lr=0.5", "variant=source_only", "train.seed=3"))
    message = str(error.value)
    for fragment in ("optim.lr: 0.01 -> 0.5", "variant: 'full' -> 'source_only'", "train.seed: 0 -> 3",
                     "train.resume=force", "train.resume=fresh", "ckpt_0000006.pt"):
        assert fragment in message, fragment
    assert _fingerprint(run) == before
    assert not (run / LOCK_NAME).exists()


def test_safe_keys_may_change_and_the_same_config_resumes_visibly(finished_run, toycity_root, tmp_path):
    run = _copy(finished_run, tmp_path)
    trainer = Trainer(_config(toycity_root, run, "train.log_every=2", "data.num_workers=0", "train.progress=false"))
    assert trainer.resumed_from == run / "ckpt_0000006.pt" and trainer.iteration == 6
    assert any(f"resumed from {run / 'ckpt_0000006.pt'} at iteration 6 of 6" in m and "nothing left" in m
               for m in trainer.messages)
    trainer.close()


def test_force_resumes_with_new_values_and_keeps_the_config_history(finished_run, toycity_root, tmp_path):
    run = _copy(finished_run, tmp_path)
    first_config = (run / "config.yaml").read_text()
    trainer = Trainer(_config(toycity_root, run, "train.max_iterations=8", "optim.lr=0.005", "train.resume=force"))
    assert any("optim.lr: 0.01 -> 0.005" in m for m in trainer.messages)
    assert any("train.max_iterations: 6 -> 8" in m for m in trainer.messages)
    trainer.fit()
    assert (run / "config.yaml").read_text() == first_config  # the first part's record is kept
    history = (run / "config.resume-0000006.yaml").read_text()
    assert "optim.lr: 0.01 -> 0.005" in history.splitlines()[0] and "lr: 0.005" in history
    assert torch.load(run / "ckpt_0000008.pt", weights_only=True)["config"]["optim"]["lr"] == 0.005


def test_fresh_moves_the_old_run_aside_and_starts_from_zero(finished_run, toycity_root, tmp_path):
    run = _copy(finished_run, tmp_path)
    before = _fingerprint(run)
    trainer = Trainer(_config(toycity_root, run, "train.resume=fresh", "train.max_iterations=2"))
    assert trainer.resumed_from is None and trainer.iteration == 0
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("copy.previous-")]
    assert len(moved) == 1 and any(str(moved[0]) in m for m in trainer.messages)
    assert _fingerprint(moved[0]) == before  # nothing of the old run is lost
    trainer.fit()
    assert [p.name for p in trainer.checkpoints()] == ["ckpt_0000002.pt"]


def test_deployed_returns_the_segmenter_deploy_pt_holds(finished_run, toycity_root, tmp_path):
    run = _copy(finished_run, tmp_path)
    trainer = Trainer(_config(toycity_root, run))
    segmenter = trainer.deployed()
    saved = torch.load(run / "deploy.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(saved[k], v.cpu()) for k, v in segmenter.state_dict().items())
    assert not segmenter.training
    trainer.close()


def test_deployed_before_training_says_to_fit_first(toycity_root, tmp_path):
    trainer = Trainer(_config(toycity_root, tmp_path / "run"))
    with pytest.raises(CCDistillError, match="call fit"):
        trainer.deployed()
    trainer.close()


# ----------------------------------------------------------------- signals (item 8)
@pytest.mark.slow
def test_sigterm_mid_run_saves_the_current_iteration_and_says_how_to_resume(toycity_root, tmp_path):
    run, marker, release = tmp_path / "run", tmp_path / "at_step", tmp_path / "release"
    process = _start(toycity_root, run, "--hold-after-step", "4", "--marker", str(marker), "--release", str(release))
    try:
        _wait_for(marker, process)
        process.send_signal(signal.SIGTERM)  # what a scheduler sends
        time.sleep(0.5)
        release.touch()
        _, error = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, error[-3000:]
    assert "received SIGTERM" in error
    assert "stopped by SIGTERM at iteration 4 of 6" in error and "ckpt_0000004.pt" in error
    assert "Run the same command again to resume" in error
    assert [p.name for p in sorted(run.glob("ckpt_*.pt"))] == ["ckpt_0000003.pt", "ckpt_0000004.pt"]
    assert not (run / LOCK_NAME).exists() and not (run / "deploy.pt").exists()

    trainer = train(_config(toycity_root, run))
    assert trainer.resumed_from == run / "ckpt_0000004.pt" and trainer.iteration == 6
    assert (run / "deploy.pt").exists()


@pytest.mark.slow
def test_sigterm_to_the_process_group_with_data_workers_still_saves_the_checkpoint(toycity_root, tmp_path):
    """A scheduler (or Ctrl-C) signals the whole process group, DataLoader workers included; they
    must leave the signal to the trainer instead of dying and taking the step with them."""
    run, marker, release = tmp_path / "run", tmp_path / "at_step", tmp_path / "release"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--hold-after-step", "4", "--marker", str(marker), "--release", str(release),
         *ci_overrides(toycity_root, run, *SHORT, "data.num_workers=2")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for(marker, process)
        os.killpg(process.pid, signal.SIGTERM)
        time.sleep(0.5)
        release.touch()
        _, error = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "DataLoader worker" not in error, error[-3000:]
    assert process.returncode == 3 and "stopped by SIGTERM at iteration 4 of 6" in error, error[-3000:]
    assert (run / "ckpt_0000004.pt").exists()


def test_sigint_during_a_step_finishes_it_and_saves_that_iteration(toycity_root, tmp_path):
    run = tmp_path / "run"

    def interrupt(event: str, trainer: Trainer) -> None:
        if event == "after_backward" and trainer.iteration + 1 == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, or a notebook's interrupt button

    trainer = Trainer(_config(toycity_root, run), hooks=[interrupt])
    with pytest.raises(TrainingInterrupted) as error:
        trainer.fit()
    assert error.value.signal_number == signal.SIGINT
    assert "stopped by SIGINT at iteration 2" in str(error.value)
    assert (run / "ckpt_0000002.pt").exists()  # checkpoint_every=3 would have lost both steps
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    resumed = train(_config(toycity_root, run))
    assert resumed.resumed_from == run / "ckpt_0000002.pt"
    assert resumed.iteration == 6

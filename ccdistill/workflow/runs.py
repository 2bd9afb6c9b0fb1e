"""Runs as a notebook uses them: train or load a finished one, read its configuration back,
score its deployed model.

    run = train_or_load(config)              # loads runs/.../deploy.pt if that run is finished
    run.segmenter, run.folder, run.loaded
    result = evaluate_run(run.folder, split="val")

`train_or_load` follows the UvA deep-learning notebooks: a cell that trains is cheap to run
again. A run folder whose deploy.pt was written by a finished run of the same configuration
(every key but the `RESUME_SAFE_KEYS`, which do not change what is trained) is loaded without
training, and says so; anything else goes to the Trainer, which starts, resumes (and says so) or
refuses a changed configuration, naming each changed key. `train.resume=fresh` trains again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ccdistill.config import Config, flatten, load_config
from ccdistill.errors import InputError
from ccdistill.runfolder.names import DEPLOY_NAME, LOG_NAME
from ccdistill.runfolder.resume import config_changes, stored_config


@dataclass
class TrainedRun:
    """What `train_or_load` returns.

    Attributes:
        segmenter: the deployed segmenter (M_n; M_d for source_only) in eval mode.
        folder: the run folder (config.output) holding deploy.pt, log.csv, checkpoints.
        config: the run's configuration.
        loaded: True when a finished run was loaded, False when this call trained.
        messages: what the user was told, in order (also printed, on stdout).
        meta: the deploy.pt's meta (arch, variant, iteration, normalisation, eval_size).
        curves: the live loss-curve hook of the training (None when loaded or live=False).
    """

    segmenter: Any
    folder: Path
    config: Config
    loaded: bool
    messages: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    curves: Any = None

    @property
    def deploy_path(self) -> Path:
        return self.folder / DEPLOY_NAME


def _say(messages: list[str], message: str) -> None:
    # As the Trainer words its lines ("ccdistill: " first), but on stdout: a notebook shows
    # stderr as a red warning box, and these are status lines.
    messages.append(message)
    print(f"ccdistill: {message}", flush=True)


class _StatusLines:
    """sys.stderr while a notebook trains: the Trainer's status lines ("ccdistill: resumed from
    ...") go to stdout, with the repository root left out of the paths they name, so a stored
    notebook shows neither a red box nor the folder of the machine that ran it."""

    def __init__(self, project: Path) -> None:
        self.prefix = f"{project.resolve()}{os.sep}"

    def write(self, text: str) -> int:
        sys.stdout.write(text.replace(self.prefix, ""))
        return len(text)

    def flush(self) -> None:
        sys.stdout.flush()


@contextlib.contextmanager
def status_on_stdout(project: str | os.PathLike) -> Iterator[None]:
    """Send the Trainer's and `train_or_load`'s status lines (stderr, absolute paths) to stdout
    with paths relative to `project`: a stored notebook then shows them as plain text, not as red
    stderr boxes carrying the machine's folders."""
    with contextlib.redirect_stderr(_StatusLines(Path(project))):
        yield


def config_from_run(folder: str | os.PathLike) -> Config:
    """The Config of the run in `folder`, as stored in its configuration history.

    InputError when the folder holds no config.yaml (it is written when a training starts)."""
    stored = stored_config(folder)
    if stored is None:
        raise InputError(f"{folder} holds no config.yaml: it is not a run folder written by `ccdistill train` "
                         "(or Trainer.fit); pass config= to say which data to evaluate on.")
    # Every key is given, so the profile and variant layers load_config applies first are all
    # overridden by the stored values: the result is the stored configuration exactly.
    return load_config(None, flatten(stored))


def _finished_deploy(config: Config) -> Path | None:
    """deploy.pt of `config.output` if a finished run of this configuration wrote it."""
    deploy = Path(config.output) / DEPLOY_NAME
    if config.train.resume == "fresh" or not deploy.is_file():
        return None
    stored = stored_config(config.output)
    if stored is None or config_changes(stored, config):
        return None  # the Trainer resumes, or refuses naming the changed keys
    return deploy


def train_or_load(config: Config, live: bool = True, device: str | None = None) -> TrainedRun:
    """Load the finished run of `config` from `config.output`, or train it (UvA style).

    Args:
        config: the run (e.g. `setup().config`, or `load_config(...)` with output= set).
        live: inside an IPython kernel, redraw the per-term loss curves in the notebook while
            training (`LiveLossCurves`) instead of the tqdm bar; ignored elsewhere.
        device: where the returned segmenter lives (default: the training device,
            `config.train.device`).

    Returns:
        TrainedRun (segmenter, folder, config, loaded, messages, meta).
    """
    from ccdistill.runfolder.checkpoint import load_deployed
    from ccdistill.runtime.distributed import resolve_device
    from ccdistill.notebook import project_root, shown_path
    from ccdistill.train import Trainer
    from ccdistill.workflow.curves import LiveLossCurves, in_kernel

    folder = Path(config.output)
    target = resolve_device(device or config.train.device)
    messages: list[str] = []
    deploy = _finished_deploy(config)
    if deploy is not None:
        segmenter, meta = load_deployed(deploy, map_location=target, arch=config.model.arch,
                                        num_classes=config.model.num_classes)
        if int(meta.get("iteration", -1)) == config.train.max_iterations:
            _say(messages, f"{shown_path(folder)} holds a finished run of this configuration ({meta['iteration']} of "
                           f"{config.train.max_iterations} iterations): loaded {deploy.name} without training "
                           "(set train.resume=fresh to train it again)")
            return TrainedRun(segmenter, folder, config, True, messages, meta)
    curves = None
    hooks = []
    if live and in_kernel():
        # The live figure shows the progress; a tqdm widget would be stored without its state.
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, progress=False))
        curves = LiveLossCurves(folder / LOG_NAME, config.train.max_iterations)
        hooks.append(curves)
    started = time.perf_counter()
    status = status_on_stdout(project_root()) if in_kernel() else contextlib.nullcontext()
    with status:
        trainer = Trainer(config, hooks=hooks)
        first = trainer.iteration
        try:
            trainer.fit()
        finally:
            trainer.close()
            trainer.context.shutdown()
    messages.extend(trainer.messages)  # started / resumed from ... / complete (already printed)
    if curves is not None:
        curves.finish()
    trained = trainer.iteration - first
    _say(messages, f"trained {trained} iteration(s) in {time.perf_counter() - started:.0f} s; "
                   f"{shown_path(folder / DEPLOY_NAME)} written")
    segmenter, meta = load_deployed(folder / DEPLOY_NAME, map_location=target, arch=config.model.arch,
                                    num_classes=config.model.num_classes)
    return TrainedRun(segmenter, folder, config, False, messages, meta, curves)


def deploy_path(run: str | os.PathLike | TrainedRun) -> Path:
    """deploy.pt of a run folder, a TrainedRun, or a deploy.pt path itself."""
    if isinstance(run, TrainedRun):
        return run.deploy_path
    path = Path(run)
    return path / DEPLOY_NAME if path.is_dir() else path


def evaluate_run(
    run: str | os.PathLike | TrainedRun,
    split: str = "val",
    config: Config | None = None,
    size: tuple[int, int] | None = None,
    device: str = "cpu",
    max_images: int | None = None,
) -> dict[str, Any]:
    """Per-class IoU of a run's deployed model on a target-night split, as `ccdistill eval`.

    Args:
        run: a run folder, a TrainedRun or a deploy.pt path.
        split: "val" or "test" (`data.eval_split`).
        config: the run's configuration (default: the one stored in the run folder); its data
            section says which dataset and root.
        size: (H, W) the network sees (default `data.eval_size`).
        device: where inference runs.
        max_images: the first images only.

    Returns:
        The result dict of `evaluation.evaluate` (`miou`, `per_class_iou`, `confusion`, ...),
        with `class_names` and `variant` of the checkpoint added for tables and figures.
    """
    from ccdistill.evaluation.deployed import evaluate_checkpoint

    path = deploy_path(run)
    if config is None:
        config = run.config if isinstance(run, TrainedRun) else config_from_run(path.parent)
    data = dataclasses.replace(config.data, eval_split=split)
    result, meta = evaluate_checkpoint(path, data, size=size or data.eval_size, device=device,
                                       max_images=max_images)
    return {**result, "class_names": meta.get("class_names"), "variant": meta.get("variant")}


PREVIEW_ITERATIONS = 150  # a few minutes under `cpu`: enough for segmentation-shaped features and a trained head


def preview_model(session: Any, iterations: int = PREVIEW_ITERATIONS, live: bool = True) -> tuple[Any, TrainedRun]:
    """The short run notebooks 02 and 03 look at, trained once and then loaded: `full` without
    pseudo labels (L_seg on S_d and S_n, CDC + JS + CDS), from the profile's initial weights
    (no stage 1), batch 2, `min(iterations, the profile's)` iterations, in runs/.../content_preview.

    Args:
        session: the notebook's `setup()` result.
        iterations: training iterations (capped at the profile's `train.max_iterations`).
        live: draw the loss curves while it trains (`train_or_load`).

    Returns:
        (the whole training model — M_d, M_n and the projection head — in eval mode, the run).
    """
    from ccdistill.experiments.analysis import run_model

    config = session.run_config("full", "loss.pseudo=0", "train.batch_size=2",
                                f"train.max_iterations={min(iterations, session.config.train.max_iterations)}",
                                f"output={session.runs / 'content_preview'}", warm_start=False)
    run = train_or_load(config, live=live)
    model, _ = run_model(config)
    return model, run

"""Run the registry one run at a time, resumably, and say where it stands.

For each (row, seed), in registry order:

1. a result file `<results dir>/<row>__seed<k>.json` exists -> skipped (its config must match
   what the registry resolves now, placement keys aside, or `run` refuses before training);
2. otherwise the Trainer trains into `<runs dir>/<row>__seed<k>/`; it resumes by itself from
   the folder's latest checkpoint, so a killed run loses at most `train.checkpoint_every` steps;
3. the deployed model (`deploy.pt`) is evaluated on target-night val and test (plus source day
   and target day for `source_only`) and the result file is written atomically; the run folder
   is then pruned to deploy.pt, its last checkpoint and its logs.

Training wall-clock is kept in `<run folder>/timing.json` (ccdistill/runfolder/timing.py): the
cumulative seconds at each checkpoint, so the time of a run trained over several sittings is the
time of the steps that count (steps lost to a kill and redone are timed once, when redone).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TextIO

from ccdistill.config import Config, config_to_dict
from ccdistill.errors import CCDistillError, ConfigError
from ccdistill.experiments.registry import Registry, Run, run_config
from ccdistill.runfolder.names import DEPLOY_NAME
from ccdistill.runfolder.resume import first_config, newest_checkpoint_iteration, prune_checkpoints
from ccdistill.runfolder.timing import StepTimer, read_timing
from ccdistill.experiments.results import (
    RESULT_FORMAT, config_differences, environment, now, read_json, write_json_atomic,
)

DEFAULT_RUNS_DIR = Path("runs/experiments")
DEFAULT_RESULTS_DIR = Path("results/toycity")
DOMAIN_SHIFT_ROWS = frozenset({"source_only"})  # rows whose result also measures the domain shift

Hook = Callable[[str, object], None]


def result_path(results_dir: str | Path, run: Run) -> Path:
    return Path(results_dir) / f"{run.id}.json"


@dataclass
class RunStatus:
    """Where one run stands: done, trained (not evaluated), partial, or pending."""

    run: Run
    state: str
    iteration: int
    max_iterations: int
    train_seconds: float | None
    test_miou: float | None = None
    date: str = ""


def run_status(run: Run, config: Config, results_dir: str | Path) -> RunStatus:
    folder = Path(config.output)
    maximum = config.train.max_iterations
    result_file = result_path(results_dir, run)
    if result_file.is_file():
        result = read_json(result_file)
        return RunStatus(run, "done", result["training"]["iterations"], maximum, result["training"]["seconds"],
                         result["metrics"]["test"]["miou"], result.get("date", ""))
    iteration = newest_checkpoint_iteration(folder)
    seconds = read_timing(folder)["checkpoints"].get(str(iteration)) if iteration else None
    if (folder / DEPLOY_NAME).is_file() and iteration >= maximum:
        return RunStatus(run, "trained", iteration, maximum, seconds)
    return RunStatus(run, "partial" if iteration else "pending", iteration, maximum, seconds)


def check_consistent(run: Run, config: Config, results_dir: str | Path) -> list[str]:
    """Problems that make an existing result or run folder not belong to this registry run."""
    problems = []
    result_file = result_path(results_dir, run)
    if result_file.is_file():
        found = read_json(result_file)
        if found.get("format") != RESULT_FORMAT:
            problems.append(f"{result_file}: format {found.get('format')!r}, expected {RESULT_FORMAT!r}")
        else:
            problems += [f"{result_file}: {d}" for d in config_differences(config, found["config"])]
        return problems  # a finished run's folder no longer matters
    folder_config = first_config(Path(config.output))
    if folder_config is not None:
        problems += [f"{config.output}/config.yaml: {d}" for d in config_differences(config, folder_config)]
    return problems


class Runner:
    """Trains and evaluates registry runs one at a time (see the module docstring).

    Args:
        registry: the rows to run.
        runs_dir: one folder per run for checkpoints, logs and deploy.pt (not committed).
        results_dir: one JSON per finished run (committed).
        profile: replaces every row's profile (e.g. "ci" for a smoke run); None keeps the rows'.
        overrides: `key=value` applied to every run last (e.g. data.root=...).
        hooks: extra Trainer hooks (tests use them to interrupt a run).
        out: where the one-line progress messages go.
        prune: once a run's result is written, delete its older checkpoints and best.pt and keep
            deploy.pt, the last checkpoint (the correlation figure reads it) and the logs: 33 runs
            of full checkpoints would fill a small disk.
    """

    def __init__(self, registry: Registry, runs_dir: str | Path = DEFAULT_RUNS_DIR,
                 results_dir: str | Path = DEFAULT_RESULTS_DIR, profile: str | None = None,
                 overrides: Sequence[str] = (), hooks: Sequence[Hook] = (), out: TextIO | None = None,
                 prune: bool = True) -> None:
        self.registry, self.runs_dir, self.results_dir = registry, Path(runs_dir), Path(results_dir)
        self.prune = prune
        self.profile, self.overrides, self.hooks = profile, list(overrides), list(hooks)
        self.out = out if out is not None else sys.stdout

    def config(self, run: Run) -> Config:
        return run_config(run, self.runs_dir, self.profile, self.overrides, self.registry.path)

    def say(self, message: str) -> None:
        print(f"{now()} {message}", file=self.out, flush=True)

    def statuses(self, runs: Sequence[Run]) -> list[RunStatus]:
        return [run_status(run, self.config(run), self.results_dir) for run in runs]

    def run(self, rows: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
            keep_going: bool = False) -> list[Path]:
        """Run every selected (row, seed) that has no result yet; returns the result files written."""
        runs = self.registry.runs(rows, seeds)
        configs = {run.id: self.config(run) for run in runs}  # every config error before any training
        problems = [p for run in runs for p in check_consistent(run, configs[run.id], self.results_dir)]
        if problems:
            raise ConfigError(
                "existing runs do not match what the registry resolves now:\n  " + "\n  ".join(problems)
                + "\nDelete those result files / run folders, or use other --results-dir / --runs-dir.")
        written, failed = [], []
        for number, run in enumerate(runs, start=1):
            where = f"{run.id} ({number}/{len(runs)})"
            existing = result_path(self.results_dir, run)
            if existing.is_file():
                self.say(f"skip  {where}: {existing} exists")
                continue
            try:
                written.append(self.run_one(run, configs[run.id], where))
            except CCDistillError as error:
                if not keep_going:
                    raise
                failed.append(run.id)
                self.say(f"FAIL  {where}: {error}")
        self.say(f"registry: {len(written)} run(s) finished now, {len(failed)} failed"
                 + (f" ({', '.join(failed)})" if failed else ""))
        return written

    def analyse(self, rows: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
                force: bool = False) -> list[Path]:
        """Write `<results dir>/analysis/<run>.json` (`analysis.analyse_run`) for every selected
        run that has a result file and a checkpoint in its run folder; runs without either are
        listed, not failed (their checkpoints may live on another machine)."""
        from ccdistill.experiments.analysis import analyse_run

        written, skipped = [], []
        for run in self.registry.runs(rows, seeds):
            path, config = analysis_path(self.results_dir, run), self.config(run)
            if path.is_file() and not force:
                continue
            if not result_path(self.results_dir, run).is_file() or not newest_checkpoint_iteration(Path(config.output)):
                skipped.append(run.id)
                continue
            analysis = {"run": run.id, "row": run.row.id, "seed": run.seed, **analyse_run(config), "date": now()}
            written.append(write_json_atomic(analysis, path))
            self.say(f"analysed {run.id} -> {path}")
        if skipped:
            self.say(f"not analysed (no result file or no checkpoint in the run folder): {', '.join(skipped)}")
        return written

    def run_one(self, run: Run, config: Config, where: str | None = None) -> Path:
        """Train (or resume) one run, evaluate its deployed model, write its result file."""
        from ccdistill.runfolder.names import checkpoint_name
        from ccdistill.experiments.evaluation import evaluate_deployed
        from ccdistill.train import Trainer

        where = where or run.id
        folder = Path(config.output)
        timer = StepTimer(folder, config.train.checkpoint_every, config.train.max_iterations)
        trainer = Trainer(config, hooks=[timer, *self.hooks])
        timer.begin(trainer.iteration)
        maximum = config.train.max_iterations
        self.say(f"start {where}: {'resuming at' if trainer.iteration else 'training from'} iteration "
                 f"{trainer.iteration}/{maximum} -> {folder}")
        try:
            trainer.fit()
        finally:
            trainer.context.shutdown()
            # A SIGTERM/SIGINT stop saves a checkpoint at an iteration between the regular ones:
            # clock it too, or the resumed sitting could not continue the run's time.
            if (folder / checkpoint_name(trainer.iteration)).is_file():
                timer.record(trainer.iteration)
        train_seconds = timer.seconds()
        self.say(f"train {where}: {maximum} iterations in {train_seconds:.1f} s; evaluating")
        started = time.perf_counter()
        metrics = evaluate_deployed(config, folder / DEPLOY_NAME, device=trainer.device,
                                    domain_shift=run.row.id in DOMAIN_SHIFT_ROWS)
        result = {
            "format": RESULT_FORMAT, "run": run.id, "row": run.row.id, "variant": run.row.variant,
            "seed": run.seed, "paper": run.row.paper, "registry": str(self.registry.path.name),
            "config": config_to_dict(config), "metrics": metrics,
            "training": {"iterations": trainer.iteration, "seconds": round(train_seconds, 3),
                         "sittings": timer.timing["sittings"], "timing_complete": timer.complete,
                         "evaluation_seconds": round(time.perf_counter() - started, 3)},
            "environment": environment(), "date": now(),
        }
        path = write_json_atomic(result, result_path(self.results_dir, run))
        if self.prune:
            prune_checkpoints(folder)
        self.say(f"end   {where}: test mIoU {100 * (metrics['test']['miou'] or 0):.2f}, "
                 f"val {100 * (metrics['val']['miou'] or 0):.2f}, {train_seconds:.1f} s training, "
                 f"{result['training']['evaluation_seconds']:.1f} s evaluation -> {path}")
        return path


def analysis_path(results_dir: str | Path, run: Run) -> Path:
    from ccdistill.experiments.analysis import ANALYSIS_DIR

    return Path(results_dir) / ANALYSIS_DIR / f"{run.id}.json"


def format_status(statuses: Sequence[RunStatus]) -> str:
    """A fixed-width table of the runs and a one-line summary with the time still needed."""
    lines = [f"{'run':<28}{'state':<10}{'iteration':>12}{'train s':>10}{'test mIoU':>11}  date", "-" * 88]
    for s in statuses:
        seconds = "" if s.train_seconds is None else f"{s.train_seconds:.0f}"
        miou = "" if s.test_miou is None else f"{100 * s.test_miou:.2f}"
        lines.append(f"{s.run.id:<28}{s.state:<10}{f'{s.iteration}/{s.max_iterations}':>12}{seconds:>10}"
                     f"{miou:>11}  {s.date}")
    counts = {state: sum(s.state == state for s in statuses) for state in ("done", "trained", "partial", "pending")}
    done_seconds = [s.train_seconds for s in statuses if s.state == "done" and s.train_seconds]
    summary = ", ".join(f"{n} {state}" for state, n in counts.items())
    if done_seconds:
        mean = sum(done_seconds) / len(done_seconds)
        left = sum(mean * (1 - s.iteration / s.max_iterations) for s in statuses if s.state in ("partial", "pending"))
        summary += f"; about {left / 60:.0f} min of training left at {mean:.0f} s per run"
    return "\n".join([*lines, summary])

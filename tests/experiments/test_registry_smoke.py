"""The experiment registry: the shipped rows, and a CI-sized run of the whole pipeline
(two rows, one seed, a few `ci` iterations): run -> result files -> skip on rerun -> table ->
figures, and an interrupted run that resumes."""

from __future__ import annotations

import io
import json
import math
import os
import signal
import tomllib
from pathlib import Path

import pytest

from ccdistill.errors import ConfigError
from ccdistill.experiments import REGISTRY_FILE, Runner, load_registry, run_config
from ccdistill.experiments.cli import main
from ccdistill.experiments.runner import run_status
from ccdistill.runfolder.stopping import TrainingInterrupted

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_ROWS = ["source_only", "pseudo", "full", "oracle", "cdc", "cds", "no_js", "no_proj", "seg_night",
                 "share_weights", "oracle_translation",  # the rows a reader needs first come first
                 # issue 16: the terms without pseudo labels, their control, the BatchNorm question
                 "target_bn", "full_no_pseudo", "cdc_no_pseudo", "cds_no_pseudo",
                 "full_no_pseudo_joint_bn", "pseudo_joint_bn", "full_joint_bn"]
SMOKE_ROWS = ("source_only", "full")
# A few ci iterations with a checkpoint every 2, no validation during training.
SCHEDULE = ["train.max_iterations=4", "train.checkpoint_every=2", "train.val_every=0"]


class Interrupted(Exception):
    """Stands in for a kill: raised from a Trainer hook mid-run."""


@pytest.fixture(scope="module")
def toycity(tmp_path_factory) -> Path:
    from ccdistill.toycity import generate_toycity

    root = tmp_path_factory.mktemp("toycity")
    generate_toycity(root, size=(128, 256), seed=0, n_train=6, n_val=3, n_test=3, progress=False)
    return root


@pytest.fixture(scope="module")
def smoke_registry(tmp_path_factory) -> Path:
    """The shipped rows source_only and full with one seed, in a registry file of their own."""
    import yaml

    shipped = yaml.safe_load(REGISTRY_FILE.read_text())
    rows = [row for row in shipped["rows"] if row["id"] in SMOKE_ROWS]
    path = tmp_path_factory.mktemp("registry") / "smoke.yaml"
    path.write_text(yaml.safe_dump({"defaults": {**shipped["defaults"], "seeds": [0]}, "rows": rows}))
    return path


def _runner(registry: Path, toycity: Path, base: Path, hooks=()) -> Runner:
    return Runner(load_registry(registry), runs_dir=base / "runs", results_dir=base / "results", profile="ci",
                  overrides=[f"data.root={toycity}", *SCHEDULE], hooks=hooks, out=io.StringIO())


@pytest.fixture(scope="module")
def smoke(smoke_registry, toycity, tmp_path_factory) -> Runner:
    runner = _runner(smoke_registry, toycity, tmp_path_factory.mktemp("smoke"))
    runner.run()
    return runner


def _cli_args(runner: Runner, registry: Path, toycity: Path) -> list[str]:
    return ["--registry", str(registry), "--runs-dir", str(runner.runs_dir), "--results-dir",
            str(runner.results_dir), "--profile", "ci", "--set", f"data.root={toycity}",
            *[f"--set={item}" for item in SCHEDULE]]


# ------------------------------------------------------------------------------ the registry
def test_the_shipped_registry_has_its_rows_of_three_seeds_on_one_schedule():
    registry = load_registry()
    assert REGISTRY_FILE.parent == ROOT / "ccdistill" / "experiments"
    assert [row.id for row in registry.rows] == EXPECTED_ROWS
    runs = registry.runs()
    assert len(runs) == 3 * len(EXPECTED_ROWS) and all(row.seeds == (0, 1, 2) for row in registry.rows)
    configs = {run.id: run_config(run, "runs/experiments") for run in runs}
    assert {c.profile for c in configs.values()} == {"cpu"}
    assert len({(c.train.max_iterations, c.train.batch_size, c.model.arch) for c in configs.values()}) == 1
    assert configs["oracle_translation__seed1"].variant == "full"
    assert configs["oracle_translation__seed1"].data.translation == "folder"
    assert configs["oracle_translation__seed1"].data.translation_folder == ""  # = ToyCity's true source night
    assert configs["full__seed2"].train.seed == 2
    assert configs["full_no_pseudo__seed0"].loss.pseudo == 0 and configs["full_no_pseudo__seed0"].loss.cdc == 1
    assert configs["target_bn__seed0"].train.forward_target and configs["target_bn__seed0"].loss.pseudo == 0
    assert configs["full_joint_bn__seed1"].model.bn_streams == "joint"
    assert configs["full__seed2"].output == str(Path("runs/experiments/full__seed2"))
    assert all(row.paper for row in registry.rows)
    # The registry file is package data, so an installed package has it.
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "experiments/*.yaml" in package_data["ccdistill"]


def test_the_hard_and_search_registries_change_only_what_they_say():
    """hard.yaml: the main registry's schedule on the hard ToyCity; search.yaml: seed 0, each row
    one setting away from `full_no_pseudo` or `full`, on the main ToyCity."""
    main = {run.id: run_config(run, "runs/experiments") for run in load_registry().runs()}
    hard = load_registry(REGISTRY_FILE.parent / "hard.yaml")
    hard_configs = {run.id: run_config(run, "runs/hard") for run in hard.runs()}
    assert set(hard_configs) == {f"{r}__seed{k}" for r in ("source_only", "pseudo", "full", "target_bn", "full_no_pseudo")
                                 for k in (0, 1, 2)}
    for run_id, config in hard_configs.items():
        twin = main[run_id]
        assert config.data.root == "data/toycity-hard" and twin.data.root != config.data.root
        assert (config.variant, config.loss, config.train.max_iterations, config.model.arch) == \
               (twin.variant, twin.loss, twin.train.max_iterations, twin.model.arch)
    search = load_registry(REGISTRY_FILE.parent / "search.yaml")
    configs = {run.id: run_config(run, "runs/experiments") for run in search.runs()}
    assert all(run_id.endswith("__seed0") for run_id in configs)
    base = configs["full_no_pseudo__seed0"]
    assert configs["full_no_pseudo_cdc3__seed0"].loss.cdc == 3 and base.loss.cdc == 1
    assert configs["full_no_pseudo_cds_difference__seed0"].distill.style_mode == "difference"
    assert configs["full_no_pseudo_tau02__seed0"].distill.tau == 0.2
    assert configs["full_pseudo03__seed0"].loss.pseudo == 0.3 and configs["full__seed0"].loss.pseudo == 1
    assert configs["full__seed0"].loss == main["full__seed0"].loss and base.loss == main["full_no_pseudo__seed0"].loss


def test_every_row_but_source_only_warm_starts_from_the_source_only_run_of_its_seed():
    registry = load_registry()
    runs = registry.runs(["full"], seeds=[1])
    assert [run.id for run in runs] == ["source_only__seed1", "full__seed1"]  # stage 1 first
    config = run_config(runs[1], "runs/experiments")
    assert config.model.init_checkpoint == str(Path("runs/experiments/source_only__seed1/deploy.pt"))
    assert config.loss.pseudo_warmup_fraction == 0
    assert run_config(runs[0], "runs/experiments").model.init_checkpoint == ""
    assert [run.id for run in registry.runs()[:3]] == ["source_only__seed0", "pseudo__seed0", "full__seed0"]


def test_registry_errors_name_the_file_and_the_row(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows:\n  - id: x\n    variant: fulll\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*row 1.*fulll"):
        load_registry(bad)
    bad.write_text("rows:\n  - id: full\n    seeds: [0, 0]\n")
    with pytest.raises(ConfigError, match="repeats a seed"):
        load_registry(bad)
    with pytest.raises(ConfigError, match="no row 'nope'"):
        load_registry().runs(["nope"])


# ------------------------------------------------------------------------------ the pipeline
def test_run_writes_finite_results_and_a_rerun_skips_them(smoke, smoke_registry, toycity):
    files = sorted(smoke.results_dir.glob("*.json"))
    assert [f.name for f in files] == ["full__seed0.json", "source_only__seed0.json"]
    for path in files:
        result = json.loads(path.read_text())
        assert result["config"]["train"]["max_iterations"] == result["training"]["iterations"] == 4
        assert result["config"]["profile"] == "ci" and result["config"]["model"]["arch"] == "tiny"
        for split in ("val", "test"):
            metrics = result["metrics"][split]
            assert 0 <= metrics["miou"] <= 1 and math.isfinite(metrics["pixel_accuracy"])
            assert len(metrics["per_class_iou"]) == 19 and len(metrics["confusion"]) == 19
        assert result["training"]["seconds"] > 0 and result["environment"]["cpu_count"] >= 1
    # Finished runs keep deploy.pt, the last checkpoint and the log; older checkpoints are pruned.
    assert sorted(p.name for p in (smoke.runs_dir / "full__seed0").glob("*.pt")) == ["ckpt_0000004.pt", "deploy.pt"]
    shift = json.loads((smoke.results_dir / "source_only__seed0.json").read_text())["metrics"]
    assert {"source_day_val", "target_day_val", "target_day_test"} <= set(shift)
    assert 0 <= shift["target_day_test"]["miou"] <= 1
    assert "source_day_val" not in json.loads((smoke.results_dir / "full__seed0.json").read_text())["metrics"]

    stamps = {f: f.stat().st_mtime_ns for f in files}
    rerun = _runner(smoke_registry, toycity, smoke.runs_dir.parent)
    assert rerun.run() == []
    assert rerun.out.getvalue().count("skip") == 2 and "start" not in rerun.out.getvalue()
    assert {f: f.stat().st_mtime_ns for f in files} == stamps


def test_a_result_of_another_schedule_is_refused_before_training(smoke, smoke_registry, toycity):
    other = Runner(load_registry(smoke_registry), runs_dir=smoke.runs_dir, results_dir=smoke.results_dir,
                   profile="ci", overrides=[f"data.root={toycity}", "train.max_iterations=6"], out=io.StringIO())
    with pytest.raises(ConfigError, match="max_iterations: found 4, the registry resolves 6"):
        other.run()


def test_table_and_status_from_the_result_files(smoke, smoke_registry, toycity, tmp_path, capsys):
    doc = tmp_path / "RESULTS.md"
    doc.write_text("intro\n<!-- results-table:begin -->\nold\n<!-- results-table:end -->\noutro\n")
    table = tmp_path / "RESULTS_TABLE.md"
    args = _cli_args(smoke, smoke_registry, toycity)
    assert main(["table", *args, "--out", str(table), "--doc", str(doc)]) == 0
    text = table.read_text()
    source = json.loads((smoke.results_dir / "source_only__seed0.json").read_text())
    full = json.loads((smoke.results_dir / "full__seed0.json").read_text())
    assert f"| `source_only` | `source_only` | 1/1 | {100 * source['metrics']['test']['miou']:.2f} (1 seed) |" in text
    assert f"| `full` | `full` | 1/1 | {100 * full['metrics']['test']['miou']:.2f} (1 seed) |" in text
    assert "inherent (dataset) shift" in text and "not computable yet" in text
    assert "old" not in doc.read_text() and text in doc.read_text() and doc.read_text().endswith("outro\n")

    assert main(["status", *args]) == 0
    printed = capsys.readouterr().out
    assert "source_only__seed0" in printed and "2 done" in printed


def test_figures_render_and_name_missing_runs(smoke, smoke_registry, toycity, tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(["figures", *_cli_args(smoke, smoke_registry, toycity), "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["correlations.png", "loss_curves.png",
                                                         "per_class_iou.png", "predictions.png"]
    printed = capsys.readouterr().out
    # The smoke registry has no pseudo/oracle rows: their panels are blank and the command says so.
    predictions = next(line for line in printed.splitlines() if "predictions.png" in line)
    assert "pseudo (not in the registry)" in predictions and "full__seed0" not in predictions
    assert "correlations.png (missing" not in printed


def test_an_interrupted_run_resumes_from_its_checkpoint_and_finishes(smoke_registry, toycity, tmp_path):
    def interrupt_after_step_3(event, trainer):  # of the full run (its stage 1, source_only, goes first)
        if event == "after_step" and trainer.iteration == 3 and trainer.config.variant == "full":
            raise Interrupted

    first = _runner(smoke_registry, toycity, tmp_path, hooks=[interrupt_after_step_3])
    with pytest.raises(Interrupted):
        first.run(["full"])
    run = first.registry.runs(["full"])[-1]
    status = run_status(run, first.config(run), first.results_dir)
    assert (status.state, status.iteration) == ("partial", 2) and status.train_seconds > 0
    assert not (first.results_dir / "full__seed0.json").exists()

    second = _runner(smoke_registry, toycity, tmp_path)
    second.run(["full"])
    assert "resuming at iteration 2/4" in second.out.getvalue()
    result = json.loads((second.results_dir / "full__seed0.json").read_text())
    assert result["training"]["iterations"] == 4 and result["training"]["sittings"] == 2
    assert result["training"]["timing_complete"] is True
    iterations = [int(line.split(",")[0]) for line in (Path(second.config(run).output) / "log.csv")
                  .read_text().splitlines()[1:]]
    assert iterations == sorted(set(iterations)) and iterations[-1] == 4


def test_a_run_stopped_by_sigterm_keeps_its_clock_at_the_stop_checkpoint(smoke_registry, toycity, tmp_path):
    def sigterm_at_step_3(event, trainer):  # 3 is between the regular checkpoints (every 2)
        if event == "after_step" and trainer.iteration == 3 and trainer.config.variant == "full":
            os.kill(os.getpid(), signal.SIGTERM)

    first = _runner(smoke_registry, toycity, tmp_path, hooks=[sigterm_at_step_3])
    with pytest.raises(TrainingInterrupted):
        first.run(["full"])
    run = first.registry.runs(["full"])[-1]
    timing = json.loads((Path(first.config(run).output) / "timing.json").read_text())
    assert "3" in timing["checkpoints"], timing

    second = _runner(smoke_registry, toycity, tmp_path)
    second.run(["full"])
    assert "resuming at iteration 3/4" in second.out.getvalue()
    result = json.loads((second.results_dir / "full__seed0.json").read_text())
    assert result["training"]["sittings"] == 2 and result["training"]["timing_complete"] is True
    assert result["training"]["seconds"] > timing["checkpoints"]["3"]


def test_analyse_writes_one_file_per_finished_run_and_the_table_shows_it(smoke, smoke_registry, toycity, tmp_path):
    written = smoke.analyse()
    assert sorted(p.name for p in written) == ["full__seed0.json", "source_only__seed0.json"]
    analysis = json.loads(written[0].read_text())
    quality = analysis["pseudo_labels"]
    assert len(quality["precision"]) == 19 and 0 <= quality["pixel_precision"] <= 1
    # The static rule never labels a dynamic class (trainIds 11-18), so their coverage is 0.
    assert all(quality["coverage"][k] in (0.0, None) for k in range(11, 19))
    assert all(math.isfinite(v) for v in analysis["correlation_gaps"].values())
    assert smoke.analyse() == []  # done once; --force recomputes
    table = tmp_path / "RESULTS_TABLE.md"
    assert main(["table", *_cli_args(smoke, smoke_registry, toycity), "--out", str(table), "--doc", ""]) == 0
    text = table.read_text()
    assert "| `full` | 1 |" in text and "Pseudo labels of `source_only`'s M_d" in text

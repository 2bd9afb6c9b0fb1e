"""The results table from synthetic result files: statistics, the paired test, the goals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ttest_rel

from ccdistill.experiments import load_registry
from ccdistill.experiments.results import write_json_atomic
from ccdistill.experiments.report import render_table
from ccdistill.experiments.table import collect, goal_checks, paired_comparison

# test mIoU by row and seed; `cdc` lacks seed 2.
TEST_MIOU = {"source_only": [0.10, 0.11, 0.12], "pseudo": [0.20, 0.21, 0.19], "full": [0.28, 0.29, 0.30],
             "oracle": [0.40, 0.41, 0.42], "cdc": [0.22, 0.23]}


def _result(row: str, seed: int, miou: float) -> dict:
    metrics = {"miou": miou, "per_class_iou": [miou] * 18 + [None], "pixel_accuracy": 0.5}
    return {"row": row, "seed": seed, "date": "2026-01-01T00:00:00+00:00",
            "config": {"profile": "cpu", "model": {"arch": "a", "weights": None},
                       "train": {"max_iterations": 400, "batch_size": 4}, "data": {"eval_size": [128, 256]}},
            "metrics": {"val": {**metrics, "miou": miou - 0.01}, "test": metrics},
            "training": {"seconds": 300.0 + seed, "evaluation_seconds": 10.0, "sittings": 1, "iterations": 400},
            "environment": {"torch": "2", "cpu_count": 2, "machine": "x86_64"}}


@pytest.fixture()
def collected(tmp_path):
    for row, values in TEST_MIOU.items():
        for seed, miou in enumerate(values):
            write_json_atomic(_result(row, seed, miou), tmp_path / f"{row}__seed{seed}.json")
    return collect(load_registry(), tmp_path)


def test_paired_comparison_is_scipys_paired_t_test(collected):
    paired = paired_comparison(collected)
    assert paired["seeds"] == [0, 1, 2]
    np.testing.assert_allclose(paired["differences"], [0.08, 0.08, 0.11])
    expected = ttest_rel(TEST_MIOU["full"], TEST_MIOU["pseudo"]).pvalue
    assert paired["p_value"] == pytest.approx(expected)


def test_goal_checks_are_computed_from_the_means_and_stds(collected):
    goals = goal_checks(collected)
    mean = {row: float(np.mean(v)) for row, v in TEST_MIOU.items()}
    fraction = (mean["full"] - mean["source_only"]) / (mean["oracle"] - mean["source_only"])
    assert goals["gap_fraction"] == pytest.approx(fraction) and goals["gap_met"] is (fraction >= 0.5)
    bar = max(np.std(TEST_MIOU["full"], ddof=1), np.std(TEST_MIOU["pseudo"], ddof=1))
    assert goals["margin"] == pytest.approx(mean["full"] - mean["pseudo"]) and goals["margin_bar"] == pytest.approx(bar)
    assert goals["margin_met"] is True


def test_the_table_shows_means_stds_and_missing_seeds(collected):
    text = render_table(collected)
    assert "| `full` | `full` | 3/3 | 29.00 ± 1.00 | 28.00 ± 1.00 |" in text
    assert "| `cdc` | `cdc` | 2/3 (missing 2) | 22.50 ± 0.71 |" in text
    assert "| `seg_night` | `seg_night` | 0/3 (missing 0, 1, 2) | — | — |" in text
    assert f"p = {ttest_rel(TEST_MIOU['full'], TEST_MIOU['pseudo']).pvalue:.3f}" in text
    assert "closes 60 % of the `source_only` → `oracle` gap" in text and "**met**" in text


def test_goals_are_not_computable_without_the_rows(tmp_path):
    goals = goal_checks(collect(load_registry(), tmp_path))
    assert goals["gap_met"] is None and goals["margin_met"] is None and math.isnan(goals["gap_fraction"])


def test_the_notebook_summary_shows_rows_seeds_and_pairs(tmp_path):
    from ccdistill.experiments.table import results_summary

    for row, values in TEST_MIOU.items():
        for seed, miou in enumerate(values):
            write_json_atomic(_result(row, seed, miou), tmp_path / f"{row}__seed{seed}.json")
    text = results_summary(["pseudo", "full", "target_bn"], [("full", "pseudo"), ("full_no_pseudo", "target_bn")],
                           results_dir=tmp_path)
    assert "| `full` | 3/3 | 29.00 ± 1.00 | 28.00, 29.00, 30.00 |" in text
    assert "| `target_bn` | 0/3 (missing 0, 1, 2) | — |" in text
    assert "| `full` | `pseudo` | 0, 1, 2 | +8.00, +8.00, +11.00 | 9.00 ± 1.73 |" in text
    assert "| `full_no_pseudo` | `target_bn` | none yet |" in text


def test_the_paired_verdict_says_whether_a_difference_beats_the_seed_noise(tmp_path):
    from ccdistill.experiments.table import paired_verdict

    for row, values in TEST_MIOU.items():
        for seed, miou in enumerate(values):
            write_json_atomic(_result(row, seed, miou), tmp_path / f"{row}__seed{seed}.json")
    assert paired_verdict("full", "pseudo", tmp_path).startswith("`full` − `pseudo` = +9.00 ± 1.73 points")
    assert "`full` is better" in paired_verdict("full", "pseudo", tmp_path)
    # cdc − pseudo on seeds 0, 1: +2, +2 points; the seed std of pseudo is 1.0, of cdc 0.71.
    assert "`cdc` is better" in paired_verdict("cdc", "pseudo", tmp_path)
    assert "not enough paired seeds" in paired_verdict("full_no_pseudo", "target_bn", tmp_path)

"""The ablation lab's tables, comparisons and figures on synthetic result files."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.stats import ttest_rel

from ccdistill.errors import InputError
from ccdistill.experiments import load_registry
from ccdistill.experiments.lab import (
    budget_note, class_indices, compare, describe_missing, describe_pair, group_miou, in_group, lab_comparison_markdown,
    lab_config, missing, per_class_means, plot_class_iou, plot_pairs, plot_seeds, seed_table, seed_table_markdown,
)
from ccdistill.experiments.results import write_json_atomic
from ccdistill.experiments.table import collect
from ccdistill.workflow.runs import status_on_stdout

# (static IoU, dynamic IoU) by row and seed: static classes 0-10 all get the first value, person
# and car (11, 13) the second, the other dynamic classes are absent (None) as in ToyCity.
# `target_bn` lacks seed 2; `full_no_pseudo` has no file at all.
IOU = {"source_only": [(0.10, 0.30), (0.12, 0.28), (0.11, 0.29)],
       "pseudo": [(0.40, 0.20), (0.38, 0.22), (0.41, 0.21)],
       "full": [(0.39, 0.25), (0.39, 0.27), (0.40, 0.20)],
       "target_bn": [(0.20, 0.10), (0.25, 0.12)]}
STATIC, DYNAMIC = range(11), (11, 13)


def _per_class(static: float, dynamic: float) -> list:
    return [static] * 11 + [dynamic if k in DYNAMIC else None for k in range(11, 19)]


def _result(row: str, seed: int, static: float, dynamic: float, iterations: int = 600) -> dict:
    per_class = _per_class(static, dynamic)
    miou = float(np.mean([v for v in per_class if v is not None]))
    test = {"miou": miou, "per_class_iou": per_class}
    val = {"miou": miou - 0.01, "per_class_iou": _per_class(static - 0.01, dynamic - 0.01)}
    return {"row": row, "seed": seed, "metrics": {"val": val, "test": test},
            "config": {"profile": "cpu", "train": {"max_iterations": iterations, "seed": seed}}}


def _miou(row: str, seed: int) -> float:
    return float(np.mean([v for v in _per_class(*IOU[row][seed]) if v is not None]))


@pytest.fixture()
def collected(tmp_path):
    for row, values in IOU.items():
        for seed, (static, dynamic) in enumerate(values):
            write_json_atomic(_result(row, seed, static, dynamic), tmp_path / f"{row}__seed{seed}.json")
    return collect(load_registry(), tmp_path)


def test_group_miou_reads_the_class_groups():
    result = _result("full", 0, 0.4, 0.2)
    assert group_miou(result, "static") == pytest.approx(0.4)
    assert group_miou(result, "dynamic") == pytest.approx(0.2)  # absent classes are not zeros
    assert group_miou(result, "all") == pytest.approx((11 * 0.4 + 2 * 0.2) / 13)
    assert math.isnan(group_miou({"metrics": {}}, "all"))
    with pytest.raises(InputError, match="static"):
        group_miou(result, "moving")


def test_seed_table_has_one_record_per_file(collected):
    records = seed_table(collected, ["full", "target_bn", "full_no_pseudo"])
    assert [(r.row, r.seed) for r in records] == [("full", 0), ("full", 1), ("full", 2), ("target_bn", 0), ("target_bn", 1)]
    first = records[0]
    assert first.test == pytest.approx(_miou("full", 0)) and first.val == pytest.approx(_miou("full", 0) - 0.01)
    assert (first.static, first.dynamic) == pytest.approx((0.39, 0.25))


def test_markdown_table_shows_seeds_means_and_what_is_missing(collected):
    text = seed_table_markdown(collected, ["pseudo", "target_bn", "full_no_pseudo"])
    pseudo = [_miou("pseudo", s) for s in range(3)]
    assert f"0: {100 * pseudo[0]:.2f}, 1: {100 * pseudo[1]:.2f}, 2: {100 * pseudo[2]:.2f}" in text
    assert f"{100 * np.mean(pseudo):.2f} ± {100 * np.std(pseudo, ddof=1):.2f}" in text
    assert "(missing seed 2)" in text and "| `full_no_pseudo` | no result file yet |" in text
    assert missing(collected, ["target_bn", "full_no_pseudo", "full"]) == {"target_bn": [2], "full_no_pseudo": [0, 1, 2]}
    sentence = describe_missing(collected, ["target_bn", "full"])
    assert "target_bn (seed 2)" in sentence and "--rows target_bn" in sentence and "full " not in sentence


def test_compare_is_the_paired_t_test_on_the_group(collected):
    pair = compare(collected, "full", "pseudo", "dynamic")
    full, pseudo = [v[1] for v in IOU["full"]], [v[1] for v in IOU["pseudo"]]
    assert pair.seeds == (0, 1, 2)
    np.testing.assert_allclose(pair.differences, np.subtract(full, pseudo))
    assert pair.p_value == pytest.approx(ttest_rel(full, pseudo).pvalue)
    assert pair.bar == pytest.approx(max(np.std(full, ddof=1), np.std(pseudo, ddof=1)))
    assert pair.mean == pytest.approx(np.mean(np.subtract(full, pseudo)))
    # The overall mIoU gives another answer: the group is really applied.
    assert compare(collected, "full", "pseudo").mean != pytest.approx(pair.mean)


def test_compare_uses_common_seeds_and_says_when_there_are_none(collected):
    pair = compare(collected, "target_bn", "source_only")
    assert pair.seeds == (0, 1)
    none = compare(collected, "full_no_pseudo", "pseudo")
    assert none.seeds == () and none.beyond is None and "no seed has a result file" in describe_pair(none)
    with pytest.raises(InputError, match="no registry row 'nope'"):
        compare(collected, "nope", "pseudo")


def test_describe_pair_names_the_winner_only_beyond_the_bar(collected):
    ahead = compare(collected, "pseudo", "source_only", "static")
    assert ahead.beyond is True and "`pseudo` is ahead by more than" in describe_pair(ahead)
    behind = compare(collected, "source_only", "pseudo", "static")
    assert behind.beyond is False and "`pseudo` is ahead by more than" in describe_pair(behind)
    noise = compare(collected, "full", "pseudo", "static")
    assert "within the larger seed std" in describe_pair(noise) and f"{100 * noise.mean:+.2f}" in describe_pair(noise)


def test_in_group_leaves_the_loaded_results_alone(collected):
    before = collected[1].results[0]["metrics"]["test"]["miou"]
    grouped = in_group(collected, "static")
    assert grouped[1].values("test")[0] == pytest.approx(IOU["pseudo"][0][0])
    assert collected[1].results[0]["metrics"]["test"]["miou"] == before


def test_per_class_means_and_the_classes_a_group_shows(collected):
    means = per_class_means(next(r for r in collected if r.row.id == "pseudo"))
    assert means[0] == pytest.approx(np.mean([v[0] for v in IOU["pseudo"]]))
    assert means[13] == pytest.approx(np.mean([v[1] for v in IOU["pseudo"]])) and np.isnan(means[12])
    assert class_indices(collected, "dynamic") == [11, 13]
    assert class_indices(collected, "static") == list(STATIC)


def _png(figure: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_figures_follow_their_arguments(collected):
    seeds = plot_seeds(collected, ["pseudo", "full", "full_no_pseudo"])
    ax = seeds.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pseudo", "full", "full_no_pseudo\n(no results)"]
    # Three seed dots per row with results, at their test mIoU (%).
    from matplotlib.collections import PathCollection

    dots = sorted(float(y) for c in ax.collections if isinstance(c, PathCollection) for _, y in c.get_offsets())
    assert dots == pytest.approx(sorted(100 * _miou(r, s) for r in ("pseudo", "full") for s in range(3)))
    assert _png(plot_seeds(collected, ["pseudo", "full"], "dynamic")) != _png(plot_seeds(collected, ["pseudo", "full"]))
    pairs = plot_pairs(collected, [("full", "pseudo"), ("full_no_pseudo", "target_bn")], "static")
    labels = [t.get_text() for t in pairs.axes[0].get_yticklabels()]
    assert labels == ["full − pseudo", "full_no_pseudo − target_bn\n(no common seed yet)"]
    bars = plot_class_iou(collected, ["pseudo", "full", "full_no_pseudo"], "dynamic")
    assert [t.get_text() for t in bars.axes[0].get_xticklabels()] == ["person", "car"]
    assert "no results yet: full_no_pseudo" in bars.axes[0].get_title()
    for figure in (seeds, pairs, bars):
        assert figure.dpi >= 100


def test_lab_config_is_the_registry_row_under_the_session_profile(tmp_path):
    from ccdistill.config import load_config

    def run_config(variant, *overrides):
        return load_config("toycity", [f"profile=ci", f"variant={variant}", f"output={tmp_path / variant}", *overrides])

    session = SimpleNamespace(profile="ci", root=tmp_path / "toy", runs=tmp_path, project=tmp_path,
                              config=load_config("toycity", ["profile=ci"]), run_config=run_config)
    config = lab_config(session, "full_no_pseudo", seed=1, fraction=0.5)
    assert config.variant == "full" and config.loss.pseudo == 0  # the row's override, from the registry
    assert config.train.max_iterations == 10 and config.train.seed == 1 and config.train.progress is False
    assert str(config.output) == str(tmp_path / "full_no_pseudo__seed1")
    assert str(config.model.init_checkpoint) == str(tmp_path / "source_only" / "deploy.pt")
    assert str(config.data.root) == str(tmp_path / "toy")
    with pytest.raises(InputError, match="fraction"):
        lab_config(session, "full", fraction=0.0)


def test_budget_note_and_comparison_say_when_the_budget_is_smaller(collected):
    own = _result("full_no_pseudo", 0, 0.3, 0.2, iterations=150)
    note = budget_note(collected, own)
    assert "150 iterations" in note and "600 iterations" in note and "smaller budget" in note and "4× fewer steps" in note
    assert "comparable" in budget_note(collected, _result("x", 0, 0.3, 0.2))
    table = lab_comparison_markdown(collected, {"my run": own}, ["pseudo", "full_no_pseudo", "pseudo"])
    assert f"| **my run** (this notebook) | `cpu` | 150 | 0 | {100 * group_miou(own):.2f} |" in table
    assert "| `full_no_pseudo` (table) | — | — | none yet | — |" in table and table.count("`pseudo` (table)") == 1
    assert f"| `pseudo` (table) | `cpu` | 600 | 0, 1, 2 | " in table


def test_status_lines_go_to_stdout_without_the_project_folder(tmp_path, capsys):
    import sys

    with status_on_stdout(tmp_path):
        print(f"ccdistill: trained 3 iteration(s); {tmp_path / 'runs' / 'deploy.pt'} written", file=sys.stderr)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == "ccdistill: trained 3 iteration(s); runs/deploy.pt written\n"

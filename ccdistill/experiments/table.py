"""The statistics of the results table (docs/RESULTS_TABLE.md), computed from the result files
alone; ccdistill/experiments/report.py renders the table's Markdown from them.

Nothing here trains or reads a checkpoint: every number is a statistic of
`<results dir>/<row>__seed<k>.json`, so the table can be rebuilt on any machine from what git
holds. Rows with missing seeds are shown with the seeds they have, and statistics that need
more seeds say so instead of printing a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ccdistill.experiments.registry import Registry, Row
from ccdistill.experiments.results import read_json

# Issue 16's comparisons (a, b): a − b per seed. The terms without pseudo labels against the
# control that only forwards the target streams, the control against seg_night (what BatchNorm
# statistics alone give), and each joint-BatchNorm row against its per-stream twin.
PAIRS: tuple[tuple[str, str], ...] = (
    ("full", "pseudo"), ("target_bn", "seg_night"), ("full_no_pseudo", "target_bn"),
    ("cdc_no_pseudo", "target_bn"), ("cds_no_pseudo", "target_bn"), ("full_no_pseudo", "pseudo"),
    ("full_no_pseudo_joint_bn", "full_no_pseudo"), ("pseudo_joint_bn", "pseudo"), ("full_joint_bn", "full"))
CONTROL_GOAL = ("full_no_pseudo", "target_bn")  # issue 16: a beats b by more than the larger seed std
DISTILLATION_ROWS = ("full", "cdc", "cds", "no_js", "no_proj", "full_joint_bn")  # variants with the terms, vs pseudo
GAP_FRACTION_GOAL = 0.5  # issue 10: full closes at least half of the source_only -> oracle gap


@dataclass
class RowResults:
    """The result files of one registry row, by seed."""

    row: Row
    results: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def missing(self) -> list[int]:
        return [seed for seed in self.row.seeds if seed not in self.results]

    def values(self, split: str = "test", key: str = "miou") -> dict[int, float]:
        """{seed: metric} of `split` (a `metrics` entry) for the seeds that have it."""
        out = {}
        for seed, result in sorted(self.results.items()):
            value = result["metrics"].get(split, {}).get(key)
            if value is not None:
                out[seed] = float(value)
        return out


def collect(registry: Registry, results_dir: str | Path, rows: Sequence[str] | None = None) -> list[RowResults]:
    """Read every result file of the registry's rows (missing files are simply absent)."""
    collected = []
    for row in registry.select(rows):
        found = RowResults(row)
        for seed in row.seeds:
            path = Path(results_dir) / f"{row.id}__seed{seed}.json"
            if path.is_file():
                found.results[seed] = read_json(path)
        collected.append(found)
    return collected


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; NaN with fewer than two values)."""
    array = np.asarray(list(values), dtype=np.float64)
    if array.size == 0:
        return math.nan, math.nan
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else math.nan


def percent(value: float, digits: int = 2) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.{digits}f}"


def mean_pm(values: Sequence[float]) -> str:
    mean, std = mean_std(values)
    if not math.isfinite(mean):
        return "—"
    return f"{100 * mean:.2f} ± {100 * std:.2f}" if math.isfinite(std) else f"{100 * mean:.2f} (1 seed)"


def seeds_cell(row: RowResults) -> str:
    have = f"{len(row.results)}/{len(row.row.seeds)}"
    return have if not row.missing else f"{have} (missing {', '.join(map(str, row.missing))})"


def paired_comparison(collected: Sequence[RowResults], a: str = "full", b: str = "pseudo") -> dict[str, Any]:
    """Per-seed test mIoU of rows `a` and `b` on their common seeds, the differences a − b,
    their mean and std, and the paired t-test p-value (scipy.stats.ttest_rel, two-sided)."""
    rows = {row.row.id: row for row in collected}
    first = rows[a].values("test") if a in rows else {}
    second = rows[b].values("test") if b in rows else {}
    seeds = sorted(set(first) & set(second))
    differences = [first[s] - second[s] for s in seeds]
    mean, std = mean_std(differences)
    p_value = math.nan
    if len(seeds) >= 2 and np.ptp(differences) > 1e-12:  # identical differences: no t statistic
        from scipy.stats import ttest_rel

        p_value = float(ttest_rel([first[s] for s in seeds], [second[s] for s in seeds]).pvalue)
    return {"seeds": seeds, "a": [first[s] for s in seeds], "b": [second[s] for s in seeds],
            "differences": differences, "mean": mean, "std": std, "p_value": p_value}


def pairs_section(collected: Sequence[RowResults], pairs: Sequence[tuple[str, str]] = PAIRS) -> list[str]:
    """One line per comparison a − b on the seeds both rows have: the per-seed differences,
    their mean ± std, the paired t-test, and whether the mean exceeds the larger seed std of
    the two rows (the bar the issues set)."""
    rows = {row.row.id: row for row in collected}
    lines = ["| a | b | seeds | a − b per seed (points) | mean ± std | paired p | larger seed std | a − b > std? |",
             "|---|---|---|---|---|---|---|---|"]
    for a, b in pairs:
        if a not in rows or b not in rows:
            continue
        paired = paired_comparison(collected, a, b)
        if not paired["seeds"]:
            lines.append(f"| `{a}` | `{b}` | none yet | — | — | — | — | — |")
            continue
        bar = max(mean_std(rows[a].values("test").values())[1], mean_std(rows[b].values("test").values())[1])
        p, mean = paired["p_value"], paired["mean"]
        beyond = "—" if not (math.isfinite(bar) and math.isfinite(mean)) else ("**yes**" if mean > bar else "no")
        lines.append(f"| `{a}` | `{b}` | {', '.join(map(str, paired['seeds']))} | "
                     f"{', '.join(f'{100 * d:+.2f}' for d in paired['differences'])} | "
                     f"{percent(mean)} ± {percent(paired['std'])} | {f'{p:.3f}' if math.isfinite(p) else 'n/a'} | "
                     f"{percent(bar)} | {beyond} |")
    return lines


def goal_checks(collected: Sequence[RowResults]) -> dict[str, Any]:
    """The two goals of issue 10 on target-night test mIoU (means over seeds):
    gap: (full − source_only) / (oracle − source_only) ≥ 0.5;
    margin: full − pseudo > max(std(full), std(pseudo))."""
    rows = {row.row.id: row for row in collected}

    def stats(row_id: str) -> tuple[float, float]:
        return mean_std(rows[row_id].values("test").values()) if row_id in rows else (math.nan, math.nan)

    (full, full_std), (pseudo, pseudo_std) = stats("full"), stats("pseudo")
    (source, _), (oracle, _) = stats("source_only"), stats("oracle")
    gap = oracle - source
    fraction = (full - source) / gap if math.isfinite(full) and math.isfinite(gap) and gap > 0 else math.nan
    margin, bar = full - pseudo, max(full_std, pseudo_std)
    return {"gap_fraction": fraction, "gap_met": bool(fraction >= GAP_FRACTION_GOAL) if math.isfinite(fraction) else None,
            "margin": margin, "margin_bar": bar,
            "margin_met": bool(margin > bar) if math.isfinite(margin) and math.isfinite(bar) else None}


def issue16_goals(collected: Sequence[RowResults]) -> dict[str, Any]:
    """Issue 16's goals on target-night test mIoU: `full_no_pseudo` beats `target_bn` by more
    than the larger seed std; and which rows with the distillation terms beat `pseudo` so."""
    rows = {row.row.id: row for row in collected}

    def margin(a: str, b: str) -> tuple[float, float]:
        if a not in rows or b not in rows:
            return math.nan, math.nan
        (ma, sa), (mb, sb) = mean_std(rows[a].values("test").values()), mean_std(rows[b].values("test").values())
        return ma - mb, max(sa, sb)

    control, bar = margin(*CONTROL_GOAL)
    beating = {a: margin(a, "pseudo") for a in DISTILLATION_ROWS if a in rows and rows[a].results}
    return {"control_margin": control, "control_bar": bar,
            "control_met": bool(control > bar) if math.isfinite(control) and math.isfinite(bar) else None,
            "beat_pseudo": sorted(a for a, (m, b) in beating.items() if math.isfinite(m) and math.isfinite(b) and m > b),
            "versus_pseudo": beating}


def goals_section(collected: Sequence[RowResults]) -> list[str]:
    goals = goal_checks(collected)
    verdict = {True: "**met**", False: "**not met**", None: "not computable yet (rows or seeds missing)"}
    fraction = goals["gap_fraction"]
    return [
        f"- `full` closes {('—' if not math.isfinite(fraction) else f'{100 * fraction:.0f} %')} of the "
        f"`source_only` → `oracle` gap on target-night test (goal ≥ {100 * GAP_FRACTION_GOAL:.0f} %): "
        f"{verdict[goals['gap_met']]}",
        f"- `full` − `pseudo` = {percent(goals['margin'])} points against the larger seed std "
        f"{percent(goals['margin_bar'])} (goal: larger): {verdict[goals['margin_met']]}",
    ]


def issue16_goals_section(collected: Sequence[RowResults]) -> list[str]:
    goals = issue16_goals(collected)
    verdict = {True: "**met**", False: "**not met**", None: "not computable yet (rows or seeds missing)"}
    a, b = CONTROL_GOAL
    versus = ", ".join(f"`{row}` {percent(m)} (bar {percent(bar)})" for row, (m, bar) in goals["versus_pseudo"].items())
    return [
        f"- `{a}` − `{b}` = {percent(goals['control_margin'])} points against the larger seed std "
        f"{percent(goals['control_bar'])} (goal: larger): {verdict[goals['control_met']]}",
        "- rows with the distillation terms that beat `pseudo` by more than the larger seed std: "
        + (", ".join(f"`{r}`" for r in goals["beat_pseudo"]) or "**none**")
        + (f" (differences to `pseudo`: {versus})" if versus else ""),
    ]


def results_summary(rows: Sequence[str], pairs: Sequence[tuple[str, str]] = (),
                    results_dir: str | Path | None = None, registry: Registry | None = None) -> str:
    """A short Markdown summary for a notebook: the chosen rows' target-night test mIoU (mean ±
    std over seeds, and each seed), static/dynamic mIoU, and the paired comparisons `pairs`,
    all from the committed result files (`results_dir`, default results/toycity of the
    repository). Missing rows or seeds are shown as such."""
    from ccdistill.experiments import load_registry
    from ccdistill.experiments.analysis import class_group_miou
    from ccdistill.experiments.runner import DEFAULT_RESULTS_DIR

    registry = registry or load_registry()
    results_dir = Path(results_dir) if results_dir is not None else Path(__file__).resolve().parents[2] / DEFAULT_RESULTS_DIR
    collected = collect(registry, results_dir, rows)
    lines = ["| row | seeds | test mIoU (%) | per seed | static (%) | dynamic (%) |", "|---|---|---|---|---|---|"]
    for row in collected:
        test = row.values("test")
        groups = [mean_pm([class_group_miou(r["metrics"]["test"]["per_class_iou"], g) for r in row.results.values()])
                  for g in ("static", "dynamic")]
        lines.append(f"| `{row.row.id}` | {seeds_cell(row)} | {mean_pm(test.values())} | "
                     f"{', '.join(percent(v) for v in test.values()) or '—'} | {groups[0]} | {groups[1]} |")
    if pairs:
        lines += ["", *pairs_section(collect(registry, results_dir, sorted({r for p in pairs for r in p})), pairs)]
    return "\n".join(lines) + "\n"


def paired_verdict(a: str, b: str, results_dir: str | Path | None = None, registry: Registry | None = None) -> str:
    """One sentence on `a` − `b` (target-night test mIoU) from the result files: the mean ±
    std of the per-seed differences, the paired p, and whether the difference exceeds the larger
    seed std of the two rows, the bar this project uses before it calls a difference real."""
    from ccdistill.experiments import load_registry
    from ccdistill.experiments.runner import DEFAULT_RESULTS_DIR

    registry = registry or load_registry()
    results_dir = Path(results_dir) if results_dir is not None else Path(__file__).resolve().parents[2] / DEFAULT_RESULTS_DIR
    collected = collect(registry, results_dir, [a, b])
    paired = paired_comparison(collected, a, b)
    if len(paired["seeds"]) < 2:
        return f"`{a}` − `{b}`: not enough paired seeds with results yet ({len(paired['seeds'])})."
    rows = {row.row.id: row for row in collected}
    bar = max(mean_std(rows[a].values("test").values())[1], mean_std(rows[b].values("test").values())[1])
    mean, p = paired["mean"], paired["p_value"]
    verdict = ("larger than the larger seed std" + (f" ({percent(bar)}): `{a}` is better" if mean > 0 else f" ({percent(bar)}): `{b}` is better")
               if abs(mean) > bar else f"within the larger seed std ({percent(bar)}): no measurable difference")
    return (f"`{a}` − `{b}` = {100 * mean:+.2f} ± {percent(paired['std'])} points of test mIoU over "
            f"{len(paired['seeds'])} paired seeds (paired t-test p = {p:.2f}), {verdict}.")



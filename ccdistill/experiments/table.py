"""The results table (docs/RESULTS_TABLE.md), computed from the result files alone.

Nothing here trains or reads a checkpoint: every number is a statistic of
`<results dir>/<row>__seed<k>.json`, so the table can be rebuilt on any machine from what git
holds. Rows with missing seeds are shown with the seeds they have, and statistics that need
more seeds say so instead of printing a number.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ccdistill.experiments.registry import Registry, Row, Run, train_command
from ccdistill.experiments.results import read_json
from ccdistill.files import write_atomic
from ccdistill.labels import CLASS_NAMES

PER_CLASS_ROWS: tuple[str, ...] = ("source_only", "pseudo", "full", "oracle")
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
TABLE_BEGIN, TABLE_END = "<!-- results-table:begin -->", "<!-- results-table:end -->"


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


def _pct(value: float, digits: int = 2) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.{digits}f}"


def _pm(values: Sequence[float]) -> str:
    mean, std = mean_std(values)
    if not math.isfinite(mean):
        return "—"
    return f"{100 * mean:.2f} ± {100 * std:.2f}" if math.isfinite(std) else f"{100 * mean:.2f} (1 seed)"


def _seeds_cell(row: RowResults) -> str:
    have = f"{len(row.results)}/{len(row.row.seeds)}"
    return have if not row.missing else f"{have} (missing {', '.join(map(str, row.missing))})"


def _minutes(seconds: Sequence[float]) -> str:
    return "—" if not seconds else f"{np.mean(seconds) / 60:.1f}"


def setup_section(collected: Sequence[RowResults]) -> list[str]:
    """What was run, read from the result files; flags rows whose schedule differs."""
    results = [r for row in collected for r in row.results.values()]
    if not results:
        return ["No result files yet: run `python -m ccdistill.experiments run`."]
    def describe(result: dict) -> tuple:
        c = result["config"]
        return (c["profile"], c["model"]["arch"], c["model"]["weights"], c["train"]["max_iterations"],
                c["train"]["batch_size"], tuple(c["data"]["eval_size"] or ()))
    kinds = sorted({describe(r) for r in results}, key=str)
    env = Counter((r["environment"]["torch"], r["environment"]["cpu_count"], r["environment"]["machine"],
                   r["environment"].get("torch_threads")) for r in results)
    lines = []
    for profile, arch, weights, iterations, batch, eval_size in kinds:
        lines.append(f"- profile `{profile}`: `{arch}` (weights: {weights}), {iterations} iterations, batch "
                     f"{batch} per stream, evaluated at {'x'.join(map(str, eval_size)) or 'native size'}")
    if len(kinds) > 1:
        lines.append("- **warning: the result files do not share one schedule** (see the lines above); "
                     "rows trained differently are not comparable")
    for (torch_version, cpus, machine, threads), runs in sorted(env.items(), key=str):
        lines.append(f"- machine: {cpus} CPU(s), {machine}, torch {torch_version}, {threads} torch thread(s): "
                     f"{runs} run(s)")
    dates = sorted(r["date"] for r in results)
    lines.append(f"- {len(results)} result file(s), dated {dates[0][:10]} to {dates[-1][:10]}")
    return lines


def main_table(collected: Sequence[RowResults]) -> list[str]:
    lines = ["| row | variant | seeds | test mIoU (%) | val mIoU (%) | train min/run | tests |",
             "|---|---|---|---|---|---|---|"]
    for row in collected:
        seconds = [r["training"]["seconds"] for r in row.results.values()]
        lines.append(f"| `{row.row.id}` | `{row.row.variant}` | {_seeds_cell(row)} | "
                     f"{_pm(row.values('test').values())} | {_pm(row.values('val').values())} | "
                     f"{_minutes(seconds)} | {row.row.paper} |")
    return lines


def domain_shift_section(collected: Sequence[RowResults]) -> list[str]:
    source = next((row for row in collected if row.row.id == "source_only"), None)
    if source is None or not source.results:
        return ["`source_only` has no result yet."]
    splits = [("source day (source val)", "source_day_val"), ("target day (val)", "target_day_val"),
              ("target day (test)", "target_day_test"), ("target night (val)", "val"),
              ("target night (test)", "test")]
    lines = ["| `source_only` (M_d) on | mIoU (%) |", "|---|---|"]
    lines += [f"| {label} | {_pm(source.values(key).values())} |" for label, key in splits]
    day, test_day, night = source.values("source_day_val"), source.values("target_day_test"), source.values("test")
    seeds = sorted(set(day) & set(test_day) & set(night))
    lines.append(f"| inherent (dataset) shift = source day − target day (test) | "
                 f"{_pm([day[s] - test_day[s] for s in seeds])} |")
    lines.append(f"| illumination shift = target day − target night (test) | "
                 f"{_pm([test_day[s] - night[s] for s in seeds])} |")
    return lines


def per_class_section(collected: Sequence[RowResults], rows: Sequence[str] = PER_CLASS_ROWS) -> list[str]:
    chosen = [row for row in collected if row.row.id in rows]
    if not any(row.results for row in chosen):
        return ["None of " + ", ".join(f"`{r}`" for r in rows) + " has a result yet."]
    lines = ["| class | " + " | ".join(f"`{row.row.id}`" for row in chosen) + " |",
             "|---|" + "---|" * len(chosen)]
    for k, name in enumerate(CLASS_NAMES):
        cells = []
        for row in chosen:
            values = [r["metrics"]["test"]["per_class_iou"][k] for r in row.results.values()]
            finite = [v for v in values if v is not None]
            cells.append(_pct(float(np.mean(finite)), 1) if finite else "—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **mIoU** | " + " | ".join(_pm(row.values("test").values()) for row in chosen) + " |")
    return lines


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


def paired_section(collected: Sequence[RowResults], a: str = "full", b: str = "pseudo") -> list[str]:
    paired = paired_comparison(collected, a, b)
    if not paired["seeds"]:
        return [f"`{a}` and `{b}` share no seed with a result yet."]
    lines = [f"| seed | `{a}` test mIoU (%) | `{b}` test mIoU (%) | difference (points) |", "|---|---|---|---|"]
    lines += [f"| {s} | {_pct(x)} | {_pct(y)} | {_pct(d)} |"
              for s, x, y, d in zip(paired["seeds"], paired["a"], paired["b"], paired["differences"])]
    p = paired["p_value"]
    lines.append("")
    lines.append(f"Mean difference {_pct(paired['mean'])} points (std {_pct(paired['std'])}) over "
                 f"{len(paired['seeds'])} paired seed(s); paired t-test p = "
                 + (f"{p:.3f}" if math.isfinite(p) else "n/a (needs at least 2 paired seeds that differ)") + ".")
    return lines


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
                     f"{_pct(mean)} ± {_pct(paired['std'])} | {f'{p:.3f}' if math.isfinite(p) else 'n/a'} | "
                     f"{_pct(bar)} | {beyond} |")
    return lines


def class_groups_section(collected: Sequence[RowResults]) -> list[str]:
    """Static (trainIds 0-10, what the pseudo labels cover) and dynamic (11-18) test mIoU."""
    from ccdistill.experiments.analysis import class_group_miou

    lines = ["| row | static classes (%) | dynamic classes (%) |", "|---|---|---|"]
    for row in collected:
        if not row.results:
            continue
        cells = [_pm([class_group_miou(r["metrics"]["test"]["per_class_iou"], group) for r in row.results.values()])
                 for group in ("static", "dynamic")]
        lines.append(f"| `{row.row.id}` | {cells[0]} | {cells[1]} |")
    return lines


def read_analyses(collected: Sequence[RowResults], results_dir: str | Path) -> dict[str, dict[int, dict]]:
    """{row: {seed: analysis}} from `<results dir>/analysis/<run>.json` (written by `analyse`)."""
    from ccdistill.experiments.analysis import ANALYSIS_DIR

    found: dict[str, dict[int, dict]] = {}
    for row in collected:
        for seed in row.row.seeds:
            path = Path(results_dir) / ANALYSIS_DIR / f"{row.row.id}__seed{seed}.json"
            if path.is_file():
                found.setdefault(row.row.id, {})[seed] = read_json(path)
    return found


def _plain(values: Sequence[float], digits: int = 3) -> str:
    mean, std = mean_std(values)
    if not math.isfinite(mean):
        return "—"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if math.isfinite(std) else f"{mean:.{digits}f}"


def analysis_section(collected: Sequence[RowResults], results_dir: str | Path) -> list[str]:
    """Per row (mean ± std over the analysed seeds): the pseudo-label precision of its final M_d
    and the share of pixels it leaves ignored, and the eval-mode correlation gaps of its networks
    (`ccdistill.experiments.analysis`); then the per-class pseudo-label quality of `source_only`'s
    M_d, the teacher every stage-2 run starts from."""
    analyses = read_analyses(collected, results_dir)
    if not analyses:
        return ["No analysis files yet: run `python -m ccdistill.experiments analyse` on the machine with the run directories."]
    keys = ("inherent_gap", "illumination_gap", "cor_illu_S", "cor_illu_T", "night_shift")
    lines = ["| row | seeds | pseudo-label precision (%) | ignored (%) | inherent gap | illumination gap | "
             "Cor_illu(S_d,S_n) | Cor_illu(T_d,T_n) | M_n night shift |", "|---|---|---|---|---|---|---|---|---|"]
    for row in collected:
        runs = analyses.get(row.row.id)
        if not runs:
            continue
        pseudo = [a["pseudo_labels"] for a in runs.values()]
        gaps = {k: [a["correlation_gaps"][k] for a in runs.values()] for k in keys}
        lines.append(f"| `{row.row.id}` | {len(runs)} | {_pm([p['pixel_precision'] for p in pseudo])} | "
                     f"{_pm([p['ignored_fraction'] for p in pseudo])} | " + " | ".join(_plain(gaps[k]) for k in keys) + " |")
    teacher = analyses.get("source_only", {})
    if teacher:
        lines += ["", f"Pseudo labels of `source_only`'s M_d on the first {next(iter(teacher.values())).get('pseudo_pairs', 'all')} "
                  f"target training pairs ({len(teacher)} seed(s)), "
                  "against ToyCity's true night labels (%; coverage = share of a class's true pixels that get "
                  "the right pseudo label):", "", "| class | precision | coverage |", "|---|---|---|"]
        for k, name in enumerate(CLASS_NAMES):
            cells = []
            for key in ("precision", "coverage"):
                values = [a["pseudo_labels"][key][k] for a in teacher.values() if a["pseudo_labels"][key][k] is not None]
                cells.append(_pct(float(np.mean(values)), 1) if values else "—")
            lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
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
        f"- `full` − `pseudo` = {_pct(goals['margin'])} points against the larger seed std "
        f"{_pct(goals['margin_bar'])} (goal: larger): {verdict[goals['margin_met']]}",
    ]


def issue16_goals_section(collected: Sequence[RowResults]) -> list[str]:
    goals = issue16_goals(collected)
    verdict = {True: "**met**", False: "**not met**", None: "not computable yet (rows or seeds missing)"}
    a, b = CONTROL_GOAL
    versus = ", ".join(f"`{row}` {_pct(m)} (bar {_pct(bar)})" for row, (m, bar) in goals["versus_pseudo"].items())
    return [
        f"- `{a}` − `{b}` = {_pct(goals['control_margin'])} points against the larger seed std "
        f"{_pct(goals['control_bar'])} (goal: larger): {verdict[goals['control_met']]}",
        "- rows with the distillation terms that beat `pseudo` by more than the larger seed std: "
        + (", ".join(f"`{r}`" for r in goals["beat_pseudo"]) or "**none**")
        + (f" (differences to `pseudo`: {versus})" if versus else ""),
    ]


def cost_section(collected: Sequence[RowResults]) -> list[str]:
    lines = ["| row | runs | train s/run (mean ± std) | train min (all seeds) | eval s/run | sittings |",
             "|---|---|---|---|---|---|"]
    for row in collected:
        training = [r["training"] for r in row.results.values()]
        if not training:
            lines.append(f"| `{row.row.id}` | 0 | — | — | — | — |")
            continue
        seconds = [t["seconds"] for t in training]
        flag = "" if all(t.get("timing_complete", True) for t in training) else " (incomplete timing)"
        mean, std = mean_std(seconds)
        spread = f" ± {std:.0f}" if math.isfinite(std) else ""
        lines.append(f"| `{row.row.id}` | {len(training)} | {mean:.0f}{spread}{flag} | {sum(seconds) / 60:.1f} | "
                     f"{np.mean([t['evaluation_seconds'] for t in training]):.0f} | "
                     f"{sum(t['sittings'] for t in training)} |")
    return lines


def commands_section(collected: Sequence[RowResults]) -> list[str]:
    """How to reproduce one run of each row by hand (seed shown as 0; replace it)."""
    lines = ["Each result file is made by `python -m ccdistill.experiments run --rows ROW --seeds K`, which trains",
             "as below and then evaluates `deploy.pt` on target-night val and test (`ccdistill eval --split`):", "",
             "```bash"]
    lines += [train_command(Run(row.row, row.row.seeds[0])) for row in collected]
    return [*lines, "```"]


def render_table(collected: Sequence[RowResults], results_dir: str | Path = "results/toycity") -> str:
    """The whole table file as Markdown."""
    sections = [
        ["<!-- Generated by `python -m ccdistill.experiments table`; do not edit by hand. -->",
         "", f"All numbers are computed from `{Path(results_dir).as_posix()}/*.json`. mIoU (%) is the "
             "mean IoU over the classes present in a split's labels or predictions, from one confusion "
             "matrix over all its images; ± is the sample standard deviation over seeds."],
        ["### Setup (from the result files)", "", *setup_section(collected)],
        ["### Target-night mIoU, mean ± std over seeds", "", *main_table(collected)],
        ["### The domain shift, measured with `source_only`", "", *domain_shift_section(collected)],
        ["### Per-class IoU (%) on target-night test, mean over seeds", "", *per_class_section(collected)],
        ["### Paired comparison: `full` vs `pseudo` (same seeds)", "", *paired_section(collected)],
        ["### Paired comparisons of the term and BatchNorm rows (same seeds)", "", *pairs_section(collected)],
        ["### Static and dynamic classes on target-night test, mean ± std over seeds", "",
         *class_groups_section(collected)],
        ["### Analysis: pseudo labels and correlation gaps (from the runs' last checkpoints)", "",
         *analysis_section(collected, results_dir)],
        ["### Goals of issue 10", "", *goals_section(collected)],
        ["### Goals of issue 16", "", *issue16_goals_section(collected)],
        ["### Wall-clock cost per row (this machine)", "", *cost_section(collected)],
        ["### One run by hand", "", *commands_section(collected)],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


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
        groups = [_pm([class_group_miou(r["metrics"]["test"]["per_class_iou"], g) for r in row.results.values()])
                  for g in ("static", "dynamic")]
        lines.append(f"| `{row.row.id}` | {_seeds_cell(row)} | {_pm(test.values())} | "
                     f"{', '.join(_pct(v) for v in test.values()) or '—'} | {groups[0]} | {groups[1]} |")
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
    verdict = ("larger than the larger seed std" + (f" ({_pct(bar)}): `{a}` is better" if mean > 0 else f" ({_pct(bar)}): `{b}` is better")
               if abs(mean) > bar else f"within the larger seed std ({_pct(bar)}): no measurable difference")
    return (f"`{a}` − `{b}` = {100 * mean:+.2f} ± {_pct(paired['std'])} points of test mIoU over "
            f"{len(paired['seeds'])} paired seeds (paired t-test p = {p:.2f}), {verdict}.")


def _write_text_atomic(text: str, path: Path) -> None:
    write_atomic(path, lambda file: file.write(text), binary=False)


def write_table(registry: Registry, results_dir: str | Path, out: str | Path,
                doc: str | Path | None = None) -> Path:
    """Write the table to `out`; when `doc` holds the TABLE_BEGIN/TABLE_END markers, the block
    between them is replaced by the same table (so docs/RESULTS.md shows it inline)."""
    text = render_table(collect(registry, results_dir), results_dir)
    out = Path(out)
    _write_text_atomic(text, out)
    if doc is not None and Path(doc).is_file():
        content = Path(doc).read_text()
        if TABLE_BEGIN in content and TABLE_END in content:
            head, rest = content.split(TABLE_BEGIN, 1)
            _, tail = rest.split(TABLE_END, 1)
            _write_text_atomic(f"{head}{TABLE_BEGIN}\n{text}{TABLE_END}{tail}", Path(doc))
    return out

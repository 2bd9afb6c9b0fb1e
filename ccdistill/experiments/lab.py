"""The ablation lab (notebook 06): the registry's results seed by seed (ccdistill/experiments/
seeds.py, whose names are importable from here too) as figures, and one registry row configured
under a notebook's profile so that a student adds a run of their own (trained by
`ccdistill.workflow.train_row`).

    collected = load_results("results/toycity")          # table.collect over the registry
    seed_table(collected)                                 # one SeedRecord per (row, seed)
    compare(collected, "full", "pseudo", group="dynamic") # a − b per seed, paired test, seed-std bar
    plot_seeds(collected, ["pseudo", "full"])             # every seed a dot, mean ± std
    plot_pairs(collected)                                 # a − b per seed, the larger seed std as a band
    plot_class_iou(collected, ["pseudo", "full"], group="static")
    stage_one, run = train_row(nb, "full_no_pseudo")     # ccdistill.workflow; nb = ccdistill.notebook.setup()

Everything but `evaluate_lab_run` reads only the result files (`<results dir>/<row>__seed<k>.json`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ccdistill.config import Config, config_to_dict
from ccdistill.errors import InputError
from ccdistill.experiments.analysis import CLASS_GROUPS
from ccdistill.experiments.registry import Registry, Run, load_registry, run_config
from ccdistill.experiments.seeds import (  # the reading side; notebook 06 imports it from here
    GROUPS, SPLITS, Pair, SeedRecord, check_group, chosen_rows, compare, describe_missing, describe_pair,
    group_miou, in_group, load_results, missing, finite_mean_pm, rows_by_id, seed_table, seed_table_markdown,
)
from ccdistill.experiments.table import PAIRS, RowResults, mean_std
from ccdistill.labels import CLASS_NAMES
from ccdistill.runfolder.names import DEPLOY_NAME

__all__ = ["GROUPS", "SPLITS", "Pair", "SeedRecord", "compare", "describe_missing", "describe_pair", "group_miou",
           "in_group", "load_results", "missing", "seed_table", "seed_table_markdown",
           "plot_seeds", "plot_pairs", "per_class_means", "class_indices", "plot_class_iou",
           "lab_config", "stage_one_config", "evaluate_lab_run", "budget", "lab_comparison_markdown", "budget_note"]

# Of the profile's iterations: 100 stage-2 steps under `cpu`, the length of issue 16's first
# no-pseudo-label investigation, and minutes instead of the registry's ten.
LAB_FRACTION = 1 / 6
FIGURE_DPI = 100  # stored notebook figures: sharp enough to read the ticks (issue 17)
SEED_MARKERS = ("o", "s", "^", "D", "v", "P")  # seed k keeps its marker in every panel


# ------------------------------------------------------------------------------ figures
def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    # Figure, not pyplot: no global state, a returned Figure displays itself once in Jupyter.
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    figure = Figure(figsize=figsize, dpi=FIGURE_DPI, layout="constrained")
    return figure, figure.subplots()


def _group_label(group: str) -> str:
    return "all classes" if group == "all" else f"{group} classes"


def _seed_colours(seeds: Sequence[int]) -> dict[int, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return {seed: palette(k % 10) for k, seed in enumerate(sorted(seeds))}


def plot_seeds(collected: Sequence[RowResults], rows: Sequence[str] | None = None, group: str = "all",
               split: str = "test", ax: Axes | None = None) -> Figure:
    """Target-night mIoU (%) of the chosen rows on `split` over the class group: every seed a
    dot (marker and colour per seed), the mean as a bar and ± one seed std as a black error bar.
    A row without result files is named on the axis with "(no results)"."""
    chosen = in_group(chosen_rows(collected, rows), group)
    figure, ax = _axes(ax, (max(4.0, 1.1 * len(chosen) + 1.5), 3.4))
    seeds = sorted({s for row in chosen for s in row.row.seeds})
    colours = _seed_colours(seeds)
    labels = []
    for x, row in enumerate(chosen):
        values = row.values(split)
        labels.append(row.row.id if values else f"{row.row.id}\n(no results)")
        if not values:
            continue
        mean, std = mean_std(list(values.values()))
        ax.bar(x, 100 * mean, width=0.6, color="#c6dbef", edgecolor="#6baed6", zorder=1)
        if math.isfinite(std):
            # beside the dots, not behind them
            ax.errorbar(x + 0.22, 100 * mean, yerr=100 * std, color="black", capsize=4, lw=1.2, zorder=3)
        for seed, value in values.items():
            offset = 0.12 * (seeds.index(seed) - (len(seeds) - 1) / 2)  # seeds side by side, never hidden
            ax.scatter(x + offset, 100 * value, marker=SEED_MARKERS[seeds.index(seed) % len(SEED_MARKERS)],
                       color=colours[seed], edgecolor="black", linewidth=0.5, s=36, zorder=4)
    for seed in seeds:  # one legend entry per seed, whatever rows have it
        ax.scatter([], [], marker=SEED_MARKERS[seeds.index(seed) % len(SEED_MARKERS)], color=colours[seed],
                   edgecolor="black", linewidth=0.5, label=f"seed {seed}")
    ax.set_xticks(range(len(chosen)), labels, rotation=20 if len(chosen) > 4 else 0, ha="right" if len(chosen) > 4 else "center")
    ax.set_ylabel(f"target-night {split} mIoU (%)\n{_group_label(group)}")
    ax.set_xlim(-0.6, len(chosen) - 0.4)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("dots = seeds, bar = mean, whisker = ± seed std", fontsize=9)
    if seeds:
        ax.legend(fontsize=8, loc="upper left")
    return figure


def _pair_numbers(pair: Pair) -> str:
    if not pair.seeds:
        return "—"
    std = f" ± {100 * pair.std:.2f}" if math.isfinite(pair.std) else ""
    p = f"p = {pair.p_value:.2f}" if math.isfinite(pair.p_value) else "p n/a"
    return f"{100 * pair.mean:+.2f}{std}\n{p}, n = {len(pair.seeds)}"


def plot_pairs(collected: Sequence[RowResults], pairs: Sequence[tuple[str, str]] = PAIRS, group: str = "all",
               ax: Axes | None = None) -> Figure:
    """One line per comparison a − b (points of test mIoU over the class group): each common
    seed a dot, the mean a black bar, and ± the larger seed std of the two rows as a grey band
    around 0: a mean inside its band is within seed-to-seed noise. A pair without a common seed
    is named with "(no common seed yet)"."""
    known = rows_by_id(collected)
    shown = [(a, b) for a, b in pairs if a in known and b in known]
    figure, ax = _axes(ax, (7.0, 0.45 * len(shown) + 1.3))
    colours = _seed_colours(sorted({s for row in collected for s in row.row.seeds}))
    seeds_all = sorted(colours)
    labels = []
    for y, (a, b) in enumerate(shown):
        pair = compare(collected, a, b, group)
        labels.append(f"{a} − {b}" + ("" if pair.seeds else "\n(no common seed yet)"))
        if math.isfinite(pair.bar):
            ax.barh(y, 200 * pair.bar, left=-100 * pair.bar, height=0.7, color="#d9d9d9", zorder=1)
        if math.isfinite(pair.mean):
            ax.plot([100 * pair.mean] * 2, [y - 0.33, y + 0.33], color="black", lw=2.0, zorder=3)
        for seed, difference in zip(pair.seeds, pair.differences):
            ax.scatter(100 * difference, y, marker=SEED_MARKERS[seeds_all.index(seed) % len(SEED_MARKERS)],
                       color=colours[seed], edgecolor="black", linewidth=0.5, s=32, zorder=4)
        # The numbers beside their row (right of the axes), so a stored figure carries them too.
        ax.text(1.02, y, _pair_numbers(pair), transform=ax.get_yaxis_transform(), va="center", fontsize=8)
    ax.axvline(0.0, color="black", lw=0.8, zorder=2)
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.set_ylim(len(shown) - 0.5, -0.5)  # the first pair on top
    ax.set_xlabel(f"a − b, test mIoU points ({_group_label(group)})")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("dots = seeds, black = mean,\ngrey band = ± the larger seed std of a and b", fontsize=9)
    for seed in seeds_all:
        ax.scatter([], [], marker=SEED_MARKERS[seeds_all.index(seed) % len(SEED_MARKERS)], color=colours[seed],
                   edgecolor="black", linewidth=0.5, label=f"seed {seed}")
    if shown:
        ax.legend(fontsize=7, loc="lower right")
    return figure


def per_class_means(row: RowResults, split: str = "test") -> np.ndarray:
    """K per-class IoUs (fractions): the mean over the seeds that score a class, NaN where none does."""
    if not row.results:
        return np.full(len(CLASS_NAMES), np.nan)
    ious = np.array([[np.nan if v is None else v for v in r["metrics"][split]["per_class_iou"]]
                     for r in row.results.values()], dtype=np.float64)
    scored = ~np.isnan(ious)
    return np.where(scored.any(axis=0), np.where(scored, ious, 0.0).sum(axis=0) / np.maximum(scored.sum(axis=0), 1),
                    np.nan)


def class_indices(collected: Sequence[RowResults], group: str = "all") -> list[int]:
    """trainIds of the group that some result file scores (ToyCity has no rider, truck, bus,
    train, motorcycle or bicycle: no bar would be drawn for them)."""
    check_group(group)
    candidates = range(len(CLASS_NAMES)) if group == "all" else CLASS_GROUPS[group]
    scored = [k for k in candidates
              if any(r["metrics"]["test"]["per_class_iou"][k] is not None for row in collected for r in row.results.values())]
    return scored or list(candidates)


def plot_class_iou(collected: Sequence[RowResults], rows: Sequence[str] | None = None, group: str = "all",
                   ax: Axes | None = None) -> Figure:
    """Grouped per-class IoU bars (%, target-night test, mean over each row's seeds) of the
    chosen rows for the classes of the group (`ccdistill.evaluation.plot_per_class_iou`); the
    legend gives each row's group mIoU (mean over seeds). Rows without results are left out
    and named in the title."""
    from ccdistill.evaluation import plot_per_class_iou

    chosen = chosen_rows(collected, rows)
    classes = class_indices(collected, group)
    present = [row for row in chosen if row.results]
    absent = [row.row.id for row in chosen if not row.results]
    figure, ax = _axes(ax, (min(11.0, 0.6 * len(classes) + 3.5), 3.6))
    if not present:
        ax.text(0.5, 0.5, "no result files for the chosen rows yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return figure
    results = {}
    for row in present:
        values = [group_miou(r, group) for r in row.results.values()]
        results[row.row.id] = {"per_class_iou": per_class_means(row)[classes], "miou": mean_std(values)[0]}
    plot_per_class_iou(results, [CLASS_NAMES[k] for k in classes], ax=ax)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=f"mIoU, {_group_label(group)}",
              title_fontsize=7)
    ax.set_ylabel("test IoU (%)")
    ax.tick_params(axis="x", labelsize=8)
    title = f"per-class IoU on target-night test, mean over seeds ({_group_label(group)})"
    ax.set_title(title + (f"\n(no results yet: {', '.join(absent)})" if absent else ""), fontsize=9)
    return figure


# ------------------------------------------------------------------------------ a run of your own
def lab_config(session: Any, row: str, seed: int = 0, fraction: float = LAB_FRACTION,
               registry: Registry | None = None) -> Config:
    """The Config of registry `row` (its variant and overrides, `registry.run_config`) under the
    notebook session's profile, trained into `session.runs/<row>__seed<k>` for `fraction` of the
    profile's iterations, warm-started from the session's own stage-1 run (the `source_only`
    folder that notebook 04 trains, `session.run_config`), on the session's ToyCity.

    session: a `ccdistill.notebook.NotebookSession` (`setup()`).
    """
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must lie in (0, 1]; got {fraction!r}")
    registry = registry or load_registry()
    chosen = registry.row(row)
    iterations = max(1, round(fraction * session.config.train.max_iterations))
    extra = [f"data.root={session.root}", f"train.max_iterations={iterations}"]
    if chosen.init_from:  # the registry's stage 1, but the notebook's own run of it
        warm = stage_one_config(session, chosen.init_from, registry)
        extra.append(f"model.init_checkpoint={Path(warm.output) / DEPLOY_NAME}")
    return run_config(Run(chosen, seed), session.runs, session.profile, extra, registry.path)


def stage_one_config(session: Any, row: str = "source_only", registry: Registry | None = None) -> Config:
    """The notebook session's stage-1 run (`session.run_config` of the row's variant, the run
    notebook 04 trains), without a progress bar (stderr would be stored in the notebook)."""
    variant = (registry or load_registry()).row(row).variant
    return session.run_config(variant, "train.progress=false")


def evaluate_lab_run(run: Any, label: str = "") -> dict[str, Any]:
    """A result dict of a `TrainedRun` in the shape of a result file (row, config, metrics of
    target-night val and test by `evaluate_deployed`), so `group_miou` and the comparison
    table read it like the registry's runs. Test is read once here, after training."""
    from ccdistill.experiments.evaluation import evaluate_deployed

    return {"row": label or Path(run.folder).name, "config": config_to_dict(run.config),
            "metrics": evaluate_deployed(run.config, run.deploy_path)}


def budget(result: Mapping[str, Any]) -> tuple[str, int]:
    """(profile, iterations) a result was trained with, read from its stored config."""
    return str(result["config"]["profile"]), int(result["config"]["train"]["max_iterations"])


def lab_comparison_markdown(collected: Sequence[RowResults], own: Mapping[str, Mapping[str, Any]],
                            rows: Sequence[str] = ("source_only", "pseudo", "full", "full_no_pseudo", "target_bn"),
                            group: str = "all") -> str:
    """Markdown: the notebook's own runs (`own`: {label: `evaluate_lab_run` dict}) beside the
    table's chosen rows: profile, iterations, seeds, test mIoU (%) of the class group. The
    profile and iteration columns say whether the budgets are the same."""
    lines = ["| run | profile | iterations | seed(s) | test mIoU (%) |", "|---|---|---|---|---|"]
    for label, result in own.items():
        profile, iterations = budget(result)
        lines.append(f"| **{label}** (this notebook) | `{profile}` | {iterations} | "
                     f"{result['config']['train']['seed']} | {100 * group_miou(result, group):.2f} |")
    for row in in_group(chosen_rows(collected, list(dict.fromkeys(rows))), group):  # a row named twice, once
        if not row.results:
            lines.append(f"| `{row.row.id}` (table) | — | — | none yet | — |")
            continue
        budgets = sorted({budget(r) for r in row.results.values()})
        lines.append(f"| `{row.row.id}` (table) | {', '.join(f'`{p}`' for p, _ in budgets)} | "
                     f"{', '.join(str(i) for _, i in budgets)} | {', '.join(map(str, sorted(row.results)))} | "
                     f"{finite_mean_pm(list(row.values('test').values()))} |")
    return "\n".join(lines)


def budget_note(collected: Sequence[RowResults], result: Mapping[str, Any], row: str = "source_only") -> str:
    """A sentence comparing the training budget of a notebook run with the table's `row`."""
    profile, iterations = budget(result)
    table = sorted({budget(r) for r in rows_by_id(collected)[row].results.values()}) if row in rows_by_id(collected) else []
    if not table:
        return f"The table has no `{row}` result to compare budgets with."
    same = all(p == profile and i == iterations for p, i in table)
    theirs = ", ".join(f"profile `{p}`, {i} iterations" for p, i in table)
    if same:
        return f"This run has the table's budget ({theirs}): its numbers are comparable."
    head = f"This run: profile `{profile}`, {iterations} iterations; the table's runs: {theirs}. "
    if all(p == profile and i > iterations for p, i in table):
        factor = min(i for _, i in table) / iterations
        return head + (f"A smaller budget than the registry's ({factor:.0f}× fewer steps): compare it with its "
                       "own warm start, and with the table only as a direction.")
    return head + "A different model or schedule: compare it with its own warm start, not with the table."


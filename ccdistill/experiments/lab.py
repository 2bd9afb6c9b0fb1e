"""The ablation lab (notebook 06): the registry's result files as a per-seed table, the paired
comparisons, class groups and per-class bars, and one registry row trained under a notebook's
profile so that a student adds a run of their own.

    collected = load_results("results/toycity")          # table.collect over the registry
    seed_table(collected)                                 # one SeedRecord per (row, seed)
    compare(collected, "full", "pseudo", group="dynamic") # a − b per seed, paired test, seed-std bar
    plot_seeds(collected, ["pseudo", "full"])             # every seed a dot, mean ± std
    plot_pairs(collected)                                 # a − b per seed, the larger seed std as a band
    plot_class_iou(collected, ["pseudo", "full"], group="static")
    stage_one, run = train_row(nb, "full_no_pseudo")     # nb = ccdistill.notebook.setup()

Everything but `train_row` and `evaluate_lab_run` reads only the result files
(`<results dir>/<row>__seed<k>.json`), through `ccdistill.experiments.table`, whose statistics
(`mean_std`, `paired_comparison`) are the ones docs/RESULTS_TABLE.md prints. A class group
("static": trainIds 0-10, the classes the pseudo labels cover; "dynamic": 11-18) is handled by
`in_group`, which hands those same functions the group's mIoU in place of the overall one.
Rows or seeds without a result file are reported as missing, never an error.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ccdistill.config import Config, config_to_dict
from ccdistill.errors import InputError
from ccdistill.experiments.analysis import CLASS_GROUPS, class_group_miou
from ccdistill.experiments.registry import Registry, Run, load_registry, run_config
from ccdistill.experiments.runner import DEFAULT_RESULTS_DIR
from ccdistill.experiments.table import PAIRS, RowResults, collect, mean_std, paired_comparison
from ccdistill.labels import CLASS_NAMES

GROUPS: tuple[str, ...] = ("all", *CLASS_GROUPS)  # "all" = the result file's own mIoU
SPLITS: tuple[str, ...] = ("test", "val")
# Of the profile's iterations: 100 stage-2 steps under `cpu`, the length of issue 16's first
# no-pseudo-label investigation, and minutes instead of the registry's ten.
LAB_FRACTION = 1 / 6
FIGURE_DPI = 100  # stored notebook figures: sharp enough to read the ticks (issue 17)
SEED_MARKERS = ("o", "s", "^", "D", "v", "P")  # seed k keeps its marker in every panel


# ------------------------------------------------------------------------------ reading
def load_results(results_dir: str | Path = DEFAULT_RESULTS_DIR, registry: Registry | None = None,
                 rows: Sequence[str] | None = None) -> list[RowResults]:
    """The result files of the registry's rows (all rows when `rows` is None), registry order.
    Missing files are simply absent (`RowResults.missing` lists their seeds)."""
    return collect(registry or load_registry(), results_dir, rows)


def group_miou(result: Mapping[str, Any], group: str = "all", split: str = "test") -> float:
    """mIoU of one result dict (a result file, or `evaluate_lab_run`'s) on `split` over the
    classes of `group`: "all" is the stored mIoU, "static"/"dynamic" the mean of the group's
    per-class IoUs (`class_group_miou`). NaN when the split or every class of the group is absent."""
    _check_group(group)
    metrics = result["metrics"].get(split)
    if metrics is None:
        return math.nan
    if group == "all":
        return math.nan if metrics.get("miou") is None else float(metrics["miou"])
    return class_group_miou(metrics["per_class_iou"], group)


def in_group(collected: Sequence[RowResults], group: str = "all") -> list[RowResults]:
    """Copies of `collected` whose metrics' `miou` is the mIoU of the class group, so every
    statistic of `ccdistill.experiments.table` (values, mean_std, paired_comparison) applies to
    a group unchanged; "all" returns `collected` itself."""
    _check_group(group)
    if group == "all":
        return list(collected)
    grouped = []
    for row in collected:
        results = {}
        for seed, result in row.results.items():
            metrics = {split: {**values, "miou": _none_if_nan(group_miou(result, group, split))}
                       for split, values in result["metrics"].items()}
            results[seed] = {**result, "metrics": metrics}
        grouped.append(RowResults(row.row, results))
    return grouped


def _none_if_nan(value: float) -> float | None:
    # RowResults.values skips None, as it does for a class absent from a result file.
    return None if not math.isfinite(value) else value


def _check_group(group: str) -> None:
    if group not in GROUPS:
        raise InputError(f"class group {group!r} is not one of {', '.join(GROUPS)}")


def _by_id(collected: Sequence[RowResults]) -> dict[str, RowResults]:
    return {row.row.id: row for row in collected}


def _chosen(collected: Sequence[RowResults], rows: Sequence[str] | None) -> list[RowResults]:
    """The rows named in `rows` in that order (all when None); a name the registry does not
    have is an InputError naming the valid ones."""
    by_id = _by_id(collected)
    if rows is None:
        return list(collected)
    unknown = [r for r in rows if r not in by_id]
    if unknown:
        raise InputError(f"no registry row {', '.join(map(repr, unknown))}; rows: {', '.join(by_id)}")
    return [by_id[r] for r in rows]


def missing(collected: Sequence[RowResults], rows: Sequence[str] | None = None) -> dict[str, list[int]]:
    """{row: seeds without a result file}, for the chosen rows that lack any."""
    return {row.row.id: row.missing for row in _chosen(collected, rows) if row.missing}


def describe_missing(collected: Sequence[RowResults], rows: Sequence[str] | None = None) -> str:
    """One sentence: which rows/seeds have no result file yet and the command that makes them."""
    gaps = missing(collected, rows)
    if not gaps:
        return "Every chosen row has a result file for each of its seeds."
    listed = "; ".join(f"{row} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
                       for row, seeds in gaps.items())
    return (f"No result file yet for: {listed}. They are made by "
            f"`python -m ccdistill.experiments run --rows {' '.join(gaps)}` and shown here once committed.")


# ------------------------------------------------------------------------------ tables
@dataclass(frozen=True)
class SeedRecord:
    """One (row, seed) of the tidy per-seed table; mIoUs are fractions, NaN when absent."""

    row: str
    seed: int
    test: float
    val: float
    static: float  # test mIoU over the static classes (trainIds 0-10)
    dynamic: float  # test mIoU over the dynamic classes (11-18)


def seed_table(collected: Sequence[RowResults], rows: Sequence[str] | None = None) -> list[SeedRecord]:
    """One SeedRecord per result file of the chosen rows (rows in the given order, seeds
    ascending); seeds without a file have no record (see `missing`)."""
    return [SeedRecord(row.row.id, seed, group_miou(result, "all", "test"), group_miou(result, "all", "val"),
                       group_miou(result, "static"), group_miou(result, "dynamic"))
            for row in _chosen(collected, rows) for seed, result in sorted(row.results.items())]


def _pm(values: Sequence[float]) -> str:
    mean, std = mean_std([v for v in values if math.isfinite(v)])
    if not math.isfinite(mean):
        return "—"
    return f"{100 * mean:.2f} ± {100 * std:.2f}" if math.isfinite(std) else f"{100 * mean:.2f} (1 seed)"


def seed_table_markdown(collected: Sequence[RowResults], rows: Sequence[str] | None = None) -> str:
    """The per-seed table as Markdown, one line per row: test mIoU of each seed, then mean ±
    std (ddof = 1) of test, val, and the static and dynamic class groups on test (%)."""
    records = seed_table(collected, rows)
    lines = ["| row | test mIoU per seed (%) | test | val | static (test) | dynamic (test) |",
             "|---|---|---|---|---|---|"]
    for row in _chosen(collected, rows):
        mine = [r for r in records if r.row == row.row.id]
        if not mine:
            lines.append(f"| `{row.row.id}` | no result file yet | — | — | — | — |")
            continue
        seeds = ", ".join(f"{r.seed}: {100 * r.test:.2f}" for r in mine)
        if row.missing:
            seeds += f" (missing seed {', '.join(map(str, row.missing))})"
        lines.append(f"| `{row.row.id}` | {seeds} | " + " | ".join(
            _pm([getattr(r, key) for r in mine]) for key in ("test", "val", "static", "dynamic")) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ paired comparisons
@dataclass(frozen=True)
class Pair:
    """a − b on the seeds both rows have (test mIoU of a class group, fractions).

    Attributes:
        seeds, a, b, differences: per common seed, in seed order.
        mean, std: of the differences (std with ddof = 1; NaN with fewer than 2 seeds).
        p_value: two-sided paired t-test (scipy.stats.ttest_rel); NaN below 2 differing seeds.
        bar: the larger of the two rows' seed stds over all their seeds (issue 10/16's bar).
    """

    a_row: str
    b_row: str
    group: str
    seeds: tuple[int, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]
    differences: tuple[float, ...]
    mean: float
    std: float
    p_value: float
    bar: float

    @property
    def beyond(self) -> bool | None:
        """Whether a beats b by more than the bar (None when not computable)."""
        if not (math.isfinite(self.mean) and math.isfinite(self.bar)):
            return None
        return self.mean > self.bar


def compare(collected: Sequence[RowResults], a: str = "full", b: str = "pseudo", group: str = "all") -> Pair:
    """The paired comparison a − b of `table.paired_comparison` on the class group's test mIoU,
    with the bar (the larger seed std of a and b). No common seed gives a Pair with no seeds."""
    grouped = in_group(_chosen(collected, [a, b]), group)
    paired = paired_comparison(grouped, a, b)
    rows = _by_id(grouped)
    bar = max(mean_std(list(rows[a].values("test").values()))[1], mean_std(list(rows[b].values("test").values()))[1])
    return Pair(a, b, group, tuple(paired["seeds"]), tuple(paired["a"]), tuple(paired["b"]),
                tuple(paired["differences"]), paired["mean"], paired["std"], paired["p_value"], bar)


def describe_pair(pair: Pair) -> str:
    """One sentence with the measured numbers (points = percentage points of mIoU)."""
    what = "test mIoU" if pair.group == "all" else f"{pair.group}-class test mIoU"
    if not pair.seeds:
        return f"`{pair.a_row}` − `{pair.b_row}`: no seed has a result file for both rows yet."
    per_seed = ", ".join(f"{100 * d:+.2f}" for d in pair.differences)
    std = f" ± {100 * pair.std:.2f}" if math.isfinite(pair.std) else ""
    p = f"paired p = {pair.p_value:.3f}" if math.isfinite(pair.p_value) else "no paired test (fewer than 2 seeds)"
    if pair.beyond is None:
        verdict = "the seed std needs 2 seeds per row"
    elif pair.beyond or pair.mean < -pair.bar:
        winner = pair.a_row if pair.beyond else pair.b_row
        verdict = f"`{winner}` is ahead by more than the larger seed std {100 * pair.bar:.2f}"
    else:
        verdict = f"within the larger seed std {100 * pair.bar:.2f} (seed-to-seed noise)"
    return (f"`{pair.a_row}` − `{pair.b_row}` on {what}: {100 * pair.mean:+.2f}{std} points over seeds "
            f"{', '.join(map(str, pair.seeds))} (per seed {per_seed}); {p}; {verdict}.")


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
    chosen = in_group(_chosen(collected, rows), group)
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
    known = _by_id(collected)
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
    _check_group(group)
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

    chosen = _chosen(collected, rows)
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
        extra.append(f"model.init_checkpoint={Path(warm.output) / 'deploy.pt'}")
    return run_config(Run(chosen, seed), session.runs, session.profile, extra, registry.path)


def stage_one_config(session: Any, row: str = "source_only", registry: Registry | None = None) -> Config:
    """The notebook session's stage-1 run (`session.run_config` of the row's variant, the run
    notebook 04 trains), without a progress bar (stderr would be stored in the notebook)."""
    variant = (registry or load_registry()).row(row).variant
    return session.run_config(variant, "train.progress=false")


class _Relative(io.TextIOBase):
    """A text stream that forwards to stdout with the project folder cut from paths."""

    def __init__(self, project: Path) -> None:
        self.prefix = str(Path(project).resolve()) + "/"

    def write(self, text: str) -> int:
        sys.stdout.write(text.replace(self.prefix, ""))
        return len(text)

    def flush(self) -> None:
        sys.stdout.flush()


@contextlib.contextmanager
def status_on_stdout(project: str | Path) -> Iterator[None]:
    """Send the Trainer's and `train_or_load`'s status lines (stderr, absolute paths) to stdout
    with paths relative to `project`: a stored notebook then shows them as plain text, not as red
    stderr boxes carrying the machine's folders."""
    with contextlib.redirect_stderr(_Relative(Path(project))):
        yield


def train_row(session: Any, row: str, seed: int = 0, fraction: float = LAB_FRACTION,
              registry: Registry | None = None) -> tuple[Any, Any]:
    """Train (or load, when finished) the session's stage-1 run, then registry `row` from it
    for `fraction` of the profile's iterations (`lab_config`), both with `train_or_load` and
    no live figure; status lines go to stdout (`status_on_stdout`).

    Returns:
        (stage one, the row's run): two `ccdistill.workflow.TrainedRun`s.
    """
    from ccdistill.workflow import train_or_load

    registry = registry or load_registry()
    config = lab_config(session, row, seed, fraction, registry)
    with status_on_stdout(session.project):
        first = train_or_load(stage_one_config(session, registry.row(row).init_from or "source_only", registry),
                              live=False)
        run = train_or_load(config, live=False)
    return first, run


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
    for row in in_group(_chosen(collected, list(dict.fromkeys(rows))), group):  # a row named twice, once
        if not row.results:
            lines.append(f"| `{row.row.id}` (table) | — | — | none yet | — |")
            continue
        budgets = sorted({budget(r) for r in row.results.values()})
        lines.append(f"| `{row.row.id}` (table) | {', '.join(f'`{p}`' for p, _ in budgets)} | "
                     f"{', '.join(str(i) for _, i in budgets)} | {', '.join(map(str, sorted(row.results)))} | "
                     f"{_pm(list(row.values('test').values()))} |")
    return "\n".join(lines)


def budget_note(collected: Sequence[RowResults], result: Mapping[str, Any], row: str = "source_only") -> str:
    """A sentence comparing the training budget of a notebook run with the table's `row`."""
    profile, iterations = budget(result)
    table = sorted({budget(r) for r in _by_id(collected)[row].results.values()}) if row in _by_id(collected) else []
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


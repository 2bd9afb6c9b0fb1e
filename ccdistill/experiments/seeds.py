"""The registry's results seed by seed, as the ablation lab (notebook 06) reads them: the result
files of the chosen rows, a per-seed table, the paired comparison of two rows, class groups.

Everything here reads only the result files (`<results dir>/<row>__seed<k>.json`), through
`ccdistill.experiments.table`, whose statistics (`mean_std`, `paired_comparison`) are the ones
docs/RESULTS_TABLE.md prints. A class group ("static": trainIds 0-10, the classes the pseudo
labels cover; "dynamic": 11-18) is handled by `in_group`, which hands those same functions the
group's mIoU in place of the overall one. Rows or seeds without a result file are reported as
missing, never an error. The figures and a run of one's own are ccdistill/experiments/lab.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ccdistill.errors import InputError
from ccdistill.experiments.analysis import CLASS_GROUPS, class_group_miou
from ccdistill.experiments.registry import Registry, load_registry
from ccdistill.experiments.runner import DEFAULT_RESULTS_DIR
from ccdistill.experiments.table import RowResults, collect, mean_std, paired_comparison

GROUPS: tuple[str, ...] = ("all", *CLASS_GROUPS)  # "all" = the result file's own mIoU
SPLITS: tuple[str, ...] = ("test", "val")


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
    check_group(group)
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
    check_group(group)
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


def check_group(group: str) -> None:
    if group not in GROUPS:
        raise InputError(f"class group {group!r} is not one of {', '.join(GROUPS)}")


def rows_by_id(collected: Sequence[RowResults]) -> dict[str, RowResults]:
    return {row.row.id: row for row in collected}


def chosen_rows(collected: Sequence[RowResults], rows: Sequence[str] | None) -> list[RowResults]:
    """The rows named in `rows` in that order (all when None); a name the registry does not
    have is an InputError naming the valid ones."""
    by_id = rows_by_id(collected)
    if rows is None:
        return list(collected)
    unknown = [r for r in rows if r not in by_id]
    if unknown:
        raise InputError(f"no registry row {', '.join(map(repr, unknown))}; rows: {', '.join(by_id)}")
    return [by_id[r] for r in rows]


def missing(collected: Sequence[RowResults], rows: Sequence[str] | None = None) -> dict[str, list[int]]:
    """{row: seeds without a result file}, for the chosen rows that lack any."""
    return {row.row.id: row.missing for row in chosen_rows(collected, rows) if row.missing}


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
            for row in chosen_rows(collected, rows) for seed, result in sorted(row.results.items())]


def finite_mean_pm(values: Sequence[float]) -> str:
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
    for row in chosen_rows(collected, rows):
        mine = [r for r in records if r.row == row.row.id]
        if not mine:
            lines.append(f"| `{row.row.id}` | no result file yet | — | — | — | — |")
            continue
        seeds = ", ".join(f"{r.seed}: {100 * r.test:.2f}" for r in mine)
        if row.missing:
            seeds += f" (missing seed {', '.join(map(str, row.missing))})"
        lines.append(f"| `{row.row.id}` | {seeds} | " + " | ".join(
            finite_mean_pm([getattr(r, key) for r in mine]) for key in ("test", "val", "static", "dynamic")) + " |")
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
    grouped = in_group(chosen_rows(collected, [a, b]), group)
    paired = paired_comparison(grouped, a, b)
    rows = rows_by_id(grouped)
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

"""The Markdown of the results table (docs/RESULTS_TABLE.md, and the block of docs/RESULTS.md
between its markers), rendered from the result files by `render_table` and written by
`write_table` (`python -m ccdistill.experiments table`). The statistics it prints are
ccdistill/experiments/table.py's."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from ccdistill.experiments.registry import Registry, Run, train_command
from ccdistill.experiments.results import read_json
from ccdistill.experiments.table import (
    RowResults, collect, goals_section, issue16_goals_section, mean_pm, mean_std, paired_comparison, pairs_section,
    percent, seeds_cell,
)
from ccdistill.labels import CLASS_NAMES
from ccdistill.runfolder.files import write_atomic

__all__ = ["PER_CLASS_ROWS", "TABLE_BEGIN", "TABLE_END", "render_table", "write_table"]

PER_CLASS_ROWS: tuple[str, ...] = ("source_only", "pseudo", "full", "oracle")
TABLE_BEGIN, TABLE_END = "<!-- results-table:begin -->", "<!-- results-table:end -->"


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
        lines.append(f"| `{row.row.id}` | `{row.row.variant}` | {seeds_cell(row)} | "
                     f"{mean_pm(row.values('test').values())} | {mean_pm(row.values('val').values())} | "
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
    lines += [f"| {label} | {mean_pm(source.values(key).values())} |" for label, key in splits]
    day, test_day, night = source.values("source_day_val"), source.values("target_day_test"), source.values("test")
    seeds = sorted(set(day) & set(test_day) & set(night))
    lines.append(f"| inherent (dataset) shift = source day − target day (test) | "
                 f"{mean_pm([day[s] - test_day[s] for s in seeds])} |")
    lines.append(f"| illumination shift = target day − target night (test) | "
                 f"{mean_pm([test_day[s] - night[s] for s in seeds])} |")
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
            cells.append(percent(float(np.mean(finite)), 1) if finite else "—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **mIoU** | " + " | ".join(mean_pm(row.values("test").values()) for row in chosen) + " |")
    return lines


def paired_section(collected: Sequence[RowResults], a: str = "full", b: str = "pseudo") -> list[str]:
    paired = paired_comparison(collected, a, b)
    if not paired["seeds"]:
        return [f"`{a}` and `{b}` share no seed with a result yet."]
    lines = [f"| seed | `{a}` test mIoU (%) | `{b}` test mIoU (%) | difference (points) |", "|---|---|---|---|"]
    lines += [f"| {s} | {percent(x)} | {percent(y)} | {percent(d)} |"
              for s, x, y, d in zip(paired["seeds"], paired["a"], paired["b"], paired["differences"])]
    p = paired["p_value"]
    lines.append("")
    lines.append(f"Mean difference {percent(paired['mean'])} points (std {percent(paired['std'])}) over "
                 f"{len(paired['seeds'])} paired seed(s); paired t-test p = "
                 + (f"{p:.3f}" if math.isfinite(p) else "n/a (needs at least 2 paired seeds that differ)") + ".")
    return lines


def class_groups_section(collected: Sequence[RowResults]) -> list[str]:
    """Static (trainIds 0-10, what the pseudo labels cover) and dynamic (11-18) test mIoU."""
    from ccdistill.experiments.analysis import class_group_miou

    lines = ["| row | static classes (%) | dynamic classes (%) |", "|---|---|---|"]
    for row in collected:
        if not row.results:
            continue
        cells = [mean_pm([class_group_miou(r["metrics"]["test"]["per_class_iou"], group) for r in row.results.values()])
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
        lines.append(f"| `{row.row.id}` | {len(runs)} | {mean_pm([p['pixel_precision'] for p in pseudo])} | "
                     f"{mean_pm([p['ignored_fraction'] for p in pseudo])} | " + " | ".join(_plain(gaps[k]) for k in keys) + " |")
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
                cells.append(percent(float(np.mean(values)), 1) if values else "—")
            lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return lines


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

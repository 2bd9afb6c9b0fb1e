"""`ccdistill experiments run|status|table|figures`, also `python -m ccdistill.experiments ...`
(the console script hands its arguments to `build_parser` here).

    OMP_NUM_THREADS=1 nohup python -m ccdistill.experiments run > runs/experiments.log 2>&1 &
    python -m ccdistill.experiments status
    python -m ccdistill.experiments analyse    # results/toycity/analysis/*.json, from the run folders
    python -m ccdistill.experiments table      # docs/RESULTS_TABLE.md (+ the block in docs/RESULTS.md)
    python -m ccdistill.experiments figures    # docs/figures/results/*.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ccdistill.config import read_yaml_file
from ccdistill.errors import CCDistillError
from ccdistill.experiments.registry import load_registry
from ccdistill.experiments.runner import DEFAULT_RESULTS_DIR, DEFAULT_RUNS_DIR, Runner, format_status

DEFAULT_TABLE = Path("docs/RESULTS_TABLE.md")
DEFAULT_DOC = Path("docs/RESULTS.md")


PROG = "ccdistill experiments"  # how the console script and `python -m ccdistill.experiments` are named


def _runner(args: argparse.Namespace) -> Runner:
    if args.registry and Path(args.registry).exists():
        # Bounded before load_registry reads it: an alias bomb, a folder, a device.
        read_yaml_file(args.registry, "registry file")
    return Runner(load_registry(args.registry), runs_dir=args.runs_dir, results_dir=args.results_dir,
                  profile=args.profile, overrides=args.set, prune=not getattr(args, "keep_checkpoints", False))


def _rows(args: argparse.Namespace) -> list[str] | None:
    """The rows named by --rows and as plain arguments (`run full pseudo`); None: every row."""
    rows = [*(args.rows or []), *getattr(args, "row_names", [])]
    return rows or None


def run_command(args: argparse.Namespace) -> int:
    _runner(args).run(_rows(args), args.seeds, keep_going=args.keep_going)
    return 0


def analyse_command(args: argparse.Namespace) -> int:
    written = _runner(args).analyse(args.rows, args.seeds, force=args.force)
    print(f"wrote {len(written)} analysis file(s)")
    return 0


def status_command(args: argparse.Namespace) -> int:
    runner = _runner(args)
    print(format_status(runner.statuses(runner.registry.runs(_rows(args), args.seeds))))
    return 0


def table_command(args: argparse.Namespace) -> int:
    from ccdistill.experiments.report import write_table

    runner = _runner(args)
    path = write_table(runner.registry, runner.results_dir, args.out, doc=args.doc)
    print(f"wrote {path}" + (f" and the table block of {args.doc}" if args.doc and Path(args.doc).is_file() else ""))
    return 0


def figures_command(args: argparse.Namespace) -> int:
    from ccdistill.experiments.figures import save_figures

    report = save_figures(_runner(args), args.out_dir, args.which)
    for name, missing in report.items():
        note = f" (missing: {', '.join(missing)})" if missing else ""
        print(f"wrote {Path(args.out_dir) / f'{name}.png'}{note}")
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", help="registry YAML (default: the one shipped in ccdistill/experiments/)")
    parser.add_argument("--rows", nargs="+", metavar="ROW", help="only these rows (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="only these seeds (default: each row's)")
    parser.add_argument("--runs-dir", default=str(DEFAULT_RUNS_DIR), help="checkpoints and logs, one folder per run")
    parser.add_argument("--results-dir", default=str(DEFAULT_RESULTS_DIR), help="one result JSON per finished run")
    parser.add_argument("--profile", help="replaces every row's profile (e.g. ci for a smoke run)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for every run, applied last (repeatable), e.g. --set data.root=DIR")


def _row_names(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("row_names", nargs="*", metavar="ROW", help="only these rows, as --rows (default: all)")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """The run/status/table/figures subcommands."""
    run = subparsers.add_parser("run", help="train and evaluate every run without a result file, one at a time")
    _common(run)
    _row_names(run)
    run.add_argument("--keep-going", action="store_true", help="after a failed run, go on with the next one")
    run.add_argument("--keep-checkpoints", action="store_true",
                     help="keep every checkpoint and best.pt of finished runs (default: the last checkpoint only)")
    run.set_defaults(func=run_command)

    analyse = subparsers.add_parser(
        "analyse", help="pseudo-label quality and correlation gaps of finished runs (needs their run folders)")
    _common(analyse)
    analyse.add_argument("--force", action="store_true", help="recompute analysis files that exist")
    analyse.set_defaults(func=analyse_command)

    status = subparsers.add_parser("status", help="print where each run stands")
    _common(status)
    _row_names(status)
    status.set_defaults(func=status_command)

    table = subparsers.add_parser("table", help="rebuild the results table from the result files")
    _common(table)
    table.add_argument("--out", default=str(DEFAULT_TABLE))
    table.add_argument("--doc", default=str(DEFAULT_DOC),
                       help="also replace the marked table block of this Markdown file, if it has one")
    table.set_defaults(func=table_command)

    figures = subparsers.add_parser("figures", help="the figures of docs/RESULTS.md")
    _common(figures)
    figures.add_argument("--out-dir", default="docs/figures/results")
    figures.add_argument("--which", nargs="+", choices=["predictions", "loss_curves", "correlations", "per_class_iou"])
    figures.set_defaults(func=figures_command)


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CCDistillError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted (rerun to resume)", file=sys.stderr)
        return 130

"""`ccdistill notebooks execute|students|check|clean|new|copy|release|grade`: the teaching notebooks as files
(`ccdistill/notebook/files.py`; exercises and grading: `notebook/exercises.py`, `notebook/grading.py`);
`make notebooks` is `execute` + `students`; `copy` gives a user of
the installed package the notebooks."""

from __future__ import annotations

import argparse
from pathlib import Path

FOLDER = "notebooks"


def _targets(args: argparse.Namespace) -> list[Path]:
    from ccdistill.errors import InputError
    from ccdistill.notebook.files import solution_notebooks

    paths = [Path(p) for p in args.notebooks] or solution_notebooks(args.folder)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"no notebook at {', '.join(missing)}; pass notebooks/NN_topic.ipynb paths")
    return paths


def run_execute(args: argparse.Namespace) -> int:
    from ccdistill.notebook.files import execute

    for path in _targets(args):
        print(f"{path}: executing under profile {args.profile} ...", flush=True)
        print(f"{path}: {execute(path, args.profile, args.timeout):.0f} s", flush=True)
    return 0


def run_students(args: argparse.Namespace) -> int:
    from ccdistill.notebook.files import stale_student_copies, write_student_copies

    if args.check:
        problems = stale_student_copies(args.folder)
        print("\n".join(problems) or "student copies are up to date")
        return 1 if problems else 0
    for path in write_student_copies(args.folder):
        print(path)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ccdistill.notebook.files import check_notebook

    failed = 0
    for path in _targets(args):
        problems = check_notebook(path)
        failed += bool(problems)
        print(f"{path}: " + ("ok" if not problems else "\n  " + "\n  ".join(problems)))
    return 1 if failed else 0


def run_clean(args: argparse.Namespace) -> int:
    from ccdistill.notebook.files import clean, read, write

    for path in _targets(args):
        write(clean(read(path)), path)
        print(path)
    return 0


def run_new(args: argparse.Namespace) -> int:
    from ccdistill.errors import InputError
    from ccdistill.notebook.files import from_script, write

    target = Path(args.output)
    if target.exists() and not args.force:
        raise InputError(f"{target} exists; pass --force to overwrite it (the .ipynb is the source once written)")
    write(from_script(Path(args.script).read_text(encoding="utf-8")), target)
    print(f"{target}: written; now `ccdistill notebooks execute {target}`")
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from ccdistill.notebook.files import STUDENTS, copy_notebooks

    written = copy_notebooks(args.directory, force=args.force)
    target = Path(args.directory)
    print(f"{len(written) // 2} notebooks in {target}, their student copies in {target / STUDENTS}")
    print(f"next: cd {target} && jupyter lab    (open 00_setup.ipynb, Run -> Run All Cells)")
    return 0


def run_release(args: argparse.Namespace) -> int:
    from ccdistill.notebook.exercises import write_release

    written = write_release(args.folder, args.output)
    print(f"{len(written)} student notebooks in {args.output} (solutions and hidden tests removed)")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    from ccdistill.notebook.grading import grade_folder, points_table, write_csv

    grades = grade_folder(args.submissions, args.folder, args.profile, args.timeout)
    print(points_table(grades))
    for grade in grades:
        if grade.message:
            print(f"{grade.student} {grade.notebook} {grade.grade_id}: {grade.message}")
    if args.output:
        write_csv(grades, args.output)
        print(f"grades written to {args.output}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("notebooks", help="execute, check and clean the notebooks; generate student copies")
    commands = parser.add_subparsers(dest="notebooks_command", metavar="NOTEBOOKS_COMMAND", required=True)

    def add(name: str, help_text: str, func, paths: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--folder", default=FOLDER, help=f"the solution notebooks' folder (default {FOLDER})")
        if paths:
            sub.add_argument("notebooks", nargs="*", help="notebook files (default: every NN_topic.ipynb of --folder)")
        sub.set_defaults(func=func)
        return sub

    execute = add("execute", "run notebooks top to bottom in a fresh kernel and store them, cleaned, in place", run_execute)
    execute.add_argument("--profile", default="cpu", choices=("ci", "cpu", "gpu"),
                         help="CCDISTILL_PROFILE of the kernel (default cpu: what the stored outputs show)")
    execute.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    students = add("students", "write notebooks/students/, the release (solutions replaced by NotImplementedError "
                   "stubs, hidden tests removed)", run_students, paths=False)
    students.add_argument("--check", action="store_true", help="only report student copies that are out of date")
    add("check", "check the stored notebooks' rules (outputs, counts, size, explorers, exercises)", run_check)
    add("clean", "strip widget state and timing metadata, set the python3 kernel", run_clean)
    new = add("new", "create a notebook from a percent-format script (# %%%% / # %%%% [markdown])", run_new, paths=False)
    new.add_argument("script", help="the .py file")
    new.add_argument("output", help="notebooks/NN_topic.ipynb")
    new.add_argument("--force", action="store_true", help="overwrite an existing notebook")
    release = add("release", "write the student release: solutions and hidden tests removed (= notebooks/students)",
                  run_release, paths=False)
    release.add_argument("--output", default="build/release", help="the folder to write (default build/release)")
    grade = add("grade", "grade a folder of submitted notebooks (DIR/<student>/NN_topic.ipynb) into points per "
                "exercise", run_grade, paths=False)
    grade.add_argument("submissions", metavar="DIR",
                       help="the submitted notebooks: DIR/<student>/NN_topic.ipynb or DIR/NN_topic.ipynb")
    grade.add_argument("--output", help="also write the grades as CSV to this file")
    grade.add_argument("--profile", default="ci", choices=("ci", "cpu", "gpu"),
                       help="CCDISTILL_PROFILE the submissions run under (default ci: the hidden tests "
                            "recompute their references)")
    grade.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    copy = commands.add_parser("copy", help="copy the installed package's notebooks and student copies into DIR",
                               description="copy the notebooks this installation carries into DIR (solutions) and "
                                           "DIR/students (student copies); they keep ToyCity and runs in DIR")
    copy.add_argument("directory", metavar="DIR", help="the folder to create or fill, e.g. ccdistill-course")
    copy.add_argument("--force", action="store_true", help="overwrite notebooks already in DIR")
    copy.set_defaults(func=run_copy)

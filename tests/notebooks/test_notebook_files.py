"""The stored notebooks follow the rules of ccdistill/notebook_files.py (outputs of one clean
run, counts in order, no widget state, size, names, explorers driven and asserted, Summary and
Exercises with marked solutions), and their student copies are in sync."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from ccdistill.errors import InputError  # noqa: E402
from ccdistill.notebook_files import (  # noqa: E402
    check_notebook, from_script, solution_notebooks, stale_student_copies, student_copy, text, write,
    write_student_copies,
)

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SOLUTIONS = solution_notebooks(NOTEBOOKS)


def test_the_course_notebooks_are_there():
    names = [p.name for p in SOLUTIONS]
    assert names[:2] == ["00_setup.ipynb", "01_day_night_data.ipynb"], names


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_stored_notebook_follows_the_rules(path):
    assert check_notebook(path) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_calls_the_library_through_setup(path):
    first = next(c for c in nbformat.read(path, 4).cells if c.cell_type == "code")
    assert "from ccdistill.notebook import setup" in first.source and "setup(" in first.source


def test_student_copies_are_up_to_date():
    assert stale_student_copies(NOTEBOOKS) == []


def test_student_copy_replaces_solutions_and_clears_outputs():
    for path in SOLUTIONS:
        solution = nbformat.read(path, 4)
        student = student_copy(solution, path.name)
        code = [c for c in student.cells if c.cell_type == "code"]
        sources = "\n".join(c.source for c in code)
        assert "### BEGIN SOLUTION" not in sources and "### END SOLUTION" not in sources
        assert sources.count('raise NotImplementedError("hint: ') + sources.count("raise NotImplementedError('hint: ") \
            == "\n".join(c.source for c in solution.cells if c.cell_type == "code").count("### BEGIN SOLUTION")
        assert all(c.outputs == [] and c.execution_count is None for c in code)
        assert "widgets" not in student.metadata


def test_changed_solution_without_regenerated_copy_fails(tmp_path):
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    path = folder / SOLUTIONS[0].name
    notebook = nbformat.read(path, 4)
    notebook.cells[-1].source += "\nprint('a changed check')"  # outside the solution block
    write(notebook, path)
    problems = stale_student_copies(folder)
    assert len(problems) == 1 and path.name in problems[0] and "ccdistill notebooks students" in problems[0]
    write_student_copies(folder)
    assert stale_student_copies(folder) == []
    # Only a solution changed: the student copy stays the same (the block is replaced anyway).
    notebook.cells[-1].source = notebook.cells[-1].source.replace("### END SOLUTION", "z = 0\n### END SOLUTION")
    write(notebook, path)
    assert stale_student_copies(folder) == []


def test_stub_needs_a_hint_and_a_closed_block():
    for source, message in (
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "needs a hint"),
        ("### BEGIN SOLUTION hint: h\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without a"),
    ):
        notebook = from_script(f"# %%\n{source}\n")
        with pytest.raises(InputError, match=message):
            student_copy(notebook)


def test_stub_keeps_the_indentation_and_the_check_after_it():
    notebook = from_script("# %%\ndef f():\n    ### BEGIN SOLUTION hint: return 2\n    return 2\n    ### END SOLUTION\nassert f() == 2\n")
    assert student_copy(notebook).cells[1].source == \
        "def f():\n    raise NotImplementedError('hint: return 2')\nassert f() == 2"


def _executed(script: str) -> object:
    notebook = from_script(script)
    for count, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    return notebook


GOOD = """# %%
from ccdistill.notebook import setup
explorer = TranslationExplorer(a, b)
# %%
explorer.update(beta=0.1)
assert explorer.last["gap_after"] < 1
# %% [markdown]
# ## Summary
# %% [markdown]
# ## Exercises
# %%
### BEGIN SOLUTION hint: h
y = 1
### END SOLUTION
"""


def test_rules_accept_a_good_notebook(tmp_path):
    write(_executed(GOOD), tmp_path / "07_good.ipynb")
    assert check_notebook(tmp_path / "07_good.ipynb") == []


@pytest.mark.parametrize("change, expected", [
    (lambda nb: nb.metadata.__setitem__("widgets", {"state": {}}), "widget state"),
    (lambda nb: setattr(nb.cells[1], "execution_count", 5), "execution counts"),
    (lambda nb: setattr(nb.cells[1], "execution_count", None), "execution counts"),
    (lambda nb: nb.cells.pop(1), "no later cell drives explorer"),
    (lambda nb: nb.cells.pop(2), "Summary"),
    (lambda nb: setattr(nb.cells[0], "source", "import numpy\nexplorer = TranslationExplorer(a, b)"), "never imports ccdistill"),
    (lambda nb: setattr(nb.cells[0], "source", "from ccdistill import x\nTranslationExplorer(a, b)"), "assign the TranslationExplorer"),
    (lambda nb: setattr(nb.cells[-1], "source", "y = 1"), "no exercise solution"),
    (lambda nb: nb.cells[1].outputs.append(nbformat.v4.new_output("error", ename="E", evalue="v", traceback=[])), "error output"),
])
def test_rules_reject_a_broken_notebook(tmp_path, change, expected):
    notebook = _executed(GOOD)
    change(notebook)
    write(notebook, tmp_path / "07_bad.ipynb")
    problems = check_notebook(tmp_path / "07_bad.ipynb")
    assert any(expected in p for p in problems), problems


def test_rules_reject_names_and_sizes(tmp_path):
    notebook = _executed(GOOD)
    notebook.cells[1].outputs[0].text = "x" * 1_600_000
    write(notebook, tmp_path / "Notebook 7.ipynb")
    problems = " ".join(check_notebook(tmp_path / "Notebook 7.ipynb"))
    assert "NN_topic.ipynb" in problems and "1.5 MB" in problems


def test_stored_text_is_what_write_produces():
    for path in SOLUTIONS:
        assert path.read_text(encoding="utf-8") == text(nbformat.read(path, 4))


def test_python3_kernel_is_this_environment():
    """The notebooks' kernelspec `python3` starts this interpreter: jupyter_client replaces a bare
    `python` in the kernel's argv by sys.executable, so the venv's kernel runs the venv's Python."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert "ipykernel" in " ".join(spec.argv)
    command = KernelManager(kernel_name="python3").format_kernel_cmd()
    assert Path(command[0]).resolve() == Path(sys.executable).resolve(), command
    for path in SOLUTIONS:
        assert nbformat.read(path, 4).metadata.kernelspec.name == "python3"

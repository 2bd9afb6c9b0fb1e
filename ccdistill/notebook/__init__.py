"""What every teaching notebook calls first: the profile, ToyCity, a runs folder, and errors as
one sentence.

    from ccdistill.notebook import setup
    nb = setup()                  # profile from $CCDISTILL_PROFILE (default "cpu")
    nb.config.model.arch, nb.root, nb.runs

The profile is chosen by one environment variable, `CCDISTILL_PROFILE` (`ci`: a tiny model and
a small ToyCity, seconds, what `make test` runs; `cpu`: the ImageNet-pretrained EfficientNet-
Lite0 on the standard ToyCity, minutes, what a student gets), or by `setup("ci")` in the first
cell; nothing else in a notebook changes between profiles. ToyCity is generated on first use at
the profile's root (below); a root given explicitly (`setup(root=...)` or `$CCDISTILL_DATA`) is
never generated into, only checked.

`setup()` also makes every CCDistillError (a missing optional dependency, a missing dataset, a
bad config value, ...) show in the notebook as its one-sentence message instead of a traceback.

This module imports nothing heavy: torch and the configs are imported inside `setup()`, so a
kernel without torch still gets the one sentence.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccdistill.errors import CCDistillError, ConfigError, DataError, DependencyError, InputError, user_message
from ccdistill.runfolder.names import DEPLOY_NAME

PROFILE_VARIABLE = "CCDISTILL_PROFILE"
DATA_VARIABLE = "CCDISTILL_DATA"
DEFAULT_PROFILE = "cpu"  # what a student gets; nbval CI sets CCDISTILL_PROFILE=ci

# ToyCity per profile, relative to the repository root. The ci one is small (seconds to generate)
# and at 128x256, the smallest frame the ci profile's crops fit without padding.
TOYCITY: dict[str, dict[str, Any]] = {
    "ci": {"folder": "data/toycity-ci", "size": (128, 256), "n_train": 8, "n_val": 4, "n_test": 4},
    "cpu": {"folder": "data/toycity", "size": (256, 512), "n_train": 200, "n_val": 50, "n_test": 50},
    "gpu": {"folder": "data/toycity", "size": (256, 512), "n_train": 200, "n_val": 50, "n_test": 50},
}
# Training iterations of the notebooks' own runs, (stage one, stage two), where they differ from
# the profile's. The registry's cpu budget (600 + 600) makes Run All of notebook 04 take ~22
# minutes on a 2-core machine; a course notebook must run in under 10. The registry keeps the
# profile's budget, and the notebooks quote its three-seed results for every comparison.
NOTEBOOK_ITERATIONS: dict[str, tuple[int, int]] = {"cpu": (300, 200)}
FIGURE_DPI = 100  # stored figures: PNG at 100 dpi, legible and within the 1.5 MB notebook rule
RUNS_FOLDER = "runs/notebooks"  # + /<profile>
COPY_MARKER = "ccdistill-notebooks.txt"  # written by `ccdistill notebooks copy DIR` into DIR
# Pip names of the modules whose import name differs.
PIP_NAMES: dict[str, str] = {"sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml", "skimage": "scikit-image"}


@dataclass(frozen=True)
class NotebookSession:
    """What `setup()` prepared.

    Attributes:
        profile: "ci", "cpu" or "gpu".
        config: the ToyCity Config of that profile, with data.root = root and output under runs.
        root: the ToyCity folder (generated if it was missing and not given explicitly).
        runs: this profile's folder for the notebooks' training runs (created).
        project: the repository root (the folder holding notebooks/ and data/).
    """

    profile: str
    config: Any
    root: Path
    runs: Path
    project: Path

    def run_config(self, variant: str, *overrides: str, warm_start: bool = True) -> Any:
        """The ToyCity config of this profile for `variant`, trained into runs/<variant>
        (overrides are applied last, so `output=...` names another folder).

        The recipe's two stages (docs/TRAINING.md): every variant but `source_only` warm-starts
        M_d and M_n from the `source_only` run's deploy.pt, so its pseudo labels count from the
        first step; train `source_only` first. `warm_start=False` starts from the profile's
        initial weights instead (ImageNet for `cpu`), for a short run that needs no stage 1.

        Under a profile in `NOTEBOOK_ITERATIONS` (cpu), stage one (`source_only`) and every other
        variant train for the notebook budget given there, not the profile's (the registry's)."""
        from ccdistill.config import load_config

        stage_one = variant == "source_only"
        stage_two = [] if stage_one or not warm_start else [
            f"model.init_checkpoint={self.runs / 'source_only' / DEPLOY_NAME}", "loss.pseudo_warmup_fraction=0"]
        budget = NOTEBOOK_ITERATIONS.get(self.profile)
        iterations = [] if budget is None else [f"train.max_iterations={budget[0] if stage_one else budget[1]}"]
        return load_config("toycity", [f"profile={self.profile}", f"variant={variant}", f"data.root={self.root}",
                                       f"output={self.runs / variant}", *iterations, *stage_two, *overrides])

    def __str__(self) -> str:
        budget = NOTEBOOK_ITERATIONS.get(self.profile)
        own = "" if budget is None else f" ({budget[0]} + {budget[1]} in the notebooks' own two stages)"
        return (f"profile {self.profile}: {self.config.model.arch}, {self.config.train.max_iterations} "
                f"training iterations{own}; ToyCity at {shown_path(self.root, self.project)}; "
                f"runs in {shown_path(self.runs, self.project)}")


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root: the first folder at or above `start` (default: the current folder,
    which is notebooks/ in a kernel) holding pyproject.toml and ccdistill/, or the COPY_MARKER of a
    `ccdistill notebooks copy` folder (so its students/ share its ToyCity); else `start` itself,
    so an installed package run from any folder keeps its data beside the notebook."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        clone = (folder / "pyproject.toml").is_file() and (folder / "ccdistill").is_dir()
        if clone or (folder / COPY_MARKER).is_file():
            return folder
    return here


def shown_path(path: str | os.PathLike, project: str | os.PathLike | None = None) -> str:
    """`path` as a notebook prints it: relative to the repository root (`project`, default
    `project_root()`) when it lies inside it, so a stored output names no folder of the machine
    that ran it; as given otherwise."""
    path, root = Path(path), Path(project or project_root()).resolve()
    # The unresolved path first: a venv's python is a link that resolves outside the repository.
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return str(path)


def _check_type(value: Any, name: str, expected: tuple[type, ...], what: str, example: str) -> None:
    """InputError in one sentence for an argument of the wrong type (`setup(3)`), not an
    AttributeError from deep inside."""
    if value is not None and not isinstance(value, expected):
        raise InputError(f"setup() takes {name} as {what}, got {value!r} ({type(value).__name__}); "
                         f"call e.g. {example}")


def profile_name(profile: str | None = None) -> str:
    """`profile`, else $CCDISTILL_PROFILE, else "cpu" (any letter case); ConfigError for an
    unknown name, InputError for a value that is not a string."""
    _check_type(profile, "the profile", (str,), f"a string, one of {', '.join(TOYCITY)}",
                "setup('cpu') or setup('ci')")
    name = (profile or os.environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE).strip().lower()
    if name not in TOYCITY:
        raise ConfigError(f"profile {name!r} (from {'setup()' if profile else PROFILE_VARIABLE}) is not one of "
                          f"{', '.join(TOYCITY)}: set {PROFILE_VARIABLE}=ci or cpu before starting Jupyter, "
                          "or call setup('cpu').")
    return name


def require(module: str, what: str = "this notebook") -> Any:
    """Import an optional dependency, or raise DependencyError whose message is the one sentence
    saying what to install (the notebook shows only that sentence)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = PIP_NAMES.get(module.split(".")[0], module.split(".")[0])
        raise DependencyError(
            f"{what} needs {package}, which is not installed in this kernel ({sys.executable}): run "
            f"`pip install -e '.[notebooks]'` (or `pip install {package}`) and restart the kernel."
        ) from None


def _real_dataset(root: Path) -> str | None:
    """What real dataset `root` holds (None when none, or when the data package, which imports
    torch, cannot be imported: the sentence about ToyCity is then said without it)."""
    try:
        from ccdistill.data.layouts import describe_found
    except ImportError:
        return None
    return describe_found(root)


def require_toycity(root: str | os.PathLike, given_by: str = "setup(root=...)") -> Path:
    """`root` if it holds a generated ToyCity, else DataError saying how to make it.

    `given_by` names where the path came from, so the sentence says what to change."""
    from ccdistill.toycity.generate import read_manifest  # numpy only

    root = Path(root)
    if read_manifest(root) is None:
        other = _real_dataset(root)
        if other:  # a real dataset: generating ToyCity into it would be the wrong advice
            raise DataError(f"the dataset folder {root} ({given_by}) is not a ToyCity: it holds {other}, and the "
                            f"notebooks run on ToyCity; leave {given_by} out to use the notebooks' own ToyCity, or "
                            "pass a folder `ccdistill data toy` wrote.")
        what = "does not exist" if not root.exists() else "holds no ToyCity (no valid manifest.json)"
        shown = shown_path(root)
        raise DataError(f"the dataset folder {shown} ({given_by}) {what}: leave {given_by} out to use the "
                        f"notebooks' own ToyCity, or run `ccdistill data toy --root {shown}` first.")
    return root


def prepare_toycity(profile: str, project: Path) -> Path:
    """The profile's ToyCity under `project`, generated first if missing (same settings: kept)."""
    from ccdistill.toycity import generate_toycity
    from ccdistill.toycity.generate import read_manifest

    settings = dict(TOYCITY[profile])
    root = project / settings.pop("folder")
    if read_manifest(root) is None:
        print(f"generating ToyCity into {shown_path(root, project)} (once) ...")
        generate_toycity(root, progress=False, **settings)
    return root


def one_sentence(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    """IPython custom exception handler: a CCDistillError is shown as `Name: message`, one line.

    IPython's run loop discards what the handler returns, so the handler sends the one-line
    traceback itself through `_showtraceback`, the method ipykernel overrides to publish the
    error output (and which marks the cell as failed, so Run All still stops here)."""
    stb = [f"{etype.__name__}: {user_message(value)}"]
    show = getattr(shell, "_showtraceback", None)
    if show is None:
        print(stb[0], file=sys.stderr)
    else:
        show(etype, value, stb)
    return stb


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure as the PNG a stored notebook keeps (`compact_png`): lossless for charts;
    a palette PNG for figures of photographs, which keeps a notebook of them under 1.5 MB."""
    from IPython.core.pylabtools import print_figure

    from ccdistill.viz._png import compact_png

    return compact_png(print_figure(figure, fmt="png", bbox_inches="tight"))


def _ipython_shell() -> Any:
    """The running IPython shell, or None (a plain interpreter, or IPython not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def notebook_figures(dpi: int = FIGURE_DPI) -> bool:
    """Show matplotlib figures as PNG at `dpi` in this kernel (`figure_png`: lossless for charts,
    so thin lines and small tick labels stay sharp). False outside IPython."""
    shell = _ipython_shell()
    if shell is None:
        return False
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    matplotlib.rcParams["figure.dpi"] = dpi
    return True


def install_error_handler() -> bool:
    """Show CCDistillErrors as one sentence in the running IPython kernel; False outside IPython."""
    shell = _ipython_shell()
    if shell is None:
        return False
    shell.set_custom_exc((CCDistillError,), one_sentence)
    return True


def setup(profile: str | None = None, root: str | os.PathLike | None = None) -> NotebookSession:
    """Prepare a notebook: error handler, PNG figures, profile, ToyCity, config, runs folder.

    Args:
        profile: "ci", "cpu" or "gpu"; None reads $CCDISTILL_PROFILE (default "cpu").
        root: a ToyCity folder to use instead of the profile's own (also $CCDISTILL_DATA); it must
            already hold a generated ToyCity (DataError otherwise, in one sentence).

    Returns:
        A NotebookSession (print it for a one-line summary).
    """
    install_error_handler()  # first, so that the errors below are already one sentence
    notebook_figures()
    _check_type(root, "root", (str, os.PathLike), "a folder path", "setup(root='data/toycity')")
    name = profile_name(profile)
    project = project_root()
    given, given_by = (root, "setup(root=...)") if root else (os.environ.get(DATA_VARIABLE), DATA_VARIABLE)
    if given:
        data_root = require_toycity(Path(given).expanduser().resolve(), given_by)
    else:
        data_root = prepare_toycity(name, project)
    runs = project / RUNS_FOLDER / name
    runs.mkdir(parents=True, exist_ok=True)

    from ccdistill.config import load_config  # imports torch

    config = load_config("toycity", [f"profile={name}", f"data.root={data_root}", f"output={runs / 'run'}"])
    return NotebookSession(profile=name, config=config, root=data_root, runs=runs, project=project)

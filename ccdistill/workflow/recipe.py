"""The paper's two-stage GPU recipe as commands, and whether this machine can run it.

    recipe = paper_recipe(project=nb.project)
    print(recipe)          # the commands, and one sentence on what is missing here
    recipe.ready           # a CUDA GPU and both datasets in place

Stage 1 trains `source_only` on Cityscapes; stage 2 warm-starts M_d and M_n from its deploy.pt
(`model.init_checkpoint`) for CCDistill, as docs/TRAINING.md describes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ccdistill.config import load_config

# dataset config -> (source layout, target layout) as `ccdistill data check --dataset` names them
STEPS = ("stage 1: source only (M_d learns Cityscapes)", "stage 2: CCDistill, warm-started from stage 1",
         "evaluation of the deployed M_n")
LAYOUTS = {"cityscapes_darkzurich": ("cityscapes", "darkzurich"), "cityscapes_acdc": ("cityscapes", "acdc")}


@dataclass(frozen=True)
class Recipe:
    """The commands of the two stages and what this machine lacks to run them."""

    config: str
    commands: list[str]
    gpu: bool
    missing: list[str] = field(default_factory=list)  # one entry per dataset folder not usable

    @property
    def ready(self) -> bool:
        return self.gpu and not self.missing

    @property
    def reason(self) -> str:
        """One sentence: ready, or what is missing."""
        if self.ready:
            return "a CUDA GPU and both datasets are here: run the commands below in a terminal (hours)."
        lacking = ([] if self.gpu else ["no CUDA GPU in this kernel"]) + self.missing
        return f"{'; '.join(lacking)}: this notebook trains the ToyCity profile instead."

    def __str__(self) -> str:
        lines = [self.reason]
        for step, command in zip(STEPS, self.commands):
            lines += [f"# {step}", command]
        return "\n".join(lines)


def paper_recipe(config: str = "cityscapes_darkzurich", project: str | os.PathLike = ".") -> Recipe:
    """The two-stage recipe of a real-data config ("cityscapes_darkzurich" or "cityscapes_acdc").

    Args:
        config: the shipped dataset config.
        project: the folder its relative dataset roots (data/cityscapes, ...) are read from.
    """
    import torch

    from ccdistill.data.check import check_layout
    from ccdistill.notebook import shown_path

    cfg = load_config(config)
    project = Path(project)
    source_layout, target_layout = LAYOUTS.get(config, ("cityscapes", "darkzurich"))
    missing = []
    for layout, root in ((source_layout, cfg.data.source_root), (target_layout, cfg.data.target_root)):
        folder = Path(root) if Path(root).is_absolute() else project / root
        if not check_layout(layout, folder).usable:
            shown = shown_path(folder)  # relative to the repository, where the commands run
            missing.append(f"no usable {layout} at {shown} (`ccdistill data check --dataset {layout} --root {shown}`)")
    stage1 = f"{cfg.output}_source_only"
    base = f"ccdistill train --config configs/{config}.yaml"
    commands = [
        f"{base} variant=source_only output={stage1}",
        f"{base} variant=full model.init_checkpoint={stage1}/deploy.pt",
        f"ccdistill eval --checkpoint {cfg.output}/deploy.pt --config configs/{config}.yaml --split val",
    ]
    return Recipe(config, commands, torch.cuda.is_available(), missing)

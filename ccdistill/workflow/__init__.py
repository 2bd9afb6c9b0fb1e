"""The notebook author's short calls: train or load a run, score it, compare runs in the
explorers, the method's quantities on rendered ToyCity scenes, the paper recipe.

    from ccdistill.workflow import train_or_load, evaluate_run, prediction_browser
    run = train_or_load(config)                         # loads a finished run, trains otherwise
    result = evaluate_run(run, split="val")             # as `ccdistill eval`
    browser = prediction_browser({"source-only": so, "CCDistill": run}, root)

| module | what |
|---|---|
| `runs` | `train_or_load`, `TrainedRun`, `evaluate_run`, `config_from_run`, `preview_model` (the short run of notebooks 02–03) |
| `curves` | `read_log`, `plot_loss_curves`, `LiveLossCurves` (a Trainer hook) |
| `compare` | `prediction_browser`, `embedding_view`, `load_runs` |
| `toy` | `toy_features`, `toy_cosine_maps`, `toy_style` |
| `recipe` | `paper_recipe`: the two-stage GPU commands and whether this machine can run them |
| `lab` | `train_row`: one registry row of the ablation lab trained under the notebook's profile |
"""

from ccdistill.workflow.compare import embedding_view, load_runs, prediction_browser
from ccdistill.workflow.curves import LiveLossCurves, plot_loss_curves, read_log
from ccdistill.workflow.lab import train_row
from ccdistill.workflow.recipe import Recipe, paper_recipe
from ccdistill.workflow.runs import (TrainedRun, config_from_run, evaluate_run, preview_model, stored_config,
                                     train_or_load)
from ccdistill.workflow.toy import toy_cosine_maps, toy_features, toy_style

__all__ = [
    "embedding_view", "load_runs", "prediction_browser",
    "LiveLossCurves", "plot_loss_curves", "read_log",
    "Recipe", "paper_recipe",
    "TrainedRun", "config_from_run", "evaluate_run", "preview_model", "stored_config", "train_or_load",
    "toy_cosine_maps", "toy_features", "toy_style", "train_row",
]

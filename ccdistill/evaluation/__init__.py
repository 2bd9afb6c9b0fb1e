"""Evaluation (docs/TRAINING.md, "Evaluation"): confusion-matrix metrics, inference, figures and
benchmark exports.

Map of the package:

- ``metrics``   — :class:`ConfusionMatrix` (accumulate / compute, Cityscapes conventions) and
  :func:`format_table`;
- ``inference`` — :func:`predict` (resize, sliding window, softmax) and :func:`evaluate`
  (a whole split into one confusion matrix);
- ``figures``   — :func:`plot_confusion_matrix`, :func:`plot_per_class_iou`;
- ``deployed``  — :func:`evaluate_checkpoint` (a deploy.pt on its evaluation split, as
  ``ccdistill eval`` scores it);
- ``export``    — Dark Zurich and ACDC test-server submissions;
- ``submission_check`` — their local validators and the test-image names they must contain.

Figures and exports are imported lazily (on first attribute access) so that importing the
metrics does not pull in matplotlib/seaborn.
"""

from __future__ import annotations

import importlib
from typing import Any

from .inference import evaluate, predict
from .metrics import ConfusionMatrix, format_table

_LAZY = {
    "evaluate_checkpoint": "deployed",
    "load_for_evaluation": "deployed",
    "plot_confusion_matrix": "figures",
    "plot_per_class_iou": "figures",
    "normalize_confusion": "figures",
    "export_darkzurich": "export",
    "validate_darkzurich_submission": "submission_check",
    "darkzurich_test_names": "submission_check",
    "export_acdc": "export",
    "validate_acdc_submission": "submission_check",
    "acdc_test_names": "submission_check",
    "read_confidence": "export",
    "zip_submission": "export",
}

__all__ = ["ConfusionMatrix", "format_table", "predict", "evaluate", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

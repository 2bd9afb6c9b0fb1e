"""Interactive day/night explorers for the notebooks (issue 8, item 3; notebooks/README.md).

Each explorer is a class built from explicit ipywidgets controls (`.widget` displays it; a
Jupyter cell showing the object displays it too) whose callbacks recompute from arrays cached at
construction; the last computed arrays are kept in `.last`, and `.update(**values)` drives it
from code exactly as a slider would. Each has a plain plotting function beside it that returns a
matplotlib Figure (`save=` writes it) and needs no ipywidgets.

| explorer | plot function | shows |
|---|---|---|
| `CosineMapExplorer` | `plot_cosine_maps` | a query pixel's cosine map on the day image and its night version (F or e), one colour scale fitted to the values, the best night match marked |
| `CorrelationExplorer` | `plot_correlations` | the four CDC correlations, teacher beside student (one fitted scale per term) and their difference (its own symmetric scale), entries L_CDC does not read in grey |
| `GramExplorer` | `plot_gram_differences` | Δ = G_day − G_night on the channels that change most, ‖Δ‖_F against night strength per city and between the cities, L_CDS |
| `TranslationExplorer` | `plot_translations` | S_d → S_n by FDA (β), Lab, relight, true night vs T_n, each with its colour gap to T_n |
| `PredictionBrowser` | `plot_predictions` | ground truth and models side by side, per-image mIoU, a legend of the classes shown |
| `EmbeddingView` | `plot_embedding` | night features in 2-D (PCA / t-SNE) by class or domain, with a legend |

Every figure is drawn at 100 dpi or more; a control that changes nothing in the current state
(grid K at image granularity, β for a method other than FDA, a choice of one) is disabled, and a
value no control can take is refused with one sentence, in the constructor as in `update()`.

Inputs: `toy_streams(n)` renders the four streams in memory; `load_toycity_split(root)` reads a
generated ToyCity evaluation split.
"""

from ccdistill.viz._common import STREAM_COLOURS, STREAM_NAMES, figure_to_png
from ccdistill.viz.correlation import CorrelationExplorer, compute_correlations, plot_correlations
from ccdistill.viz.cosine import CosineMapExplorer, compute_cosine_maps, plot_cosine_maps
from ccdistill.viz.data import load_toycity_split, require_toycity, toy_streams
from ccdistill.viz.embedding import EmbeddingView, plot_embedding, project, sample_points
from ccdistill.viz.predictions import PredictionBrowser, plot_predictions, predict_labels
from ccdistill.viz.style import GramExplorer, compute_style, plot_gram_differences
from ccdistill.viz.translation import TranslationExplorer, plot_translations, translate_day

__all__ = [
    "STREAM_COLOURS", "STREAM_NAMES", "figure_to_png",
    "CorrelationExplorer", "compute_correlations", "plot_correlations",
    "CosineMapExplorer", "compute_cosine_maps", "plot_cosine_maps",
    "load_toycity_split", "require_toycity", "toy_streams",
    "EmbeddingView", "plot_embedding", "project", "sample_points",
    "PredictionBrowser", "plot_predictions", "predict_labels",
    "GramExplorer", "compute_style", "plot_gram_differences",
    "TranslationExplorer", "plot_translations", "translate_day",
]

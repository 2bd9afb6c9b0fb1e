"""What every explorer shares: optional imports with a one-sentence error, figure → PNG bytes,
colours, images → network batches, stream routing, and the `Explorer` base class.

An explorer is explicit ipywidgets controls whose `observe` callbacks call `refresh()`:
`compute(**control values)` recomputes from arrays cached at construction, the result is kept
in `.last`, drawn into a reused figure (`FastFigure`) whose PNG becomes the `Image` value, and
summarised in the `HTML` readout. `update(**values)` drives the same path from code.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from PIL import Image

from ccdistill.data.transforms import image_to_tensor
from ccdistill.normalization import IMAGENET
from ccdistill.streams import DAY_STREAMS, STREAMS
from ccdistill.errors import InputError
from ccdistill.notebook import require  # one sentence for a missing optional dependency
from ccdistill.labels import IGNORE_INDEX, NUM_CLASSES, PALETTE


require("matplotlib", "ccdistill.viz")  # one sentence instead of a traceback
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# The paper's stream symbols; day streams go through M_d, night streams through M_n (SPEC 3).
STREAM_NAMES = STREAMS  # the stream table lives in ccdistill.streams
# One colour per stream/domain for scatter plots and legends (source blue, target orange; day
# light, night dark), fixed so every notebook colours a stream the same way.
STREAM_COLOURS: dict[str, str] = {"S_d": "#6baed6", "S_n": "#08519c", "T_d": "#fdae6b", "T_n": "#d94801"}
DIVERGING_CMAP = "coolwarm"  # cosines and Gram differences: signed, centred on 0
SEQUENTIAL_CMAP = "viridis"
PNG_COMPRESS_LEVEL = 0  # stored, not deflated: encoding is half of a small update otherwise; the PNG is shown, not archived
DEFAULT_DPI = 72


def widgets() -> Any:
    """The ipywidgets module (DependencyError with the install command when it is missing)."""
    return require("ipywidgets")


def label_colours(labels: np.ndarray) -> np.ndarray:
    """H×W trainIds → H×W×3 uint8 in the Cityscapes palette (`ccdistill.labels.PALETTE`),
    ignored pixels (255) white so they stand out from the dark classes."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:NUM_CLASSES] = PALETTE
    lut[IGNORE_INDEX] = 255
    return lut[np.asarray(labels, dtype=np.uint8)]


def class_colours(labels: np.ndarray) -> np.ndarray:
    """trainIds (any shape) → RGB floats in [0, 1] from PALETTE, for scatter points."""
    return PALETTE[np.asarray(labels, dtype=np.int64)].astype(np.float32) / 255.0


def overlay(image: np.ndarray, values: np.ndarray, cmap: str = DIVERGING_CMAP,
            vmin: float = -1.0, vmax: float = 1.0, alpha: float = 0.6) -> np.ndarray:
    """Blend a colour-mapped H×W map onto an H×W×3 uint8 image → H×W×3 uint8."""
    from matplotlib import colormaps

    lut = (colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.float32)
    index = np.clip((np.asarray(values) - vmin) / (vmax - vmin) * 255, 0, 255).astype(np.uint8)
    blended = (1 - alpha) * image.astype(np.float32) + alpha * lut[index]
    return blended.astype(np.uint8)


def figure_to_png(figure: Figure, dpi: float | None = None) -> bytes:
    """PNG bytes of a matplotlib Figure (Agg), the value of an `ipywidgets.Image`.

    Agg's RGBA buffer encoded by PIL without deflating is several times faster than
    `savefig(format="png")`, which matters at one encode per slider move.
    """
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    if dpi is not None and dpi != figure.dpi:
        figure.set_dpi(dpi)
    canvas.draw()
    return canvas_to_png(canvas)


def canvas_to_png(canvas: FigureCanvasAgg) -> bytes:
    """PNG bytes of what an Agg canvas last rendered (its RGBA buffer, alpha dropped)."""
    rgba = np.asarray(canvas.buffer_rgba())
    buffer = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def save_figure(figure: Figure, save: str | os.PathLike | None) -> Figure:
    """Write the figure to `save` (format from the suffix) when a path is given; return it."""
    if save is not None:
        figure.savefig(save, dpi=max(figure.dpi, 100))
    return figure


def new_figure(figsize: tuple[float, float], dpi: float = DEFAULT_DPI) -> Figure:
    """A Figure with its own Agg canvas (no pyplot state, so nothing is shown twice in Jupyter)."""
    figure = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def image_axes(ax: Any, shape: tuple[int, ...], title: str = "") -> Any:
    """Put an empty uint8 image artist into `ax` (no ticks) and return it, for `set_data`."""
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return ax.imshow(np.zeros((*shape[:2], 3), dtype=np.uint8), interpolation="nearest")


def as_image_stack(name: str, images: Any) -> np.ndarray:
    """H×W×3 or N×H×W×3 uint8 → N×H×W×3 uint8, or InputError naming the argument."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise InputError(
            f"{name} must be H×W×3 or N×H×W×3 uint8 RGB images; got {array.dtype} {array.shape} "
            "(read images with ccdistill.data.read_image or render them with ccdistill.toycity.render)"
        )
    return array


def model_normalization(model: torch.nn.Module) -> Any:
    """The input normalisation of a segmenter or of a CCDistillModel's networks."""
    segmenter = model.deploy() if hasattr(model, "deploy") else model
    return segmenter.normalization() if hasattr(segmenter, "normalization") else IMAGENET


def images_to_batch(images: np.ndarray, device: torch.device | str = "cpu",
                    normalization: Any = None) -> torch.Tensor:
    """N×H×W×3 uint8 → N×3×H×W float batch, normalised as the data pipeline normalises for the
    model (`normalization`, default ImageNet's)."""
    normalization = IMAGENET if normalization is None else normalization
    return torch.stack([image_to_tensor(image, normalization) for image in images]).to(device)


def _device(model: torch.nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.inference_mode()
def stream_outputs(model: torch.nn.Module, images: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Run each stream through its network in eval mode: {stream: SegmenterOutput}.

    `model` is a CCDistillModel (S_d, T_d → M_d; S_n, T_n → M_n) or a single segmenter, which
    then serves every stream. Keys other than the four stream symbols count as night images.
    Streams that share a network and an image size go through it as one batch (eval mode: the
    images do not interact), which halves the cost of small batches.
    """
    was_training = model.training
    model.eval()
    try:
        device = _device(model)
        groups: dict[tuple[Any, tuple[int, ...]], list[tuple[str, np.ndarray]]] = {}
        for name, stack in images.items():
            stack = as_image_stack(name, stack)
            if hasattr(model, "forward_day"):
                forward = model.forward_day if name in DAY_STREAMS else model.forward_night
            else:
                forward = model
            groups.setdefault((forward, stack.shape[1:]), []).append((name, stack))
        outputs: dict[str, Any] = {}
        for (forward, _), members in groups.items():
            batch = images_to_batch(np.concatenate([stack for _, stack in members]), device,
                                    model_normalization(model))
            out = forward(batch)
            sizes = [len(stack) for _, stack in members]
            for (name, _), logits, features in zip(members, out.logits.split(sizes), out.features.split(sizes)):
                outputs[name] = type(out)(logits, features)
        return {name: outputs[name] for name in images}
    finally:
        model.train(was_training)


@torch.inference_mode()
def stream_embeddings(model: torch.nn.Module, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """{stream: F} → {stream: e} through the projection head in one batch (`embed_streams`)."""
    was_training = model.training
    model.eval()
    try:
        return model.embed_streams(features)
    finally:
        model.train(was_training)


def output_stride(model: torch.nn.Module) -> int | None:
    """The output stride of a segmenter or of a CCDistillModel's M_n (None if unknown)."""
    segmenter = model.deploy() if hasattr(model, "deploy") else model
    stride = getattr(segmenter, "output_stride", None)
    return int(stride) if stride is not None else None


class FastFigure:
    """A figure built once and redrawn per update by blitting.

    Subclasses create every artist in `__init__`, list the ones an update changes in
    `self.dynamic` (images, lines, texts) and change them in `draw(last)` with `set_data` /
    `set_text`. The static rest (frames, ticks, legends, colour bars) is rendered once and kept
    as a bitmap; an update restores it and draws only the dynamic artists, which is what keeps
    an update within tens of milliseconds on a CPU.
    """

    def __init__(self, figsize: tuple[float, float], dpi: float = DEFAULT_DPI) -> None:
        self.figure = new_figure(figsize, dpi)
        self.dynamic: list[Any] = []
        self._background: Any = None

    def draw(self, last: Mapping[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def png(self, last: Mapping[str, Any]) -> bytes:
        """Update the dynamic artists from `last` and return the figure as PNG bytes."""
        self.draw(last)
        canvas = self.figure.canvas
        if self._background is None:
            for artist in self.dynamic:
                artist.set_animated(True)  # animated artists are left out of a full draw
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.figure.draw_artist(artist)
        return canvas_to_png(canvas)


class Explorer:
    """Base of the widget classes: controls → compute (cached inputs) → `.last` → Image + HTML.

    Subclasses set `self.controls` (name → ipywidgets value widget) and `self.view` (a
    FastFigure) and implement `compute(**values) -> dict` and `describe(last) -> str`, then call
    `self._build()`.
    """

    controls: dict[str, Any]
    view: FastFigure

    def _build(self) -> None:
        w = widgets()
        self.image = w.Image(format="png")
        self.readout = w.HTML()
        self.last: dict[str, Any] = {}
        self._holding = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.widget = w.VBox([w.HBox(list(self.controls.values())), self.image, self.readout])
        self.refresh()

    def _on_change(self, change: Any) -> None:
        if not self._holding:
            self.refresh()

    def values(self) -> dict[str, Any]:
        """The current control values, by control name."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self, **values: Any) -> dict[str, Any]:
        """Set control values from code (as a user would) and recompute once; returns `.last`."""
        for name, value in values.items():
            if name not in self.controls:
                raise InputError(
                    f"{type(self).__name__} has no control {name!r}; its controls are "
                    f"{', '.join(self.controls)}"
                )
            control = self.controls[name]
            low, high = getattr(control, "min", None), getattr(control, "max", None)
            if low is not None and not low <= value <= high:
                raise InputError(f"{name} must lie in [{low}, {high}]; got {value!r}")
            options = getattr(control, "options", None)
            if options is not None:
                # Options are values or (label, value) pairs.
                allowed = [o[1] if isinstance(o, tuple) else o for o in options]
                if value not in allowed:
                    raise InputError(f"{name} must be one of {allowed}; got {value!r}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self.refresh()
        return self.last

    def refresh(self) -> None:
        """Recompute from the cache with the current control values and redraw."""
        self.last = self.compute(**self.values())
        self.image.value = self.view.png(self.last)
        self.readout.value = self.describe(self.last)

    def compute(self, **values: Any) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, last: Mapping[str, Any]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        """Write the figure currently shown (the `Image` value, PNG) to `path`."""
        with open(path, "wb") as file:
            file.write(self.image.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

"""What every explorer shares: optional imports with a one-sentence error, figure → PNG bytes,
colours and colour scales, images → network batches, stream routing, the checks of a control's
value, and the `Explorer` base class.

An explorer is explicit ipywidgets controls whose `observe` callbacks call `refresh()`:
`compute(**control values)` recomputes from arrays cached at construction, the result is kept
in `.last`, drawn into a reused figure (`FastFigure`) whose PNG becomes the `Image` value, and
summarised in the `HTML` readout. `update(**values)` drives the same path from code, and the
constructor's initial values go through the same checks as `update()`'s (`check_value`): a
value a slider cannot take is refused with one sentence, never clamped. A control that changes
nothing visible in the current state is disabled (`Explorer.active`).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from PIL import Image

from ccdistill.viz._png import compact_png

from ccdistill.data.transforms import image_to_tensor
from ccdistill.normalization import IMAGENET
from ccdistill.errors import InputError
from ccdistill.labels import IGNORE_INDEX, NUM_CLASSES, PALETTE
from ccdistill.models import route_streams
from ccdistill.notebook import require  # one sentence for a missing optional dependency
from ccdistill.streams import STREAMS
from ccdistill.viz._checks import check_choice, check_integer, check_number


require("matplotlib", "ccdistill.viz")  # one sentence instead of a traceback
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# The paper's stream symbols; day streams go through M_d, night streams through M_n (route_streams).
STREAM_NAMES = STREAMS  # the stream table lives in ccdistill.streams
# One colour per stream/domain for scatter plots and legends (source blue, target orange; day
# light, night dark), fixed so every notebook colours a stream the same way.
STREAM_COLOURS: dict[str, str] = {"S_d": "#6baed6", "S_n": "#08519c", "T_d": "#fdae6b", "T_n": "#d94801"}
DIVERGING_CMAP = "RdBu_r"  # signed differences, centred on 0 (red: positive, blue: negative)
SEQUENTIAL_CMAP = "viridis"  # values of one sign (cosines of post-ReLU features, correlations)
UNREAD_COLOUR = "#d9d9d9"  # matrix entries the loss does not read
PNG_COMPRESS_LEVEL = 0  # stored, not deflated: encoding is half of a small update otherwise; the PNG is shown, not archived
DEFAULT_DPI = 100  # explorers and plot functions alike: legible 8-pt ticks
FONT = {"title": 10, "label": 9, "tick": 8}


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


def colour_range(*arrays: np.ndarray, low: float | None = None, high: float | None = None,
                 step: float = 0.05) -> tuple[float, float]:
    """The colour scale of values: [min, max] over `arrays` (NaN ignored), rounded outward to
    `step` so that it changes only when the values move by a step; `low`/`high` fix an end
    (e.g. high=1 for cosines). A constant array still gets a scale one step wide."""
    values = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    lo = low if low is not None else (math.floor(values.min() / step) * step if values.size else 0.0)
    hi = high if high is not None else (math.ceil(values.max() / step) * step if values.size else 1.0)
    if hi <= lo:
        lo, hi = (lo - step, hi) if high is not None else (lo, lo + step)
    return round(lo, 6), round(hi, 6)


NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k ≥ value (value > 0): a scale that stays put while the
    values move a little, so the figure's static part (colour bar, ticks) is rarely redrawn."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in NICE_STEPS if step * power >= value * (1 - 1e-9))


def symmetric_range(*arrays: np.ndarray) -> float:
    """s of a symmetric colour scale [−s, s] holding every value of `arrays`: the largest |value|
    rounded up to 1, 2, 2.5 or 5 × 10^k; 1 for all-zero arrays (they show as the centre)."""
    top = max((float(np.nanmax(np.abs(a))) for a in arrays if np.size(a)), default=0.0)
    return nice_ceiling(top) if top > 0 else 1.0


def colour_bar(figure: Figure, image: Any, ax: Any, label: str, cax: Any = None) -> Any:
    """A colour bar for `image` beside `ax` (or in `cax`), with its label and legible ticks; it
    follows the image's colour limits when the figure is drawn again."""
    bar = figure.colorbar(image, cax=cax) if cax is not None else figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label(label, fontsize=FONT["tick"])
    bar.ax.tick_params(labelsize=FONT["tick"])
    return bar


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
        stacks = {name: as_image_stack(name, stack) for name, stack in images.items()}
        groups: dict[tuple[int, tuple[int, ...]], list[tuple[str, np.ndarray]]] = {}
        networks: dict[int, torch.nn.Module] = {}
        for network, names in route_streams(model, stacks):
            networks[id(network)] = network
            for name in names:
                groups.setdefault((id(network), stacks[name].shape[1:]), []).append((name, stacks[name]))
        outputs: dict[str, Any] = {}
        for (network_id, _), members in groups.items():
            forward = networks[network_id]
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
    an update within tens of milliseconds on a CPU. When `draw` changes a static part too (a
    colour scale and its bar, tick labels, axis limits), `static_key(last)` returns something
    else and the bitmap is rendered again; the last `BACKGROUNDS_KEPT` bitmaps are kept by key,
    so going back to a state already shown (a slider moved back and forth) costs a blit only.
    """

    BACKGROUNDS_KEPT = 16  # a 10×6.6 in figure at 100 dpi is 2.6 MB of bitmap

    def __init__(self, figsize: tuple[float, float], dpi: float = DEFAULT_DPI) -> None:
        self.figure = new_figure(figsize, dpi)
        self.dynamic: list[Any] = []
        self._backgrounds: dict[Any, Any] = {}  # static key -> bitmap, oldest first

    def draw(self, last: Mapping[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def static_key(self, last: Mapping[str, Any]) -> Any:
        """What the static part of the figure depends on (None: nothing, rendered once)."""
        return None

    def png(self, last: Mapping[str, Any]) -> bytes:
        """Update the dynamic artists from `last` and return the figure as PNG bytes."""
        self.draw(last)
        canvas = self.figure.canvas
        key = self.static_key(last)
        background = self._backgrounds.pop(key, None)
        if background is None:
            for artist in self.dynamic:
                artist.set_animated(True)  # animated artists are left out of a full draw
            canvas.draw()
            background = canvas.copy_from_bbox(self.figure.bbox)
        self._backgrounds[key] = background  # now the newest
        while len(self._backgrounds) > self.BACKGROUNDS_KEPT:
            del self._backgrounds[next(iter(self._backgrounds))]
        canvas.restore_region(background)
        for artist in self.dynamic:
            self.figure.draw_artist(artist)
        return canvas_to_png(canvas)


class Explorer:
    """Base of the widget classes: controls → compute (cached inputs) → `.last` → Image + HTML.

    Subclasses set `self.controls` (name → ipywidgets value widget, created at any valid value)
    and `self.view` (a FastFigure), may set `self.unavailable` (control → {value: why this
    explorer cannot offer it}), implement `compute(**values) -> dict`, `describe(last) -> str`
    and, where a control does nothing in some states, `active(values)`; then call
    `self._build(**initial values)`, which checks them as `update()` does.
    """

    controls: dict[str, Any]
    view: FastFigure
    unavailable: dict[str, dict[str, str]]

    def _build(self, **initial: Any) -> None:
        w = widgets()
        self.unavailable = getattr(self, "unavailable", {})
        checked = {name: self.check(name, value) for name, value in initial.items()}
        self.image = w.Image(format="png")
        self.readout = w.HTML()
        self.last: dict[str, Any] = {}
        self._holding = False
        for name, value in checked.items():
            self.controls[name].value = value
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

    def check(self, name: str, value: Any) -> Any:
        """`value` if control `name` can take it, else InputError in one sentence (what was
        given, what the control takes, what to pass): an unknown control, a wrong type (a str
        or a bool for a number), NaN, a value outside the slider, an option not offered."""
        if name not in self.controls:
            raise InputError(f"{type(self).__name__} has no control {name!r}; its controls are "
                             f"{', '.join(self.controls)}: pass one of them, e.g. "
                             f"{next(iter(self.controls))}=...")
        control = self.controls[name]
        what = f" (the {control.description!r} control of this {type(self).__name__})"
        options = getattr(control, "options", None)
        if options is not None:
            # Options are values or (label, value) pairs.
            allowed = [o[1] if isinstance(o, tuple) else o for o in options]
            return check_choice(name, value, allowed, self.unavailable.get(name), what)
        if isinstance(control.value, int):
            return check_integer(name, value, control.min, control.max, what)
        return check_number(name, value, control.min, control.max, what)

    def update(self, **values: Any) -> dict[str, Any]:
        """Set control values from code (as a user would) and recompute once; returns `.last`.

        Every value is checked before any is set (`check`): a refused call changes nothing."""
        checked = {name: self.check(name, value) for name, value in values.items()}
        self._holding = True
        try:
            for name, value in checked.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self.refresh()
        return self.last

    def active(self, values: Mapping[str, Any]) -> dict[str, bool]:
        """{control: False} for controls that change nothing visible at these values (they are
        disabled); the rest are enabled. Subclasses override (e.g. grid K only for tokens)."""
        return {}

    def refresh(self) -> None:
        """Recompute from the cache with the current control values and redraw."""
        values = self.values()
        active = self.active(values)
        for name, control in self.controls.items():
            options = getattr(control, "options", None)
            movable = len(options) > 1 if options is not None else control.min < control.max
            control.disabled = not (movable and active.get(name, True))
        self.last = self.compute(**values)
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

    def snapshot(self) -> Any:
        """The figure shown now as a static PNG (an IPython `Image`, `compact_png`): stored in a
        notebook's outputs, it is what a rendered page or a reader without a kernel sees of it."""
        from IPython.display import Image as Picture

        return Picture(data=compact_png(bytes(self.image.value)), format="png")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

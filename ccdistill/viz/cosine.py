"""Cosine-map explorer: one query pixel of a day image against every pixel of the same image
and of its night version (S_d → S_n or T_d → T_n), on features F or embeddings e.

    explorer = CosineMapExplorer(model, toy_streams(n=1))
    explorer.widget                       # sliders x, y; pair; features/embeddings
    explorer.update(x=100, y=40)          # from code; explorer.last holds the maps
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from ccdistill.errors import InputError
from ccdistill.losses import cosine_map, feature_cell, upsample_map
from ccdistill.viz._common import (
    DIVERGING_CMAP,
    STREAM_NAMES,
    Explorer,
    FastFigure,
    as_image_stack,
    output_stride,
    overlay,
    save_figure,
    stream_embeddings,
    stream_outputs,
    widgets,
)

PAIRS: dict[str, tuple[str, str]] = {"source": ("S_d", "S_n"), "target": ("T_d", "T_n")}
SPACES: tuple[str, ...] = ("embeddings", "features")
MARKER = dict(marker="+", color="black", markersize=12, markeredgewidth=2)


def compute_cosine_maps(
    day: torch.Tensor,
    night: torch.Tensor,
    query_xy: tuple[int, int],
    image_size: tuple[int, int],
    stride: int | None = None,
) -> dict[str, Any]:
    """The query pixel's cosine map on its own (day) image and on the night image.

    Args:
        day: 1×C×h×w features or embeddings of the day image (the query's image).
        night: 1×C×h×w of its night version.
        query_xy: (x, y) in pixels of the H×W images.
        image_size: (H, W).
        stride: the segmenter's output stride (None: inferred from the sizes).

    Returns:
        dict with `day_map`, `night_map` (h×w cosines on the feature grid), `day_image_map`,
        `night_image_map` (H×W, upsampled), `cell` (row, col), `at_query_day`,
        `at_query_night` (cosine at the query's cell), `best_night` and `best_night_xy` (the
        most similar night cell and its centre in image pixels).
    """
    maps = torch.cat([
        cosine_map(day, day, query_xy, image_size, stride),
        cosine_map(day, night, query_xy, image_size, stride),
    ])
    on_image = upsample_map(maps, image_size)
    cell = feature_cell(query_xy, image_size, tuple(day.shape[-2:]), stride)
    day_map, night_map = maps.cpu().numpy()
    best = np.unravel_index(int(np.argmax(night_map)), night_map.shape)
    scale_y, scale_x = image_size[0] / night_map.shape[0], image_size[1] / night_map.shape[1]
    return {
        "query_xy": tuple(query_xy),
        "cell": cell,
        "day_map": day_map,
        "night_map": night_map,
        "day_image_map": on_image[0].cpu().numpy(),
        "night_image_map": on_image[1].cpu().numpy(),
        "at_query_day": float(day_map[cell]),
        "at_query_night": float(night_map[cell]),
        "best_night": float(night_map[best]),
        "best_night_xy": (int((best[1] + 0.5) * scale_x), int((best[0] + 0.5) * scale_y)),
    }


class CosineMapView(FastFigure):
    """Day and night image side by side with the cosine map overlaid and the query marked."""

    def __init__(self, image_size: tuple[int, int], dpi: float = 72) -> None:
        height, width = image_size
        super().__init__((2 * 3.6 + 0.6, 3.6 * height / width + 0.5), dpi)
        self.axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.01, right=0.91, bottom=0.02, top=0.8, wspace=0.03)
        self.images = []
        self.markers = []
        for ax in self.axes:
            ax.set_axis_off()
            self.images.append(ax.imshow(np.zeros((height, width, 3), np.uint8), interpolation="nearest"))
            self.markers.append(ax.plot([0], [0], linestyle="none", **MARKER)[0])
        colourbar_axes = self.figure.add_axes((0.925, 0.1, 0.015, 0.7))
        self.figure.colorbar(ScalarMappable(Normalize(-1, 1), DIVERGING_CMAP), cax=colourbar_axes,
                             label="cosine")
        self.titles = [ax.set_title(" ", fontsize=10) for ax in self.axes]
        self.suptitle = self.figure.suptitle(" ", fontsize=10)
        self.dynamic = [*self.images, *self.markers, *self.titles, self.suptitle]

    def draw(self, last: Mapping[str, Any]) -> None:
        x, y = last["query_xy"]
        for index, (key, stream) in enumerate(zip(("day", "night"), last["streams"])):
            self.images[index].set_data(overlay(last[f"{key}_image"], last[f"{key}_image_map"]))
            self.markers[index].set_data([x], [y])
            value = last[f"at_query_{key}"]
            self.titles[index].set_text(f"{stream}: cos at query {value:+.3f}")
        self.suptitle.set_text(f"query (x={x}, y={y}) of {last['streams'][0]}, {last['space']}")


def _check_streams(images: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Only the stream images: a `toy_streams` dict also holds labels.
    stacks = {name: as_image_stack(name, image) for name, image in images.items() if name in STREAM_NAMES}
    if not any(all(s in stacks for s in pair) for pair in PAIRS.values()):
        raise InputError(
            f"images has streams {sorted(stacks)}, but the cosine-map explorer needs a day/night "
            "pair: S_d and S_n, or T_d and T_n (e.g. ccdistill.viz.toy_streams(n=1))"
        )
    sizes = {stack.shape[1:3] for stack in stacks.values()}
    if len(sizes) != 1 or any(stack.shape[0] != 1 for stack in stacks.values()):
        shapes = {name: stack.shape for name, stack in stacks.items()}
        raise InputError(f"images must be one image per stream, all of one size; got {shapes}")
    return stacks


def _feature_cache(model: torch.nn.Module, stacks: Mapping[str, np.ndarray]) -> dict[str, dict]:
    """{"features": {stream: F}, "embeddings": {stream: e}}: one forward pass per stream and
    one head call (embeddings only for a model with a projection head)."""
    features = {name: out.features for name, out in stream_outputs(model, stacks).items()}
    cache = {"features": features}
    if hasattr(model, "embed_streams"):
        cache["embeddings"] = stream_embeddings(model, features)
    return cache


def _cosine_last(cache, stacks, pair, space, query_xy, image_size, stride) -> dict[str, Any]:
    day, night = PAIRS[pair]
    if space not in cache:
        raise InputError(f"space {space!r} needs a CCDistillModel (its projection head); use 'features'")
    last = compute_cosine_maps(cache[space][day], cache[space][night], query_xy, image_size, stride)
    last.update(streams=(day, night), space=space, pair=pair,
                day_image=stacks[day][0], night_image=stacks[night][0])
    return last


class CosineMapExplorer(Explorer):
    """Cosine maps of a query pixel, day vs night side by side (issue 8, item 3).

    Args:
        model: a CCDistillModel (day streams through M_d, night streams through M_n; the
            embeddings come from one `embed_streams` call) or a single segmenter (features only).
        images: {stream: H×W×3 (or 1×H×W×3) uint8} with S_d and S_n and/or T_d and T_n, at
            the network's input size (e.g. `toy_streams(n=1)`; other keys are ignored).
        query_xy: initial (x, y); default the image centre.
        pair: "source" (S_d → S_n) or "target" (T_d → T_n).
        space: "embeddings" (e, the projection head's output) or "features" (F).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        images: Mapping[str, np.ndarray],
        query_xy: tuple[int, int] | None = None,
        pair: str = "source",
        space: str = "embeddings",
    ) -> None:
        w = widgets()
        stacks = _check_streams(images)
        self.stacks = stacks
        self.image_size = next(iter(stacks.values())).shape[1:3]
        self.stride = output_stride(model)
        self.cache = _feature_cache(model, stacks)
        pairs = [name for name, streams in PAIRS.items() if all(s in stacks for s in streams)]
        spaces = [name for name in SPACES if name in self.cache]
        height, width = self.image_size
        x, y = query_xy if query_xy is not None else (width // 2, height // 2)
        layout = {"width": "45%"}
        self.controls = {
            "x": w.IntSlider(value=x, min=0, max=width - 1, description="x", continuous_update=False, layout=layout),
            "y": w.IntSlider(value=y, min=0, max=height - 1, description="y", continuous_update=False, layout=layout),
            "pair": w.ToggleButtons(options=[(f"{PAIRS[p][0]} → {PAIRS[p][1]}", p) for p in pairs],
                                    value=pair if pair in pairs else pairs[0], description="pair"),
            "space": w.ToggleButtons(options=spaces, value=space if space in spaces else spaces[0],
                                     description="space"),
        }
        self.view = CosineMapView(self.image_size)
        self._build()

    def compute(self, x: int, y: int, pair: str, space: str) -> dict[str, Any]:
        return _cosine_last(self.cache, self.stacks, pair, space, (x, y), self.image_size, self.stride)

    def describe(self, last: Mapping[str, Any]) -> str:
        day, night = last["streams"]
        (x, y), (row, col) = last["query_xy"], last["cell"]
        bx, by = last["best_night_xy"]
        return (
            f"<b>query</b> (x={x}, y={y}) → feature cell (row {row}, col {col}) of {day}, "
            f"{last['space']}<br>"
            f"cos({day} query, {day} same pixel) = <b>{last['at_query_day']:+.3f}</b>; "
            f"cos({day} query, {night} same pixel) = <b>{last['at_query_night']:+.3f}</b>; "
            f"most similar {night} pixel (x={bx}, y={by}) with cos = {last['best_night']:+.3f}"
        )


def plot_cosine_maps(
    model: torch.nn.Module,
    images: Mapping[str, np.ndarray],
    query_xy: tuple[int, int],
    pair: str = "source",
    space: str = "embeddings",
    save: str | os.PathLike | None = None,
) -> Any:
    """The cosine-map explorer's figure for one query, as a matplotlib Figure (saved to `save`)."""
    stacks = _check_streams(images)
    image_size = next(iter(stacks.values())).shape[1:3]
    last = _cosine_last(_feature_cache(model, stacks), stacks, pair, space, query_xy, image_size,
                        output_stride(model))
    view = CosineMapView(image_size, dpi=100)
    view.draw(last)
    return save_figure(view.figure, save)

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

from ccdistill.errors import InputError
from ccdistill.losses import cosine_map, feature_cell, upsample_map
from ccdistill.viz._checks import check_choice
from ccdistill.viz._common import (
    DEFAULT_DPI,
    FONT,
    SEQUENTIAL_CMAP,
    STREAM_NAMES,
    Explorer,
    FastFigure,
    as_image_stack,
    colour_bar,
    colour_range,
    image_axes,
    output_stride,
    save_figure,
    stream_embeddings,
    stream_outputs,
    widgets,
)

PAIRS: dict[str, tuple[str, str]] = {"source": ("S_d", "S_n"), "target": ("T_d", "T_n")}
SPACES: tuple[str, ...] = ("embeddings", "features")
MARKER = dict(marker="+", color="red", markersize=12, markeredgewidth=2)
BEST_MARKER = dict(marker="o", markerfacecolor="none", markeredgecolor="red", markersize=10, markeredgewidth=1.5)
COLOUR_STEP = 0.1  # the maps' colour scale starts at the lowest cosine rounded down to this


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
    """Top: the day image and its night version, the query marked (+) and, at night, the most
    similar cell (○). Bottom: the query's cosine map on each, on one colour scale fitted to the
    values shown (from the lowest, rounded down to 0.1, up to 1), with its colour bar."""

    def __init__(self, image_size: tuple[int, int], dpi: float = DEFAULT_DPI) -> None:
        height, width = image_size
        panel = 3.4
        super().__init__((2 * panel + 1.0, 2 * panel * height / width + 1.1), dpi)
        grid = self.figure.add_gridspec(2, 3, width_ratios=(1, 1, 0.05), left=0.01, right=0.9,
                                        bottom=0.02, top=0.84, wspace=0.04, hspace=0.22)
        self.pictures, self.maps, self.titles, self.markers, self.best = [], [], [], [], []
        for col in range(2):  # day, night
            ax = self.figure.add_subplot(grid[0, col])
            self.pictures.append(image_axes(ax, (height, width)))
            map_ax = self.figure.add_subplot(grid[1, col])
            map_ax.set_axis_off()
            self.maps.append(map_ax.imshow(np.zeros((height, width)), cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1,
                                           interpolation="nearest"))
            for target in (ax, map_ax):
                self.titles.append(target.set_title(" ", fontsize=FONT["label"]))
                self.markers.append(target.plot([0], [0], linestyle="none", **MARKER)[0])
                if col == 1:
                    self.best.append(target.plot([0], [0], linestyle="none", **BEST_MARKER)[0])
        colour_bar(self.figure, self.maps[0], None, "cosine to the query", cax=self.figure.add_subplot(grid[1, 2]))
        self.suptitle = self.figure.suptitle(" ", fontsize=FONT["title"])
        self.dynamic = [*self.pictures, *self.maps, *self.markers, *self.best, *self.titles, self.suptitle]

    def static_key(self, last: Mapping[str, Any]) -> Any:
        return last["colour_range"]

    def draw(self, last: Mapping[str, Any]) -> None:
        x, y = last["query_xy"]
        day, night = last["streams"]
        low, high = last["colour_range"]  # one scale for both maps, so that they compare
        for index, key in enumerate(("day", "night")):
            self.pictures[index].set_data(last[f"{key}_image"])
            self.maps[index].set_data(last[f"{key}_image_map"])
            self.maps[index].set_clim(low, high)
        for marker in self.markers:
            marker.set_data([x], [y])
        bx, by = last["best_night_xy"]
        for marker in self.best:
            marker.set_data([bx], [by])
        texts = (f"{day} (day): the query +", f"cos on {day}: {last['at_query_day']:+.2f} at +",
                 f"{night} (night): same pixel +, best match ○",
                 f"cos on {night}: {last['at_query_night']:+.2f} at +, {last['best_night']:+.2f} at ○")
        for title, text in zip(self.titles, texts):
            title.set_text(text)
        what = "features F" if last["space"] == "features" else "embeddings e"
        self.suptitle.set_text(f"query pixel (x={x}, y={y}) of {day} against every pixel, on {what}")


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


def _offered(stacks: Mapping[str, np.ndarray], cache: Mapping[str, Any]) -> tuple[list, list, dict]:
    """(pairs, spaces) these images and this model offer, and {control: {value: why not}}."""
    pairs = [name for name, streams in PAIRS.items() if all(s in stacks for s in streams)]
    spaces = [name for name in SPACES if name in cache]
    why = {
        "pair": {p: f"images holds no {' and '.join(PAIRS[p])}: add them to images (e.g. toy_streams(n=1))"
                 for p in PAIRS if p not in pairs},
        "space": {"embeddings": "the model has no projection head: pass a CCDistillModel, or space='features'"}
        if "embeddings" not in spaces else {},
    }
    return pairs, spaces, why


def _cosine_last(cache, stacks, pair, space, query_xy, image_size, stride) -> dict[str, Any]:
    pairs, spaces, why = _offered(stacks, cache)
    check_choice("pair", pair, pairs, why["pair"])
    check_choice("space", space, spaces, why["space"])
    day, night = PAIRS[pair]
    last = compute_cosine_maps(cache[space][day], cache[space][night], query_xy, image_size, stride)
    last.update(streams=(day, night), space=space, pair=pair,
                day_image=stacks[day][0], night_image=stacks[night][0],
                colour_range=colour_range(last["day_map"], last["night_map"], high=1.0, step=COLOUR_STEP))
    return last


def _check_query(query_xy: Any) -> tuple[Any, Any]:
    if not isinstance(query_xy, (tuple, list)) or len(query_xy) != 2:
        raise InputError(f"query_xy must be an (x, y) pair of image pixels; got {query_xy!r}: pass e.g. "
                         "query_xy=(100, 40), or leave it out for the image centre")
    return query_xy[0], query_xy[1]


class CosineMapExplorer(Explorer):
    """Cosine maps of a query pixel, day vs night side by side (issue 8, item 3).

    Args:
        model: a CCDistillModel (day streams through M_d, night streams through M_n; the
            embeddings come from one `embed_streams` call) or a single segmenter (features only).
        images: {stream: H×W×3 (or 1×H×W×3) uint8} with S_d and S_n and/or T_d and T_n, at
            the network's input size (e.g. `toy_streams(n=1)`; other keys are ignored).
        query_xy: initial (x, y), 0 ≤ x < W, 0 ≤ y < H; default the image centre.
        pair: "source" (S_d → S_n) or "target" (T_d → T_n); default the first the images hold.
        space: "embeddings" (e, the projection head's output) or "features" (F); default
            embeddings when the model has a head.

    A value the sliders or buttons cannot take (x outside the image, a pair the images do not
    hold, ...) is refused with one sentence, here as in `update()`.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        images: Mapping[str, np.ndarray],
        query_xy: tuple[int, int] | None = None,
        pair: str | None = None,
        space: str | None = None,
    ) -> None:
        w = widgets()
        stacks = _check_streams(images)
        self.stacks = stacks
        self.image_size = next(iter(stacks.values())).shape[1:3]
        self.stride = output_stride(model)
        self.cache = _feature_cache(model, stacks)
        pairs, spaces, self.unavailable = _offered(stacks, self.cache)
        height, width = self.image_size
        x, y = _check_query(query_xy) if query_xy is not None else (width // 2, height // 2)
        layout = {"width": "45%"}
        self.controls = {
            "x": w.IntSlider(min=0, max=width - 1, description="x", continuous_update=False, layout=layout),
            "y": w.IntSlider(min=0, max=height - 1, description="y", continuous_update=False, layout=layout),
            "pair": w.ToggleButtons(options=[(f"{PAIRS[p][0]} → {PAIRS[p][1]}", p) for p in pairs],
                                    description="pair"),
            "space": w.ToggleButtons(options=spaces, description="space"),
        }
        self.view = CosineMapView(self.image_size)
        self._build(x=x, y=y, pair=pair if pair is not None else pairs[0],
                    space=space if space is not None else spaces[0])

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
    """The cosine-map explorer's figure for one query, as a matplotlib Figure (saved to `save`):
    the day and night images with the query (+) and the best night match (○), and the query's
    cosine map on each, on one colour scale fitted to the values (with its colour bar)."""
    stacks = _check_streams(images)
    image_size = next(iter(stacks.values())).shape[1:3]
    last = _cosine_last(_feature_cache(model, stacks), stacks, pair, space, query_xy, image_size,
                        output_stride(model))
    view = CosineMapView(image_size)
    view.draw(last)
    return save_figure(view.figure, save)

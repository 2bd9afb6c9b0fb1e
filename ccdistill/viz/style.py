"""Gram/style explorer: one ToyCity scene per city re-rendered at a night strength, its Gram
matrix compared with the day image's, between the cities too, and L_CDS (docs/METHOD.md, section 5).

    explorer = GramExplorer(model)                  # a source and a target scene
    for t in (0.0, 0.5, 1.0):
        explorer.update(night=t)
        explorer.last["norm_S"]                      # ‖G_Sd − G_Sn‖_F grows with t
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ccdistill.errors import InputError
from ccdistill.losses import cds_loss, gram_difference, gram_matrix
from ccdistill.toycity import Scene, render, sample_scene
from ccdistill.viz._checks import check_number, check_choice, check_flag
from ccdistill.viz._common import (
    DEFAULT_DPI,
    DIVERGING_CMAP,
    FONT,
    STREAM_COLOURS,
    Explorer,
    FastFigure,
    colour_bar,
    image_axes,
    save_figure,
    stream_outputs,
    nice_ceiling,
    symmetric_range,
    widgets,
)

STYLE_MODES = ("cosine", "difference")
NIGHT_STEP = 0.05
CROP = 12  # channels shown of a C×C Gram difference: the ones whose co-activations change most
CURVE_HEADROOM = 1.15


def _frobenius(delta: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(delta)[0])


def changed_channels(delta: np.ndarray, k: int = CROP) -> np.ndarray:
    """The k channels whose rows of |Δ| sum largest, most changed first (ties: lower index)."""
    energy = np.abs(delta).sum(axis=1)
    return np.argsort(-energy, kind="stable")[:k]


def compute_style(
    features: Mapping[str, torch.Tensor], mode: str = "cosine", center: bool = False
) -> dict[str, Any]:
    """Gram matrices of the four streams, their differences and L_CDS.

    Args:
        features: {S_d, S_n, T_d, T_n: 1×C×h×w} raw features F (the classifier's input).
        mode, center: as in `cds_loss` / `gram_matrix`.

    Returns:
        {"delta_S": C×C Δ_S = G_Sd − G_Sn, "delta_T": C×C Δ_T = G_Td − G_Tn,
        "channels": the CROP channels whose co-activations change most on the source
        (`changed_channels` of Δ_S, the teacher), "norm_S", "norm_T": the Frobenius norms of
        Δ_S, Δ_T, "norm_cities_day": ‖G_Sd − G_Td‖_F, "norm_cities_night": ‖G_Sn − G_Tn‖_F,
        "L_CDS": float}.
    """
    check_choice("mode", mode, STYLE_MODES)
    check_flag("center", center)
    gram = {name: gram_matrix(f, center) for name, f in features.items()}
    delta_S = gram_difference(gram["S_d"], gram["S_n"])
    delta_T = gram_difference(gram["T_d"], gram["T_n"])
    loss = cds_loss(features["S_d"], features["S_n"], features["T_d"], features["T_n"],
                    mode=mode, center=center)
    delta_S_array = delta_S[0].cpu().numpy()
    return {
        "delta_S": delta_S_array,
        "delta_T": delta_T[0].cpu().numpy(),
        "channels": changed_channels(delta_S_array),
        "norm_S": _frobenius(delta_S),
        "norm_T": _frobenius(delta_T),
        "norm_cities_day": _frobenius(gram_difference(gram["S_d"], gram["T_d"])),
        "norm_cities_night": _frobenius(gram_difference(gram["S_n"], gram["T_n"])),
        "L_CDS": float(loss),
        "mode": mode,
    }


CURVES = {  # history key → (label, colour, line style)
    "norm_S": ("‖G_Sd − G_Sn‖: source, day vs t", STREAM_COLOURS["S_n"], "o-"),
    "norm_T": ("‖G_Td − G_Tn‖: target, day vs t", STREAM_COLOURS["T_n"], "o-"),
    "norm_cities_night": ("‖G_Sn − G_Tn‖: the cities at t", "grey", "o--"),
}


class StyleView(FastFigure):
    """Rows source/target: the day image, the image at night strength t, and Δ = G_day − G_night
    cropped to the channels that change most on the source (the same channels, in the same
    order, on both rows; one symmetric colour scale with its bar). Right: ‖Δ‖_F against t for
    every t visited, with the cities' day difference ‖G_Sd − G_Td‖ as a dashed line."""

    def __init__(self, image_size: tuple[int, int], dpi: float = DEFAULT_DPI) -> None:
        height, width = image_size
        super().__init__((12.0, 4.6), dpi)
        grid = self.figure.add_gridspec(2, 4, width_ratios=(2, 2, 1.1, 0.06), left=0.01, right=0.6,
                                        bottom=0.13, top=0.86, wspace=0.3, hspace=0.45)
        self.images, self.titles, self.crops = {}, {}, {}
        for row, city in enumerate(("S", "T")):
            for col, stream in enumerate((f"{city}_d", f"{city}_n")):
                ax = self.figure.add_subplot(grid[row, col])
                self.images[stream] = image_axes(ax, (height, width))
                self.titles[stream] = ax.set_title(" ", fontsize=FONT["label"], loc="left")
            ax = self.crops[city] = self.figure.add_subplot(grid[row, 2])
            self.images[f"delta_{city}"] = ax.imshow(np.zeros((CROP, CROP)), cmap=DIVERGING_CMAP,
                                                     interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"Δ_{city} = G_{city}d − G_{city}n", fontsize=FONT["label"])
        bar = colour_bar(self.figure, self.images["delta_S"], None, "Δ, one scale for both",
                         cax=self.figure.add_subplot(grid[:, 3]))
        bar.formatter.set_powerlimits((-2, 3))
        self.crops["T"].set_xlabel(f"the {CROP} channels that change most\non S, most first (readout)",
                                   fontsize=FONT["tick"])
        self.curve = self.figure.add_gridspec(1, 1, left=0.7, right=0.98, bottom=0.13, top=0.86).subplots()
        self.curve.set_xlim(-0.02, 1.02)
        self.curve.set_xlabel("night strength t", fontsize=FONT["label"])
        self.curve.set_ylabel("‖ΔG‖_F (Frobenius)", fontsize=FONT["label"])
        self.curve.tick_params(labelsize=FONT["tick"])
        self.curve.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        self.lines = {key: self.curve.plot([], [], style, color=colour, ms=3, label=label)[0]
                      for key, (label, colour, style) in CURVES.items()}
        self.day_gap = self.curve.axhline(0.0, color="black", lw=0.8, ls=":", label="‖G_Sd − G_Td‖: the cities by day")
        self.current = self.curve.axvline(0.0, color="black", lw=0.8)
        self.curve.legend(fontsize=FONT["tick"] - 1, loc="upper left")
        self.title = self.figure.suptitle(" ", fontsize=FONT["title"])
        self.dynamic = [*self.images.values(), *self.titles.values(), *self.lines.values(), self.current, self.title]

    def static_key(self, last: Mapping[str, Any]) -> Any:
        # The colour bar, the curve's y range and the day-gap line (all rounded: they rarely move).
        return self.images["delta_S"].get_clim(), self.curve.get_ylim(), tuple(self.day_gap.get_ydata())

    def draw(self, last: Mapping[str, Any]) -> None:
        for stream in ("S_d", "S_n", "T_d", "T_n"):
            self.images[stream].set_data(last["images"][stream])
            when = "day" if stream.endswith("_d") else f"t = {last['night']:.2f}"
            self.titles[stream].set_text(f"{stream} ({when})")
        channels = last["channels"]
        crops = {city: last[f"delta_{city}"][np.ix_(channels, channels)] for city in ("S", "T")}
        spread = symmetric_range(*crops.values())
        for city, crop in crops.items():
            image = self.images[f"delta_{city}"]
            image.set_data(crop)
            image.set_clim(-spread, spread)
        history = last["history"]
        nights = sorted(history)
        for key, line in self.lines.items():
            line.set_data(nights, [history[t][key] for t in nights])
        top = max([history[t][key] for t in nights for key in self.lines] + [last["norm_cities_day"]])
        self.curve.set_ylim(0.0, nice_ceiling(CURVE_HEADROOM * top) if top > 0 else 1.0)
        self.day_gap.set_ydata([last["norm_cities_day"]] * 2)
        self.current.set_xdata([last["night"], last["night"]])
        self.title.set_text(f"night strength t = {last['night']:.2f}:  L_CDS ({last['mode']} mode) = "
                            f"{last['L_CDS']:.3g}")


def _check_scene(name: str, scene: Any) -> Scene:
    if not isinstance(scene, Scene):
        raise InputError(f"{name} must be a ToyCity Scene; got {type(scene).__name__}: pass e.g. "
                         f"{name}=ccdistill.toycity.sample_scene(0, 'source', (128, 256)), or leave it out")
    return scene


def _scenes(scene: Scene | None, other_scene: Scene | None, size: tuple[int, int], seed: Any) -> dict[str, Scene]:
    scenes = {
        "S": _check_scene("scene", scene) if scene is not None else sample_scene(seed, "source", size),
        "T": _check_scene("other_scene", other_scene) if other_scene is not None else sample_scene(seed, "target", size),
    }
    if scenes["S"].size != scenes["T"].size:
        raise InputError(
            f"scene is {scenes['S'].size} but other_scene is {scenes['T'].size}; "
            "sample both at one size (the network's input size)"
        )
    return scenes


class GramExplorer(Explorer):
    """How the Gram matrix of a scene moves away from its day style as night falls (issue 8, item 3).

    Args:
        model: a CCDistillModel (S_d, T_d through M_d; S_n, T_n through M_n) or one segmenter.
        scene: the source-city scene (default: `sample_scene(seed, "source", size)`).
        other_scene: the target-city scene (default: `sample_scene(seed, "target", size)`);
            both must have the size of `scene`.
        night: initial night strength t ∈ [0, 1].
        mode: L_CDS mode, "cosine" or "difference"; center: Gram on channel-centred features.
        size, seed: of the default scenes (the network's input size).
        noise_seed: sensor-noise seed of every rendering; day and night share it, so at t = 0
            the night image is the day image and Δ = 0.

    A value the controls cannot take is refused with one sentence, here as in `update()`.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        scene: Scene | None = None,
        other_scene: Scene | None = None,
        night: float = 1.0,
        mode: str = "cosine",
        center: bool = False,
        size: tuple[int, int] = (128, 256),
        seed: int = 0,
        noise_seed: int = 0,
    ) -> None:
        w = widgets()
        self.model = model
        self.scenes = _scenes(scene, other_scene, size, seed)
        self.center = check_flag("center", center)
        self.noise_seed = noise_seed
        # Cached: the two day renderings and their features; only the night side is recomputed.
        self.day_images = {f"{c}_d": render(s, 0.0, noise_seed=noise_seed) for c, s in self.scenes.items()}
        self.day_features = {k: out.features for k, out in stream_outputs(model, self.day_images).items()}
        self.history: dict[float, dict[str, float]] = {}
        self.controls = {
            "night": w.FloatSlider(min=0.0, max=1.0, step=NIGHT_STEP, description="night t",
                                   continuous_update=False),
            "mode": w.ToggleButtons(options=STYLE_MODES, description="L_CDS"),
        }
        self.view = StyleView(self.scenes["S"].size)
        self._build(night=night, mode=mode)

    def compute(self, night: float, mode: str) -> dict[str, Any]:
        night_images = {f"{c}_n": render(s, night, noise_seed=self.noise_seed) for c, s in self.scenes.items()}
        night_features = {k: out.features for k, out in stream_outputs(self.model, night_images).items()}
        last = compute_style({**self.day_features, **night_features}, mode, self.center)
        self.history[round(float(night), 6)] = {k: last[k] for k in CURVES}
        last.update(night=float(night), images={**self.day_images, **night_images},
                    history=dict(self.history))
        return last

    def describe(self, last: Mapping[str, Any]) -> str:
        return (
            f"<b>night strength t = {last['night']:.2f}</b>: "
            f"‖G_Sd − G_Sn‖_F = <b>{last['norm_S']:.4g}</b>, ‖G_Td − G_Tn‖_F = <b>{last['norm_T']:.4g}</b><br>"
            f"between cities: ‖G_Sd − G_Td‖_F = {last['norm_cities_day']:.4g} (day), "
            f"‖G_Sn − G_Tn‖_F = {last['norm_cities_night']:.4g} (at t)<br>"
            f"<b>L_CDS</b> ({last['mode']}) = <b>{last['L_CDS']:.4g}</b><br>"
            f"the {len(last['channels'])} channels shown (most changed on the source first): "
            + ", ".join(str(c) for c in last["channels"])
        )


def plot_gram_differences(
    model: torch.nn.Module,
    nights: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    scene: Scene | None = None,
    other_scene: Scene | None = None,
    mode: str = "cosine",
    size: tuple[int, int] = (128, 256),
    seed: int = 0,
    save: str | os.PathLike | None = None,
) -> Any:
    """The Gram explorer's figure after visiting `nights` (the curve holds every one), shown
    at the last; a matplotlib Figure (saved to `save`). Needs no ipywidgets."""
    if isinstance(nights, (str, bytes)) or not isinstance(nights, Sequence) or not nights:
        raise InputError(f"nights must be a non-empty sequence of night strengths in [0, 1]; got {nights!r}: "
                         "pass e.g. nights=(0.0, 0.5, 1.0)")
    nights = [check_number(f"nights[{i}]", t, 0.0, 1.0) for i, t in enumerate(nights)]
    check_choice("mode", mode, STYLE_MODES)
    scenes = _scenes(scene, other_scene, size, seed)
    images = {f"{c}_d": render(s, 0.0) for c, s in scenes.items()}
    history: dict[float, dict[str, float]] = {}
    last: dict[str, Any] = {}
    for night in nights:
        images.update({f"{c}_n": render(s, night) for c, s in scenes.items()})
        features = {k: out.features for k, out in stream_outputs(model, images).items()}
        last = compute_style(features, mode)
        history[float(night)] = {k: last[k] for k in CURVES}
    last.update(night=float(nights[-1]), images=dict(images), history=history)
    view = StyleView(scenes["S"].size)
    view.draw(last)
    return save_figure(view.figure, save)

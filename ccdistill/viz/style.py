"""Gram/style explorer: one ToyCity scene per city re-rendered at a night strength, its Gram
matrix compared with the day image's, between the cities too, and L_CDS (SPEC 4.4).

    explorer = GramExplorer(model)                  # a source and a target scene
    for t in (0.0, 0.5, 1.0):
        explorer.update(night=t)
        explorer.last["norm_S"]                      # ‖G_Sd − G_Sn‖_F grows with t
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ccdistill.errors import InputError
from ccdistill.losses import cds_loss, gram_difference, gram_matrix
from ccdistill.toycity import Scene, render, sample_scene
from ccdistill.viz._common import (
    DIVERGING_CMAP,
    STREAM_COLOURS,
    Explorer,
    FastFigure,
    save_figure,
    stream_outputs,
    widgets,
)

STYLE_MODES = ("cosine", "difference")
NIGHT_STEP = 0.05


def _frobenius(delta: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(delta)[0])


def compute_style(
    features: Mapping[str, torch.Tensor], mode: str = "cosine", center: bool = False
) -> dict[str, Any]:
    """Gram matrices of the four streams, their differences and L_CDS.

    Args:
        features: {S_d, S_n, T_d, T_n: 1×C×h×w} raw features F (the classifier's input).
        mode, center: as in `cds_loss` / `gram_matrix`.

    Returns:
        {"delta_S": C×C Δ_S = G_Sd − G_Sn, "delta_T": C×C Δ_T = G_Td − G_Tn,
        "norm_S", "norm_T": their Frobenius norms, "norm_cities_day": ‖G_Sd − G_Td‖_F,
        "norm_cities_night": ‖G_Sn − G_Tn‖_F, "L_CDS": float}.
    """
    gram = {name: gram_matrix(f, center) for name, f in features.items()}
    delta_S = gram_difference(gram["S_d"], gram["S_n"])
    delta_T = gram_difference(gram["T_d"], gram["T_n"])
    loss = cds_loss(features["S_d"], features["S_n"], features["T_d"], features["T_n"],
                    mode=mode, center=center)
    return {
        "delta_S": delta_S[0].cpu().numpy(),
        "delta_T": delta_T[0].cpu().numpy(),
        "norm_S": _frobenius(delta_S),
        "norm_T": _frobenius(delta_T),
        "norm_cities_day": _frobenius(gram_difference(gram["S_d"], gram["T_d"])),
        "norm_cities_night": _frobenius(gram_difference(gram["S_n"], gram["T_n"])),
        "L_CDS": float(loss),
        "mode": mode,
    }


class StyleView(FastFigure):
    """Rows source/target: day image, image at night strength t, Δ heatmap; right: ‖Δ‖ vs t."""

    def __init__(self, image_size: tuple[int, int], channels: int, dpi: float = 72) -> None:
        height, width = image_size
        super().__init__((10.0, 3.6), dpi)
        grid = self.figure.add_gridspec(2, 4, width_ratios=(2, 2, 1, 2.2), left=0.01, right=0.99,
                                        bottom=0.13, top=0.88, wspace=0.25, hspace=0.18)
        self.images = {}
        for row, city in enumerate(("S", "T")):
            for col, stream in enumerate((f"{city}_d", f"{city}_n")):
                ax = self.figure.add_subplot(grid[row, col])
                ax.set_axis_off()
                self.images[stream] = ax.imshow(np.zeros((height, width, 3), np.uint8), interpolation="nearest")
                ax.set_title(stream, fontsize=9, loc="left", pad=2)
            ax = self.figure.add_subplot(grid[row, 2])
            ax.set_axis_off()
            self.images[f"delta_{city}"] = ax.imshow(np.zeros((channels, channels)), cmap=DIVERGING_CMAP,
                                                     interpolation="nearest")
            ax.set_title(f"Δ_{city}", fontsize=9, loc="left", pad=2)
        self.curve = self.figure.add_subplot(grid[:, 3])
        self.curve.set_xlim(-0.02, 1.02)
        self.curve.set_xlabel("night strength", fontsize=9)
        self.curve.tick_params(labelsize=8)
        self.lines = {
            "norm_S": self.curve.plot([], [], "o-", color=STREAM_COLOURS["S_n"], ms=3, label="‖G_Sd − G_Sn‖")[0],
            "norm_T": self.curve.plot([], [], "o-", color=STREAM_COLOURS["T_n"], ms=3, label="‖G_Td − G_Tn‖")[0],
            "norm_cities_night": self.curve.plot([], [], "o--", color="grey", ms=3, label="‖G_Sn − G_Tn‖")[0],
        }
        # A fixed relative scale keeps the ticks static (blitted background); values are in the readout.
        self.curve.set_ylim(0.0, 1.15)
        self.curve.set_ylabel("‖Δ‖ / max", fontsize=8)
        self.current = self.curve.axvline(0.0, color="black", lw=0.8)
        self.curve.legend(fontsize=7, loc="upper left")
        self.title = self.curve.set_title(" ", fontsize=9)
        self.dynamic = [*self.images.values(), *self.lines.values(), self.current, self.title]

    def draw(self, last: Mapping[str, Any]) -> None:
        for stream in ("S_d", "S_n", "T_d", "T_n"):
            self.images[stream].set_data(last["images"][stream])
        spread = max(float(np.abs(last["delta_S"]).max()), float(np.abs(last["delta_T"]).max()))
        spread = spread if spread > 0 else 1.0  # t = 0: Δ = 0 exactly
        for city in ("S", "T"):
            self.images[f"delta_{city}"].set_data(last[f"delta_{city}"])
            self.images[f"delta_{city}"].set_clim(-spread, spread)
        history = last["history"]
        nights = sorted(history)
        top = max(max(history[t][key] for t in nights) for key in self.lines)
        top = top if top > 0 else 1.0
        for key, line in self.lines.items():
            line.set_data(nights, [history[t][key] / top for t in nights])
        self.current.set_xdata([last["night"], last["night"]])
        self.title.set_text(f"t = {last['night']:.2f}   L_CDS ({last['mode']}) = {last['L_CDS']:.3g}")


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
        self.scenes = {
            "S": scene if scene is not None else sample_scene(seed, "source", size),
            "T": other_scene if other_scene is not None else sample_scene(seed, "target", size),
        }
        if self.scenes["S"].size != self.scenes["T"].size:
            raise InputError(
                f"scene is {self.scenes['S'].size} but other_scene is {self.scenes['T'].size}; "
                "sample both at one size (the network's input size)"
            )
        self.center = center
        self.noise_seed = noise_seed
        # Cached: the two day renderings and their features; only the night side is recomputed.
        self.day_images = {f"{c}_d": render(s, 0.0, noise_seed=noise_seed) for c, s in self.scenes.items()}
        self.day_features = {k: out.features for k, out in stream_outputs(model, self.day_images).items()}
        self.history: dict[float, dict[str, float]] = {}
        channels = next(iter(self.day_features.values())).shape[1]
        self.controls = {
            "night": w.FloatSlider(value=night, min=0.0, max=1.0, step=NIGHT_STEP, description="night t",
                                   continuous_update=False),
            "mode": w.ToggleButtons(options=STYLE_MODES, value=mode, description="L_CDS"),
        }
        self.view = StyleView(self.scenes["S"].size, channels)
        self._build()

    def compute(self, night: float, mode: str) -> dict[str, Any]:
        night_images = {f"{c}_n": render(s, night, noise_seed=self.noise_seed) for c, s in self.scenes.items()}
        night_features = {k: out.features for k, out in stream_outputs(self.model, night_images).items()}
        last = compute_style({**self.day_features, **night_features}, mode, self.center)
        self.history[round(float(night), 6)] = {k: last[k] for k in ("norm_S", "norm_T", "norm_cities_night")}
        last.update(night=float(night), images={**self.day_images, **night_images},
                    history=dict(self.history))
        return last

    def describe(self, last: Mapping[str, Any]) -> str:
        return (
            f"<b>night strength t = {last['night']:.2f}</b>: "
            f"‖G_Sd − G_Sn‖_F = <b>{last['norm_S']:.4g}</b>, ‖G_Td − G_Tn‖_F = <b>{last['norm_T']:.4g}</b><br>"
            f"between cities: ‖G_Sd − G_Td‖_F = {last['norm_cities_day']:.4g} (day), "
            f"‖G_Sn − G_Tn‖_F = {last['norm_cities_night']:.4g} (at t)<br>"
            f"<b>L_CDS</b> ({last['mode']}) = <b>{last['L_CDS']:.4g}</b>"
        )


def plot_gram_differences(
    model: torch.nn.Module,
    nights: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
    scene: Scene | None = None,
    other_scene: Scene | None = None,
    mode: str = "cosine",
    size: tuple[int, int] = (128, 256),
    seed: int = 0,
    save: str | os.PathLike | None = None,
) -> Any:
    """The Gram explorer's figure after visiting `nights` (the curve holds every one), shown
    at the last; a matplotlib Figure (saved to `save`). Needs no ipywidgets."""
    scenes = {"S": scene if scene is not None else sample_scene(seed, "source", size),
              "T": other_scene if other_scene is not None else sample_scene(seed, "target", size)}
    images = {f"{c}_d": render(s, 0.0) for c, s in scenes.items()}
    history: dict[float, dict[str, float]] = {}
    last: dict[str, Any] = {}
    for night in nights:
        images.update({f"{c}_n": render(s, night) for c, s in scenes.items()})
        features = {k: out.features for k, out in stream_outputs(model, images).items()}
        last = compute_style(features, mode)
        history[float(night)] = {k: last[k] for k in ("norm_S", "norm_T", "norm_cities_night")}
    last.update(night=float(nights[-1]), images=dict(images), history=history)
    view = StyleView(scenes["S"].size, last["delta_S"].shape[0], dpi=100)
    view.draw(last)
    return save_figure(view.figure, save)

"""Translation explorer: S_d → S_n by FDA (with its β), Lab/Reinhard transfer, photometric
relighting or the true night rendering, beside the target-night reference
(docs/DATA.md, "S_d → S_n translation").

    streams = toy_streams(n=1, size=(256, 512))
    explorer = TranslationExplorer(streams["S_d"][0], streams["T_n"][0], true_night=streams["S_n"][0])
    explorer.update(method="fda", beta=0.05)
    explorer.last["S_n"]                    # the translated image
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ccdistill.data.translate import MAX_BETA, fda_translate, lab_statistics, lab_translate, relight
from ccdistill.errors import InputError
from ccdistill.viz._checks import check_number, check_choice
from ccdistill.viz._common import (
    DEFAULT_DPI,
    FONT,
    Explorer,
    FastFigure,
    as_image_stack,
    image_axes,
    new_figure,
    save_figure,
    widgets,
)

TRUE_NIGHT = "true night"
METHODS: tuple[str, ...] = ("fda", "lab", "relight", TRUE_NIGHT)
BETA_STEP = 0.005
BETA_MAX = 0.2  # the slider's range; FDA accepts up to MAX_BETA but rings long before
NO_TRUE_NIGHT = ("this explorer was built without the true night: pass true_night=<the same scene rendered "
                 "at night> (ToyCity's S_n) to the constructor")


def translate_day(
    day: np.ndarray,
    reference: np.ndarray,
    method: str = "fda",
    beta: float = 0.05,
    true_night: np.ndarray | None = None,
    seed: int = 0,
    known_statistics: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """S_n by one method, with the Lab statistics of S_d, S_n and the reference.

    Args:
        day: H×W×3 uint8 S_d; reference: h×w×3 uint8 target-night image T_n.
        method: "fda" (uses beta), "lab", "relight" (noise from `seed`) or "true night"
            (returns `true_night`, the same scene rendered at night).
        known_statistics: {"S_d", "T_n": `lab_statistics`} already computed (an explorer
            caches them; only S_n's change).

    Returns:
        {"S_n": H×W×3 uint8, "lab_mean"/"lab_std": {"S_d", "S_n", "T_n": (3,) Lab mean/std},
        "gap_before", "gap_after": Euclidean distance of the Lab means to the reference's
        (the global colour gap S_d → T_n and S_n → T_n), method, beta}.
    """
    beta = check_number("beta", beta, 0.0, MAX_BETA, " (FDA's window, a fraction of min(H, W))")
    if method == "fda":
        night = fda_translate(day, reference, beta)
    elif method == "lab":
        night = lab_translate(day, reference)
    elif method == "relight":
        night = relight(day, np.random.default_rng(seed))
    elif method == TRUE_NIGHT:
        if true_night is None:
            raise InputError("method 'true night' needs true_night=<the same scene rendered at night>")
        night = true_night
    else:
        check_choice("method", method, METHODS)
    known = dict(known_statistics or {})
    statistics = {name: known[name] if name in known else lab_statistics(image)
                  for name, image in (("S_d", day), ("S_n", night), ("T_n", reference))}
    means = {name: stats[0] for name, stats in statistics.items()}
    return {
        "S_n": night,
        "method": method,
        "beta": float(beta),
        "lab_mean": means,
        "lab_std": {name: stats[1] for name, stats in statistics.items()},
        "gap_before": float(np.linalg.norm(means["S_d"] - means["T_n"])),
        "gap_after": float(np.linalg.norm(means["S_n"] - means["T_n"])),
    }


def describe_method(last: Mapping[str, Any]) -> str:
    """'S_n by fda, β = 0.050' (β only for FDA, which alone uses it)."""
    return f"S_n by {last['method']}" + (f", β = {last['beta']:.3f}" if last["method"] == "fda" else "")


class TranslationView(FastFigure):
    """S_d | S_n (method) | T_n reference, each titled with its colour gap to T_n."""

    def __init__(self, image_size: tuple[int, int], reference_size: tuple[int, int], dpi: float = DEFAULT_DPI) -> None:
        height, width = image_size
        super().__init__((10.0, 10.0 / 3 * height / width + 0.5), dpi)
        self.axes = self.figure.subplots(1, 3)
        self.figure.subplots_adjust(left=0.005, right=0.995, bottom=0.01, top=0.86, wspace=0.02)
        self.images = [image_axes(ax, size) for ax, size in zip(self.axes, (image_size, image_size, reference_size))]
        self.titles = [ax.set_title(" ", fontsize=FONT["label"]) for ax in self.axes]
        self.axes[2].set_title("T_n (target-night reference)", fontsize=FONT["label"])
        self.dynamic = [*self.images, *self.titles[:2]]

    def draw(self, last: Mapping[str, Any]) -> None:
        self.images[0].set_data(last["S_d"])
        self.images[1].set_data(last["S_n"])
        self.images[2].set_data(last["T_n"])
        self.titles[0].set_text(f"S_d (source day): colour gap to T_n {last['gap_before']:.1f}")
        self.titles[1].set_text(f"{describe_method(last)}: gap {last['gap_after']:.1f}")


class TranslationExplorer(Explorer):
    """S_d → S_n by each translation method, beside the target-night reference (issue 8, item 3).

    Args:
        day: H×W×3 uint8 source-day image S_d.
        reference: h×w×3 uint8 target-night image T_n (FDA and Lab take their style from it).
        true_night: H×W×3 uint8, the same source scene at night (ToyCity's oracle); adds
            "true night" to the methods.
        method, beta: initial method and FDA window (fraction of min(H, W)).
        seed: relight's noise seed.
    """

    def __init__(
        self,
        day: np.ndarray,
        reference: np.ndarray,
        true_night: np.ndarray | None = None,
        method: str = "fda",
        beta: float = 0.05,
        seed: int = 0,
    ) -> None:
        w = widgets()
        self.day = as_image_stack("day", day)[0]
        self.reference = as_image_stack("reference", reference)[0]
        self.true_night = None if true_night is None else as_image_stack("true_night", true_night)[0]
        self.seed = seed
        self.statistics = {"S_d": lab_statistics(self.day), "T_n": lab_statistics(self.reference)}
        methods = [m for m in METHODS if m != TRUE_NIGHT or self.true_night is not None]
        self.unavailable = {"method": {TRUE_NIGHT: NO_TRUE_NIGHT}} if self.true_night is None else {}
        self.controls = {
            "method": w.Dropdown(options=methods, description="method"),
            "beta": w.FloatSlider(min=0.0, max=min(BETA_MAX, MAX_BETA), step=BETA_STEP,
                                  description="β (FDA)", readout_format=".3f", continuous_update=False),
        }
        self.view = TranslationView(self.day.shape[:2], self.reference.shape[:2])
        self._build(method=method, beta=beta)

    def active(self, values: Mapping[str, Any]) -> dict[str, bool]:
        return {"beta": values["method"] == "fda"}  # only FDA has a window

    def compute(self, method: str, beta: float) -> dict[str, Any]:
        last = translate_day(self.day, self.reference, method, beta, self.true_night, self.seed,
                             self.statistics)
        last.update(S_d=self.day, T_n=self.reference)
        return last

    def describe(self, last: Mapping[str, Any]) -> str:
        def lab(name: str) -> str:
            mean, std = last["lab_mean"][name], last["lab_std"][name]
            return f"L {mean[0]:.1f}±{std[0]:.1f}, a {mean[1]:+.1f}, b {mean[2]:+.1f}"

        return (
            f"<b>{describe_method(last)}</b>"
            + f"<br>Lab mean±std — S_d: {lab('S_d')}; S_n: {lab('S_n')}; T_n: {lab('T_n')}"
            + f"<br>colour gap to T_n (distance of Lab means): S_d {last['gap_before']:.2f} → "
              f"<b>S_n {last['gap_after']:.2f}</b>"
        )


def plot_translations(
    day: np.ndarray,
    reference: np.ndarray,
    true_night: np.ndarray | None = None,
    beta: float = 0.05,
    save: str | os.PathLike | None = None,
) -> Any:
    """S_d, the T_n reference and S_n by every method (the true night when given), each titled
    with its colour gap to T_n (distance of Lab means); a matplotlib Figure (saved to `save`).
    Needs no ipywidgets."""
    day = as_image_stack("day", day)[0]
    reference = as_image_stack("reference", reference)[0]
    true_night = None if true_night is None else as_image_stack("true_night", true_night)[0]
    results = [translate_day(day, reference, method, beta, true_night)
               for method in METHODS if method != TRUE_NIGHT or true_night is not None]
    panels = [(day, f"S_d (source day): gap {results[0]['gap_before']:.1f}"),
              (reference, "T_n (target-night reference)")]
    panels += [(last["S_n"], f"{describe_method(last)}: gap {last['gap_after']:.1f}") for last in results]
    columns = 3
    rows = -(-len(panels) // columns)
    height, width = day.shape[:2]
    figure = new_figure((10.0, rows * (10.0 / columns * height / width + 0.5) + 0.3))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(image)
        ax.set_title(title, fontsize=FONT["label"])
    for ax in axes:
        ax.set_axis_off()
    figure.suptitle("source day → night by each method; gap: distance of the Lab mean colours to T_n",
                    fontsize=FONT["title"])
    figure.tight_layout()
    return save_figure(figure, save)

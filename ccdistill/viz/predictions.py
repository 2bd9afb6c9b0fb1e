"""Prediction browser: an image slider over a split, the ground truth and two (or more) models
side by side — e.g. source-only vs CCDistill — by night or on the paired day image, with the
per-image IoU (docs/TRAINING.md, "Evaluation").

    split = load_toycity_split("data/toycity", "val", size=(128, 256))
    browser = PredictionBrowser({"source-only": baseline, "CCDistill": model.deploy()}, split)
    browser.update(index=3, domain="night")
    browser.last["miou"]                    # {model name: mIoU of image 3}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ccdistill.errors import InputError
from ccdistill.evaluation import ConfusionMatrix, predict
from ccdistill.data.transforms import resize_sample
from ccdistill.labels import CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES, PALETTE
from ccdistill.viz._checks import check_integer, check_choice, check_count
from ccdistill.viz._common import (
    DEFAULT_DPI,
    FONT,
    Explorer,
    FastFigure,
    as_image_stack,
    image_axes,
    images_to_batch,
    model_normalization,
    label_colours,
    save_figure,
    widgets,
)

DOMAINS = ("night", "day")
NO_DAY = "the split holds no 'day' images: pass a split with the paired day references (load_toycity_split gives them)"


@torch.inference_mode()
def predict_labels(
    model: torch.nn.Module, images: np.ndarray, output_size: tuple[int, int] | None = None
) -> np.ndarray:
    """N×H×W×3 uint8 → N×h×w uint8 trainIds (argmax of `evaluation.predict`), one image at a time."""
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    labels = []
    for image in as_image_stack("images", images):
        probabilities = predict(model, images_to_batch(image[None], device, model_normalization(model)), output_size=output_size)
        labels.append(probabilities.argmax(dim=1)[0].to(torch.uint8).cpu().numpy())
    return np.stack(labels)


def image_scores(prediction: np.ndarray, label: np.ndarray, num_classes: int) -> dict[str, Any]:
    """Per-image mIoU, pixel accuracy and per-class IoU (`ConfusionMatrix` of this image alone)."""
    matrix = ConfusionMatrix(num_classes=num_classes, ignore_index=IGNORE_INDEX)
    matrix.update(prediction[None], label[None])
    result = matrix.compute()
    return {"miou": result["miou"], "pixel_accuracy": result["pixel_accuracy"],
            "per_class_iou": result["per_class_iou"]}


def classes_shown(last: Mapping[str, Any]) -> tuple[int, ...]:
    """The trainIds present in the ground truth or any prediction shown (ignored pixels left out)."""
    maps = [p for p in last["predictions"].values()] + ([last["label"]] if last["label"] is not None else [])
    present = set(np.unique(np.concatenate([np.unique(m) for m in maps])).tolist()) - {IGNORE_INDEX}
    return tuple(sorted(c for c in present if c < len(CLASS_NAMES)))


class PredictionView(FastFigure):
    """image | ground truth | one panel per model (titled with its per-image mIoU), and a legend
    of the classes present in the panels (white: ignored pixels)."""

    def __init__(self, names: list[str], image_size: tuple[int, int], dpi: float = DEFAULT_DPI) -> None:
        height, width = image_size
        columns = 2 + len(names)
        super().__init__((2.7 * columns, 2.7 * height / width + 1.1), dpi)
        self.axes = self.figure.subplots(1, columns)
        self.figure.subplots_adjust(left=0.005, right=0.995, bottom=0.3, top=0.88, wspace=0.03)
        self.images = [image_axes(ax, (height, width)) for ax in self.axes]
        self.titles = [ax.set_title(" ", fontsize=FONT["label"]) for ax in self.axes]
        self.legend: Any = None
        self._classes: tuple[int, ...] | None = None
        self.dynamic = [*self.images, *self.titles]

    def static_key(self, last: Mapping[str, Any]) -> Any:
        return classes_shown(last)

    def _legend(self, classes: tuple[int, ...]) -> None:
        from matplotlib.patches import Patch

        if classes == self._classes:
            return
        self._classes = classes
        if self.legend is not None:
            self.legend.remove()
        handles = [Patch(facecolor=PALETTE[c] / 255.0, edgecolor="grey", label=CLASS_NAMES[c]) for c in classes]
        handles.append(Patch(facecolor="white", edgecolor="grey", label="ignored"))
        self.legend = self.figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 8),
                                         fontsize=FONT["tick"], frameon=False, handlelength=1.2,
                                         columnspacing=1.0)

    def draw(self, last: Mapping[str, Any]) -> None:
        panels = [(last["image"], f"{last['domain']} image {last['index']}"),
                  (label_colours(last["label"]) if last["label"] is not None else None, "ground truth (night label)")]
        for name, prediction in last["predictions"].items():
            miou = last["miou"].get(name)
            caption = f"{name}" + (f": mIoU {100 * miou:.1f}" if miou is not None else " (day: not scored)")
            panels.append((label_colours(prediction), caption))
        for image, title, (array, caption) in zip(self.images, self.titles, panels):
            blank = np.full_like(last["image"], 255)
            image.set_data(blank if array is None else array)
            title.set_text(caption if array is not None else "no label aligned with the day image")
        self._legend(classes_shown(last))


class PredictionBrowser(Explorer):
    """Browse a split's predictions of several models (issue 8, item 3).

    Every prediction is computed once at construction (`evaluation.predict`, argmax), so the
    slider only redraws.

    Args:
        models: {name: segmenter}, e.g. {"source-only": M_d, "CCDistill": model.deploy()}.
        split: {"night": N×H×W×3 uint8, "label": N×H'×W' trainIds of the night images,
            optional "day": N×H×W×3 paired day images}, e.g. `load_toycity_split(...)`.
            Predictions are made at the image size and scored at the label size.
        num_classes: K for the IoU (default: the first model's `num_classes`, else 19).
        index, domain: the initial image and "night" or "day" (day needs the split's "day").

    A value the controls cannot take (an index outside the split, "2" for 2, ...) is refused
    with one sentence, here as in `update()`.
    """

    def __init__(
        self,
        models: Mapping[str, torch.nn.Module],
        split: Mapping[str, np.ndarray],
        num_classes: int | None = None,
        index: int = 0,
        domain: str = "night",
    ) -> None:
        w = widgets()
        if not models:
            raise InputError("models is empty; pass {name: segmenter}, e.g. {'CCDistill': model.deploy()}")
        if "night" not in split or "label" not in split:
            raise InputError(
                f"split has keys {sorted(split)}, but 'night' images and their 'label' are needed; "
                "e.g. load_toycity_split('data/toycity', 'val')"
            )
        self.images = {"night": as_image_stack("night", split["night"])}
        if "day" in split:
            self.images["day"] = as_image_stack("day", split["day"])
        self.labels = np.asarray(split["label"])
        count = len(self.images["night"])
        if len(self.labels) != count:
            raise InputError(f"split holds {count} night images but {len(self.labels)} labels")
        label_size = tuple(self.labels.shape[1:3])
        num_classes = check_count("num_classes", num_classes, 1) if num_classes is not None else \
            int(getattr(next(iter(models.values())), "num_classes", NUM_CLASSES))
        # The cache: predictions at the label size for every model, domain and image.
        self.predictions = {
            domain: {name: predict_labels(model, images, label_size) for name, model in models.items()}
            for domain, images in self.images.items()
        }
        # Day references are GPS-paired, not pixel-aligned: only night images are scored.
        self.scores = [
            {name: image_scores(self.predictions["night"][name][i], self.labels[i], num_classes)
             for name in models}
            for i in range(count)
        ]
        self.display = {domain: self._at_label_size(images, label_size) for domain, images in self.images.items()}
        self.unavailable = {} if "day" in self.images else {"domain": {"day": NO_DAY}}
        self.controls = {
            "index": w.IntSlider(min=0, max=count - 1, description="image", continuous_update=False),
            "domain": w.ToggleButtons(options=list(self.images), description="domain"),
        }
        self.view = PredictionView(list(models), label_size)
        self._build(index=index, domain=domain)

    @staticmethod
    def _at_label_size(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return np.stack([resize_sample({"image": image}, size)["image"] for image in images])

    def compute(self, index: int, domain: str) -> dict[str, Any]:
        scored = domain == "night"
        return {
            "index": index,
            "domain": domain,
            "image": self.display[domain][index],
            "label": self.labels[index] if scored else None,
            "predictions": {name: p[index] for name, p in self.predictions[domain].items()},
            "miou": {name: s["miou"] for name, s in self.scores[index].items()} if scored else {},
            "pixel_accuracy": ({name: s["pixel_accuracy"] for name, s in self.scores[index].items()}
                               if scored else {}),
        }

    def describe(self, last: Mapping[str, Any]) -> str:
        if not last["miou"]:
            return (f"<b>image {last['index']}</b>, {last['domain']}: the day image is the GPS-paired "
                    "reference (not pixel-aligned with the night label), so it is not scored")
        rows = ", ".join(f"{name}: <b>mIoU {100 * last['miou'][name]:.1f}</b> "
                         f"(pixel acc. {100 * last['pixel_accuracy'][name]:.1f})" for name in last["miou"])
        return f"<b>image {last['index']}</b>, night — {rows}"


def plot_predictions(
    models: Mapping[str, torch.nn.Module],
    split: Mapping[str, np.ndarray],
    index: int = 0,
    domain: str = "night",
    save: str | os.PathLike | None = None,
) -> Any:
    """One image of the prediction browser as a matplotlib Figure (saved to `save`): the image,
    the ground truth and each model's prediction with its per-image mIoU, a legend of classes."""
    if "night" not in split or "label" not in split:
        raise InputError(f"split has keys {sorted(split)}, but 'night' images and their 'label' are needed; "
                         "e.g. load_toycity_split('data/toycity', 'val')")
    index = check_integer("index", index, 0, len(split["night"]) - 1, " (an image of the split)")
    check_choice("domain", domain, [d for d in DOMAINS if d in split], {"day": NO_DAY})
    one = {key: np.asarray(value)[index:index + 1] for key, value in split.items()}
    labels = np.asarray(one["label"])
    label_size = tuple(labels.shape[1:3])
    images = as_image_stack(domain, one[domain])
    predictions = {name: predict_labels(model, images, label_size)[0] for name, model in models.items()}
    scored = domain == "night"
    last = {
        "index": index, "domain": domain,
        "image": PredictionBrowser._at_label_size(images, label_size)[0],
        "label": labels[0] if scored else None,
        "predictions": predictions,
        "miou": {n: image_scores(p, labels[0], int(getattr(models[n], "num_classes", NUM_CLASSES)))["miou"] for n, p in predictions.items()} if scored else {},
    }
    view = PredictionView(list(models), label_size)
    view.draw(last)
    return save_figure(view.figure, save)

"""Images for the explorers: the four streams rendered in memory from ToyCity scenes, or a
ToyCity evaluation split read from disk (with a one-sentence error when it is not there)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ccdistill.data.transforms import IMAGE_KEYS, resize_sample
from ccdistill.errors import InputError
from ccdistill.toycity import paired_scene, render, sample_scene

DAY, NIGHT = 0.0, 1.0  # night strengths of the rendered day and night images


def toy_streams(
    n: int = 2, size: tuple[int, int] = (128, 256), seed: int = 0, night: float = NIGHT
) -> dict[str, np.ndarray]:
    """The four streams of n ToyCity scenes, rendered in memory (no dataset folder needed).

    S_d/S_n: a source-city scene by day and at night strength `night` (the true night, pixel
    aligned with S_d); T_d/T_n: a target-city scene by day and its GPS-style pair at night
    (same place, traffic re-sampled, camera moved slightly), as in the generated benchmark.

    Returns:
        {"S_d", "S_n", "T_d", "T_n": n×H×W×3 uint8, "label": n×H×W uint8 trainIds of S_d/S_n,
        "label_T_n": n×H×W trainIds of T_n}.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n must be a positive number of scenes; got {n!r}")
    streams: dict[str, list[np.ndarray]] = {k: [] for k in ("S_d", "S_n", "T_d", "T_n", "label", "label_T_n")}
    for index in range(n):
        source = sample_scene((seed, index), "source", size)
        target = sample_scene((seed, index), "target", size)
        target_night = paired_scene(target, (seed, index, 1))
        streams["S_d"].append(render(source, DAY, noise_seed=index))
        streams["S_n"].append(render(source, night, noise_seed=index))
        streams["T_d"].append(render(target, DAY, noise_seed=index))
        streams["T_n"].append(render(target_night, night, noise_seed=index))
        streams["label"].append(source.label)
        streams["label_T_n"].append(target_night.label)
    return {name: np.stack(arrays) for name, arrays in streams.items()}


def require_toycity(root: str | os.PathLike, given_by: str = "root=") -> Path:
    """`root` as a Path if it holds a generated ToyCity, else DataError saying how to make it."""
    from ccdistill.notebook import require_toycity as require

    return require(root, given_by)


def load_toycity_split(
    root: str | os.PathLike = "data/toycity",
    split: str = "val",
    max_images: int | None = None,
    size: tuple[int, int] | None = None,
) -> dict[str, np.ndarray]:
    """A ToyCity target evaluation split as arrays (the prediction browser's and embedding view's input).

    Args:
        root: the folder `ccdistill data toy --root` wrote.
        split: "val" or "test".
        max_images: the first images only (None: all).
        size: resize the images (bilinear) to (H, W), e.g. the network input size; the labels
            keep their resolution.

    Returns:
        {"night": N×H×W×3 uint8 (T_n), "day": N×H×W×3 uint8 (the paired day references T_d),
        "label": N×H'×W' uint8 trainIds of the night images}.
    """
    from ccdistill.data.darkzurich import DarkZurichEval  # reads files: imported when used

    dataset = DarkZurichEval(require_toycity(root) / "target", split)
    count = len(dataset) if max_images is None else min(int(max_images), len(dataset))
    night, day, label = [], [], []
    for index in range(count):
        sample = dataset.load(index)
        if size is not None:
            sample = resize_sample(sample, size, keys=IMAGE_KEYS)
        night.append(sample["image"])
        day.append(sample["image_ref"])
        label.append(sample["label"])
    return {"night": np.stack(night), "day": np.stack(day), "label": np.stack(label)}

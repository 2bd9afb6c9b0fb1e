"""Configuration dataclasses (filled in further by the training engine).

`DataConfig` is what `ccdistill.data.build_datasets` reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DataConfig:
    """Where the four streams come from and how they are augmented (SPEC 4.7, 5)."""

    dataset: str = "toycity"  # toycity | cityscapes_darkzurich | cityscapes_acdc
    root: str = "data/toycity"  # ToyCity root (dataset=toycity)
    source_root: str = ""  # Cityscapes root (leftImg8bit/, gtFine/)
    target_root: str = ""  # Dark Zurich or ACDC root (rgb_anon/, gt/, corresp/)
    corresp: str = ""  # optional single Dark Zurich pair-list CSV instead of corresp/train/night/
    translation: str = "fda"  # S_d -> S_n: fda | lab | relight | folder | none
    translation_beta: float = 0.01  # FDA low-frequency window (fraction of the image size)
    translation_folder: str = ""  # translation=folder: precomputed night images matched by stem
    source_scale: tuple[float, float] = (0.5, 1.0)  # Cityscapes random rescale range
    source_crop: tuple[int, int] = (512, 512)  # (H, W) crop of S_d/S_n/label
    target_scale: tuple[float, float] = (0.9, 1.1)  # shared T_d/T_n rescale range
    target_crop: tuple[int, int] = (960, 960)  # shared T_d/T_n crop before resizing
    target_size: tuple[int, int] = (512, 512)  # (H, W) after the crop is resized
    eval_split: str = "val"  # val | test
    eval_size: tuple[int, int] | None = None  # (H, W) the network sees at evaluation; None = native
    num_workers: int = 2

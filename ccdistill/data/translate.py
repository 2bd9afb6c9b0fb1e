"""Source-day -> night translation S_d -> S_n (docs/DATA.md, "S_d → S_n translation"):
training-free and pixel-aligned, so the night image keeps the Cityscapes label of the day image.

Methods (all on H×W×3 uint8 arrays, all returning H×W×3 uint8 of the day image's shape):

- `fda_translate`   Fourier Domain Adaptation: the day image keeps its phase (structure) and
                    takes the low-frequency amplitude (global colour, brightness, illumination
                    gradients) of a target-night reference.
- `lab_translate`   Reinhard colour transfer: match the per-channel mean and standard deviation
                    of a target-night reference in CIE Lab.
- `relight`         a photometric night: gamma, exposure, colour temperature and
                    Poisson-Gaussian sensor noise; needs no reference.
- `FolderTranslation` precomputed night images (e.g. from a CycleGAN) matched by file stem.

`build_translator(method, beta, folder)` returns a `Translator`, the callable
`(day, reference, name, rng) -> night` the data pipeline calls on the fly;
`translate_folder` (offline_translation.py) runs one offline over a folder and caches the
results as PNGs. The colour conversions are in colour.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from ccdistill.data.colour import UINT8_MAX, decode_srgb, encode_srgb, lab_to_rgb, rgb_to_lab, to_uint8
from ccdistill.errors import DataError, InputError

METHODS: tuple[str, ...] = ("fda", "lab", "relight", "folder", "none")
REFERENCE_METHODS: tuple[str, ...] = ("fda", "lab")  # methods that need a target-night reference
FOLDER_METHODS: tuple[str, ...] = ("fda", "lab", "relight", "none")  # usable by translate_folder
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg")
# File-name endings that are not part of the sample's identity (Cityscapes, Dark Zurich, ACDC,
# CycleGAN test outputs); longest first so "_ref_rgb_anon" wins over "_rgb_anon".
NAME_SUFFIXES: tuple[str, ...] = tuple(sorted(
    ("_leftImg8bit", "_rgb_anon", "_ref_rgb_anon", "_rgb_ref_anon", "_fake_B", "_fake", "_night"),
    key=len, reverse=True,
))
MAX_BETA = 0.5  # beyond half the image the "low-frequency" window is the whole spectrum
LAB_EPSILON = 1e-6  # guards a channel with zero spread (Lab std, FDA amplitude)
# relight: the warm (+) / cool (-) direction of `temperature` as per-channel gain changes.
TEMPERATURE_GAINS = np.array([0.30, 0.0, -0.45], dtype=np.float32)
# Signal level (linear) at which shot noise equals read noise in `relight`.
SHOT_REFERENCE_LEVEL = 0.05


# ---------------------------------------------------------------------------------------------
# Translation functions


def _check_image(image: np.ndarray, what: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(
            f"{what} must be an H×W×3 uint8 RGB array, got {image.dtype} {image.shape}; "
            "read images with ccdistill.data.io.read_image."
        )
    return image


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """H×W×3 uint8 -> size[0]×size[1]×3 uint8 (bilinear; returned unchanged if already that size)."""
    if image.shape[:2] == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BILINEAR))


def low_frequency_mask(size: tuple[int, int], beta: float) -> np.ndarray:
    """H×W bool mask of the FFT bins (unshifted `fft2` layout) that FDA swaps.

    b = floor(beta · min(H, W)); the window holds the frequencies with |k_y| < b and |k_x| < b,
    i.e. the FDA paper's four b×b corner blocks of the unshifted spectrum made symmetric, so the
    result stays real. beta = 0 gives an empty window (the image is unchanged).
    """
    height, width = size
    half = int(np.floor(beta * min(height, width)))
    ky = np.abs(np.fft.fftfreq(height) * height)
    kx = np.abs(np.fft.fftfreq(width) * width)
    return (ky < half)[:, None] & (kx < half)[None, :]


def fda_translate(day: np.ndarray, reference: np.ndarray, beta: float = 0.01) -> np.ndarray:
    """FDA-style translation: swap the low-frequency amplitude of `day` with the reference's.

    Args:
        day: H×W×3 uint8 source-day image S_d.
        reference: h×w×3 uint8 target-night image (resized to H×W first).
        beta: window size as a fraction of min(H, W) (see `low_frequency_mask`); 0 = no change,
            larger values transfer more of the reference's illumination and, beyond ~0.05,
            visible ringing.

    Returns:
        H×W×3 uint8: the day image's phase with the reference's low-frequency amplitude.
    """
    day = _check_image(day, "day")
    reference = _resize(_check_image(reference, "reference"), day.shape[:2])
    if not 0.0 <= beta <= MAX_BETA:
        raise InputError(f"beta must be in [0, {MAX_BETA}], got {beta}; FDA's usual values are 0.005-0.05.")
    height, width = day.shape[:2]
    # Real FFT along x: only the non-negative k_x half is stored (the rest is its mirror).
    mask = low_frequency_mask((height, width), beta)[:, : width // 2 + 1]
    if not mask.any():
        return day.copy()
    day_spectrum = np.fft.rfft2(day.astype(np.float32), axes=(0, 1))
    reference_spectrum = np.fft.rfft2(reference.astype(np.float32), axes=(0, 1))
    window = day_spectrum[mask]
    # New amplitude, same phase: rescale each swapped bin by |reference| / |day|.
    scale = np.abs(reference_spectrum[mask]) / np.maximum(np.abs(window), LAB_EPSILON)
    day_spectrum[mask] = window * scale
    mixed = np.fft.irfft2(day_spectrum, s=(height, width), axes=(0, 1))
    return to_uint8(mixed / UINT8_MAX)


def lab_statistics(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) of an H×W×3 uint8 image in CIE Lab, each of shape (3,)."""
    lab = rgb_to_lab(_check_image(image, "image")).reshape(-1, 3)
    return lab.mean(axis=0), lab.std(axis=0)


def lab_translate(day: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Reinhard colour transfer in CIE Lab: give `day` the Lab mean and std of `reference`.

    Args:
        day: H×W×3 uint8 source-day image S_d.
        reference: h×w×3 uint8 target-night image (any size: only its statistics are used).

    Returns:
        H×W×3 uint8 with, per Lab channel, (day - mean_day) / std_day · std_ref + mean_ref.
    """
    day = _check_image(day, "day")
    reference = _check_image(reference, "reference")
    lab = rgb_to_lab(day)
    day_mean, day_std = lab.reshape(-1, 3).mean(axis=0), lab.reshape(-1, 3).std(axis=0)
    ref_mean, ref_std = lab_statistics(reference)
    matched = (lab - day_mean) / np.maximum(day_std, LAB_EPSILON) * ref_std + ref_mean
    return lab_to_rgb(matched)


def relight(
    day: np.ndarray,
    rng: np.random.Generator | None = None,
    gamma: float = 1.8,
    temperature: float = 0.5,
    exposure: float = 0.22,
    noise: float = 0.012,
) -> np.ndarray:
    """Photometric night relighting of a day image (no reference needed).

    In linear RGB: x -> exposure · gains(temperature) · x^gamma, plus Poisson-Gaussian sensor
    noise with std noise · sqrt(1 + x / SHOT_REFERENCE_LEVEL), then back to sRGB.

    Args:
        day: H×W×3 uint8 source-day image.
        rng: generator of the noise (None: a fixed seed 0, i.e. deterministic).
        gamma: > 1 darkens mid-tones more than highlights (night contrast).
        temperature: colour shift from neutral (0) toward warm sodium light (+1) or cool
            blue moonlight/LED (-1).
        exposure: overall brightness factor after the gamma.
        noise: read-noise std in linear units (0 = no noise).

    Returns:
        H×W×3 uint8 night-looking image.
    """
    day = _check_image(day, "day")
    if gamma <= 0 or exposure < 0 or noise < 0:
        raise InputError(f"relight needs gamma > 0, exposure >= 0 and noise >= 0; got {gamma}, {exposure}, {noise}.")
    rng = rng if rng is not None else np.random.default_rng(0)
    linear = decode_srgb(day)
    gains = np.clip(1.0 + temperature * TEMPERATURE_GAINS, 0.0, None)
    night = np.float32(exposure) * gains.astype(np.float32) * linear ** np.float32(gamma)
    if noise > 0:
        sigma = np.float32(noise) * np.sqrt(1.0 + night / np.float32(SHOT_REFERENCE_LEVEL))
        night = night + sigma * rng.standard_normal(night.shape, dtype=np.float32)
    return encode_srgb(night)


# ---------------------------------------------------------------------------------------------
# Translators: the callables the data pipeline uses


class Translator(Protocol):
    """`(day, reference, name, rng) -> night`: day H×W×3 uint8 S_d, reference an h×w×3 uint8
    target-night image or None, name the sample's file stem; returns H×W×3 uint8 S_n."""

    def __call__(
        self, day: np.ndarray, reference: np.ndarray | None, name: str, rng: np.random.Generator
    ) -> np.ndarray: ...


def _need_reference(method: str, reference: np.ndarray | None, name: str) -> np.ndarray:
    if reference is None:
        raise InputError(
            f"translation {method!r} needs a target-night reference image for {name!r} but got None; "
            "pass night_references to the source streams, or use method 'relight' or 'none'."
        )
    return reference


class FDATranslator:
    """Translator for `fda_translate` with a fixed beta."""

    def __init__(self, beta: float = 0.01) -> None:
        if not 0.0 <= beta <= MAX_BETA:
            raise InputError(f"beta must be in [0, {MAX_BETA}], got {beta}; FDA's usual values are 0.005-0.05.")
        self.beta = beta

    def __call__(self, day, reference, name, rng):
        return fda_translate(day, _need_reference("fda", reference, name), self.beta)

    def __repr__(self) -> str:
        return f"FDATranslator(beta={self.beta})"


class LabTranslator:
    """Translator for `lab_translate`."""

    def __call__(self, day, reference, name, rng):
        return lab_translate(day, _need_reference("lab", reference, name))

    def __repr__(self) -> str:
        return "LabTranslator()"


class RelightTranslator:
    """Translator for `relight` (the reference is ignored; the noise comes from `rng`)."""

    def __init__(self, **settings: float) -> None:
        self.settings = settings

    def __call__(self, day, reference, name, rng):
        return relight(day, rng, **self.settings)

    def __repr__(self) -> str:
        return f"RelightTranslator({self.settings})"


class IdentityTranslator:
    """method='none': S_n = S_d (the source-only / no-translation ablation)."""

    def __call__(self, day, reference, name, rng):
        return _check_image(day, "day")

    def __repr__(self) -> str:
        return "IdentityTranslator()"


def sample_stem(file_name: str) -> str:
    """A file name or stem -> the sample's identity: extension and dataset suffixes removed.

    'aachen_000000_000019_leftImg8bit.png', 'aachen_000000_000019_leftImg8bit' and
    'aachen_000000_000019_fake_B.jpg' all give 'aachen_000000_000019'.
    """
    stem = file_name
    lower = stem.lower()
    for extension in IMAGE_EXTENSIONS:
        if lower.endswith(extension):
            stem = stem[: -len(extension)]
            break
    for suffix in NAME_SUFFIXES:
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


class FolderTranslation:
    """Precomputed night images (e.g. CycleGAN outputs) looked up by sample stem.

    Every *.png/*.jpg under `folder` (recursively) is indexed by `sample_stem(file name)`, so
    '<stem>_leftImg8bit.png', '<stem>.png' and '<stem>_fake_B.png' all match a day image named
    '<stem>_leftImg8bit'. An image of another size than the day image is resized to it (bilinear).
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(
                f"translation folder {self.folder} does not exist; point it at a folder of precomputed "
                "night images named like the day images (e.g. <stem>_leftImg8bit.png)."
            )
        self.index: dict[str, Path] = {}
        for path in sorted(self.folder.rglob("*")):
            if path.suffix.lower() not in IMAGE_EXTENSIONS or not path.is_file():
                continue
            stem = sample_stem(path.name)
            if stem in self.index:
                raise DataError(
                    f"translation folder {self.folder} holds two images for stem {stem!r}: "
                    f"{self.index[stem]} and {path}; keep one."
                )
            self.index[stem] = path
        if not self.index:
            raise DataError(
                f"translation folder {self.folder} holds no image ({', '.join(IMAGE_EXTENSIONS)}); "
                "generate the night images first."
            )

    def path_for(self, name: str) -> Path:
        """The precomputed image of sample `name` (any suffix); DataError if there is none."""
        stem = sample_stem(name)
        if stem not in self.index:
            example = next(iter(self.index))
            raise DataError(
                f"translation folder {self.folder} has no image for stem {stem!r} (from {name!r}); "
                f"it holds {len(self.index)} images, e.g. {self.index[example].name}. Translate the "
                "missing image or point the folder at the complete set."
            )
        return self.index[stem]

    def __call__(self, day, reference, name, rng):
        from ccdistill.data.io import read_image  # io pulls in torch; only folder translation needs it

        day = _check_image(day, "day")
        return _resize(read_image(self.path_for(name)), day.shape[:2])

    def __repr__(self) -> str:
        return f"FolderTranslation({str(self.folder)!r}, {len(self.index)} images)"


def build_translator(method: str = "fda", beta: float = 0.01, folder: str | None = None) -> Translator:
    """The one constructor of S_d -> S_n translators.

    Args:
        method: "fda" (FDA amplitude swap, needs a reference), "lab" (Reinhard Lab transfer,
            needs a reference), "relight" (photometric night), "folder" (precomputed images
            matched by stem) or "none" (S_n = S_d).
        beta: FDA window size (fraction of min(H, W)); used by "fda" only.
        folder: the folder of precomputed night images; required by "folder".

    Returns:
        A Translator: `translator(day, reference, name, rng) -> night` on H×W×3 uint8 arrays.
    """
    if method == "fda":
        return FDATranslator(beta)
    if method == "lab":
        return LabTranslator()
    if method == "relight":
        return RelightTranslator()
    if method == "folder":
        if not folder:
            raise InputError("translation method 'folder' needs folder=<path of precomputed night images>.")
        return FolderTranslation(folder)
    if method == "none":
        return IdentityTranslator()
    raise InputError(f"unknown translation method {method!r}; choose one of {', '.join(METHODS)}.")

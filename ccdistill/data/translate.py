"""Source-day -> night translation S_d -> S_n (SPEC 5.3): training-free and pixel-aligned, so the
night image keeps the Cityscapes label of the day image.

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
`translate_folder` runs one offline over a folder and caches the results as PNGs.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from ccdistill.errors import DataError, InputError
from ccdistill.srgb import linear_to_srgb, srgb_to_linear

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
SOURCE_GLOB = "*_leftImg8bit.png"
PNG_COMPRESS_LEVEL = 3
MAX_BETA = 0.5  # beyond half the image the "low-frequency" window is the whole spectrum
UINT8_MAX = 255.0

# Linear sRGB -> CIE XYZ under the D65 white point, and that white point.
RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375],
     [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float64,
)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
D65_WHITE = np.array([0.95047, 1.0, 1.08883])
LAB_DELTA = 6.0 / 29.0  # CIE Lab's linear-segment threshold
LAB_EPSILON = 1e-6  # guards a channel with zero spread

# relight: the warm (+) / cool (-) direction of `temperature` as per-channel gain changes.
TEMPERATURE_GAINS = np.array([0.30, 0.0, -0.45], dtype=np.float32)
# Signal level (linear) at which shot noise equals read noise in `relight`.
SHOT_REFERENCE_LEVEL = 0.05


# ---------------------------------------------------------------------------------------------
# Colour conversions


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > LAB_DELTA**3, np.cbrt(t), t / (3 * LAB_DELTA**2) + 4 / 29)


def _lab_f_inverse(t: np.ndarray) -> np.ndarray:
    return np.where(t > LAB_DELTA, t**3, 3 * LAB_DELTA**2 * (t - 4 / 29))


# Lookup tables, uint8 sRGB -> linear and linear (quantised to ENCODE_LEVELS) -> uint8 sRGB:
# they replace a power function per pixel and channel.
ENCODE_LEVELS = 65536
_DECODE_TABLE = srgb_to_linear(np.arange(256) / UINT8_MAX).astype(np.float32)
_ENCODE_TABLE = np.clip(
    linear_to_srgb(np.linspace(0.0, 1.0, ENCODE_LEVELS)) * UINT8_MAX + 0.5, 0, UINT8_MAX
).astype(np.uint8)
_RGB_TO_XYZ_NORMALISED = (RGB_TO_XYZ.T / D65_WHITE).astype(np.float32)  # linear RGB -> XYZ / white
_XYZ_NORMALISED_TO_RGB = (XYZ_TO_RGB * D65_WHITE).T.astype(np.float32)


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB floats (any shape; clipped to [0, 1]) -> uint8 sRGB."""
    index = np.rint(np.clip(linear, 0.0, 1.0) * (ENCODE_LEVELS - 1)).astype(np.int32)
    return _ENCODE_TABLE[index]


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 sRGB -> H×W×3 float32 CIE Lab (D65): L in [0, 100], a and b about ±100."""
    f = _lab_f(_DECODE_TABLE[np.asarray(image, dtype=np.uint8)] @ _RGB_TO_XYZ_NORMALISED)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1).astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """H×W×3 CIE Lab (D65) -> H×W×3 uint8 sRGB (out-of-gamut colours are clipped)."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    return encode_srgb(_lab_f_inverse(f) @ _XYZ_NORMALISED_TO_RGB)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 (rounded, clipped)."""
    return np.clip(np.asarray(image) * UINT8_MAX + 0.5, 0, UINT8_MAX).astype(np.uint8)


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
    linear = _DECODE_TABLE[day]
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


# ---------------------------------------------------------------------------------------------
# Offline: translate a whole folder


def reference_for(relative_path: str, seed: int, count: int) -> tuple[int, np.random.Generator]:
    """Deterministic (reference index, generator) for one source image: depends only on the seed
    and the image's relative path, not on the order or number of images processed."""
    rng = np.random.default_rng([seed, zlib.crc32(relative_path.encode("utf-8"))])
    return (int(rng.integers(count)) if count else -1), rng


def _write_png(image: np.ndarray, path: Path) -> None:
    """Write via a temporary name and rename, so an interrupted run leaves no truncated PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    Image.fromarray(image).save(partial, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    os.replace(partial, path)


def translate_folder(
    source_dir: str | os.PathLike,
    reference_dir: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    method: str = "fda",
    beta: float = 0.01,
    seed: int = 0,
    progress: bool = True,
    force: bool = False,
) -> list[Path]:
    """Translate every *_leftImg8bit.png under `source_dir` into `out_dir` (same relative paths).

    Args:
        source_dir: folder of source-day images (e.g. leftImg8bit/train).
        reference_dir: folder of target-night images (*.png, recursively) used as style
            references; one is picked per source image from (seed, relative path). Not needed
            by "relight" and "none".
        out_dir: where the translated images go; must differ from source_dir.
        method: "fda", "lab", "relight" or "none".
        beta: FDA window size.
        seed: picks references and relight noise.
        progress: show a tqdm progress bar.
        force: overwrite existing output files (otherwise DataError if any exists).

    Returns:
        The written paths, in sorted order of the source images.
    """
    if method not in FOLDER_METHODS:
        raise InputError(f"translate_folder method must be one of {', '.join(FOLDER_METHODS)}, got {method!r}.")
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    if not source_dir.is_dir():
        raise DataError(f"source folder {source_dir} does not exist; pass the folder holding {SOURCE_GLOB} images.")
    if out_dir.resolve() == source_dir.resolve():
        raise InputError(f"out_dir {out_dir} is the source folder; choose another folder (e.g. leftImg8bit_night).")
    sources = sorted(source_dir.rglob(SOURCE_GLOB))
    if not sources:
        raise DataError(
            f"source folder {source_dir} holds no {SOURCE_GLOB} file; is it a Cityscapes leftImg8bit folder?"
        )
    references: list[Path] = []
    if method in REFERENCE_METHODS:
        if reference_dir is None or not Path(reference_dir).is_dir():
            raise DataError(
                f"method {method!r} needs a folder of target-night reference images, got {reference_dir}; "
                "pass e.g. <dark_zurich>/rgb_anon/train/night."
            )
        references = sorted(Path(reference_dir).rglob("*.png"))
        if not references:
            raise DataError(f"reference folder {reference_dir} holds no *.png image.")
    outputs = [out_dir / path.relative_to(source_dir) for path in sources]
    existing = [path for path in outputs if path.exists()]
    if existing and not force:
        raise DataError(
            f"{len(existing)} of {len(outputs)} output files already exist (e.g. {existing[0]}); "
            "pass force=True (--force) to overwrite them or choose another out_dir."
        )
    from ccdistill.data.io import read_image  # io pulls in torch; keep the module import light

    translator = build_translator(method, beta)
    iterator = zip(sources, outputs)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(sources), desc=f"translate ({method})", unit="img")
    for source, output in iterator:
        relative = source.relative_to(source_dir).as_posix()
        index, rng = reference_for(relative, seed, len(references))
        reference = read_image(references[index]) if references else None
        _write_png(translator(read_image(source), reference, source.stem, rng), output)
    return outputs

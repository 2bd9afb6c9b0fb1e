"""Reading dataset files: images, labels and the files of one sample, as uint8 arrays.

Every failure raises `DataError` naming the file, what was wrong and what to do. Where the files
lie is ccdistill.data.layouts; the Dataset classes are ccdistill.data.datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from ccdistill.errors import DataError, InputError
from ccdistill.labels import IGNORE_INDEX, KNOWN_LABEL_IDS, KNOWN_TRAIN_IDS, label_ids_to_train_ids

PathLike = str | Path
LABEL_KINDS: tuple[str, ...] = ("trainIds", "labelIds")
UINT8_VALUES = 256
UINT16_MAX = 65535
# PIL modes of 16-bit grey PNGs ("I" is how some Pillow versions open them).
SIXTEEN_BIT_MODES: tuple[str, ...] = ("I;16", "I;16B", "I;16L", "I;16N", "I")


# ---------------------------------------------------------------------------------------------
# Single files


def _open_image(path: PathLike, what: str) -> Image.Image:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist (or is not a file).")
    try:
        image = Image.open(path)
        image.load()  # decode now: a truncated file must fail here, not inside a DataLoader worker
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(
            f"{what} {path} cannot be decoded ({error}). The file is corrupt or truncated: "
            "extract it again from its archive."
        ) from error
    return image


PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk every complete PNG ends with
# Formats whose compression changes pixel values: a label saved so has ids that were never drawn.
LOSSY_FORMATS: tuple[str, ...] = ("JPEG", "MPO")


def _lossy_label(path: Path, what: str, found: str | None) -> str:
    return (f"{what} {path} is a {found} image under a {path.suffix} name: {found} compression changes label "
            "values along every edge, so its ids are not the ones drawn; extract the label PNG again from its archive.")


def _decode_problem(path: Path, what: str) -> str | None:
    """The problem of a full decode, or None: a missing end marker alone does not prove a PNG
    truncated (bytes appended after it are ignored by every reader)."""
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return (f"{what} {path} cannot be decoded (truncated: {path.stat().st_size} bytes, no PNG end marker; "
                f"{error}). The file is corrupt or truncated: extract it again from its archive.")
    return None


def probe_image(path: PathLike, what: str, label: bool = False) -> tuple[tuple[int, int] | None, str | None]:
    """((height, width), None) from a file's header, or (size or None, problem) — without decoding.

    Reads the header (PIL's `Image.open` is lazy) and, for PNGs, the last 12 bytes: a PNG cut
    short by an interrupted extraction keeps a valid header but loses its end marker (only then
    is the file decoded, to tell a cut file from one with bytes after the marker). A file of
    another format under a .png name (a JPEG saved as .png) is read like any image; as a
    `label` a lossy one is a problem."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            found = image.format
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return None, (f"{what} {path} cannot be decoded ({error}). The file is corrupt or truncated: "
                      "extract it again from its archive.")
    if label and found in LOSSY_FORMATS:
        return (height, width), _lossy_label(path, what, found)
    if path.suffix.lower() == ".png" and found == "PNG":
        with path.open("rb") as file:
            file.seek(max(0, path.stat().st_size - len(PNG_END)))
            if file.read() != PNG_END:
                return (height, width), _decode_problem(path, what)
    return (height, width), None


def read_image(path: PathLike) -> np.ndarray:
    """An RGB image file -> H×W×3 uint8 array (grey or RGBA files are converted to RGB).

    16-bit grey files are scaled from their real range (0..65535 -> 0..255): PIL's own
    convert("RGB") clips them, turning almost every pixel white."""
    image = _open_image(path, "image")
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > UINT16_MAX):
            raise DataError(
                f"image {path} is a {image.mode} image with values in [{values.min()}, {values.max()}]; expected "
                "8-bit RGB or grey, or 16-bit grey (0..65535). Convert it to an 8-bit RGB PNG."
            )
        grey = np.round(values.astype(np.float32) * (255.0 / UINT16_MAX)).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode == "F":
        raise DataError(
            f"image {path} holds floating-point pixels (mode F); expected an 8-bit RGB or grey image. "
            "Convert it to an 8-bit RGB PNG."
        )
    return np.asarray(image.convert("RGB"))


def read_label(path: PathLike, kind: str = "trainIds") -> np.ndarray:
    """A single-channel label PNG -> H×W uint8 trainIds (255 = ignored).

    kind="trainIds": values must be 0..18 or 255; kind="labelIds": Cityscapes labelIds (0..33,
    255), mapped to trainIds (7->0, 26->13, 0->255, ...). Other values raise DataError naming them.
    """
    if kind not in LABEL_KINDS:
        raise InputError(f"read_label kind must be one of {LABEL_KINDS}, got {kind!r}")
    image = _open_image(path, "label")
    if image.format in LOSSY_FORMATS:
        raise DataError(_lossy_label(Path(path), "label", image.format))
    label = np.asarray(image)
    if label.ndim != 2:
        raise DataError(
            f"label {path} has mode {image.mode} with shape {label.shape}; expected a single-channel "
            f"PNG of {kind} (a *_label{'Train' if kind == 'trainIds' else ''}Ids.png file, not a *_color.png one)."
        )
    if label.dtype != np.uint8:
        if label.size and (label.min() < 0 or label.max() >= UINT8_VALUES):
            raise DataError(f"label {path} holds values outside 0..255; expected 8-bit {kind}.")
        label = label.astype(np.uint8)
    known = KNOWN_TRAIN_IDS if kind == "trainIds" else KNOWN_LABEL_IDS
    # bincount avoids np.unique's sort of every pixel of a full-resolution label.
    present = np.flatnonzero(np.bincount(label.ravel(), minlength=UINT8_VALUES))
    unknown = sorted(set(present.tolist()) - known)
    if unknown:
        raise DataError(
            f"label {path} contains ids {unknown} that are not Cityscapes {kind} "
            f"(expected 0..{max(known - {IGNORE_INDEX})} or {IGNORE_INDEX}). "
            + (
                "If this is a labelIds file, read it with kind='labelIds'."
                if kind == "trainIds"
                else "Check that the file is an unmodified *_labelIds.png."
            )
        )
    return label_ids_to_train_ids(label) if kind == "labelIds" else np.ascontiguousarray(label)


def check_same_size(first: PathLike, first_shape: Sequence[int], second: PathLike, second_shape: Sequence[int]) -> None:
    """DataError naming both files when two arrays meant to be pixel-aligned differ in H×W."""
    first_size, second_size = tuple(first_shape[:2]), tuple(second_shape[:2])
    if first_size != second_size:
        raise DataError(
            f"size mismatch: {first} is {first_size[1]}×{first_size[0]} (W×H) but {second} is "
            f"{second_size[1]}×{second_size[0]}; the two files must be pixel-aligned. "
            "Re-extract them from the official archives (resized copies do not match)."
        )


# ---------------------------------------------------------------------------------------------
# Samples


@dataclass(frozen=True)
class SampleFiles:
    """The files of one sample: the primary (night) image, its paired day image and its label."""

    name: str
    image: Path
    image_ref: Path | None = None
    label: Path | None = None
    label_kind: str = "trainIds"


def load_sample(files: SampleFiles) -> dict[str, Any]:
    """Read one sample into uint8 arrays: `image` H×W×3, `image_ref` H×W×3 (if any), `label` H×W
    trainIds (if any), `name`. DataError when the files are not the same size."""
    image = read_image(files.image)
    sample: dict[str, Any] = {"image": image, "name": files.name}
    if files.image_ref is not None:
        sample["image_ref"] = read_image(files.image_ref)
        check_same_size(files.image, image.shape, files.image_ref, sample["image_ref"].shape)
    if files.label is not None:
        sample["label"] = read_label(files.label, files.label_kind)
        check_same_size(files.image, image.shape, files.label, sample["label"].shape)
    return sample

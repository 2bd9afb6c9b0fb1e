"""Local checks of a benchmark-server submission before it is uploaded (the formats are described
in export.py): every test image present once in every folder, at the server's resolution, in
the right PNG mode, with trainIds in range; and the test-image names a submission must contain."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ccdistill.errors import DataError
from ccdistill.evaluation.export import (
    ACDC_FOLDERS, ACDC_IMAGE_SIZE, DARKZURICH_FOLDERS, DARKZURICH_IMAGE_SIZE, DARKZURICH_TEST_SEQUENCES, SERVER_NAME,
    server_file_name,
)
from ccdistill.labels import IGNORE_INDEX, NUM_CLASSES

__all__ = ["darkzurich_test_names", "acdc_test_names", "validate_darkzurich_submission", "validate_acdc_submission"]

_LABEL_MODE = "L"
_CONFIDENCE_MODES = ("I;16", "I;16B", "I;16L")


def darkzurich_test_names(root: str | Path) -> list[str]:
    """File names of the Dark Zurich test images, sorted: the names a submission must contain.

    Args:
        root: Dark Zurich root holding ``rgb_anon/test/night/<SEQ>/<SEQ>_frame_<6d>_rgb_anon.png``
            (151 images in GOPR0364 and GP010364 in the real set).
    """
    night = Path(root) / "rgb_anon" / "test" / "night"
    if not night.is_dir():
        raise DataError(
            f"Dark Zurich test images not found: {night} is missing. Unpack "
            "Dark_Zurich_test_anon_withoutGt.zip into the Dark Zurich root so that "
            f"rgb_anon/test/night/{{{','.join(DARKZURICH_TEST_SEQUENCES)}}}/ exist"
        )
    names = sorted(p.name for p in night.glob("*/*_rgb_anon.png"))
    if not names:
        raise DataError(
            f"no '*_rgb_anon.png' images under {night}/<SEQ>/; expected the test sequences "
            f"{', '.join(DARKZURICH_TEST_SEQUENCES)}"
        )
    return names


def _check_png(path: Path, rel: str, kind: str, image_size: tuple[int, int]) -> list[str]:
    """Problems of one PNG: ``kind`` is 'label', 'invalid' or 'confidence'."""
    try:
        with Image.open(path) as im:
            im.load()
            mode, (w, h) = im.mode, im.size
            arr = np.asarray(im)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a problem to report
        return [f"{rel}: cannot be read as an image ({exc})"]
    problems = []
    if (h, w) != tuple(image_size):
        problems.append(f"{rel}: size {h}×{w} (height×width), expected {image_size[0]}×{image_size[1]}")
    if kind == "confidence":
        if mode not in _CONFIDENCE_MODES:
            problems.append(f"{rel}: mode {mode!r}, expected a 16-bit grayscale PNG ('I;16')")
        return problems
    if mode != _LABEL_MODE:
        problems.append(f"{rel}: mode {mode!r}, expected an 8-bit grayscale PNG ('L') of trainIds")
        return problems
    values = np.unique(arr)
    allowed = set(range(NUM_CLASSES)) | ({IGNORE_INDEX} if kind == "invalid" else set())
    bad = sorted(int(v) for v in values if int(v) not in allowed)
    if bad:
        expected = f"0-{NUM_CLASSES - 1}" + (f" or {IGNORE_INDEX}" if kind == "invalid" else "")
        problems.append(f"{rel}: label values {bad[:10]} outside {expected}")
    return problems


def _validate(
    out_dir: str | Path,
    folders: Sequence[str],
    kinds: dict[str, str],
    expected_names: Sequence[str] | None,
    image_size: tuple[int, int] | None,
) -> list[str]:
    out = Path(out_dir)
    if not out.is_dir():
        what = "is a file, expected the submission folder" if out.exists() else "submission folder does not exist"
        return [f"{out}: {what}"]
    image_size = tuple(image_size) if image_size is not None else DARKZURICH_IMAGE_SIZE
    expected = None if expected_names is None else {server_file_name(n) for n in expected_names}
    problems: list[str] = []
    present: dict[str, dict[str, Path]] = {}
    for folder in folders:
        base = out / folder
        if not base.is_dir():
            problems.append(f"{folder}/: folder is missing")
            continue
        files: dict[str, Path] = {}
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(out).as_posix()
            if path.suffix != ".png" or not SERVER_NAME.match(path.name):
                problems.append(f"{rel}: extra file (not a '<SEQ>_frame_<6d>*.png' prediction)")
            elif path.name in files:
                problems.append(f"{rel}: duplicate of {files[path.name].relative_to(out).as_posix()}")
            else:
                files[path.name] = path
        present[folder] = files
    if expected is None and present:
        # Without a reference list the first folder defines the names the others must match.
        expected = set(next(iter(present.values())))
    for folder, files in present.items():
        for name in sorted(expected - set(files)):
            problems.append(f"{folder}/{name}: missing")
        for name in sorted(set(files) - expected):
            problems.append(f"{folder}/{name}: extra file (no such test image)")
        for name in sorted(set(files) & expected):
            rel = files[name].relative_to(out).as_posix()
            problems += _check_png(files[name], rel, kinds[folder], image_size)
    return problems


def validate_darkzurich_submission(
    out_dir: str | Path,
    expected_names: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = DARKZURICH_IMAGE_SIZE,
) -> list[str]:
    """Check a Dark Zurich submission folder before uploading it.

    Args:
        out_dir: folder written by :func:`export_darkzurich`.
        expected_names: the test image names (e.g. :func:`darkzurich_test_names`); ``None``
            only checks that the three folders hold the same names.
        image_size: (height, width) every PNG must have (``None``: 1080×1920).

    Returns:
        One line per problem, naming the file: missing or extra files per folder, wrong size,
        wrong mode (labels must be 8-bit 'L', confidence 16-bit 'I;16'), label values outside
        0-18 (0-18 or 255 in ``labelTrainIds_invalid``). An empty list means valid.
    """
    kinds = {"labelTrainIds": "label", "labelTrainIds_invalid": "invalid", "confidence": "confidence"}
    return _validate(out_dir, DARKZURICH_FOLDERS, kinds, expected_names, image_size)


def acdc_test_names(root: str | Path) -> list[str]:
    """File names of the ACDC night test images, sorted: the names an ACDC submission written by
    :func:`export_acdc` must contain.

    Args:
        root: ACDC root holding ``rgb_anon/night/test/<SEQ>/<stem>_rgb_anon.png`` (500 images in
            the real set).
    """
    from ccdistill.data.acdc import image_kind  # the loader's own description of the layout

    return sorted(path.name for path in image_kind("test").list(root))


def validate_acdc_submission(
    out_dir: str | Path,
    expected_names: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = ACDC_IMAGE_SIZE,
) -> list[str]:
    """Check an ACDC submission folder; same report format as the Dark Zurich validator."""
    return _validate(out_dir, ACDC_FOLDERS, {"labelTrainIds": "label"}, expected_names, image_size)

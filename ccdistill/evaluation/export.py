"""Benchmark-server exports: Dark Zurich test (CodaLab) and ACDC test, plus local validators.

Formats, and where they are documented (the servers themselves are registration-gated):

Dark Zurich test server (CodaLab competition 3783, formerly 23553; linked from the Dark Zurich
page https://www.trace.ethz.ch/publications/2019/GCMA_UIoU and the MGCDA README,
github.com/sakaridis/MGCDA). The zip holds three top-level folders, one PNG per test image in
each, all 1920×1080:

- ``labelTrainIds/``          uint8 trainIds 0-18 -> the standard IoU;
- ``labelTrainIds_invalid/``  uint8 trainIds 0-18 plus 255 where the method declares the pixel
  *invalid* (cannot be assigned reliably) -> the uncertainty-aware UIoU. Without any 255
  pixel UIoU equals IoU;
- ``confidence/``             16-bit grayscale, the prediction's confidence scaled to 0-65535
  -> the average UIoU over confidence thresholds.

The folder layout is the one SePiCo's README (github.com/BIT-DA/SePiCo) gives for the server
("submit.zip / confidence, labelTrainIds, labelTrainIds_invalid"). File names are the test
image's own name, ``<SEQ>_frame_<6 digits>_rgb_anon.png``, as written by DANNet's and Refign's
test scripts (github.com/W-zx-Y/DANNet ``evaluate.py`` saves ``name.split('/')[-1]``;
github.com/brdav/refign ``predict_step`` saves ``sample['filename']``); the server globs
``<SEQ>_frame_<6 digits>*.png`` inside each folder, so any suffix after the frame number works
but the name must start that way. The 16-bit confidence as ``round(max softmax * 65535)``
follows the same public submission scripts (confidence * 65535 as uint16).

ACDC test server (https://acdc.vision.ee.ethz.ch/submit): a zip with a ``labelTrainIds/``
folder of uint8 trainId PNGs at the input resolution 1920×1080, exactly one per test image,
named ``<SEQ>_frame_<6 digits>*.png`` and found anywhere inside ``labelTrainIds/`` (stated by
the benchmark maintainers for the sibling MUSES server, github.com/timbroed/MUSES issue 4; the
VBLC README, github.com/BIT-DA/VBLC, zips such a ``labelTrainIds`` folder for ACDC). We write the test image's own name
``<stem>_rgb_anon.png`` flat into ``labelTrainIds/``; the condition folders are not needed
because frame names are unique across conditions.

The local validators of a written submission, and the test-image names a submission must
contain, are in submission_check.py.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ccdistill.labels import IGNORE_INDEX, NUM_CLASSES
from ccdistill.errors import InputError

__all__ = [
    "DARKZURICH_FOLDERS",
    "DARKZURICH_IMAGE_SIZE",
    "DEFAULT_INVALID_THRESHOLD",
    "export_darkzurich",
    "export_acdc",
    "read_confidence",
    "server_file_name",
    "zip_submission",
]

DARKZURICH_FOLDERS: tuple[str, str, str] = ("labelTrainIds", "labelTrainIds_invalid", "confidence")
ACDC_FOLDERS: tuple[str] = ("labelTrainIds",)
# (height, width) of Dark Zurich and ACDC images; predictions must be at this resolution.
DARKZURICH_IMAGE_SIZE: tuple[int, int] = (1080, 1920)
ACDC_IMAGE_SIZE: tuple[int, int] = (1080, 1920)
DARKZURICH_TEST_SEQUENCES: tuple[str, str] = ("GOPR0364", "GP010364")

# Default invalid policy: a pixel is declared invalid when its top softmax probability is below
# one half, i.e. when the model thinks its own label is more likely wrong than right. UIoU
# rewards invalidating pixels that would be errors and penalises invalidating correct ones;
# raise the threshold to invalidate more, or use invalid_policy="none" to submit UIoU = IoU.
DEFAULT_INVALID_THRESHOLD = 0.5
INVALID_POLICIES = ("confidence", "none")

_CONFIDENCE_SCALE = 65535  # full range of the 16-bit confidence PNG
# The servers match predictions by this prefix of the file name.
SERVER_NAME = re.compile(r"^[A-Za-z0-9]+_frame_\d{6}")


# --------------------------------------------------------------------------- helpers
def server_file_name(name: str) -> str:
    """Server file name from an image name or path: basename, ``.png`` appended if missing."""
    base = Path(str(name)).name
    if not base.endswith(".png"):
        base += ".png"
    if not SERVER_NAME.match(base):
        raise InputError(
            f"prediction name {name!r} does not start with '<SEQ>_frame_<6 digits>' as the "
            "benchmark servers require; pass the test image's own file name, e.g. "
            "'GOPR0364_frame_000001_rgb_anon.png'"
        )
    return base


def _check_out_dir(out_dir: str | Path, folders: Sequence[str], force: bool) -> Path:
    """Refuse an ``out_dir`` that is a file, or is not empty without ``force``; touches nothing."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"out_dir {out} exists and is not a folder; choose a folder path")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            f"out_dir {out} is not empty; choose an empty or new folder, or pass force=True (--force on the "
            f"command line) to replace its {', '.join(folders)} folder(s)"
        )
    return out


class _StagedSubmission:
    """Submission folders written into a temporary folder beside ``out_dir`` and swapped in only
    when every prediction was written: an error midway (a corrupt image, a full disk, Ctrl-C)
    leaves the previous submission as it was and no half one.

    With ``force`` only the submission folders of ``out_dir`` are replaced; other files in it
    are left alone. Use as ``with _StagedSubmission(out, folders) as staging:``, writing into
    ``staging / folder``."""

    def __init__(self, out: Path, folders: Sequence[str]) -> None:
        self.out, self.folders = out, tuple(folders)
        self.staging: Path | None = None

    def __enter__(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        # Beside the destination, so the final renames stay on one file system.
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".partial", dir=self.out.parent))
        for folder in self.folders:
            (self.staging / folder).mkdir()
        return self.staging

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self._swap_in()
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _swap_in(self) -> None:
        assert self.staging is not None
        self.out.mkdir(parents=True, exist_ok=True)
        old = self.staging / ".replaced"
        old.mkdir()
        moved: list[str] = []
        try:
            for folder in self.folders:
                if (self.out / folder).exists():
                    os.replace(self.out / folder, old / folder)
                    moved.append(folder)
            for folder in self.folders:
                os.replace(self.staging / folder, self.out / folder)
        except OSError:
            # Put the previous submission back before reporting the error.
            for folder in moved:
                if (self.out / folder).exists():
                    shutil.rmtree(self.out / folder)
                os.replace(old / folder, self.out / folder)
            raise


def _as_float_array(probs: Any, name: str, output_size: tuple[int, int] | None) -> torch.Tensor:
    """K×H×W probabilities (tensor on any device or numpy) -> float32 CPU tensor at output_size."""
    t = torch.as_tensor(probs) if not isinstance(probs, torch.Tensor) else probs
    t = t.detach()
    if t.dim() != 3 or not t.dtype.is_floating_point:
        raise InputError(
            f"probabilities for {name!r} must be a float K×H×W array, got shape "
            f"{tuple(t.shape)} and dtype {t.dtype}; pass predict(...)[i] (softmax output)"
        )
    if t.shape[0] != NUM_CLASSES:
        raise InputError(
            f"probabilities for {name!r} have {t.shape[0]} classes, the benchmarks score the "
            f"{NUM_CLASSES} Cityscapes trainId classes"
        )
    t = t.float()
    if output_size is not None and tuple(t.shape[-2:]) != tuple(output_size):
        t = F.interpolate(t[None], size=tuple(output_size), mode="bilinear", align_corners=False)[0]
    t = t.cpu()
    # Logits would give meaningless confidence maps: insist on probabilities.
    sums = t.sum(dim=0)
    if t.min() < -1e-4 or t.max() > 1 + 1e-4 or not torch.allclose(sums, torch.ones_like(sums), atol=1e-3):
        raise InputError(
            f"values for {name!r} are not probabilities (each pixel must sum to 1 over classes); "
            "apply softmax over the class dimension to the logits first"
        )
    return t


def _label_map(prediction: Any, name: str, output_size: tuple[int, int] | None) -> np.ndarray:
    """H×W uint8 trainIds from K×H×W probabilities/logits or an H×W integer label map."""
    t = torch.as_tensor(prediction) if not isinstance(prediction, torch.Tensor) else prediction
    t = t.detach()
    if t.dim() == 3 and t.dtype.is_floating_point:
        if t.shape[0] != NUM_CLASSES:
            raise InputError(
                f"scores for {name!r} have {t.shape[0]} classes, expected {NUM_CLASSES}"
            )
        if output_size is not None and tuple(t.shape[-2:]) != tuple(output_size):
            t = F.interpolate(t[None].float(), size=tuple(output_size), mode="bilinear",
                              align_corners=False)[0]
        return t.argmax(dim=0).to(torch.uint8).cpu().numpy()
    if t.dim() == 2 and not t.dtype.is_floating_point:
        if output_size is not None and tuple(t.shape) != tuple(output_size):
            t = F.interpolate(t[None, None].float(), size=tuple(output_size), mode="nearest")[0, 0]
        t = t.long()
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= NUM_CLASSES):
            raise InputError(
                f"label map for {name!r} holds values in [{int(t.min())}, {int(t.max())}], "
                f"expected trainIds 0..{NUM_CLASSES - 1}"
            )
        return t.to(torch.uint8).cpu().numpy()
    raise InputError(
        f"prediction for {name!r} must be K×H×W float scores or an H×W integer label map, got "
        f"shape {tuple(t.shape)} and dtype {t.dtype}"
    )


def _save_png(array: np.ndarray, path: Path) -> None:
    # Image.fromarray picks mode "L" for uint8 and "I;16" for uint16: 8- and 16-bit grayscale.
    Image.fromarray(array).save(path)


def _unique(names_seen: set[str], file_name: str) -> None:
    if file_name in names_seen:
        raise InputError(f"two predictions are named {file_name!r}; every test image needs one")
    names_seen.add(file_name)


# --------------------------------------------------------------------------- Dark Zurich
def export_darkzurich(
    predictions: Iterable[tuple[str, Any]],
    out_dir: str | Path,
    invalid_policy: str = "confidence",
    invalid_threshold: float = DEFAULT_INVALID_THRESHOLD,
    output_size: tuple[int, int] | None = None,
    force: bool = False,
) -> Path:
    """Write a Dark Zurich test-server submission (see the module docstring for the format).

    Args:
        predictions: ``(name, probs)`` pairs; ``name`` is the test image's file name or path
            (``GOPR0364_frame_000001_rgb_anon.png``; the basename is used, ``.png`` added if
            missing); ``probs`` are K×H×W softmax probabilities (tensor on any device, or
            numpy), K = 19, e.g. ``predict(model, x, output_size=(1080, 1920))[0]``.
        out_dir: folder that receives ``labelTrainIds/``, ``labelTrainIds_invalid/`` and
            ``confidence/``. Must be empty or new unless ``force``. The folders are written
            beside it first and swapped in only when every prediction was written.
        invalid_policy: how ``labelTrainIds_invalid`` marks invalid (255) pixels:
            ``"confidence"`` (default) — pixels whose max probability is below
            ``invalid_threshold``; ``"none"`` — no invalid pixel (a copy of ``labelTrainIds``;
            UIoU then equals IoU).
        invalid_threshold: confidence below which a pixel is invalid, default 0.5 (the model
            rates its own label as more likely wrong than right).
        output_size: resize probabilities (bilinear) to this (height, width) first; leave
            ``None`` when they are already at the image resolution (1080×1920).
        force: replace existing submission folders in ``out_dir`` (only once the new ones are
            complete; an error midway leaves the old ones untouched).

    Returns:
        ``out_dir`` as a Path. Check it with :func:`validate_darkzurich_submission` and pack it
        with :func:`zip_submission`.
    """
    if invalid_policy not in INVALID_POLICIES:
        raise InputError(f"invalid_policy must be one of {INVALID_POLICIES}, got {invalid_policy!r}")
    if not 0.0 <= invalid_threshold <= 1.0:
        raise InputError(f"invalid_threshold must lie in [0, 1], got {invalid_threshold}")
    out = _check_out_dir(out_dir, DARKZURICH_FOLDERS, force)
    seen: set[str] = set()
    with _StagedSubmission(out, DARKZURICH_FOLDERS) as staging:
        for name, probs in predictions:
            file_name = server_file_name(name)
            _unique(seen, file_name)
            p = _as_float_array(probs, file_name, output_size)
            confidence, train_ids = p.max(dim=0)
            labels = train_ids.to(torch.uint8).numpy()
            conf = confidence.clamp(0.0, 1.0).numpy()
            invalid = labels.copy()
            if invalid_policy == "confidence":
                invalid[conf < invalid_threshold] = IGNORE_INDEX
            conf16 = np.round(conf.astype(np.float64) * _CONFIDENCE_SCALE).astype(np.uint16)
            _save_png(labels, staging / "labelTrainIds" / file_name)
            _save_png(invalid, staging / "labelTrainIds_invalid" / file_name)
            _save_png(conf16, staging / "confidence" / file_name)
        if not seen:
            raise InputError("predictions is empty; nothing was exported")
    return out


def read_confidence(path: str | Path) -> np.ndarray:
    """A ``confidence/`` PNG back as float64 confidences in [0, 1] (H×W)."""
    return np.asarray(Image.open(path), dtype=np.float64) / _CONFIDENCE_SCALE


# --------------------------------------------------------------------------- ACDC
def export_acdc(
    predictions: Iterable[tuple[str, Any]],
    out_dir: str | Path,
    force: bool = False,
    output_size: tuple[int, int] | None = None,
) -> Path:
    """Write an ACDC test-server submission: ``out_dir/labelTrainIds/<name>.png``.

    Args:
        predictions: ``(name, prediction)`` pairs; ``name`` is the test image's file name or
            path (``GOPR0351_frame_000159_rgb_anon.png``); ``prediction`` is K×H×W scores
            (probabilities or logits; the argmax is written) or an H×W integer trainId map.
        out_dir: folder that receives ``labelTrainIds/``; must be empty or new unless ``force``.
        force: replace an existing ``labelTrainIds/`` in ``out_dir`` (swapped in only once the
            new one is complete, as for Dark Zurich).
        output_size: resize to this (height, width) first (bilinear for scores, nearest for
            label maps); the server needs the full 1080×1920 resolution.

    Returns:
        ``out_dir`` as a Path.
    """
    out = _check_out_dir(out_dir, ACDC_FOLDERS, force)
    seen: set[str] = set()
    with _StagedSubmission(out, ACDC_FOLDERS) as staging:
        for name, prediction in predictions:
            file_name = server_file_name(name)
            _unique(seen, file_name)
            _save_png(_label_map(prediction, file_name, output_size), staging / "labelTrainIds" / file_name)
        if not seen:
            raise InputError("predictions is empty; nothing was exported")
    return out


def zip_submission(out_dir: str | Path, zip_path: str | Path | None = None) -> Path:
    """Zip the submission folders of ``out_dir`` (as top-level folders) for upload.

    Args:
        out_dir: an exported submission folder.
        zip_path: the archive to write; default ``<out_dir>.zip`` beside the folder.
    """
    out = Path(out_dir)
    folders = [f for f in DARKZURICH_FOLDERS if (out / f).is_dir()]
    if not folders:
        raise InputError(
            f"{out} holds none of the folders {', '.join(DARKZURICH_FOLDERS)}; export first"
        )
    target = Path(zip_path) if zip_path is not None else out.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for folder in folders:
            for path in sorted((out / folder).rglob("*")):
                if path.is_file():
                    zf.write(path, arcname=path.relative_to(out).as_posix())
    return target

"""Dark Zurich (T_n target night, T_d target day) read from the merged official archives
(Dark_Zurich_train_anon.zip, Dark_Zurich_val_anon.zip, Dark_Zurich_test_anon_withoutGt.zip):

    <root>/rgb_anon/train/{day,twilight,night}/<SEQ>/<SEQ>_frame_<6 digits>_rgb_anon.png
    <root>/corresp/train/night/<SEQ>.csv     rows: train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>
    <root>/rgb_anon/{val,test}/night/<SEQ>/<stem>_rgb_anon.png
    <root>/rgb_anon/{val,test}_ref/day/<SEQ>_ref/<stem>_ref_rgb_anon.png
    <root>/gt/val/night/<SEQ>/<stem>_gt_labelTrainIds.png (and _gt_labelIds.png)

ToyCity's target city is written in this layout, plus labels the real dataset does not have:
gt/train/night/ (for the oracle) and gt/test/night/.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

from ccdistill.data.io import (
    FileKind, PathLike, SampleDataset, SampleFiles, Transform, find_label, require_all, strip_suffix,
)
from ccdistill.errors import DataError, InputError

EVAL_SPLITS: tuple[str, ...] = ("val", "test")
ARCHIVES: dict[str, str] = {
    "train": "Dark_Zurich_train_anon.zip",
    "val": "Dark_Zurich_val_anon.zip",
    "test": "Dark_Zurich_test_anon_withoutGt.zip",
}
DOWNLOAD_HINT = "download from https://www.trace.ee.ethz.ch/publications/2019/GCMA_UIoU/ (Sakaridis et al.)"
TOY_HINT = "only ToyCity has these labels (`ccdistill data toy`); real Dark Zurich withholds them"
# Counts of the official release (information only: fixture and ToyCity trees are smaller).
EXPECTED_COUNTS: dict[str, dict[str, int]] = {
    "train": {"night images": 2416, "day images": 3041, "pairs": 2416},
    "val": {"images": 50, "labels": 50},
    "test": {"images": 151},
}

IMAGE_SUFFIX = "_rgb_anon.png"
REF_SUFFIX = "_ref_rgb_anon.png"
TRAIN_IDS_SUFFIX = "_gt_labelTrainIds.png"
LABEL_IDS_SUFFIX = "_gt_labelIds.png"
FRAME_PATTERN = "<SEQ>_frame_<6 digits>"


def night_kind(split: str) -> FileKind:
    return FileKind(
        what=f"Dark Zurich {split} night images",
        folder=f"rgb_anon/{split}/night",
        glob=f"*/*{IMAGE_SUFFIX}",
        pattern=f"rgb_anon/{split}/night/<SEQ>/{FRAME_PATTERN}{IMAGE_SUFFIX}",
        archive=ARCHIVES[split],
        hint=DOWNLOAD_HINT,
    )


def day_kind() -> FileKind:
    return FileKind(
        what="Dark Zurich train day images",
        folder="rgb_anon/train/day",
        glob=f"*/*{IMAGE_SUFFIX}",
        pattern=f"rgb_anon/train/day/<SEQ>/{FRAME_PATTERN}{IMAGE_SUFFIX}",
        archive=ARCHIVES["train"],
        hint=DOWNLOAD_HINT,
    )


def corresp_kind() -> FileKind:
    return FileKind(
        what="Dark Zurich night-to-day correspondences",
        folder="corresp/train/night",
        glob="*.csv",
        pattern="corresp/train/night/<SEQ>.csv with rows train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>",
        archive=ARCHIVES["train"],
        hint=DOWNLOAD_HINT,
    )


def ref_kind(split: str) -> FileKind:
    return FileKind(
        what=f"Dark Zurich {split} day references",
        folder=f"rgb_anon/{split}_ref/day",
        glob=f"*/*{REF_SUFFIX}",
        pattern=f"rgb_anon/{split}_ref/day/<SEQ>_ref/<stem>{REF_SUFFIX}",
        archive=ARCHIVES[split],
        hint=DOWNLOAD_HINT,
    )


def label_kind(split: str) -> FileKind:
    return FileKind(
        what=f"Dark Zurich {split} labels",
        folder=f"gt/{split}/night",
        glob=f"*/*{TRAIN_IDS_SUFFIX}",
        pattern=f"gt/{split}/night/<SEQ>/<stem>{TRAIN_IDS_SUFFIX} (or {LABEL_IDS_SUFFIX})",
        archive=ARCHIVES[split] if split == "val" else "ToyCity",
        hint=DOWNLOAD_HINT if split == "val" else TOY_HINT,
    )


def _label_candidates(root: Path, split: str, sequence: str, stem: str) -> list[tuple[Path, str]]:
    folder = root / "gt" / split / "night" / sequence
    return [(folder / f"{stem}{TRAIN_IDS_SUFFIX}", "trainIds"), (folder / f"{stem}{LABEL_IDS_SUFFIX}", "labelIds")]


def _label_for(root: Path, split: str, image: Path) -> tuple[Path, str] | None:
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    return find_label(_label_candidates(root, split, image.parent.name, stem))


def _expected_label(root: Path, split: str, image: Path) -> Path:
    return _label_candidates(root, split, image.parent.name, strip_suffix(image.name, IMAGE_SUFFIX))[0][0]


def _with_label(files: SampleFiles, label: tuple[Path, str] | None) -> SampleFiles:
    if label is None:
        return files
    return SampleFiles(files.name, files.image, files.image_ref, label[0], label[1])


# ---------------------------------------------------------------------------------------------
# Training pairs (T_n, T_d)


class DuplicatePairWarning(UserWarning):
    """A night frame appears in more than one row of the correspondence files."""


def _rgb_path(root: Path, relative: str) -> Path:
    # Rows omit the suffix; tolerate rows that spell it out.
    name = relative if relative.endswith(".png") else f"{relative}{IMAGE_SUFFIX}"
    return root / "rgb_anon" / name


def read_pair_rows(csv_path: PathLike) -> list[tuple[int, str, str]]:
    """(row number, night path, day path) for each row of a correspondence CSV.

    Paths are relative to rgb_anon/ without the _rgb_anon.png suffix; blank lines and a header
    row (a first row whose first field is not a path) are skipped."""
    csv_path = Path(csv_path)
    rows = []
    with csv_path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            fields = [field.strip() for field in row if field.strip()]
            if not fields or (number == 1 and "/" not in fields[0]):
                continue
            if len(fields) != 2:
                raise DataError(
                    f"pair list {csv_path}, row {number}: expected 2 fields "
                    f"'train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>', got {row!r}. Fix or remove the row."
                )
            rows.append((number, fields[0], fields[1]))
    if not rows:
        raise DataError(
            f"pair list {csv_path} holds no rows; expected rows 'train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>' "
            f"as in corresp/train/night/*.csv from {ARCHIVES['train']}."
        )
    return rows


def _pair_csvs(root: Path, corresp: PathLike | None) -> list[Path]:
    if corresp is None or str(corresp) == "":
        return corresp_kind().list(root)
    path = Path(corresp)
    if not path.exists() and not path.is_absolute() and (root / path).exists():
        path = root / path
    if path.is_dir():
        csvs = sorted(path.glob("*.csv"))
        if not csvs:
            raise DataError(f"pair-list folder {path} holds no *.csv file; {corresp_kind().origin()}.")
        return csvs
    if not path.is_file():
        raise DataError(
            f"pair list {path} does not exist; pass a CSV with rows "
            "'train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>' (relative to rgb_anon/), or leave corresp "
            f"empty to read {root / corresp_kind().folder}/*.csv."
        )
    return [path]


def find_pairs(root: PathLike, corresp: PathLike | None = None) -> list[SampleFiles]:
    """T_n night frames with their T_d day frames, sorted by night path; a T_n label where one exists.

    DataError naming the CSV, the row number and the missing file when a row points nowhere. A
    night frame listed more than once (in one CSV or across them) is kept once, with its first
    day frame, and a warning naming both rows: a duplicate would silently weigh that frame twice."""
    root = Path(root)
    samples = []
    first_row: dict[Path, str] = {}
    for csv_path in _pair_csvs(root, corresp):
        for number, night_rel, day_rel in read_pair_rows(csv_path):
            night, day = _rgb_path(root, night_rel), _rgb_path(root, day_rel)
            if night in first_row:
                warnings.warn(
                    f"pair list {csv_path}, row {number}: night frame {night_rel} is already listed at "
                    f"{first_row[night]}; it is kept once (with its first day frame). Remove the repeated row.",
                    DuplicatePairWarning, stacklevel=2,
                )
                continue
            first_row[night] = f"{csv_path.name} row {number}"
            for path, kind in ((night, night_kind("train")), (day, day_kind())):
                if not path.is_file():
                    raise DataError(
                        f"pair list {csv_path}, row {number}: {path} does not exist; rows name files "
                        f"rgb_anon/<row path>{IMAGE_SUFFIX}, {kind.origin()}. Extract the whole archive, "
                        "or remove the row from the pair list."
                    )
            files = SampleFiles(name=night.stem, image=night, image_ref=day)
            # Row paths look like train/night/<SEQ>/<stem>: labels live under gt/ with the same path.
            split = Path(night_rel).parts[0] if len(Path(night_rel).parts) > 1 else "train"
            samples.append(_with_label(files, _label_for(root, split, night)))
    return sorted(samples, key=lambda files: str(files.image))


class DarkZurichPairs(SampleDataset):
    """Dark Zurich training pairs: dicts with `image` (T_n night frame), `image_ref` (its
    GPS-matched T_d day frame), `name` (night file stem) and `label` when
    gt/train/night/<SEQ>/<stem>_gt_labelTrainIds.png exists (ToyCity only).

    Args:
        root: folder holding rgb_anon/ and corresp/.
        split: only "train" has pairs.
        corresp: None reads corresp/train/night/*.csv; otherwise one pair-list CSV (absolute,
            or relative to the working directory or to root) with the same rows.
        transform: joint transform called as transform(sample, rng); default: tensors.
    """

    def __init__(
        self,
        root: PathLike,
        split: str = "train",
        corresp: str | None = None,
        transform: Transform | None = None,
    ) -> None:
        if split != "train":
            raise InputError(
                f"Dark Zurich pairs exist for split 'train' only, got {split!r}; use DarkZurichEval for val/test"
            )
        self.root, self.split = Path(root), split
        # Clear errors when a whole folder is absent, before any row is read.
        night_kind("train").list(root)
        day_kind().list(root)
        samples = find_pairs(root, corresp)
        if label_kind("train").exists(root):
            require_all(samples, "label", label_kind("train"), lambda f: _expected_label(self.root, "train", f.image))
        super().__init__(samples, transform)


# ---------------------------------------------------------------------------------------------
# Evaluation (val, test)


def ref_path(root: PathLike, split: str, image: Path) -> Path:
    """The expected day reference of a val/test night image."""
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    return Path(root) / "rgb_anon" / f"{split}_ref" / "day" / f"{image.parent.name}_ref" / f"{stem}{REF_SUFFIX}"


def _find_ref(root: Path, split: str, image: Path) -> Path | None:
    expected = ref_path(root, split, image)
    if expected.is_file():
        return expected
    # Some released test references carry extra tokens between the stem and the suffix.
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    matches = sorted(expected.parent.glob(f"{stem}_*{IMAGE_SUFFIX}")) if expected.parent.is_dir() else []
    return matches[0] if matches else None


def find_eval_samples(root: PathLike, split: str = "val") -> list[SampleFiles]:
    """Night images of `split`, sorted, with day references and labels where they exist."""
    if split not in EVAL_SPLITS:
        raise InputError(f"Dark Zurich evaluation split must be one of {EVAL_SPLITS}, got {split!r}")
    root = Path(root)
    samples = []
    for image in night_kind(split).list(root):
        files = SampleFiles(name=image.stem, image=image, image_ref=_find_ref(root, split, image))
        samples.append(_with_label(files, _label_for(root, split, image)))
    return samples


class DarkZurichEval(SampleDataset):
    """Dark Zurich val/test night images: dicts with `image`, `image_ref` (the `_ref` day image,
    when the split's val_ref/test_ref folder exists), `label` (val always; test only when
    gt/test/night exists, as in ToyCity — real test labels are withheld) and `name`.

    Args:
        root: folder holding rgb_anon/ and gt/.
        split: "val" or "test".
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
        images_only: list the night images alone, without references or labels, and require
            neither (server submissions need nothing else).
    """

    def __init__(self, root: PathLike, split: str = "val", transform: Transform | None = None,
                 images_only: bool = False) -> None:
        self.root, self.split = Path(root), split
        samples = find_eval_samples(root, split)
        if images_only:
            super().__init__([SampleFiles(files.name, files.image) for files in samples], transform)
            return
        if ref_kind(split).exists(root):
            require_all(samples, "image_ref", ref_kind(split), lambda f: ref_path(self.root, split, f.image))
        if split == "val" or label_kind(split).exists(root):
            require_all(samples, "label", label_kind(split), lambda f: _expected_label(self.root, split, f.image))
        super().__init__(samples, transform)

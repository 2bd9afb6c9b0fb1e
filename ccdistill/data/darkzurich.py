"""Dark Zurich (T_n target night, T_d target day) read from the merged official archives
(Dark_Zurich_train_anon.zip, Dark_Zurich_val_anon.zip, Dark_Zurich_test_anon_withoutGt.zip;
ccdistill.data.layouts.DARK_ZURICH):

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

from ccdistill.data.datasets import LayoutDataset, SampleDataset, Transform, require_all, sample_files
from ccdistill.data.io import PathLike, SampleFiles
from ccdistill.data.layouts import DARK_ZURICH, FileKind
from ccdistill.errors import DataError, InputError

EVAL_SPLITS: tuple[str, ...] = tuple(split for split in DARK_ZURICH.splits if split not in DARK_ZURICH.paired)
IMAGE_SUFFIX = DARK_ZURICH.image.suffix
PAIR_ROW = "train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>"  # a corresp row, relative to rgb_anon/


def _kind(role: str) -> FileKind:
    """A file kind of the train split, the one with pairs."""
    return DARK_ZURICH.kind(role, "train")


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
    row (a first row whose first field is not a path) are skipped. What editors add is tolerated:
    a UTF-8 byte-order mark, Windows line ends and Windows path separators."""
    csv_path = Path(csv_path)
    rows = []
    for number, row in enumerate(csv.reader(_pair_lines(csv_path)), start=1):
        fields = [field.strip().replace("\\", "/") for field in row if field.strip()]
        if not fields or (number == 1 and "/" not in fields[0]):
            continue
        if len(fields) != 2:
            raise DataError(
                f"pair list {csv_path}, row {number}: expected 2 fields '{PAIR_ROW}', got {row!r}. "
                "Fix or remove the row."
            )
        rows.append((number, fields[0], fields[1]))
    if not rows:
        raise DataError(
            f"pair list {csv_path} holds no rows; expected rows '{PAIR_ROW}' "
            f"as in {_kind('corresp').folder}/*.csv from {_kind('corresp').archive}."
        )
    return rows


def _pair_lines(csv_path: Path) -> list[str]:
    """The lines of a pair list read as UTF-8 (a byte-order mark removed); DataError naming the
    file when it is not text in that encoding (e.g. saved by a spreadsheet as UTF-16)."""
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"pair list {csv_path} is not UTF-8 text (byte {error.start} cannot be decoded); save it as UTF-8 "
            f"CSV with rows '{PAIR_ROW}'."
        ) from None
    return text.splitlines()


def _pair_csvs(root: Path, corresp: PathLike | None) -> list[Path]:
    if corresp is None or str(corresp) == "":
        return _kind("corresp").list(root)
    path = Path(corresp)
    if not path.exists() and not path.is_absolute() and (root / path).exists():
        path = root / path
    if path.is_dir():
        csvs = sorted(path.glob("*.csv"))
        if not csvs:
            raise DataError(f"pair-list folder {path} holds no *.csv file; {_kind('corresp').origin()}.")
        return csvs
    if not path.is_file():
        raise DataError(
            f"pair list {path} does not exist; pass a CSV with rows '{PAIR_ROW}' (relative to rgb_anon/), "
            f"or leave corresp empty to read {root / _kind('corresp').folder}/*.csv."
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
            for path, kind in ((night, _kind("image")), (day, _kind("day"))):
                if not path.is_file():
                    # An invisible character (zero-width space, a BOM mid-file) is shown escaped.
                    shown = path if str(path).isprintable() else f"{str(path)!r} (with invisible characters)"
                    raise DataError(
                        f"pair list {csv_path}, row {number}: {shown} does not exist; rows name files "
                        f"rgb_anon/<row path>{IMAGE_SUFFIX}, {kind.origin()}. Extract the whole archive, "
                        "or remove the row from the pair list."
                    )
            # Row paths look like train/night/<SEQ>/<stem>: labels live under gt/ with the same path.
            split = Path(night_rel).parts[0] if len(Path(night_rel).parts) > 1 else "train"
            samples.append(sample_files(night, DARK_ZURICH.label_candidates(root, split, night), image_ref=day))
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
        _kind("image").list(root)
        _kind("day").list(root)
        samples = find_pairs(root, corresp)
        if _kind("label").exists(root):
            require_all(samples, "label", _kind("label"), lambda f: DARK_ZURICH.path("label", split, self.root, f.image))
        super().__init__(samples, transform)


# ---------------------------------------------------------------------------------------------
# Evaluation (val, test)


class DarkZurichEval(LayoutDataset):
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
        if split not in EVAL_SPLITS:
            raise InputError(f"Dark Zurich evaluation split must be one of {EVAL_SPLITS}, got {split!r}")
        super().__init__(DARK_ZURICH, root, split, transform, images_only)

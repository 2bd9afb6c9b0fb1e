"""Where each real dataset's files live, written once as data.

One `DatasetLayout` per dataset (`LAYOUTS`): its splits, which ones `data check` requires,
which carry or must have labels, each kind of file (folder, sequence sub-folder, suffix, the
other label encoding, the human pattern tokens), the archive each file comes from and the
official counts. The loaders (`ccdistill.data.datasets.LayoutDataset` and the thin classes of
cityscapes.py, acdc.py, nightdriving.py, darkzurich.py), the Dark Zurich pairs and
`ccdistill data check` derive every path, glob and message from these entries: a dataset with
the same structure is one more entry.

Paths are templates: `{split}` is the split's name; a file's sequence sub-folder is the one its
image lies in (`{seq}`, or e.g. "{seq}_ref" for Dark Zurich's day references; None when the
files lie directly in the folder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ccdistill.data.io import PathLike
from ccdistill.errors import DataError, InputError

TOY_ARCHIVE = "ToyCity"
TOY_HINT = "only ToyCity has these labels (`ccdistill data toy`); real {name} withholds them"
LABEL_ENCODINGS: tuple[str, ...] = ("trainIds", "labelIds")  # preferred first


@dataclass(frozen=True)
class FileKind:
    """One kind of file of one split, resolved from its layout.

    `folder` is relative to the dataset root, `glob` is relative to `folder`, `pattern` is the
    human-readable path the user should see, `archive` the official download it comes from.
    """

    what: str
    folder: str
    glob: str
    pattern: str
    archive: str
    hint: str = ""

    def origin(self) -> str:
        """'expected <pattern> from <archive> (<hint>)' for error messages."""
        hint = f"; {self.hint}" if self.hint else ""
        return f"expected {self.pattern} from {self.archive}{hint}"

    def exists(self, root: PathLike) -> bool:
        return (Path(root) / self.folder).is_dir()

    def count(self, root: PathLike) -> int:
        """How many files match (0 when the folder is absent)."""
        folder = Path(root) / self.folder
        return sum(1 for _ in folder.glob(self.glob)) if folder.is_dir() else 0

    def list(self, root: PathLike) -> list[Path]:
        """The matching files, sorted; DataError if the folder is missing or holds none."""
        folder = Path(root) / self.folder
        if Path(root).is_file():
            raise DataError(
                f"{self.what}: the dataset root {root} is a file, expected a folder; pass the folder that "
                f"contains {self.folder.split('/')[0]}/ (where the archives were extracted)."
            )
        if not folder.is_dir():
            raise DataError(
                f"{self.what}: folder {folder} does not exist; {self.origin()}. Extract the archive "
                f"so that {folder} exists, and pass the folder that contains {self.folder.split('/')[0]}/ as root."
            )
        files = sorted(folder.glob(self.glob))
        if not files:
            raise DataError(
                f"{self.what}: folder {folder} holds no file matching {self.glob}; {self.origin()}. "
                "Check that the archive was extracted completely and that file names were not changed."
            )
        return files

    def missing(self, path: Path, needed_by: Path | str) -> DataError:
        """The error for one expected file that is absent."""
        return DataError(
            f"{self.what}: {path} does not exist (needed by {needed_by}); {self.origin()}. "
            "Extract the complete archive (all files of a split are needed)."
        )


def strip_suffix(file_name: str, suffix: str) -> str:
    """'x_leftImg8bit.png' -> 'x' for suffix '_leftImg8bit.png'."""
    return file_name[: -len(suffix)] if file_name.endswith(suffix) else file_name


@dataclass(frozen=True)
class Files:
    """One kind of file of a layout, as templates ({split} in `what`, `folder` and `note`).

    A file's name is its image's stem plus `suffix`; `stem` is how that stem reads in the
    pattern shown to the user. Labels name the encoding of `suffix` in `ids` and may have the
    other one in `alt_suffix` (trainIds files are preferred when both exist). The images' own
    `sequence` is "{seq}" or None: the other kinds' sub-folders are named after it."""

    what: str  # "{split} images" -> "Cityscapes train images"
    folder: str  # relative to the dataset root
    suffix: str  # what follows the image's stem: "_leftImg8bit.png", "_gt_labelTrainIds.png"
    stem: str = "<stem>"  # the stem in the human pattern: "<city>_<seq>_<frame>"
    sequence: str | None = "{seq}"  # the sub-folder under `folder`; None: the files lie in `folder`
    ids: str = "trainIds"  # labels: the encoding of `suffix`, one of LABEL_ENCODINGS
    alt_suffix: str = ""  # labels: the other encoding's suffix, also read
    note: str | None = None  # appended to the pattern; None: " (or <alt_suffix>)" when there is one
    archive: str | Mapping[str, str] | None = None  # one, or per split; None: the layout's
    extra_tokens: bool = False  # also accept <stem>_<tokens><image suffix> (some released references)

    def __post_init__(self) -> None:
        if self.ids not in LABEL_ENCODINGS:
            raise InputError(f"Files.ids must be one of {LABEL_ENCODINGS}, got {self.ids!r} (for {self.folder})")


@dataclass(frozen=True)
class DatasetLayout:
    """How one dataset lies on disk (see the module docstring and `LAYOUTS`)."""

    key: str  # the name `data check --dataset` takes
    name: str  # the name in messages
    splits: tuple[str, ...]
    required: tuple[str, ...]  # splits `data check` requires (the others are optional)
    image: Files
    label: Files
    archive: str | Mapping[str, str]  # where the files come from: one archive, or one per split
    download_hint: str
    official: Mapping[str, Mapping[str, int]]  # per split (information only: fixture trees are smaller)
    ref: Files | None = None  # each image's day reference (T_d)
    labelled: tuple[str, ...] | None = None  # splits whose labels are looked for (None: all)
    must_label: tuple[str, ...] = ()  # every image needs a label (others: only when the label folder exists)
    scored: tuple[str, ...] = ()  # training validates on them / evaluation scores them: check wants labels
    toy_labels: tuple[str, ...] = ()  # splits whose labels only ToyCity has
    paired: tuple[str, ...] = ()  # splits read as (night, day) rows of pair-list CSVs (DarkZurichPairs)
    extra: Mapping[str, Files] = field(default_factory=dict)  # further kinds (the pairs' "day", "corresp")
    sequence_token: str = "<SEQ>"  # how a sequence folder reads in patterns

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise InputError(f"{self.name} split must be one of {self.splits}, got {split!r}")

    def has_labels(self, split: str) -> bool:
        """Whether labels of `split` are looked for (and counted)."""
        return self.labelled is None or split in self.labelled

    def files(self, role: str) -> Files:
        """The `Files` of "image", "label", "ref" or an `extra` kind."""
        files = {"image": self.image, "label": self.label, "ref": self.ref, **self.extra}.get(role)
        if files is None:
            raise InputError(f"{self.name} has no {role!r} files")
        return files

    def kind(self, role: str, split: str) -> FileKind:
        """The `role` files of `split`: folder, glob, human pattern, archive and hint."""
        files = self.files(role)
        from_toycity = role == "label" and split in self.toy_labels
        archive = files.archive if files.archive is not None else self.archive
        folder = files.folder.format(split=split)
        sequence = f"{files.sequence.format(seq=self.sequence_token)}/" if files.sequence else ""
        note = files.note if files.note is not None else (f" (or {files.alt_suffix})" if files.alt_suffix else "")
        return FileKind(
            what=f"{self.name} {files.what.format(split=split)}",
            folder=folder,
            glob=f"{'*/' if files.sequence else ''}*{files.suffix}",
            pattern=f"{folder}/{sequence}{files.stem}{files.suffix}{note.format(split=split)}",
            archive=TOY_ARCHIVE if from_toycity else archive if isinstance(archive, str) else archive[split],
            hint=TOY_HINT.format(name=self.name) if from_toycity else self.download_hint,
        )

    def image_kind(self, split: str) -> FileKind:
        return self.kind("image", split)

    def label_kind(self, split: str) -> FileKind:
        return self.kind("label", split)

    def ref_kind(self, split: str) -> FileKind:
        return self.kind("ref", split)

    def path(self, role: str, split: str, root: PathLike, image: Path, suffix: str | None = None) -> Path:
        """Where the `role` file of `image` (a file of this layout's images) is expected."""
        files = self.files(role)
        folder = Path(root) / files.folder.format(split=split)
        if files.sequence:
            folder = folder / files.sequence.format(seq=image.parent.name)
        return folder / f"{strip_suffix(image.name, self.image.suffix)}{suffix or files.suffix}"

    def label_candidates(self, root: PathLike, split: str, image: Path) -> list[tuple[Path, str]]:
        """(path, encoding) of each label file `image` may have, trainIds first."""
        other = next(ids for ids in LABEL_ENCODINGS if ids != self.label.ids)
        candidates = [(self.label.suffix, self.label.ids)] + ([(self.label.alt_suffix, other)] if self.label.alt_suffix else [])
        candidates.sort(key=lambda candidate: LABEL_ENCODINGS.index(candidate[1]))
        return [(self.path("label", split, root, image, suffix), ids) for suffix, ids in candidates]


# ---------------------------------------------------------------------------------------------
# The four real datasets (docs/DATA.md, Part 2)

CITYSCAPES = DatasetLayout(
    key="cityscapes", name="Cityscapes", splits=("train", "val", "test"), required=("train",),
    image=Files("{split} images", "leftImg8bit/{split}", "_leftImg8bit.png", stem="<city>_<seq>_<frame>"),
    label=Files("{split} labels", "gtFine/{split}", "_gtFine_labelIds.png", stem="<city>_<seq>_<frame>",
                ids="labelIds", alt_suffix="_gtFine_labelTrainIds.png", archive="gtFine_trainvaltest.zip"),
    archive="leftImg8bit_trainvaltest.zip",
    download_hint="register and download at https://www.cityscapes-dataset.com/downloads/",
    official={split: {"images": count, "labels": count} for split, count in
              (("train", 2975), ("val", 500), ("test", 1525))},
    labelled=("train", "val"),  # test labels are withheld (placeholders in the archive)
    must_label=("train", "val"),
    sequence_token="<city>",
)

ACDC = DatasetLayout(
    key="acdc", name="ACDC", splits=("train", "val", "test"), required=("train", "val"),
    image=Files("night {split} images", "rgb_anon/night/{split}", "_rgb_anon.png"),
    ref=Files("night {split} day references", "rgb_anon/night/{split}_ref", "_rgb_ref_anon.png"),
    label=Files("night {split} labels", "gt/night/{split}", "_gt_labelTrainIds.png",
                alt_suffix="_gt_labelIds.png", archive="gt_trainval.zip"),
    archive="rgb_anon_trainvaltest.zip",
    download_hint="register and download at https://acdc.vision.ee.ethz.ch/download",
    official={"train": {"images": 400}, "val": {"images": 106}, "test": {"images": 500}},
    scored=("val",),
)

DARK_ZURICH = DatasetLayout(
    key="darkzurich", name="Dark Zurich", splits=("train", "val", "test"), required=("train", "val"),
    image=Files("{split} night images", "rgb_anon/{split}/night", "_rgb_anon.png", stem="<SEQ>_frame_<6 digits>"),
    ref=Files("{split} day references", "rgb_anon/{split}_ref/day", "_ref_rgb_anon.png", sequence="{seq}_ref",
              extra_tokens=True),
    label=Files("{split} labels", "gt/{split}/night", "_gt_labelTrainIds.png", alt_suffix="_gt_labelIds.png"),
    archive={"train": "Dark_Zurich_train_anon.zip", "val": "Dark_Zurich_val_anon.zip",
             "test": "Dark_Zurich_test_anon_withoutGt.zip"},
    download_hint="download from https://www.trace.ee.ethz.ch/publications/2019/GCMA_UIoU/ (Sakaridis et al.)",
    official={"train": {"night images": 2416, "day images": 3041, "pairs": 2416},
              "val": {"images": 50, "labels": 50}, "test": {"images": 151}},
    must_label=("val",),
    scored=("val",),
    toy_labels=("train", "test"),
    paired=("train",),
    extra={
        "day": Files("{split} day images", "rgb_anon/{split}/day", "_rgb_anon.png", stem="<SEQ>_frame_<6 digits>"),
        "corresp": Files("night-to-day correspondences", "corresp/{split}/night", ".csv", stem="<SEQ>",
                         sequence=None, note=" with rows {split}/night/<SEQ>/<stem>,{split}/day/<SEQ>/<stem>"),
    },
)

NIGHTTIME_DRIVING = DatasetLayout(
    key="nightdriving", name="Nighttime Driving", splits=("test",), required=("test",),
    image=Files("{split} images", "leftImg8bit/{split}/night", "_leftImg8bit.png", stem="<NN>_frame_<4 digits>",
                sequence=None),
    # The official page names only the trainIds files; labelIds ones are read too.
    label=Files("{split} labels", "gtCoarse_daytime_trainvaltest/{split}/night", "_gtCoarse_labelTrainIds.png",
                stem="<NN>_frame_<4 digits>", sequence=None, alt_suffix="_gtCoarse_labelIds.png", note=""),
    archive="NighttimeDrivingTest.zip",
    download_hint="download from Dai & Van Gool's page http://people.ee.ethz.ch/~daid/NightDriving/",
    official={"test": {"images": 50, "labels": 50}},
    must_label=("test",),
    scored=("test",),
)

LAYOUTS: dict[str, DatasetLayout] = {
    layout.key: layout for layout in (CITYSCAPES, DARK_ZURICH, ACDC, NIGHTTIME_DRIVING)
}
DATASETS: tuple[str, ...] = tuple(LAYOUTS)


def layouts_found(root: PathLike) -> list[DatasetLayout]:
    """The datasets whose image folders (of any split) `root` holds: what a folder given for one
    dataset holds instead, so a message can name it."""
    root = Path(root)
    if not root.is_dir():
        return []
    return [layout for layout in LAYOUTS.values()
            if any(layout.image_kind(split).exists(root) for split in layout.splits)]


def describe_found(root: PathLike) -> str | None:
    """'the Dark Zurich dataset (rgb_anon/test/night/, ...)' for what `root` holds, else None."""
    found = layouts_found(root)
    if not found:
        return None
    names = " and ".join(layout.name for layout in found)
    folders = sorted({layout.image_kind(split).folder for layout in found for split in layout.splits
                      if layout.image_kind(split).exists(root)})
    return f"the {names} dataset ({', '.join(f'{folder}/' for folder in folders[:3])})"

"""`check_layout(dataset, root)`: does a folder hold a real dataset the loaders can read?

For each split it counts images, references, labels and pairs, builds the split's loader (which
validates every expected file path) and decodes the first sample; anything missing is reported
with the exact path pattern and the official archive it comes from. Official counts are shown as
information only: fixture and ToyCity trees are much smaller and still usable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ccdistill.data import acdc, cityscapes, darkzurich, nightdriving
from ccdistill.data.io import FileKind, PathLike, SampleDataset
from ccdistill.errors import DataError, InputError

DATASETS: tuple[str, ...] = ("cityscapes", "darkzurich", "acdc", "nightdriving")


@dataclass(frozen=True)
class SplitCheck:
    """How to check one split: the folder whose presence means the split was extracted, the
    loader that validates it, the files to count and the official counts."""

    split: str
    required: bool
    presence: FileKind
    build: Callable[[Path], SampleDataset]
    counted: dict[str, FileKind]
    expected: dict[str, int]
    ref_name: str = ""  # what image_ref is called in this split ("" = none)
    labels: bool = True  # whether the split may carry labels


@dataclass
class SplitReport:
    """What was found for one split; `ok` when it can be loaded (or is optional and absent)."""

    split: str
    required: bool
    present: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    absent_hint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and (self.present or not self.required)


@dataclass
class LayoutReport:
    """The result of `check_layout`: per-split reports and whether the loaders can use the tree."""

    dataset: str
    root: Path
    splits: list[SplitReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # problems with the root itself

    @property
    def usable(self) -> bool:
        return not self.problems and all(split.ok for split in self.splits)

    def format(self) -> str:
        """A human-readable report: one block per split, then the verdict."""
        lines = [f"{self.dataset} at {self.root}"]
        lines += [f"  problem: {problem}" for problem in self.problems]
        for split in self.splits:
            need = "required" if split.required else "optional"
            if not split.present:
                status = "MISSING" if split.required else "absent"
                lines.append(f"  {split.split:<6} ({need}) {status}: {split.absent_hint}")
                continue
            counts = ", ".join(
                f"{name} {count}" + (f" (official {split.expected[name]})" if name in split.expected else "")
                for name, count in split.counts.items()
            )
            lines.append(f"  {split.split:<6} ({need}) {'OK' if split.ok else 'PROBLEM'}: {counts}")
            lines += [f"      - {problem}" for problem in split.problems]
        if self.usable:
            lines.append("usable: yes (counts below the official ones are fine for ToyCity or fixture trees)")
        else:
            lines.append("usable: no (fix the problems above; each names the expected path and its archive)")
        return "\n".join(lines)


def _split_checks(dataset: str) -> list[SplitCheck]:
    if dataset == "cityscapes":
        return [
            SplitCheck(
                split, split == "train", cityscapes.image_kind(split),
                lambda root, split=split: cityscapes.CityscapesDataset(root, split),
                {"images": cityscapes.image_kind(split)}
                | ({"labels": cityscapes.label_kind(split)} if split in cityscapes.LABELLED_SPLITS else {}),
                {"images": cityscapes.EXPECTED_IMAGES[split], "labels": cityscapes.EXPECTED_IMAGES[split]},
                labels=split in cityscapes.LABELLED_SPLITS,
            )
            for split in cityscapes.SPLITS
        ]
    if dataset == "darkzurich":
        expected = darkzurich.EXPECTED_COUNTS
        train = SplitCheck(
            "train", True, darkzurich.night_kind("train"),
            lambda root: darkzurich.DarkZurichPairs(root, "train"),
            {
                "night images": darkzurich.night_kind("train"),
                "day images": darkzurich.day_kind(),
                "corresp CSVs": darkzurich.corresp_kind(),
            },
            expected["train"], ref_name="pairs",
        )
        evaluation = [
            SplitCheck(
                split, split == "val", darkzurich.night_kind(split),
                lambda root, split=split: darkzurich.DarkZurichEval(root, split),
                {
                    "images": darkzurich.night_kind(split),
                    "day references": darkzurich.ref_kind(split),
                    "labels": darkzurich.label_kind(split),
                },
                expected[split], ref_name="day references",
            )
            for split in darkzurich.EVAL_SPLITS
        ]
        return [train, *evaluation]
    if dataset == "acdc":
        return [
            SplitCheck(
                split, split in ("train", "val"), acdc.image_kind(split),
                lambda root, split=split: acdc.ACDCNight(root, split),
                {
                    "images": acdc.image_kind(split),
                    "day references": acdc.ref_kind(split),
                    "labels": acdc.label_kind(split),
                },
                {"images": acdc.EXPECTED_IMAGES[split]}, ref_name="day references",
            )
            for split in acdc.SPLITS
        ]
    if dataset == "nightdriving":
        return [
            SplitCheck(
                "test", True, nightdriving.image_kind(),
                lambda root: nightdriving.NighttimeDrivingTest(root),
                {"images": nightdriving.image_kind(), "labels": nightdriving.label_kind()},
                {"images": nightdriving.EXPECTED_IMAGES["test"], "labels": nightdriving.EXPECTED_IMAGES["test"]},
            )
        ]
    raise InputError(f"dataset must be one of {DATASETS}, got {dataset!r}")


def _check_split(check: SplitCheck, root: Path, deep: bool) -> SplitReport:
    report = SplitReport(check.split, check.required, expected=dict(check.expected))
    report.present = check.presence.exists(root)
    report.absent_hint = f"{root / check.presence.folder} not found; {check.presence.origin()}"
    if not report.present:
        return report
    report.counts = {name: kind.count(root) for name, kind in check.counted.items()}
    try:
        dataset = check.build(root)
    except DataError as error:
        report.problems.append(str(error))
        return report
    # Counts of what the loader matched (a label file only counts when it belongs to an image).
    if check.ref_name:
        report.counts[check.ref_name] = sum(files.image_ref is not None for files in dataset.samples)
    if check.labels:
        report.counts["labels"] = sum(files.label is not None for files in dataset.samples)
        if report.counts["labels"] == 0:
            del report.counts["labels"]
    indices = range(len(dataset)) if deep else range(min(1, len(dataset)))
    for index in indices:
        try:
            dataset.load(index)
        except DataError as error:
            report.problems.append(str(error))
    return report


def check_layout(dataset: str, root: PathLike, deep: bool = False) -> LayoutReport:
    """Check that `root` holds `dataset` in the layout its loader expects.

    Args:
        dataset: "cityscapes", "darkzurich", "acdc" or "nightdriving".
        root: the folder the loader is given (holding leftImg8bit/, rgb_anon/, ...).
        deep: decode every sample of every split (slow on full datasets) instead of the first one.

    Returns:
        LayoutReport with per-split counts and problems; `report.usable`, `report.format()`.
    """
    checks = _split_checks(dataset)
    root = Path(root)
    report = LayoutReport(dataset, root)
    if not root.is_dir():
        report.problems.append(
            f"root folder {root} does not exist; pass the folder the {dataset} archives were extracted into."
        )
        return report
    report.splits = [_check_split(check, root, deep) for check in checks]
    return report

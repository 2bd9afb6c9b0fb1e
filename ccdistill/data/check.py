"""`check_layout(dataset, root)`: does a folder hold a real dataset the loaders can read?

What to check comes from the dataset's `DatasetLayout` (ccdistill.data.layouts). For each split
it counts images, references, labels and pairs, builds the split's loader (which validates every
expected file path), decodes the first sample and reads the header of every other file (its size
must match its image's; a PNG must end with its end marker), so a half-size label or a truncated
image anywhere in a split is found without decoding the dataset. Anything
missing is reported with the exact path pattern and the official archive it comes from; a root
one level too high or too low and archives left zipped in the root are named as such. Official
counts are shown as information only: fixture and ToyCity trees are much smaller and still usable.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ccdistill.data.darkzurich import DarkZurichPairs
from ccdistill.data.datasets import LayoutDataset, SampleDataset
from ccdistill.data.io import PathLike, SampleFiles, probe_image
from ccdistill.data.layouts import DATASETS, LAYOUTS, DatasetLayout, FileKind, describe_found, layouts_found
from ccdistill.errors import DataError, InputError

MAX_LISTED = 5  # file problems listed per split; the rest are counted


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
    needs_labels: bool = False  # training validates on it, or it exists to be scored
    label_kind: FileKind | None = None  # where its labels live (for the message when they lack)


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


def _split_check(layout: DatasetLayout, split: str) -> SplitCheck:
    """A split the table-driven loader reads: images, and day references and labels if it has them."""
    images, labels = layout.image_kind(split), layout.label_kind(split)
    counted = {"images": images}
    if layout.ref is not None:
        counted["day references"] = layout.ref_kind(split)
    if layout.has_labels(split):
        counted["labels"] = labels
    return SplitCheck(
        split, split in layout.required, images, lambda root: LayoutDataset(layout, root, split), counted,
        dict(layout.official[split]), ref_name="day references" if layout.ref is not None else "",
        labels=layout.has_labels(split), needs_labels=split in layout.scored, label_kind=labels,
    )


def _pairs_check(layout: DatasetLayout, split: str, corresp: PathLike | None) -> SplitCheck:
    """A split read from pair-list CSVs (Dark Zurich train): night and day images, and the CSVs."""
    night = layout.image_kind(split)
    counted = {"night images": night, "day images": layout.kind("day", split)}
    if not corresp:  # a given CSV is read by the loader
        counted["corresp CSVs"] = layout.kind("corresp", split)
    return SplitCheck(
        split, split in layout.required, night, lambda root: DarkZurichPairs(root, split, corresp=corresp),
        counted, dict(layout.official[split]), ref_name="pairs",
    )


def _split_checks(layout: DatasetLayout, corresp: PathLike | None = None) -> list[SplitCheck]:
    return [_pairs_check(layout, split, corresp) if split in layout.paired else _split_check(layout, split)
            for split in layout.splits]


def _file_problems(files: SampleFiles) -> list[str]:
    """Header-only problems of one sample: unreadable or truncated files, and a reference or
    label whose size differs from its image's (`load_sample` would fail on it in training)."""
    size, problem = probe_image(files.image, "image")
    problems = [problem] if problem else []
    for path, what in ((files.image_ref, "day reference"), (files.label, "label")):
        if path is None:
            continue
        other, problem = probe_image(path, what, label=what == "label")
        if problem:
            problems.append(problem)
        elif size is not None and other != size:
            problems.append(
                f"size mismatch: {files.image} is {size[1]}×{size[0]} (W×H) but its {what} {path} is "
                f"{other[1]}×{other[0]}; the two files must be pixel-aligned. Re-extract them from the official "
                "archives (resized copies do not match)."
            )
    return problems


def _zipped(root: Path, kind: FileKind) -> str:
    """' (<archive> is in <root>, still zipped: unzip it there)' when it is, else ''."""
    if kind.archive.endswith(".zip") and (root / kind.archive).is_file():
        return f" ({kind.archive} is in {root}, still zipped: unzip it there)"
    return ""


def _missing_labels(check: SplitCheck, root: Path, dataset: SampleDataset) -> str | None:
    """The problem of a split that must be scored but has no label for some image."""
    if not check.needs_labels or check.label_kind is None:
        return None
    unlabelled = sum(files.label is None for files in dataset.samples)
    if not unlabelled:
        return None
    kind = check.label_kind
    return (f"{unlabelled} of {len(dataset)} {check.split} images have no label ({root / kind.folder} "
            f"{'holds too few' if kind.exists(root) else 'not found'}; {kind.origin()}){_zipped(root, kind)}. Training validates on "
            f"{check.split} and evaluation scores it: extract the labels archive into {root}.")


def _check_split(check: SplitCheck, root: Path, deep: bool) -> SplitReport:
    report = SplitReport(check.split, check.required, expected=dict(check.expected))
    report.present = check.presence.exists(root)
    report.absent_hint = f"{root / check.presence.folder} not found; {check.presence.origin()}{_zipped(root, check.presence)}"
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
    missing = _missing_labels(check, root, dataset)
    if missing:
        report.problems.append(missing)
    decoded = len(dataset) if deep else min(1, len(dataset))
    for index in range(decoded):
        try:
            dataset.load(index)
        except DataError as error:
            report.problems.append(str(error))
    # Every other file: its header and its end, not its pixels.
    file_problems = [problem for files in dataset.samples[decoded:] for problem in _file_problems(files)]
    report.problems += file_problems[:MAX_LISTED]
    if len(file_problems) > MAX_LISTED:
        report.problems.append(f"... and {len(file_problems) - MAX_LISTED} more file problem(s) in {check.split}")
    return report


def _top_folders(checks: list[SplitCheck]) -> list[str]:
    """The folders directly under a correct root that hold images (rgb_anon, leftImg8bit, ...)."""
    return sorted({check.presence.folder.split("/")[0] for check in checks})


def _part_folders(checks: list[SplitCheck]) -> list[str]:
    """Every folder directly under a correct root: images, references, labels, pair lists."""
    kinds = [kind for check in checks for kind in (check.presence, check.label_kind, *check.counted.values()) if kind]
    return sorted({kind.folder.split("/")[0] for kind in kinds})


def _holders(root: Path, part: str) -> list[Path]:
    """The folders one level below `root` (else two) that hold `part`: an archive extracted into
    a folder of its own name, sometimes twice over."""
    children = sorted(child for child in root.iterdir() if child.is_dir())
    found = [child for child in children if (child / part).is_dir()]
    if not found:
        found = sorted(grandchild for child in children for grandchild in child.iterdir()
                       if grandchild.is_dir() and (grandchild / part).is_dir())
    return found


def _merge_advice(root: Path, holders: dict[Path, list[str]]) -> str:
    """The problem of archives extracted each into its own folder: the loaders read one root."""
    listed = "; ".join(f"{folder.relative_to(root)}/ holds {', '.join(f'{p}/' for p in parts)}"
                       for folder, parts in holders.items())
    sources = " ".join(f"{shlex.quote(str(folder.relative_to(root)))}/." for folder in holders)
    return (f"{root} holds the archives extracted each into its own folder ({listed}), but the loaders read one "
            f"root holding all of them: merge them into {root} (e.g. `cd {root} && cp -al {sources} .`, GNU cp, "
            "hard links take no extra space) or unzip every archive into that one folder, then check again.")


def _nested_parts(root: Path, parts: list[str]) -> dict[Path, list[str]]:
    """{folder below root: the parts it holds} for the parts root lacks."""
    holders: dict[Path, list[str]] = {}
    for part in parts:
        if not (root / part).is_dir():
            for holder in _holders(root, part):
                holders.setdefault(holder, []).append(part)
    return holders


def _root_problems(dataset: str, root: Path, checks: list[SplitCheck]) -> list[str]:
    """The commonest mistakes: the root one level too high or too low, the archives extracted
    each into its own folder (or one of them a level down), the archives still zipped in it, or
    another dataset's folder."""
    tops, parts = _top_folders(checks), _part_folders(checks)
    holders = _nested_parts(root, parts)
    if any((root / top).is_dir() for top in tops):
        # Images are in place; a labels (or pairs) archive may sit a level down.
        return [f"{root / part} not found, but {folder / part} is: move it up into {root} (every archive is "
                f"extracted into the root)." for folder, found in holders.items() for part in found]
    wanted = ", ".join(f"{top}/" for top in tops)
    problems = []
    if len(holders) > 1:
        problems.append(_merge_advice(root, holders))
    elif holders:
        below = next(iter(holders))
        problems.append(f"{root} holds none of {wanted}, but {below} does: did you mean --root {below}?")
    elif root.name in parts or any((root.parent / t).is_dir() for t in tops):
        problems.append(f"{root} is inside the dataset, not its root: did you mean --root {root.parent}?")
    archives = sorted({kind.archive for check in checks for kind in (check.presence, *check.counted.values())
                       if kind.archive.endswith(".zip")})
    zipped = [name for name in archives if (root / name).is_file()]
    if zipped:
        problems.append(
            f"{root} holds the archive(s) {', '.join(zipped)} still zipped: unzip them into {root} "
            f"(e.g. `cd {root} && unzip {zipped[0]}`), then check again."
        )
    if not problems:
        other = [layout.key for layout in layouts_found(root) if layout.key != dataset]
        instead = f"; it holds {describe_found(root)}: check it with --dataset {other[0]}" if other else ""
        problems.append(f"{root} holds none of the folders {wanted} a {dataset} root holds{instead}; pass the folder "
                        "the archives were extracted into.")
    return problems


def check_layout(dataset: str | DatasetLayout, root: PathLike, deep: bool = False,
                 corresp: PathLike | None = None) -> LayoutReport:
    """Check that `root` holds `dataset` in the layout its loader expects.

    Args:
        dataset: "cityscapes", "darkzurich", "acdc" or "nightdriving" (a key of `LAYOUTS`), or a
            `DatasetLayout` of its own.
        root: the folder the loader is given (holding leftImg8bit/, rgb_anon/, ...).
        deep: decode every sample of every split (slow on full datasets) instead of the first one;
            the headers of all files are read either way.
        corresp: darkzurich only: one pair-list CSV (as `DataConfig.corresp`) instead of
            corresp/train/night/*.csv.

    Returns:
        LayoutReport with per-split counts and problems; `report.usable`, `report.format()`.
    """
    layout = dataset if isinstance(dataset, DatasetLayout) else LAYOUTS.get(dataset)
    if corresp and (layout is None or not layout.paired):
        key = layout.key if layout is not None else dataset
        raise InputError(f"corresp (a Dark Zurich pair-list CSV) applies to dataset 'darkzurich' only, not {key!r}")
    if layout is None:
        raise InputError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    dataset = layout.key
    checks = _split_checks(layout, corresp or None)
    root = Path(root)
    report = LayoutReport(dataset, root)
    if root.is_file():
        report.problems.append(f"root {root} is a file, expected a folder; pass the folder the {dataset} archives "
                               "were extracted into.")
        return report
    if not root.is_dir():
        report.problems.append(
            f"root folder {root} does not exist; pass the folder the {dataset} archives were extracted into."
        )
        return report
    report.problems = _root_problems(dataset, root, checks)
    report.splits = [_check_split(check, root, deep) for check in checks]
    return report

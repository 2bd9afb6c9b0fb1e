"""Write the ToyCity benchmark to disk in the Cityscapes (source) and Dark Zurich (target) layouts.

    root/manifest.json
    root/source/leftImg8bit/{train,val}/toysource/toysource_<seq>_<frame>_leftImg8bit.png       S_d
    root/source/gtFine/{train,val}/toysource/<prefix>_gtFine_{labelIds,labelTrainIds}.png
    root/source/leftImg8bit_night/{train,val}/toysource/<day file name>                         true S_n
    root/target/rgb_anon/train/{day/TOY0001,night/TOY0002}/<SEQ>_frame_<n>_rgb_anon.png        T_d, T_n
    root/target/corresp/train/night/TOY0002.csv                                                 T_n -> T_d
    root/target/gt/train/night/TOY0002/<night stem>_gt_labelTrainIds.png                        (oracle)
    root/target/rgb_anon/{val,test}/night/{TOY0003,TOY0004}/...  + {val,test}_ref/day/<SEQ>_ref/...
    root/target/gt/{val,test}/night/<SEQ>/<stem>_gt_{labelTrainIds,labelIds}.png

Every file is a pure function of (seed, split, index) and the shift settings (`ShiftSettings`,
recorded in the manifest unless they are the defaults): generators are seeded per file, so the
same seed gives byte-identical PNGs (the manifest's sha256 checksums prove it). Files are
written into root/.toycity-partial and moved into place at the end: an interrupted run leaves
no half dataset, and nothing is written outside root.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ccdistill.errors import DataError, InputError
from ccdistill.toycity.render import render
from ccdistill.toycity.scene import MIN_SIZE, Scene, paired_scene, sample_scene
from ccdistill.toycity.shift import ShiftSettings, option_name

GENERATOR = "toycity"
VERSION = "1"
MANIFEST = "manifest.json"
PARTIAL = ".toycity-partial"
OWNED: tuple[str, ...] = ("source", "target", MANIFEST)  # what a (forced) run replaces in root
LISTINGS = ("files", "sizes")  # manifest entries that list the output; every other entry is a setting
PNG_COMPRESS_LEVEL = 1  # fast; fixed so that files are byte-reproducible
DEFAULT_WORKERS = 2

SOURCE_CITY_NAME = "toysource"
SOURCE_FRAME = 19  # Cityscapes annotates the 20th frame of each snippet
TARGET_SEQUENCES = {"train_day": "TOY0001", "train_night": "TOY0002", "val": "TOY0003", "test": "TOY0004"}
# Split codes mixed into every per-file seed, so splits never share a scene.
SPLIT_CODES = {"source_train": 1, "source_val": 2, "target_train": 3, "target_val": 4, "target_test": 5}
DAY_STRENGTH = (0.0, 0.06)  # night strengths of "day" images (a little variety in the light)
NIGHT_STRENGTH = (0.9, 1.0)


@dataclass(frozen=True)
class _Item:
    """One unit of work: a source scene or a target day/night pair."""

    split: str  # a SPLIT_CODES key
    index: int


class _Writer:
    """Encodes PNGs, writes them below a folder and records their sha256 by relative path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, str] = {}
        self.sizes: dict[str, int] = {}  # bytes per file: what loaders check (a stat, not a hash)

    def png(self, relpath: str, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        # uint8 H×W -> mode "L" (labels), H×W×3 -> "RGB".
        image = Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))
        image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
        self.bytes(relpath, buffer.getvalue())

    def bytes(self, relpath: str, data: bytes) -> None:
        path = self.folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files[relpath] = hashlib.sha256(data).hexdigest()
        self.sizes[relpath] = len(data)


def _entropy(seed: int, item: _Item, *extra: int) -> tuple[int, ...]:
    return (seed, SPLIT_CODES[item.split], item.index, *extra)


def _strengths(seed: int, item: _Item) -> tuple[float, float, int, int]:
    """(day strength, night strength, day noise seed, night noise seed) of one item."""
    rng = np.random.default_rng(np.random.SeedSequence(_entropy(seed, item, 99)))
    day, night = rng.uniform(*DAY_STRENGTH), rng.uniform(*NIGHT_STRENGTH)
    noise = rng.integers(0, 2**31, size=2)
    return float(day), float(night), int(noise[0]), int(noise[1])


def _source_scene(writer: _Writer, item: _Item, seed: int, size: tuple[int, int], shift: ShiftSettings) -> None:
    split = item.split.removeprefix("source_")
    scene = sample_scene(_entropy(seed, item), shift.cities()[0], size)
    day, night, day_noise, night_noise = _strengths(seed, item)
    prefix = f"{SOURCE_CITY_NAME}_{item.index:06d}_{SOURCE_FRAME:06d}"
    folder = f"{split}/{SOURCE_CITY_NAME}"
    writer.png(f"source/leftImg8bit/{folder}/{prefix}_leftImg8bit.png", render(scene, day, noise_seed=day_noise))
    writer.png(f"source/leftImg8bit_night/{folder}/{prefix}_leftImg8bit.png",
               render(scene, night, noise_seed=night_noise))
    writer.png(f"source/gtFine/{folder}/{prefix}_gtFine_labelIds.png", scene.label_ids)
    writer.png(f"source/gtFine/{folder}/{prefix}_gtFine_labelTrainIds.png", scene.label)


def target_day_scene(
    seed: int, split: str, index: int, size: tuple[int, int], shift: ShiftSettings = ShiftSettings()
) -> Scene:
    """The day scene of target pair `index` of `split` ("train", "val" or "test") exactly as
    `generate_toycity(seed=seed, size=size, shift=shift)` samples it (`ShiftSettings.from_manifest`
    reads `shift` back); its `label` is the trainId map of the day image (T_d, or the val/test day
    reference), which the benchmark does not write to disk."""
    return sample_scene(_entropy(seed, _Item(f"target_{split}", index)), shift.cities()[1], size)


def _target_pair(writer: _Writer, item: _Item, seed: int, size: tuple[int, int], shift: ShiftSettings) -> str | None:
    """Write one target day/night pair; returns the corresp row for train pairs."""
    split = item.split.removeprefix("target_")
    day_scene = target_day_scene(seed, split, item.index, size, shift)
    night_scene = paired_scene(day_scene, _entropy(seed, item, 1))
    day, night, day_noise, night_noise = _strengths(seed, item)
    day_image = render(day_scene, day, noise_seed=day_noise)
    night_image = render(night_scene, night, noise_seed=night_noise)
    frame = f"frame_{item.index:06d}"
    if split == "train":
        day_seq, night_seq = TARGET_SEQUENCES["train_day"], TARGET_SEQUENCES["train_night"]
        day_stem, night_stem = f"{day_seq}_{frame}", f"{night_seq}_{frame}"
        writer.png(f"target/rgb_anon/train/day/{day_seq}/{day_stem}_rgb_anon.png", day_image)
        writer.png(f"target/rgb_anon/train/night/{night_seq}/{night_stem}_rgb_anon.png", night_image)
        writer.png(f"target/gt/train/night/{night_seq}/{night_stem}_gt_labelTrainIds.png", night_scene.label)
        return f"train/night/{night_seq}/{night_stem},train/day/{day_seq}/{day_stem}"
    seq = TARGET_SEQUENCES[split]
    stem = f"{seq}_{frame}"
    writer.png(f"target/rgb_anon/{split}/night/{seq}/{stem}_rgb_anon.png", night_image)
    writer.png(f"target/rgb_anon/{split}_ref/day/{seq}_ref/{stem}_ref_rgb_anon.png", day_image)
    writer.png(f"target/gt/{split}/night/{seq}/{stem}_gt_labelTrainIds.png", night_scene.label)
    writer.png(f"target/gt/{split}/night/{seq}/{stem}_gt_labelIds.png", night_scene.label_ids)
    return None


def read_manifest(root: str | os.PathLike) -> dict | None:
    """The manifest of a ToyCity folder, or None if `root` holds no ToyCity manifest."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("generator") == GENERATOR else None


def toy_command(root: str | os.PathLike, manifest: dict) -> str:
    """The `ccdistill data toy` command line that regenerates the ToyCity `manifest` describes."""
    counts, (height, width) = manifest["counts"], manifest["size"]
    words = [f"ccdistill data toy --root {root} --size {height}x{width} --seed {manifest['seed']}",
             f"--n-train {counts['source_train']} --n-val {counts['source_val']} --n-test {counts['target_test']}"]
    shift = ShiftSettings.from_manifest(manifest)
    words += [f"{option_name(name)} {value:g}" for name, value in vars(shift).items()
              if value != getattr(ShiftSettings(), name)]
    return " ".join(words)


def regenerate_hint(root: str | os.PathLike, manifest: dict | None = None) -> str:
    """What to run to rebuild a damaged ToyCity root (every ToyCity message ends with it); the
    exact command when its manifest is known."""
    if manifest is not None:
        return f"regenerate it with `{toy_command(root, manifest)} --force`"
    return (f"regenerate it with `ccdistill data toy --root {root} --force` (add the --size/--seed/--n-* and the "
            "--preset or shift options you used)")


def verify_toycity(root: str | os.PathLike, max_named: int = 3) -> dict:
    """Check that `root` holds a complete ToyCity as its manifest lists it; returns the manifest.

    Cheap enough for every training start: one stat per file, sizes compared with the
    manifest's, no hashing. Catches a regeneration interrupted mid-swap (no manifest, or a
    leftover .toycity-partial), deleted files and files replaced by others of another size.
    DataError naming the root, the first damaged files and the command that regenerates it.
    """
    root = Path(root)
    if root.is_file():
        raise DataError(f"ToyCity root {root} is a file, expected a folder; pass the folder `ccdistill data toy` wrote.")
    if not root.is_dir():
        raise DataError(f"ToyCity root {root} does not exist; generate it with `ccdistill data toy --root {root}`.")
    manifest = read_manifest(root)
    if manifest is None:
        cause = (f"an interrupted generation left {root / PARTIAL}" if (root / PARTIAL).exists()
                 else f"{root / MANIFEST} from the toycity generator is missing or unreadable")
        raise DataError(
            f"ToyCity root {root} is not a complete ToyCity: {cause} (a regeneration interrupted mid-swap, or "
            f"not a ToyCity folder); {regenerate_hint(root)}."
        )
    expected = manifest.get("sizes") or dict.fromkeys(manifest.get("files", {}), None)  # old manifests: presence only
    missing, resized = [], []
    for relpath, size in expected.items():
        try:
            found = (root / relpath).stat().st_size
        except FileNotFoundError:
            missing.append(relpath)
            continue
        if size is not None and found != size:
            resized.append(f"{relpath} ({found} bytes, manifest {size})")
    if missing or resized:
        parts = []
        if missing:
            parts.append(f"{len(missing)} file(s) missing, e.g. {', '.join(missing[:max_named])}")
        if resized:
            parts.append(f"{len(resized)} file(s) replaced or truncated, e.g. {', '.join(resized[:max_named])}")
        raise DataError(f"ToyCity root {root} does not match its {MANIFEST}: {'; '.join(parts)}; "
                        f"{regenerate_hint(root, manifest)}.")
    return manifest


def _check_arguments(size, seed, counts: dict[str, int]) -> tuple[int, int]:
    if len(size) != 2 or any(int(s) != s or s < MIN_SIZE for s in size):
        raise InputError(f"size must be (H, W) integers of at least {MIN_SIZE}, got {size}; e.g. (256, 512).")
    if int(seed) != seed or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}.")
    for name, count in counts.items():
        if int(count) != count or count < 1:
            raise InputError(f"{name} must be a positive integer, got {count!r}.")
    return int(size[0]), int(size[1])


def _prepare_root(root: Path, wanted: dict, force: bool) -> dict | None:
    """Check that `root` may be written; returns the existing manifest if it already matches."""
    if root.exists() and not root.is_dir():
        raise DataError(f"ToyCity root {root} exists and is not a folder; choose a folder path.")
    existing = read_manifest(root) if root.is_dir() else None
    if existing is not None:
        # Both ways round: a default request lacks the "shift" key that a shifted manifest has.
        keys = [key for key in {**wanted, **existing} if key not in LISTINGS]
        differ = [key for key in keys if existing.get(key) != wanted.get(key)]
        if not differ and not force:
            return existing
        if not force:
            found = ", ".join(f"{key}={existing.get(key, 'default')}" for key in differ)
            asked = ", ".join(f"{key}={wanted.get(key, 'default')}" for key in differ)
            raise DataError(
                f"{root} holds a ToyCity generated with {found}, but {asked} was requested; pass "
                "force=True (--force) to regenerate it, or choose another root."
            )
        return None
    entries = [entry.name for entry in root.iterdir() if entry.name != PARTIAL] if root.is_dir() else []
    if entries and not force and set(entries) <= set(OWNED):
        raise DataError(
            f"{root} holds ToyCity folders ({', '.join(sorted(entries))}) but no {MANIFEST}: a generation was "
            f"interrupted while swapping the new files in; {regenerate_hint(root)}."
        )
    if entries and not force:
        raise DataError(
            f"{root} is not empty and is not a ToyCity folder (no {MANIFEST} from the toycity generator; "
            f"it holds e.g. {sorted(entries)[:3]}); choose an empty or new folder, or pass force=True "
            f"(--force) to write ToyCity into it (replacing only {', '.join(OWNED)})."
        )
    return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def generate_toycity(
    root: str | os.PathLike,
    size: tuple[int, int] = (256, 512),
    seed: int = 0,
    n_train: int = 200,
    n_val: int = 50,
    n_test: int = 50,
    force: bool = False,
    progress: bool = True,
    workers: int | None = None,
    shift: ShiftSettings = ShiftSettings(),
) -> dict:
    """Generate the ToyCity benchmark under `root` (layout in the module docstring).

    Args:
        root: output folder; created if missing. It must be empty, absent, or a ToyCity folder.
        size: (H, W) of every image.
        seed: the same seed gives byte-identical files.
        n_train: source train scenes and target train day/night pairs.
        n_val: source val scenes and target val night images (with day references and labels).
        n_test: target test night images (with day references and labels).
        force: regenerate an existing ToyCity with other settings, or write into a non-empty
            foreign folder (only source/, target/ and manifest.json are replaced).
        progress: show a tqdm progress bar.
        workers: threads rendering and writing scenes concurrently (None: up to 2, the CPU
            count permitting). numpy, zlib and hashlib release the GIL in their inner loops;
            files do not depend on the number of workers.
        shift: the domain-shift controls (night gain and noise of the target camera, camera and
            colour distance between the cities, traffic density); `shift_preset("hard")` is the
            harder setting. The defaults give today's ToyCity byte for byte.

    Returns:
        The manifest: {"generator", "version", "seed", "size": [H, W], "counts", ["shift": the
        controls, only when not the defaults], "files": {relative path: sha256}, "sizes":
        {relative path: bytes}}. If root already holds a ToyCity with the same settings it is
        returned without regenerating.
    """
    counts = {"n_train": n_train, "n_val": n_val, "n_test": n_test}
    size = _check_arguments(size, seed, counts)
    if not isinstance(shift, ShiftSettings):
        raise InputError(f"shift must be a ShiftSettings (e.g. shift_preset('hard')), got {shift!r}.")
    root = Path(root)
    wanted = {
        "generator": GENERATOR, "version": VERSION, "seed": int(seed), "size": list(size),
        "counts": {"source_train": n_train, "source_val": n_val, "target_train_pairs": n_train,
                   "target_val": n_val, "target_test": n_test},
    }
    if shift.to_manifest() is not None:  # a default manifest stays byte for byte what it always was
        wanted["shift"] = shift.to_manifest()
    existing = _prepare_root(root, wanted, force)
    if existing is not None:
        return existing
    items = (
        [_Item("source_train", i) for i in range(n_train)] + [_Item("source_val", i) for i in range(n_val)]
        + [_Item("target_train", i) for i in range(n_train)] + [_Item("target_val", i) for i in range(n_val)]
        + [_Item("target_test", i) for i in range(n_test)]
    )
    root.mkdir(parents=True, exist_ok=True)
    partial = root / PARTIAL
    _remove(partial)  # left by an interrupted run
    partial.mkdir()
    try:
        writer = _Writer(partial)

        def work(item: _Item) -> str | None:
            if item.split.startswith("source"):
                _source_scene(writer, item, int(seed), size, shift)
                return None
            return _target_pair(writer, item, int(seed), size, shift)

        threads = workers if workers is not None else min(DEFAULT_WORKERS, os.cpu_count() or 1)
        pool = ThreadPoolExecutor(max_workers=int(threads)) if threads > 1 else None
        try:
            # map() yields results in item order, so the corresp rows are ordered by frame.
            results = pool.map(work, items) if pool is not None else map(work, items)
            if progress:
                from tqdm import tqdm

                results = tqdm(results, total=len(items), desc="ToyCity", unit="scene")
            corresp = [row for row in results if row is not None]
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: drop queued scenes
        night_seq = TARGET_SEQUENCES["train_night"]
        writer.bytes(f"target/corresp/train/night/{night_seq}.csv", ("\n".join(corresp) + "\n").encode())
        manifest = dict(wanted, files=dict(sorted(writer.files.items())), sizes=dict(sorted(writer.sizes.items())))
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        # Swap in: drop the manifest first, so an interruption mid-swap never looks complete.
        _remove(root / MANIFEST)
        for name in OWNED:
            _remove(root / name)
            os.replace(partial / name, root / name)
    finally:
        _remove(partial)
    return manifest

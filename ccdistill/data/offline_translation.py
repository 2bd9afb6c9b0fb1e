"""Offline S_d -> S_n: translate a whole folder of source-day images once and cache the night
images as PNGs (`ccdistill data translate`), for `translation=folder` to read back through
`FolderTranslation` (translate.py)."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from ccdistill.data.translate import FOLDER_METHODS, REFERENCE_METHODS, build_translator
from ccdistill.errors import DataError, InputError

__all__ = ["SOURCE_GLOB", "reference_for", "translate_folder"]

SOURCE_GLOB = "*_leftImg8bit.png"
PNG_COMPRESS_LEVEL = 3


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
        what = "is a file, expected a folder" if source_dir.exists() else "does not exist"
        raise DataError(f"source folder {source_dir} {what}; pass the folder holding {SOURCE_GLOB} images.")
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

"""`build_datasets(cfg)`: the source streams (S_d, S_n, label), the target streams (T_n, T_d) and
the evaluation split, from one `DataConfig`. The trainer, the notebooks and the CLI all call this."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ccdistill.config import DataConfig
from ccdistill.data.acdc import ACDCNight
from ccdistill.data.cityscapes import CityscapesDataset
from ccdistill.data.darkzurich import EVAL_SPLITS, DarkZurichEval, DarkZurichPairs
from ccdistill.data.datasets import SampleDataset
from ccdistill.data.layouts import ACDC, DARK_ZURICH, describe_found
from ccdistill.data.streams import SourceStreams, TargetStreams
from ccdistill.data.transforms import EvalTransform, SourcePairTransform, TargetPairTransform
from ccdistill.errors import DataError, InputError
from ccdistill.normalization import IMAGENET, Normalization

# The adaptation setups data.dataset names: a source dataset with a target dataset (ToyCity has both).
ADAPTATION_SETUPS: tuple[str, ...] = ("toycity", "cityscapes_darkzurich", "cityscapes_acdc")
# Precomputed night images come at full resolution: translate before cropping.
FULL_IMAGE_METHODS: tuple[str, ...] = ("folder",)
# ToyCity's true night renderings of the source train scenes (the oracle translation); the
# train subfolder only, since the stream reads the train split.
TOY_SOURCE, TOY_TARGET, TOY_SOURCE_NIGHT = "source", "target", "source/leftImg8bit_night/train"


@dataclass
class DatasetBundle:
    """The datasets of one run.

    source: S_d, S_n (translated, pixel-aligned) and the label, from the source train split.
    target: T_n with its paired T_d, from the target train split.
    evaluation: target night images (+ labels where they exist) of `DataConfig.eval_split`.
    """

    source: SourceStreams
    target: TargetStreams
    evaluation: SampleDataset

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentations of `epoch` in both training streams, as the trainer's
        `StreamLoader`s do as each epoch starts (for loops that draw from the bundle by hand)."""
        self.source.set_epoch(epoch)
        self.target.set_epoch(epoch)


def _refuse_real_dataset_as_toycity(root: Path) -> None:
    """A real dataset's folder given as data.root is named as such: regenerating ToyCity into it
    (what a damaged ToyCity root is told) would be the wrong advice."""
    from ccdistill.toycity.generate import read_manifest

    found = describe_found(root) if read_manifest(root) is None else None
    if found is None:
        return
    raise DataError(
        f"data.root {root} is not a ToyCity: it holds {found}; to use it set data.dataset=cityscapes_darkzurich "
        "or cityscapes_acdc with data.source_root=<Cityscapes folder> and data.target_root=<Dark Zurich or ACDC "
        "folder>, or point data.root at a ToyCity folder (`ccdistill data toy --root data/toycity` makes one).")


def _roots(cfg: DataConfig) -> tuple[Path, Path]:
    if cfg.dataset == "toycity":
        from ccdistill.toycity.generate import verify_toycity

        root = Path(cfg.root)
        _refuse_real_dataset_as_toycity(root)
        verify_toycity(root)  # a half-swapped, deleted or replaced-file root fails here, not mid-run
        return root / TOY_SOURCE, root / TOY_TARGET
    for key in ("source_root", "target_root"):
        if not getattr(cfg, key):
            raise InputError(
                f"data.{key} is empty but dataset={cfg.dataset!r} reads real data: set data.source_root to the "
                "Cityscapes folder (holding leftImg8bit/, gtFine/) and data.target_root to the "
                f"{'ACDC' if cfg.dataset == 'cityscapes_acdc' else 'Dark Zurich'} folder (holding rgb_anon/). "
                "See docs/DATA.md; check a folder with `ccdistill data check`."
            )
    return Path(cfg.source_root), Path(cfg.target_root)


def _translation_folder(cfg: DataConfig) -> str | None:
    if cfg.translation != "folder":
        return None
    if cfg.translation_folder:
        return cfg.translation_folder
    if cfg.dataset == "toycity":
        # The oracle translation: ToyCity's true night renderings of the source scenes.
        return str(Path(cfg.root) / TOY_SOURCE_NIGHT)
    raise InputError(
        "data.translation='folder' needs data.translation_folder: a folder of precomputed night images "
        "named like the Cityscapes images they translate (e.g. from a CycleGAN)."
    )


@contextmanager
def _toycity_messages(cfg: DataConfig) -> Iterator[None]:
    """ToyCity is written in the Cityscapes and Dark Zurich layouts, so the loaders' messages
    name those datasets' archives and download pages; for a ToyCity root, say to regenerate."""
    if cfg.dataset != "toycity":
        yield
        return
    from ccdistill.toycity.generate import regenerate_hint

    try:
        yield
    except DataError as error:
        if "ccdistill data toy" in str(error):  # already a ToyCity message (verify_toycity)
            raise
        fact = str(error).split("; ")[0].rstrip(".")  # the loaders' first clause names the file
        raise DataError(f"ToyCity root {cfg.root}: {fact}; {regenerate_hint(cfg.root)}.") from None


def _check_choices(cfg: DataConfig) -> None:
    if cfg.dataset not in ADAPTATION_SETUPS:
        raise InputError(f"data.dataset must be one of {ADAPTATION_SETUPS}, got {cfg.dataset!r}")
    if cfg.eval_split not in EVAL_SPLITS:
        raise InputError(f"data.eval_split must be one of {EVAL_SPLITS}, got {cfg.eval_split!r}")


def _evaluation_split(cfg: DataConfig, target_root: Path, normalization: Normalization = IMAGENET) -> SampleDataset:
    transform = EvalTransform(cfg.eval_size, normalization=normalization)
    split = cfg.eval_split
    if cfg.dataset == "cityscapes_acdc":
        evaluation: SampleDataset = ACDCNight(target_root, split, transform)
        labels, server = ACDC.label_kind(split), "acdc"
    else:
        evaluation = DarkZurichEval(target_root, split, transform)
        labels, server = DARK_ZURICH.label_kind(split), "darkzurich"
    if not evaluation.has_labels:
        # Found now, before any training step, rather than at the first validation.
        where = f"{target_root} has no {split} labels to score against ({target_root / labels.folder} not found"
        if split == "test":
            advice = (f"{where}): the official test labels are withheld; use data.eval_split=val (eval --split val), "
                      f"or write a server submission with `ccdistill export {server}`")
        else:
            advice = (f"{where}; {labels.origin()}): extract the labels archive into the root, then check it with "
                      f"`ccdistill data check`")
        raise DataError(f"data.eval_split={split!r}: {advice}.")
    return evaluation


def build_evaluation(cfg: DataConfig | None = None, normalization: Normalization = IMAGENET) -> SampleDataset:
    """Only the evaluation split of `cfg` (`ccdistill eval`: no training data is read or required),
    its images normalised with `normalization` (the segmenter's own; see `build_datasets`).

    DataError when the split has no labels (the real test splits withhold them)."""
    cfg = cfg if cfg is not None else DataConfig()
    _check_choices(cfg)
    with _toycity_messages(cfg):
        if cfg.dataset == "toycity":
            _, target_root = _roots(cfg)
        else:
            if not cfg.target_root:
                _roots(cfg)  # its message says what data.target_root must hold
            target_root = Path(cfg.target_root)
        return _evaluation_split(cfg, target_root, normalization)


def build_datasets(
    cfg: DataConfig | None = None, seed: int = 0, normalization: Normalization = IMAGENET
) -> DatasetBundle:
    """Build the source streams, target streams and evaluation dataset that `cfg` describes.

    Args:
        cfg: the data section of a run config (default: ToyCity at data/toycity).
        seed: base seed of the per-sample augmentation generators (with the epoch and index).
        normalization: mean/std every image tensor is normalised with: the segmenter's own,
            `build_segmenter(arch).normalization()` or `input_normalization(arch)` (default
            ImageNet's, which the torchvision backbones and `tiny` use).

    Returns:
        DatasetBundle(source, target, evaluation); `StreamLoader` advances each stream's epoch
        (`bundle.set_epoch(e)` does it for loops of your own).
        DataError (before any training step) when the evaluation split has no labels.
    """
    cfg = cfg if cfg is not None else DataConfig()
    _check_choices(cfg)
    with _toycity_messages(cfg):
        return _build_bundle(cfg, seed, normalization)


def _build_bundle(cfg: DataConfig, seed: int, normalization: Normalization) -> DatasetBundle:
    # Imported here: translation pulls in extra code that building loaders alone does not need.
    from ccdistill.data.translate import REFERENCE_METHODS, build_translator

    source_root, target_root = _roots(cfg)
    if cfg.dataset == "cityscapes_acdc":
        pairs: SampleDataset = ACDCNight(target_root, "train")
    else:
        pairs = DarkZurichPairs(target_root, "train", corresp=cfg.corresp or None)
    evaluation = _evaluation_split(cfg, target_root, normalization)

    translator = build_translator(cfg.translation, cfg.translation_beta, _translation_folder(cfg))
    # Only translators that use a T_n style reference get one (reading it costs a PNG decode).
    references = [files.image for files in pairs.samples] if cfg.translation in REFERENCE_METHODS else []
    source = SourceStreams(
        CityscapesDataset(source_root, "train"),
        translator,
        night_references=references,
        transform=SourcePairTransform(crop=cfg.source_crop, scale=cfg.source_scale, normalization=normalization),
        seed=seed,
        translate_full_image=cfg.translation in FULL_IMAGE_METHODS,
    )
    target = TargetStreams(
        pairs,
        TargetPairTransform(scale=cfg.target_scale, crop=cfg.target_crop, size=cfg.target_size,
                            normalization=normalization),
        seed=seed,
    )
    return DatasetBundle(source=source, target=target, evaluation=evaluation)

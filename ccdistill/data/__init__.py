"""Data: the 19-class label space, the real datasets' layouts (`LAYOUTS`) and the loaders derived
from them (Cityscapes, Dark Zurich, ACDC night, Nighttime Driving), joint transforms, the four
training streams and the layout checker.

    from ccdistill.data import build_datasets
    bundle = build_datasets(DataConfig())   # bundle.source, bundle.target, bundle.evaluation
"""

from ccdistill.data.acdc import ACDCNight
from ccdistill.data.build import ADAPTATION_SETUPS, DatasetBundle, build_datasets
from ccdistill.data.check import LayoutReport, check_layout
from ccdistill.data.cityscapes import CityscapesDataset
from ccdistill.data.darkzurich import DarkZurichEval, DarkZurichPairs
from ccdistill.data.datasets import LayoutDataset, SampleDataset
from ccdistill.data.io import SampleFiles, read_image, read_label
from ccdistill.labels import (
    CLASS_NAMES,
    DYNAMIC_CLASSES,
    IGNORE_INDEX,
    KNOWN_LABEL_IDS,
    KNOWN_TRAIN_IDS,
    NUM_CLASSES,
    PALETTE,
    STATIC_CLASSES,
    colorize,
    label_ids_to_train_ids,
    train_ids_to_label_ids,
)
from ccdistill.data.layouts import DATASETS, LAYOUTS, DatasetLayout
from ccdistill.data.nightdriving import NighttimeDrivingTest
from ccdistill.data.streams import SourceStreams, TargetStreams
from ccdistill.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    EvalTransform,
    Normalization,
    SourcePairTransform,
    TargetPairTransform,
    sample_rng,
    tensor_to_image,
)

__all__ = [
    "ACDCNight", "CityscapesDataset", "DarkZurichEval", "DarkZurichPairs", "NighttimeDrivingTest",
    "LayoutDataset", "SampleDataset", "SampleFiles", "read_image", "read_label",
    "DATASETS", "LAYOUTS", "DatasetLayout",
    "ADAPTATION_SETUPS", "DatasetBundle", "build_datasets", "LayoutReport", "check_layout",
    "SourceStreams", "TargetStreams",
    "IMAGENET_MEAN", "IMAGENET_STD", "Normalization", "EvalTransform", "SourcePairTransform", "TargetPairTransform",
    "sample_rng", "tensor_to_image",
    "CLASS_NAMES", "DYNAMIC_CLASSES", "IGNORE_INDEX", "KNOWN_LABEL_IDS", "KNOWN_TRAIN_IDS",
    "NUM_CLASSES", "PALETTE", "STATIC_CLASSES", "colorize", "label_ids_to_train_ids",
    "train_ids_to_label_ids",
]

"""The 19-class Cityscapes label space (trainIds) and the labelId -> trainId mapping.

Class names and palette are data here so every loader, exporter and figure shares them.
"""

from __future__ import annotations

import numpy as np

IGNORE_INDEX = 255
NUM_CLASSES = 19

CLASS_NAMES: tuple[str, ...] = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
    "truck", "bus", "train", "motorcycle", "bicycle",
)

# trainIds 0-10 are the static classes (DANNet's pseudo-label rule keeps only these).
STATIC_CLASSES: tuple[int, ...] = tuple(range(11))
DYNAMIC_CLASSES: tuple[int, ...] = tuple(range(11, 19))

# Official Cityscapes colours, indexed by trainId.
PALETTE: np.ndarray = np.array(
    [
        (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
        (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
        (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70),
        (0, 60, 100), (0, 80, 100), (0, 0, 230), (119, 11, 32),
    ],
    dtype=np.uint8,
)

# Cityscapes labelId of each trainId (docs/DATA.md, Part 2).
TRAIN_ID_TO_LABEL_ID: tuple[int, ...] = (
    7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33,
)

# labelIds run 0..33 plus -1 (license plate, stored as 255 in 8-bit PNGs).
LABEL_ID_TO_TRAIN_ID: np.ndarray = np.full(256, IGNORE_INDEX, dtype=np.uint8)
for _train_id, _label_id in enumerate(TRAIN_ID_TO_LABEL_ID):
    LABEL_ID_TO_TRAIN_ID[_label_id] = _train_id

# Every labelId a valid Cityscapes labelIds PNG may contain.
KNOWN_LABEL_IDS: frozenset[int] = frozenset(range(34)) | {255}
KNOWN_TRAIN_IDS: frozenset[int] = frozenset(range(NUM_CLASSES)) | {IGNORE_INDEX}


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map a Cityscapes labelIds array (any shape, uint8) to trainIds (255 = ignored)."""
    return LABEL_ID_TO_TRAIN_ID[np.asarray(label_ids, dtype=np.uint8)]


def train_ids_to_label_ids(train_ids: np.ndarray) -> np.ndarray:
    """Map trainIds (255 = ignored) back to Cityscapes labelIds; ignored pixels become 0."""
    lut = np.zeros(256, dtype=np.uint8)
    lut[: NUM_CLASSES] = TRAIN_ID_TO_LABEL_ID
    return lut[np.asarray(train_ids, dtype=np.uint8)]


def colorize(train_ids: np.ndarray) -> np.ndarray:
    """H×W trainIds -> H×W×3 uint8 RGB in the Cityscapes palette (ignored pixels black)."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:NUM_CLASSES] = PALETTE
    return lut[np.asarray(train_ids, dtype=np.uint8)]

"""The label space, re-exported for the data package (the definitions live in ccdistill.labels so
that the losses and metrics do not depend on the data package)."""

from ccdistill.labels import (  # noqa: F401
    CLASS_NAMES, DYNAMIC_CLASSES, IGNORE_INDEX, KNOWN_LABEL_IDS, KNOWN_TRAIN_IDS, LABEL_ID_TO_TRAIN_ID,
    NUM_CLASSES, PALETTE, STATIC_CLASSES, TRAIN_ID_TO_LABEL_ID, colorize, label_ids_to_train_ids,
    train_ids_to_label_ids,
)

"""The epoch: endless, resumable batches from a map-style dataset, and the datasets whose
augmentations depend on it.

Each epoch's order is a permutation seeded by (seed, epoch) and split across ranks, so the
position (epoch, batches consumed) is all a checkpoint needs to continue the exact data order.
`StreamLoader` is the one place the epoch advances: at the start of each epoch it tells an
`EpochSeeded` dataset (every loader and stream of ccdistill.data) which epoch's augmentation
draws to make, so augmentations replay exactly on resume too.
"""

from __future__ import annotations

import signal
from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ccdistill.data.transforms import sample_rng
from ccdistill.errors import DataError


def ignore_stop_signals(worker_id: int = 0) -> None:
    """DataLoader workers leave SIGINT and SIGTERM to the training process.

    A terminal's Ctrl-C and a scheduler's SIGTERM reach the whole process group; a worker that
    died of them would take the step in progress with it ("DataLoader worker is killed by
    signal") before the trainer could save its checkpoint. The trainer stops the workers itself
    when it exits, and a worker whose parent is gone exits on its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class EpochSeeded(Dataset):
    """A dataset whose sample i of epoch e is drawn with `sample_rng(seed, e, i, stream)`.

    `stream` (a class attribute) keeps datasets of one seed from sharing draws."""

    stream = 0

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select this epoch's augmentations (`StreamLoader` calls it as each epoch starts). By
        hand: call it before creating the DataLoader iterator, since workers copy the dataset then."""
        self.epoch = int(epoch)

    def rng(self, index: int) -> np.random.Generator:
        """The generator of sample `index` in the current epoch."""
        return sample_rng(self.seed, self.epoch, index, self.stream)


class StreamLoader:
    """Yields batches forever; `state()`/`load_state()` give exact resume.

    Every rank sees `batch_size` samples per batch; together the ranks see disjoint samples.
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int = 0, rank: int = 0,
                 world_size: int = 1, num_workers: int = 0, pin_memory: bool = False) -> None:
        if len(dataset) < batch_size * world_size:
            raise DataError(f"the dataset has {len(dataset)} samples, fewer than one global batch "
                            f"({batch_size} x {world_size} ranks); lower train.batch_size or add data")
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.epoch, self.batches = 0, 0
        self._iterator: Iterator | None = None

    @property
    def batches_per_epoch(self) -> int:
        return len(self.dataset) // (self.batch_size * self.world_size)

    def _indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(len(self.dataset), generator=generator).tolist()
        usable = self.batches_per_epoch * self.batch_size * self.world_size
        # Rank r takes every world_size-th sample, so global batch b is the same samples
        # a single process with world_size x batch_size would see.
        mine = order[:usable][self.rank::self.world_size]
        return mine[self.batches * self.batch_size:]

    def _start_epoch(self) -> None:
        if isinstance(self.dataset, EpochSeeded):
            self.dataset.set_epoch(self.epoch)  # per-sample augmentation seeds depend on the epoch
        loader = DataLoader(self.dataset, batch_size=self.batch_size, sampler=self._indices(),
                            num_workers=self.num_workers, pin_memory=self.pin_memory, drop_last=True,
                            worker_init_fn=ignore_stop_signals if self.num_workers else None)
        self._iterator = iter(loader)

    def __iter__(self) -> "StreamLoader":
        return self

    def __next__(self) -> dict[str, Any]:
        if self._iterator is None:
            self._start_epoch()
        try:
            batch = next(self._iterator)
        except StopIteration:
            self.epoch, self.batches = self.epoch + 1, 0
            self._start_epoch()
            batch = next(self._iterator)
        self.batches += 1
        return batch

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batches": self.batches}

    def load_state(self, state: dict[str, int]) -> None:
        self.epoch, self.batches = int(state["epoch"]), int(state["batches"])
        self._iterator = None

"""`StreamLoader` is the one place the epoch advances: it sets an `EpochSeeded` dataset's epoch
as each epoch starts, so the augmentation draws follow the loader's position (and its resume)."""

from __future__ import annotations

import torch

from ccdistill.data.sampling import EpochSeeded, StreamLoader
from ccdistill.data.transforms import sample_rng


class Draws(EpochSeeded):
    """Four samples whose value is the first draw of their generator."""

    stream = 5

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"index": torch.tensor(index), "draw": torch.tensor(self.rng(index).random())}


def expected(batch: dict[str, torch.Tensor], seed: int, epoch: int) -> list[float]:
    return [sample_rng(seed, epoch, int(index), Draws.stream).random() for index in batch["index"]]


def test_the_loader_sets_the_dataset_epoch_as_each_epoch_starts():
    dataset = Draws(seed=3)
    loader = StreamLoader(dataset, batch_size=2, seed=3)
    batches = [next(loader) for _ in range(5)]  # two batches per epoch
    assert dataset.epoch == 2 and loader.state() == {"epoch": 2, "batches": 1}
    for number, batch in enumerate(batches):
        torch.testing.assert_close(batch["draw"].tolist(), expected(batch, 3, number // 2))


def test_a_resumed_loader_replays_order_and_draws():
    first = StreamLoader(Draws(seed=1), batch_size=2, seed=1)
    for _ in range(3):
        next(first)
    resumed = StreamLoader(Draws(seed=1), batch_size=2, seed=1)
    resumed.load_state(first.state())
    again, original = next(resumed), next(first)
    assert again["index"].tolist() == original["index"].tolist()
    torch.testing.assert_close(again["draw"], original["draw"])

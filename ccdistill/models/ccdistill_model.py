"""The CCDistill networks as the framework figure draws them (docs/METHOD.md, section 3): M_d for
the day streams S_d and T_d, M_n for the night streams S_n and T_n, and the shared projection
head. `route_streams` is the one routing of streams to networks (training and the explorers)."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ccdistill.errors import InputError
from ccdistill.models.factory import build_segmenter
from ccdistill.models.projection import ProjectionHead, check_features
from ccdistill.models.segmenter import Segmenter, SegmenterOutput
from ccdistill.models.state_dicts import load_strict
from ccdistill.streams import NETWORK

NETWORKS: tuple[str, ...] = ("night", "day")  # M_n (deployed by CCDistill), M_d (source-only baseline)


class CCDistillModel(nn.Module):
    """M_d, M_n and the training-only projection head. Only M_n is deployed.

    Args:
        arch: segmenter architecture, one of SEGMENTER_NAMES.
        num_classes: K, the number of classes.
        weights: backbone initialisation, as for build_segmenter (None, "imagenet" or a path).
        share_weights: False (default): M_d and M_n are separate networks starting from the same
            weights; True: one network serves both (ablation; half the segmenter parameters).
        projection: True: a ProjectionHead maps F to e; False: e = L2-normalised F (the paper's
            "without projection head" ablation).
        embedding_dim: D, the embedding channels of the projection head.
    """

    def __init__(
        self,
        arch: str = "tiny",
        num_classes: int = 19,
        weights: None | str | os.PathLike = None,
        share_weights: bool = False,
        projection: bool = True,
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        self.share_weights = share_weights
        night = build_segmenter(arch, num_classes, weights)
        if not share_weights:
            # nn.Module.__setattr__ files a module in _modules without consulting the read-only
            # property below, which then finds it there; with share_weights nothing is filed,
            # so the state dict never holds M_n twice. Both start from the same weights.
            self.segmenter_day = copy.deepcopy(night)
        self.segmenter_night = night
        self.projection = (
            ProjectionHead(night.feature_channels, embedding_dim) if projection else None
        )

    @classmethod
    def from_config(cls, config: object, weights: object = "config") -> "CCDistillModel":
        """The model a config describes: `config` is a ModelConfig (config.model) or a whole
        Config. `weights` overrides the config's backbone initialisation (e.g. None for
        benchmarks that need no pretrained weights)."""
        m = getattr(config, "model", config)
        return cls(m.arch, m.num_classes, weights=m.weights if weights == "config" else weights,
                   share_weights=m.share_weights, projection=m.projection, embedding_dim=m.embedding_dim)

    @property
    def segmenter_day(self) -> Segmenter:
        """M_d; the very same module as M_n when share_weights=True (registered once)."""
        day = self._modules.get("segmenter_day")
        return self.segmenter_night if day is None else day

    def segmenter_for(self, stream: str) -> Segmenter:
        """The network that segments `stream` (`streams.NETWORK`): M_d for S_d and T_d, M_n for
        S_n, T_n and any other name (night images)."""
        return self.segmenter_day if NETWORK.get(stream) == "day" else self.segmenter_night

    def segmenters(self) -> list[Segmenter]:
        """The distinct segmenters: [M_d, M_n], or [M_n] alone when share_weights=True."""
        return list({id(m): m for m in (self.segmenter_day, self.segmenter_night)}.values())

    def forward_day(self, x: torch.Tensor) -> SegmenterOutput:
        """M_d on S_d or T_d: x N×3×H×W → (logits N×K×H×W, features N×C×h×w)."""
        return self.segmenter_day(x)

    def forward_night(self, x: torch.Tensor) -> SegmenterOutput:
        """M_n on S_n or T_n: x N×3×H×W → (logits N×K×H×W, features N×C×h×w)."""
        return self.segmenter_night(x)

    def forward(self, x: torch.Tensor) -> SegmenterOutput:
        """Inference on night images: the same as forward_night."""
        return self.forward_night(x)

    def embed(self, features: torch.Tensor) -> torch.Tensor:
        """F: N×C×h×w → e: N×D×h×w (N×C×h×w without a head), unit L2 norm at every pixel.

        A pixel whose features are all zero (possible after ReLU) stays a zero vector.
        """
        if self.projection is not None:
            return self.projection(features)
        check_features(features, owner="CCDistillModel.embed")
        return F.normalize(features, dim=1)

    def embed_streams(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{stream: F_x N×C×h×w} → {stream: e_x N×D×h×w}, all streams through the head at once.

        The streams are concatenated into one batch, embedded, and split again, so the head's
        BatchNorm normalises S_d, S_n, T_d and T_n with the same statistics: a stream-wide
        shift (night is darker than day) survives into e, which is what the illumination
        correlations Cor(S_d, S_n) and Cor(T_d, T_n) measure. Embedding each stream on its own
        would normalise that shift away (docs/METHOD.md, "one head call").

        Streams of different spatial sizes cannot share a batch; they are embedded in groups
        of equal size (each group still shares its statistics).
        """
        names = list(features)
        groups: dict[tuple[int, ...], list[str]] = {}
        for name in names:
            groups.setdefault(tuple(features[name].shape[1:]), []).append(name)
        embedded: dict[str, torch.Tensor] = {}
        for members in groups.values():
            batch = torch.cat([features[name] for name in members])
            parts = self.embed(batch).split([features[name].shape[0] for name in members])
            embedded.update(zip(members, parts))
        return {name: embedded[name] for name in names}

    def deploy(self, stream: str = "night") -> Segmenter:
        """The segmenter to ship: M_n (or M_d for stream="day", the source-only baseline).

        Returns the module itself, not a copy: its state dict holds neither the projection head
        nor the other segmenter, so inference costs exactly one plain segmenter.
        """
        if stream not in NETWORKS:
            raise InputError(
                f"stream is {stream!r}, but 'night' (M_n, CCDistill) or 'day' (M_d, source-only "
                "baseline) was expected."
            )
        return self.segmenter_night if stream == "night" else self.segmenter_day

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """{"segmenters": M_d and M_n parameters (once each when shared), "projection": the
        head's parameters (empty without a head)}; the trainer gives the head 10× lr."""
        segmenters = {id(p): p for m in self.segmenters() for p in m.parameters()}
        head = list(self.projection.parameters()) if self.projection is not None else []
        return {"segmenters": list(segmenters.values()), "projection": head}

    def load_segmenter_state(
        self, state_dict: Mapping[str, torch.Tensor], source: str = "state_dict"
    ) -> None:
        """Warm-start M_d and M_n from one source-trained segmenter state dict (docs/TRAINING.md,
        "The GPU recipe").

        Args:
            state_dict: the state dict of a single segmenter (e.g. `deploy().state_dict()` of a
                source-only run), not of a whole CCDistillModel.
            source: how error messages name it, e.g. the checkpoint's file name.
        """
        what_to_do = (
            f"pass the state dict of a {self.segmenter_night.name} segmenter with "
            f"num_classes={self.segmenter_night.num_classes}"
        )
        if isinstance(state_dict, Mapping) and any(
            key.startswith(("segmenter_night.", "segmenter_day.")) for key in state_dict
        ):
            what_to_do += (
                " (this looks like a whole CCDistillModel state dict: use "
                "model.load_state_dict instead)"
            )
        for segmenter in self.segmenters():
            load_strict(segmenter, state_dict, source, what_to_do + ".")


def route_streams(model: nn.Module, streams: Iterable[str]) -> list[tuple[nn.Module, list[str]]]:
    """The streams grouped by the network that segments them, in the order they come: one group
    per distinct network of a CCDistillModel (`segmenter_for`: M_d and M_n, or one network when
    they share weights); a single segmenter serves every stream."""
    groups: dict[int, tuple[nn.Module, list[str]]] = {}
    for stream in streams:
        network = model.segmenter_for(stream) if isinstance(model, CCDistillModel) else model
        groups.setdefault(id(network), (network, []))[1].append(stream)
    return list(groups.values())

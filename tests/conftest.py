"""Shared fixtures. Tests never download: every network entry point torch and torchvision use
is replaced by one that fails loudly."""

from __future__ import annotations

import urllib.request

import pytest
import torch


class NetworkBlocked(OSError):
    pass


def _blocked(*args, **kwargs):
    raise NetworkBlocked("tests must not download (a test tried to reach the network)")


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch, tmp_path_factory):
    monkeypatch.setattr(urllib.request, "urlopen", _blocked)
    monkeypatch.setattr(torch.hub, "download_url_to_file", _blocked)
    # An empty hub cache so a weights file someone downloaded by hand cannot mask a bug.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.getbasetemp() / "torch_home"))
    yield


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)
    yield

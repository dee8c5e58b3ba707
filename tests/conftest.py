"""Shared fixtures: tiny models saved as real checkpoints, so every test exercises the real format."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
torch.set_num_threads(min(2, torch.get_num_threads()))


def make_tiny(seed: int = 0, **config):
    from ganstudio.models.tiny import TinyConfig, TinyGenerator

    torch.manual_seed(seed)
    G = TinyGenerator(TinyConfig(**config))
    G.w_avg.normal_()
    return G.eval()


@pytest.fixture
def tiny_generator():
    return make_tiny()


@pytest.fixture
def checkpoint_dir(tmp_path: Path) -> Path:
    """A checkpoints folder holding one tiny model with a model card."""
    from ganstudio import checkpoint

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    checkpoint.save(folder / "tiny.safetensors", {"G_ema": make_tiny()}, dataset="noise", labels=["A", "B"], step=3)
    (folder / "tiny.md").write_text("# tiny\nA test model.\n")
    return folder

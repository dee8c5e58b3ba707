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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_local(app, **kwargs):
    """Launch on 127.0.0.1 on a fresh port: on a loaded machine a server closed by an earlier
    test can still answer on a reused port (7860) and fail the next app's start-up check."""
    settings = {"server_name": "127.0.0.1", "quiet": True, "ssr_mode": False, "enable_monitoring": False,
                "run_history": False, **kwargs, "server_port": free_port()}
    app.launch(prevent_thread_lock=True, **settings)
    return app

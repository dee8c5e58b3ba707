"""Tiny randomly initialised translation models, saved as real checkpoints."""

from __future__ import annotations

from pathlib import Path

import torch

from ganstudio import checkpoint
from ganstudio.models.translation import (
    PatchDiscriminator, PatchDiscriminatorConfig, ResnetGenerator, ResnetGeneratorConfig, StarDiscriminator,
    StarDiscriminatorConfig, StarGenerator, StarGeneratorConfig, translation_meta,
)

RES = 16
HAIR = ["Black_Hair", "Blond_Hair", "Brown_Hair"]
ATTRS = [*HAIR, "Smiling", "Eyeglasses"]


def cyclegan_nets(seed: int = 0) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    g = ResnetGeneratorConfig(resolution=RES, width=4, n_blocks=1)
    d = PatchDiscriminatorConfig(width=4, n_layers=2)
    return {"G_AB": ResnetGenerator(g), "G_BA": ResnetGenerator(g),
            "D_A": PatchDiscriminator(d), "D_B": PatchDiscriminator(d)}


def stargan_nets(seed: int = 0) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    return {"G": StarGenerator(StarGeneratorConfig(resolution=RES, c_dim=len(ATTRS), width=4, n_blocks=1)),
            "D": StarDiscriminator(StarDiscriminatorConfig(resolution=RES, c_dim=len(ATTRS), width=4, n_layers=2))}


def save_cyclegan(path: Path, labels=("horse", "zebra")) -> Path:
    return checkpoint.save(path, cyclegan_nets(), labels=list(labels), dataset="unpaired:test",
                           meta=translation_meta("cyclegan"))


def save_stargan(path: Path, roles=("G", "D")) -> Path:
    nets = stargan_nets()
    return checkpoint.save(path, {r: nets[r] for r in roles}, labels=ATTRS, dataset="synthfaces:16",
                           meta=translation_meta("stargan", [HAIR]))

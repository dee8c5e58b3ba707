"""What registered networks share: a config dataclass they are built from, and for generators
the mapping / synthesis split the studio, editing and training code rely on."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import torch
from torch import nn

from ..config_io import from_dict


class ConfigModule(nn.Module):
    """An nn.Module built from a frozen config dataclass, so checkpoints can rebuild it.

    An arch also says how it is usually trained, where the training code would otherwise keep
    a list: `discriminator`, the arch a generator trains against unless told otherwise, and
    `train_defaults`, the optimiser settings (lr, betas, style mixing, R1 "auto" = StyleGAN2-ADA's
    heuristic) a run uses where neither the user nor the objective says. `tiny_config` is a
    config small enough to build and run in milliseconds, so one test covers every arch."""

    Config: ClassVar[type]
    discriminator: ClassVar[str | None] = None
    train_defaults: ClassVar[dict[str, Any]] = {}
    tiny_config: ClassVar[dict[str, Any]] = {}  # the smallest sensible config: what the shared arch tests build

    def __init__(self, config: Any):
        super().__init__()
        if not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} needs a {self.Config.__name__}, got {type(config).__name__}")
        self.config = config

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> "ConfigModule":
        return cls(from_dict(cls.Config, data))


class Generator(ConfigModule):
    """z -> mapping -> ws [B, num_ws, w_dim] -> synthesis -> samples. Subclasses provide the two
    halves; editing, inversion and style mixing call them apart, sampling calls them together."""

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, psi=psi, cutoff=cutoff, c=c), noise_mode=noise_mode)

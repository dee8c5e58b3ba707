"""Minibatch discrimination (Salimans et al. 2016): a layer a discriminator can include so
that it judges each sample *against the rest of its minibatch*, which lets it notice a
generator that emits near-identical samples (mode collapse).

For features f [N, A], a learned tensor T maps each sample to B rows M_i,b of C numbers;
the closeness of two samples in row b is exp(-||M_i,b - M_j,b||_1), and the layer appends,
for every b, the summed closeness to the *other* samples: o(x_i)_b = sum_{j != i} c_b(x_i, x_j).
"""

from __future__ import annotations

import torch
from torch import nn


class MinibatchDiscrimination(nn.Module):
    """[N, in_features] -> [N, in_features + kernels]."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = 8):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        M = (f @ self.T).view(-1, self.kernels, self.kernel_dim)  # [N, B, C]
        l1 = (M.unsqueeze(0) - M.unsqueeze(1)).abs().sum(-1)  # [N, N, B]
        closeness = torch.exp(-l1).sum(1) - 1.0  # minus exp(0) = 1: the sample itself
        return torch.cat([f, closeness], dim=1)

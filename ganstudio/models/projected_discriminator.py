"""`projected_d`: a discriminator that judges images in a frozen feature network's space.

After Projected GAN (Sauer et al., 2021): the image goes through a frozen `feature_net`; its
maps at four scales are mixed by fixed random 1x1 convolutions (cross-channel mixing) and
fused coarse-to-fine by fixed random 3x3 convolutions (cross-scale mixing); a small trainable
discriminator per scale turns each mixed map into a 4x4 grid of real/fake logits. Only those
small discriminators learn, so D starts from features that already describe faces instead of
learning them from scratch while G does, which is where a plain discriminator spends its first
hours. The random mixing keeps D from resting on the few feature channels easiest to tell apart.
D sees only what the feature network carries: `benchmarks/feature_probe.py` measures that per
attribute before a long run is spent on it (the face bake-off's network barely reads mouths).

The logits come as [B, K] (every scale's patches side by side); objectives that look at scores
only (hinge, non-saturating, LSGAN) treat each as one decision. The feature network's weights
come from `ganstudio features train` at the start of training (`d_features`) and are stored in
every snapshot and export, so a trained D needs no other file.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule
from .feature_net import FeatureNet, FeatureNetConfig
from .layers import EqualConv2d

LOGIT_SIDE = 4  # each scale's discriminator ends at a 4x4 grid of patch logits


@dataclass(frozen=True)
class ProjectedDConfig:
    """`feature_resolution` (None: `resolution`) / `feature_channels`: the frozen feature network's
    config (it must match the file training loads); `width`: channels of the per-scale
    discriminators; `proj_seed`: the seed of the fixed random mixing; `spectral_norm`: the
    per-scale discriminators' layers spectrally normalised (Projected GAN's choice; here, with
    no batch norm after them, it kept D near chance on SynthFaces) instead of equalized lr."""

    resolution: int = 64
    feature_resolution: int | None = None
    feature_channels: tuple[int, ...] = (16, 32, 64, 128)
    width: int = 32
    proj_seed: int = 0
    spectral_norm: bool = False

    def __post_init__(self):
        object.__setattr__(self, "feature_channels", tuple(self.feature_channels))
        self.feature_net()  # its own check of the sizes
        if self.width < 1:
            raise ValueError(f"projected_d width must be positive, got {self.width}")

    def feature_net(self) -> FeatureNetConfig:
        return FeatureNetConfig(self.feature_resolution or self.resolution, self.feature_channels)


def _frozen(module: nn.Module) -> nn.Module:
    """The module with every parameter turned into a buffer: saved and moved with D, never trained
    (the training loop hands every parameter of a role to its optimiser)."""
    for sub in module.modules():
        for name, param in list(sub.named_parameters(recurse=False)):
            delattr(sub, name)
            sub.register_buffer(name, param.detach())
    return module


def _scale_discriminator(channels: int, side: int, width: int, spectral: bool) -> nn.Sequential:
    layers: list[nn.Module] = [EqualConv2d(channels, width, 3, spectral=spectral)]
    while side > LOGIT_SIDE:
        layers.append(EqualConv2d(width, width, 3, down=True, spectral=spectral))
        side //= 2
    layers.append(EqualConv2d(width, 1, 1, activation=False, spectral=spectral))
    return nn.Sequential(*layers)


@ARCHS.register("projected_d", needs_feature_net=True)
class ProjectedDiscriminator(ConfigModule):
    Config = ProjectedDConfig
    tiny_config = dict(resolution=16, feature_channels=(4, 8), width=4)

    def __init__(self, config: ProjectedDConfig):
        super().__init__(config)
        self.resolution, self.c_dim = config.resolution, 0
        self.feature_net = _frozen(FeatureNet(config.feature_net()).eval())
        chans, sizes = config.feature_channels, config.feature_net().sizes()
        with torch.random.fork_rng():  # the same mixing for a given proj_seed, whatever ran before
            torch.manual_seed(config.proj_seed)
            self.channel_mixing = _frozen(nn.ModuleList(nn.Conv2d(c, c, 1) for c in chans))
            self.scale_mixing = _frozen(nn.ModuleList(
                nn.Conv2d(coarse, fine, 3, padding=1) for fine, coarse in zip(chans[:-1], chans[1:])))
        self.discriminators = nn.ModuleList(
            _scale_discriminator(c, max(s, LOGIT_SIDE), config.width, config.spectral_norm)
            for c, s in zip(chans, sizes))

    def train(self, mode: bool = True) -> "ProjectedDiscriminator":
        super().train(mode)
        self.feature_net.eval()  # its GroupNorm has no running statistics, but keep it fixed all the same
        return self

    def use_feature_net(self, net: FeatureNet) -> None:
        """Copy a trained feature network's weights in; its config must be the one this D was built for."""
        if net.config != self.config.feature_net():
            raise ValueError(f"the feature network has config {net.config}, this discriminator was built for "
                             f"{self.config.feature_net()}; set D.feature_resolution / D.feature_channels to match")
        self.feature_net.load_state_dict(net.state_dict())

    def projected(self, img: torch.Tensor) -> list[torch.Tensor]:
        """The mixed feature maps, finest first (each at least LOGIT_SIDE px)."""
        maps = [mix(f) for mix, f in zip(self.channel_mixing, self.feature_net.feature_maps(img))]
        for i in range(len(maps) - 2, -1, -1):  # coarse to fine: each map gets the coarser one, upsampled
            maps[i] = maps[i] + self.scale_mixing[i](F.interpolate(maps[i + 1], size=maps[i].shape[-2:]))
        return [m if m.shape[-1] >= LOGIT_SIDE else F.interpolate(m, size=(LOGIT_SIDE, LOGIT_SIDE)) for m in maps]

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """[B, F]: every mixed map averaged over space, for perceptual terms."""
        return torch.cat([m.mean(dim=(2, 3)) for m in self.projected(img)], dim=1)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Patch logits [B, K] of every scale."""
        if c is not None:
            raise ValueError("projected_d is unconditional")
        return torch.cat([d(m).flatten(1) for d, m in zip(self.discriminators, self.projected(img))], dim=1)

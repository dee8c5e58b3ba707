"""Unpaired image-to-image translators: CycleGAN's ResNet generator and PatchGAN
discriminator, StarGAN's label-conditioned generator and its critic with a domain
classifier head.

These generators map images to images, so they do not follow the z -> ws -> image
contract: CycleGAN's is `G(x) -> y`, StarGAN's is `G(x, c) -> y` with `c` the target
labels [B, c_dim] broadcast as extra input channels. Both are fully convolutional;
`resolution` records the size they were trained at (any side divisible by 4 runs).

The discriminators keep the shared contract (`forward(img, c=None) -> [B]`, `features`,
`heads`). Their native output is a map of patch scores; `forward` is its mean per image
(the per-image critic value), `patches(img)` gives the map itself, which is what
CycleGAN's least-squares loss is taken over.

Also here, because training (which writes checkpoints) and `ganstudio.translate` (which
reads them) both need it: the roles and the header field that describe a translation
model; see checkpoints/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule

TRANSLATION_KEY = "translation"  # header field: {"kind": ..., "exclusive_groups": [[name, ...], ...]}
KINDS = ("cyclegan", "stargan")
CYCLEGAN_ROLES = ("G_AB", "G_BA", "D_A", "D_B")  # G_AB: A -> B; D_A judges domain A
STARGAN_ROLES = ("G", "D")


def translation_meta(kind: str, exclusive_groups: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """The `meta=` argument for `checkpoint.save` of a translation model.

    Domain names go in `labels=` (CycleGAN: [name of A, name of B]; StarGAN: the
    attributes in the order of the label vector). `exclusive_groups` lists attributes of
    which exactly one is set (e.g. the hair colours); StarGAN only.
    """
    if kind not in KINDS:
        raise ValueError(f"translation kind must be one of {', '.join(KINDS)}, got '{kind}'")
    groups = [list(g) for g in exclusive_groups]
    if kind == "cyclegan" and groups:
        raise ValueError("exclusive groups apply to StarGAN models only")
    return {TRANSLATION_KEY: {"kind": kind, "exclusive_groups": groups}}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int, affine: bool):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=affine),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _resnet_translator(
    in_channels: int, width: int, n_blocks: int, affine: bool, norm_first: bool
) -> nn.Sequential:
    """c7s1-w, d2w, d4w, n x R4w, u2w, uw, c7s1-3 + tanh (Johnson et al., as CycleGAN uses it).

    `norm_first=False` leaves the first conv unnormalised: instance norm subtracts each
    channel's spatial mean, which would erase anything spatially constant the first conv
    adds, i.e. all of StarGAN's tiled label channels.
    """

    def conv_norm_relu(conv: nn.Module, out: int, norm: bool = True) -> list[nn.Module]:
        return [conv, *([nn.InstanceNorm2d(out, affine=affine)] if norm else []), nn.ReLU(inplace=True)]

    first = nn.Conv2d(in_channels, width, 7)
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), *conv_norm_relu(first, width, norm_first)]
    ch = width
    for _ in range(2):
        layers += conv_norm_relu(nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), ch * 2)
        ch *= 2
    layers += [_ResidualBlock(ch, affine) for _ in range(n_blocks)]
    for _ in range(2):
        layers += conv_norm_relu(nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1), ch // 2)
        ch //= 2
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, 3, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def _start_as_identity(net: nn.Sequential) -> None:
    """Zero the last conv of a residual translator, so G(x) = x before any training."""
    last = net[-2]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)


def _output(x: torch.Tensor, out: torch.Tensor, residual: bool) -> torch.Tensor:
    # tanh's range [-1, 1] spans half of [-1, 1] twice over: a residual of 2 * out reaches every colour
    return (x + 2.0 * out).clamp(-1.0, 1.0) if residual else out


def _check_image(x: torch.Tensor, who: str) -> None:
    _check(x.dim() == 4 and x.shape[1] == 3, f"{who} takes images [B, 3, H, W], got {list(x.shape)}")
    _check(x.shape[2] % 4 == 0 and x.shape[3] % 4 == 0, f"{who} needs sides divisible by 4, got {list(x.shape[2:])}")


@dataclass(frozen=True)
class ResnetGeneratorConfig:
    resolution: int = 256
    width: int = 64  # channels of the first layer (ngf)
    n_blocks: int = 9  # 9 at 256 px, 6 at 128 px and below in the paper
    residual: bool = False  # output x + residual image (starts as the identity); see StarGenerator


@ARCHS.register("cyclegan_resnet")
class ResnetGenerator(ConfigModule):
    """CycleGAN's generator for one direction: G(x) -> y, both in [-1, 1]. With `residual`
    it redraws only what the translation changes, which keeps the rest of the picture
    (background, mouth, hair colour) when training steps are few."""

    Config = ResnetGeneratorConfig
    tiny_config = dict(resolution=16, width=8, n_blocks=1)
    train_defaults = {"lr": 2e-4, "betas": (0.5, 0.999)}
    c_dim = 0

    def __init__(self, config: ResnetGeneratorConfig):
        super().__init__(config)
        _check(config.resolution >= 8 and config.resolution % 4 == 0, "resolution must be a multiple of 4, at least 8")
        _check(config.width >= 1 and config.n_blocks >= 0, "width must be >= 1 and n_blocks >= 0")
        self.resolution = config.resolution
        self.net = _resnet_translator(3, config.width, config.n_blocks, affine=False, norm_first=True)
        if config.residual:
            _start_as_identity(self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(x, "ResnetGenerator")
        return _output(x, self.net(x), self.config.residual)


@dataclass(frozen=True)
class StarGeneratorConfig:
    resolution: int = 128
    c_dim: int = 5  # length of the label vector (number of attributes/domains)
    width: int = 64
    n_blocks: int = 6
    residual: bool = False  # output x + residual image (starts as the identity), not a new image


@ARCHS.register("stargan_generator")
class StarGenerator(ConfigModule):
    """StarGAN's single generator G(x, c): the target labels c [B, c_dim] are tiled over
    the image and concatenated as extra input channels. It shares CycleGAN's ResNet body
    (reflection padding, 3x3 down/up convs) but leaves the first conv unnormalised, so
    instance norm cannot cancel the constant label channels. (StarGAN's own G normalises
    that conv too; with its zero padding the labels then reach the net only through the
    image border, and with reflection padding not at all.)

    `residual` makes G learn a residual image added to x (Shen & Liu, "Learning Residual
    Images for Face Attribute Manipulation", 2017): its last conv starts at zero, so G starts
    as the identity and training spends its steps on the change, not on redrawing the face,
    which matters most where steps are few (a CPU)."""

    Config = StarGeneratorConfig
    tiny_config = dict(resolution=16, c_dim=3, width=8, n_blocks=1)
    train_defaults = {"lr": 1e-4, "betas": (0.5, 0.999)}

    def __init__(self, config: StarGeneratorConfig):
        super().__init__(config)
        _check(config.resolution >= 8 and config.resolution % 4 == 0, "resolution must be a multiple of 4, at least 8")
        _check(config.c_dim >= 1, "c_dim must be >= 1")
        _check(config.width >= 1 and config.n_blocks >= 0, "width must be >= 1 and n_blocks >= 0")
        self.resolution, self.c_dim = config.resolution, config.c_dim
        self.net = _resnet_translator(3 + config.c_dim, config.width, config.n_blocks, affine=True, norm_first=False)
        if config.residual:
            _start_as_identity(self.net)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        _check_image(x, "StarGenerator")
        _check(c.shape == (x.shape[0], self.c_dim), f"labels must be [{x.shape[0]}, {self.c_dim}], got {list(c.shape)}")
        tiled = c.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return _output(x, self.net(torch.cat([x, tiled], dim=1)), self.config.residual)


def _no_condition(c: torch.Tensor | None, who: str) -> None:
    _check(c is None, f"{who} is not conditioned on labels; call it without c")


@dataclass(frozen=True)
class PatchDiscriminatorConfig:
    width: int = 64  # channels of the first layer (ndf)
    n_layers: int = 3  # 3 gives each output a 70x70 receptive field


@ARCHS.register("patchgan")
class PatchDiscriminator(ConfigModule):
    """PatchGAN: scores overlapping patches real/fake (70x70 at n_layers=3) with a
    fully convolutional net, so it judges local texture and works at any image size."""

    Config = PatchDiscriminatorConfig
    tiny_config = dict(width=8, n_layers=2)

    def __init__(self, config: PatchDiscriminatorConfig):
        super().__init__(config)
        _check(config.width >= 1 and config.n_layers >= 1, "width and n_layers must be >= 1")
        w, n = config.width, config.n_layers
        layers: list[nn.Module] = [nn.Conv2d(3, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        ch = w
        for i in range(1, n + 1):
            out = w * min(2**i, 8)
            stride = 2 if i < n else 1  # n - 1 more halvings, then one stride-1 layer
            layers += [nn.Conv2d(ch, out, 4, stride=stride, padding=1), nn.InstanceNorm2d(out),
                       nn.LeakyReLU(0.2, inplace=True)]
            ch = out
        self.trunk = nn.Sequential(*layers)
        self.out = nn.Conv2d(ch, 1, 4, stride=1, padding=1)
        self.min_side = 3 * 2**n  # smallest input leaving a patch map of at least 1x1

    def _trunk(self, img: torch.Tensor) -> torch.Tensor:
        side = min(img.shape[-2:])
        _check(side >= self.min_side, f"PatchGAN with n_layers={self.config.n_layers} needs images of at least "
                                      f"{self.min_side} px, got {side}")
        return self.trunk(img)

    def patches(self, img: torch.Tensor) -> torch.Tensor:
        """Patch scores [B, 1, h, w]."""
        return self.out(self._trunk(img))

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        _no_condition(c, "PatchDiscriminator")
        return self.patches(img).flatten(1).mean(1)

    def features(self, img: torch.Tensor) -> torch.Tensor:
        return self._trunk(img).mean(dim=(2, 3))

    def heads(self, img: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        _no_condition(c, "PatchDiscriminator")
        h = self._trunk(img)
        patch = self.out(h)
        return {"logits": patch.flatten(1).mean(1), "patch_logits": patch, "features": h.mean(dim=(2, 3))}


@dataclass(frozen=True)
class StarDiscriminatorConfig:
    resolution: int = 128
    c_dim: int = 5
    width: int = 64
    n_layers: int = 6  # stride-2 convs; resolution must be divisible by 2**n_layers


@ARCHS.register("stargan_discriminator")
class StarDiscriminator(ConfigModule):
    """StarGAN's D: a shared stride-2 trunk (no normalisation, so it suits WGAN-GP), a
    PatchGAN head scoring real vs fake and an auxiliary classifier predicting the
    domain labels (a conv spanning the whole final map, i.e. a linear layer)."""

    Config = StarDiscriminatorConfig
    tiny_config = dict(resolution=16, c_dim=3, width=8, n_layers=2)

    def __init__(self, config: StarDiscriminatorConfig):
        super().__init__(config)
        r, n = config.resolution, config.n_layers
        _check(config.c_dim >= 1 and config.width >= 1 and n >= 1, "c_dim, width and n_layers must be >= 1")
        _check(r % 2**n == 0, f"resolution {r} must be divisible by 2**n_layers = {2**n}")
        self.resolution, self.c_dim = r, config.c_dim
        layers: list[nn.Module] = []
        ch_in, ch = 3, config.width
        for _ in range(n):
            layers += [nn.Conv2d(ch_in, ch, 4, stride=2, padding=1), nn.LeakyReLU(0.01, inplace=True)]
            ch_in, ch = ch, ch * 2
        self.trunk = nn.Sequential(*layers)
        self.adv_head = nn.Conv2d(ch_in, 1, 3, stride=1, padding=1)
        self.cls_head = nn.Conv2d(ch_in, config.c_dim, r // 2**n, bias=False)

    def _trunk(self, img: torch.Tensor) -> torch.Tensor:
        _check(tuple(img.shape[-2:]) == (self.resolution, self.resolution),
               f"StarDiscriminator takes {self.resolution}x{self.resolution} images, got {list(img.shape[-2:])}")
        return self.trunk(img)

    def patches(self, img: torch.Tensor) -> torch.Tensor:
        return self.adv_head(self._trunk(img))

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        _no_condition(c, "StarDiscriminator")
        return self.patches(img).flatten(1).mean(1)

    def features(self, img: torch.Tensor) -> torch.Tensor:
        return self._trunk(img).mean(dim=(2, 3))

    def heads(self, img: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """`logits` [B] (mean patch score), `patch_logits` [B,1,h,w], `class_logits` [B, c_dim], `features` [B, F]."""
        _no_condition(c, "StarDiscriminator")
        h = self._trunk(img)
        patch = self.adv_head(h)
        return {
            "logits": patch.flatten(1).mean(1),
            "patch_logits": patch,
            "class_logits": self.cls_head(h).flatten(1),
            "features": h.mean(dim=(2, 3)),
        }

"""`stylegan`: a StyleGAN2-style generator in plain PyTorch.

z --mapping MLP--> w (one per layer: ws [B, num_ws, w_dim]) --synthesis--> image.
Synthesis starts from a learned 4x4 constant; each resolution has an upsampling
modulated convolution, a plain one, and a toRGB whose output is added to the
upsampled image of the level below (skip architecture). Noise with a learned
strength is added after every convolution. Layer i of synthesis reads ws[:, i],
so style mixing is just a different w per row, and truncation is a lerp to w_avg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..registry import ARCHS
from .base import Generator
from .layers import SQRT2, EqualLinear, ModulatedConv2d, fir_kernel, pixel_norm, truncate, upsample2d

NOISE_MODES = ("random", "const", "none")


@dataclass(frozen=True)
class StyleGANConfig:
    """Defaults: a 64 px model small enough to train in about an hour and to render a frame in
    a few milliseconds on a 2-core CPU (channels 128 up to 16 px, 64 at 32 px, 32 at 64 px).
    StyleGAN2 config-f at 1024 px is z_dim=w_dim=512, mapping_layers=8, channel_base=32768,
    channel_max=512.

    `conv_clamp` clamps every styled convolution's output to [-conv_clamp, conv_clamp] after its
    activation, and every toRGB output after its bias, as NVlabs StyleGAN2-ADA does (it trains
    with 256 to keep float16 in range); a model trained with it renders faithfully only with it.
    None (the default, and what checkpoints without the field get) clamps nothing."""

    resolution: int = 64
    z_dim: int = 128
    w_dim: int = 128
    c_dim: int = 0
    mapping_layers: int = 4
    mapping_lr_mul: float = 0.01
    channel_base: int = 2048
    channel_max: int = 128
    # Per-pixel noise inputs only at resolutions up to this (None: every level, as StyleGAN2;
    # 0: none). Without noise at the finest levels a face's features must come from w, so
    # inversion and sliders (which act on w) can reach them.
    noise_max_res: int | None = None
    conv_clamp: float | None = None

    def __post_init__(self):
        r = self.resolution
        if not (isinstance(r, int) and 16 <= r <= 1024 and r & (r - 1) == 0):
            raise ValueError(f"stylegan resolution must be a power of two from 16 to 1024, got {r!r}")
        for name in ("z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) > 0):
                raise ValueError(f"stylegan {name} must be a positive integer, got {getattr(self, name)!r}")
        if self.c_dim < 0:
            raise ValueError(f"stylegan c_dim must be >= 0, got {self.c_dim}")
        if self.channel_base // r < 1:
            raise ValueError(f"stylegan channel_base {self.channel_base} gives no channels at {r} px")
        if self.noise_max_res is not None and not (isinstance(self.noise_max_res, int) and self.noise_max_res >= 0):
            raise ValueError(f"stylegan noise_max_res must be a resolution >= 0 or null, got {self.noise_max_res!r}")
        clamp = self.conv_clamp
        if clamp is not None and not (isinstance(clamp, (int, float)) and not isinstance(clamp, bool) and clamp > 0):
            raise ValueError(f"stylegan conv_clamp must be a positive number or null, got {clamp!r}")

    def has_noise(self, res: int) -> bool:
        return self.noise_max_res is None or res <= self.noise_max_res

    def channels(self, res: int) -> int:
        """Feature maps at resolution `res` (halving as resolution doubles, capped)."""
        return min(self.channel_base // res, self.channel_max)

    @property
    def num_ws(self) -> int:
        return 2 * int(math.log2(self.resolution)) - 2


class MappingNetwork(nn.Module):
    """z (and optionally a class/attribute vector c) -> w by an MLP with a reduced learning rate."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        c = config
        self.embed = EqualLinear(c.c_dim, c.w_dim) if c.c_dim else None
        in_dim = c.z_dim + (c.w_dim if c.c_dim else 0)
        dims = [in_dim] + [c.w_dim] * c.mapping_layers
        self.layers = nn.ModuleList(
            EqualLinear(dims[i], dims[i + 1], lr_mul=c.mapping_lr_mul, activation=True)
            for i in range(c.mapping_layers)
        )

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        x = pixel_norm(z)
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is conditional: pass c [B, c_dim]")
            x = torch.cat([x, pixel_norm(self.embed(c.to(z.dtype)))], dim=1)
        for layer in self.layers:
            x = layer(x)
        return x


def _clamp(x: torch.Tensor, limit: float | None) -> torch.Tensor:
    return x if limit is None else x.clamp(-limit, limit)


class StyledConv(nn.Module):
    """Modulated 3x3 convolution, per-pixel noise with a learned strength (unless `noise` is
    False: then the layer has no noise input at all), bias, leaky ReLU, optional clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False,
                 noise: bool = True, clamp: float | None = None):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise = noise
        if noise:
            self.noise_strength = nn.Parameter(torch.zeros([]))
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.resolution = resolution
        self.clamp = clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        # lrelu(conv + noise + bias) * sqrt 2 = lrelu(sqrt 2 * (conv + bias) + sqrt 2 * noise): the
        # convolution takes the gain and bias, which saves passes over the activations; without
        # autograd the rest works in place (no fresh buffer per layer)
        x = self.conv(x, w, self.bias, SQRT2)
        inplace = not torch.is_grad_enabled()
        if self.noise and noise_mode != "none":
            noise = self.noise_const if noise_mode == "const" else \
                torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device, dtype=x.dtype)
            noise = noise * (self.noise_strength * SQRT2)
            x = x.add_(noise) if inplace else x + noise
        return _clamp(F.leaky_relu(x, 0.2, inplace=inplace), self.clamp)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to RGB (no demodulation), plus a bias, optionally clamped."""

    def __init__(self, in_channels: int, w_dim: int, clamp: float | None = None):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))
        self.clamp = clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return _clamp(self.conv(x, w, self.bias), self.clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (upsampling conv,) conv, toRGB. The 4x4 block starts from the constant."""

    def __init__(self, config: StyleGANConfig, resolution: int):
        super().__init__()
        ch, w_dim, noise = config.channels(resolution), config.w_dim, config.has_noise(resolution)
        clamp = config.conv_clamp
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(ch, 4, 4))
            self.conv1 = StyledConv(ch, ch, w_dim, 4, noise=noise, clamp=clamp)
        else:
            self.conv0 = StyledConv(config.channels(resolution // 2), ch, w_dim, resolution, up=True, noise=noise,
                                    clamp=clamp)
            self.conv1 = StyledConv(ch, ch, w_dim, resolution, noise=noise, clamp=clamp)
        self.torgb = ToRGB(ch, w_dim, clamp=clamp)


class SynthesisNetwork(nn.Module):
    def __init__(self, config: StyleGANConfig):
        super().__init__()
        resolutions = [2**i for i in range(2, int(math.log2(config.resolution)) + 1)]
        self.blocks = nn.ModuleList(SynthesisBlock(config, r) for r in resolutions)
        self.register_buffer("skip_kernel", fir_kernel(gain=4.0), persistent=False)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", levels: int | None = None) -> torch.Tensor:
        """Block k >= 1 reads rows 2k-1, 2k (convs) and 2k+1 (toRGB, shared with the next block's
        first conv); the 4x4 block reads rows 0 and 1, as in StyleGAN2. With `levels`, only the
        first that many blocks run: the skip architecture's image at that block's resolution."""
        for img in self.level_images(ws, noise_mode, levels):
            pass
        return img

    def level_images(self, ws: torch.Tensor, noise_mode: str = "const", levels: int | None = None):
        """The skip architecture's image after each block, 4 px first (see `forward`)."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        first = self.blocks[0]
        x = first.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        x = first.conv1(x, ws[:, 0], noise_mode)
        img = first.torgb(x, ws[:, 1])
        yield img
        i = 1
        for block in self.blocks[1:levels]:
            x = block.conv0(x, ws[:, i], noise_mode)
            x = block.conv1(x, ws[:, i + 1], noise_mode)
            img = upsample2d(img, self.skip_kernel) + block.torgb(x, ws[:, i + 2])
            yield img
            i += 2

    def level_costs(self) -> list[int]:
        """Multiply-adds of one image up to and including each block, 4 px first."""
        costs, total = [], 0
        for k, block in enumerate(self.blocks):
            side = 4 * 2**k
            convs = [(block.conv1, side), (block.torgb, side)] + ([(block.conv0, side // 2)] if k else [])
            total += sum(layer.conv.weight.numel() * s * s for layer, s in convs)
            costs.append(total)
        return costs


class StyleBasedGenerator(Generator):
    """What the style-based generators share: z -> w by `MappingNetwork`, every w+ row the same w,
    truncated towards w_avg (the truncation centre, tracked by the trainer, which averages it over
    all processes; the model only uses it); `synthesis_class` turns ws into images."""

    synthesis_class: type[nn.Module]

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.z_dim, self.w_dim, self.c_dim = c.z_dim, c.w_dim, c.c_dim
        self.resolution, self.num_ws = c.resolution, c.num_ws
        self.mapping_net = MappingNetwork(c)
        self.synthesis_net = self.synthesis_class(c)
        self.register_buffer("w_avg", torch.zeros(c.w_dim))

    def mapping(
        self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None, c: torch.Tensor | None = None
    ) -> torch.Tensor:
        """ws [B, num_ws, w_dim]."""
        w = self.mapping_net(z, c)
        return truncate(w.unsqueeze(1).repeat(1, self.num_ws, 1), self.w_avg, psi, cutoff)


@ARCHS.register("stylegan")
class StyleGANGenerator(StyleBasedGenerator):
    """Style-based generator. `synthesis(ws)` never touches the mapping network, so a caller
    that already holds ws (interpolation frames, edits, inversion) renders with synthesis only."""

    Config = StyleGANConfig
    synthesis_class = SynthesisNetwork
    tiny_config = dict(resolution=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=256, channel_max=16)
    discriminator = "stylegan_d"
    train_defaults = {"lr": 0.0025, "betas": (0.0, 0.99), "style_mixing": 0.9, "r1_gamma": "auto"}

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", resolution: int | None = None) -> torch.Tensor:
        """Images [B, 3, R, R], roughly in [-1, 1] (not clamped, so gradients stay honest).

        `resolution` (one of `preview_resolutions`) stops at that level: the skip architecture
        sums every level's RGB output, so the partial sum is the image at that size, and it costs
        a fraction of the full frame (a slider's preview while it is dragged)."""
        self._check_ws(ws)
        if resolution is None or resolution == self.resolution:
            return self.synthesis_net(ws, noise_mode)
        return self.synthesis_net(ws, noise_mode, levels=self._levels_to(resolution))

    def _check_ws(self, ws: torch.Tensor) -> None:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [B, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")

    def _levels_to(self, resolution: int) -> int:
        """How many synthesis blocks draw the image at `resolution`."""
        if resolution not in (*self.preview_resolutions, self.resolution):
            raise ValueError(f"resolution must be one of {', '.join(map(str, self.preview_resolutions))} "
                             f"or {self.resolution}, got {resolution}")
        return int(math.log2(resolution)) - 1

    @property
    def preview_resolutions(self) -> tuple[int, ...]:
        """The sizes below the full one that `synthesis(resolution=...)` can stop at."""
        return tuple(2**i for i in range(2, int(math.log2(self.resolution))))

    def synthesis_and_coarse(self, ws: torch.Tensor, resolution: int,
                             noise_mode: str = "const") -> tuple[torch.Tensor, torch.Tensor]:
        """The full frame and, from the same pass, the image at a lower `resolution` (as
        `synthesis` takes it): `full - lift(coarse)` is what the finer levels add."""
        self._check_ws(ws)
        levels = self._levels_to(resolution)
        images = list(self.synthesis_net.level_images(ws, noise_mode))
        return images[-1], images[levels - 1]

    def lift(self, image: torch.Tensor) -> torch.Tensor:
        """An image of a lower level brought to full size by the skip path's own upsampling: the
        part of the full frame that level and the ones below it draw."""
        while image.shape[-1] < self.resolution:
            image = upsample2d(image, self.synthesis_net.skip_kernel)
        return image

    def level_costs(self) -> dict[int, int]:
        """Multiply-adds of `synthesis` for one image stopped at each resolution (the full one included)."""
        return {4 * 2**k: cost for k, cost in enumerate(self.synthesis_net.level_costs())}

    def style_affines(self) -> list[torch.Tensor]:
        """Per w row, the stacked style-affine weights of every layer that reads it ([n, w_dim]),
        in the row layout of SynthesisNetwork.forward; SeFa factorises these."""
        readers: list[list[nn.Module]] = [[] for _ in range(self.num_ws)]
        blocks = self.synthesis_net.blocks
        readers[0].append(blocks[0].conv1.conv)
        readers[1].append(blocks[0].torgb.conv)
        for k, block in enumerate(blocks[1:]):
            i = 2 * k + 1
            readers[i].append(block.conv0.conv)
            readers[i + 1].append(block.conv1.conv)
            readers[i + 2].append(block.torgb.conv)
        return [torch.cat([m.affine.weight * m.affine.scale for m in row]) for row in readers]

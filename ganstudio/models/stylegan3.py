"""`stylegan3`: the alias-free generator of NVlabs StyleGAN3 (configs T and R), for rendering
imported networks in plain PyTorch.

z --mapping MLP--> w (one per layer) --synthesis--> image. Synthesis starts from Fourier
features whose frequencies are rotated and shifted by an affine map of ws[:, 0]; each of its
layers reads one more row: a modulated convolution, then a bias and leaky ReLU evaluated at a
raised sampling rate between a low-pass upsampling filter and a low-pass downsampling filter,
so the activation adds no aliasing. The last layer is a 1x1 toRGB. There are no noise inputs:
`noise_mode` is accepted for the common generator interface and changes nothing.

Every layer's sizes, sampling rates and paddings follow from the config by the schedule of the
paper (cutoffs rising geometrically to the Nyquist frequency, the last layers critically
sampled). The filters, the Fourier frequencies and phases, and each layer's input-magnitude
average are training results and come with the weights (the importer reads them from the
network pickle): built from a config alone they are zero placeholders, so this arch renders
loaded weights and is not for training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ARCHS
from .layers import EqualLinear
from .stylegan import NOISE_MODES, StyleBasedGenerator


@dataclass(frozen=True)
class StyleGAN3Config:
    """Upstream's names and defaults (config T at 1024 px: channel_base 32768, channel_max 512;
    config R: conv_kernel 1, radial_filters, channel_base 65536, channel_max 1024). `conv_clamp`
    clamps every layer's output after its activation (upstream's default 256; None: no clamp)."""

    resolution: int = 256
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0
    mapping_layers: int = 2
    mapping_lr_mul: float = 0.01
    channel_base: int = 32768
    channel_max: int = 512
    num_layers: int = 14  # layers between the Fourier features and toRGB
    num_critical: int = 2  # critically sampled layers at the end (cutoff at Nyquist)
    first_cutoff: float = 2.0
    first_stopband: float = 2**2.1
    last_stopband_rel: float = 2**0.3
    margin_size: int = 10  # pixels computed outside the image on every side, up to the critical layers
    output_scale: float = 0.25
    conv_kernel: int = 3
    filter_size: int = 6  # low-pass taps per unit of the lower of the two sampling rates
    lrelu_upsampling: int = 2
    radial_filters: bool = False  # radially symmetric 2-D downsampling filters (config R)
    conv_clamp: float | None = 256.0

    def __post_init__(self):
        r = self.resolution
        if not (isinstance(r, int) and 16 <= r <= 1024 and r & (r - 1) == 0):
            raise ValueError(f"stylegan3 resolution must be a power of two from 16 to 1024, got {r!r}")
        for name in ("z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max", "num_layers", "conv_kernel",
                     "filter_size", "lrelu_upsampling"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) > 0):
                raise ValueError(f"stylegan3 {name} must be a positive integer, got {getattr(self, name)!r}")
        if self.c_dim < 0 or self.margin_size < 0:
            raise ValueError(f"stylegan3 c_dim and margin_size must be >= 0, got {self.c_dim}, {self.margin_size}")
        if not 1 <= self.num_critical < self.num_layers:
            raise ValueError(f"stylegan3 num_critical must be from 1 to num_layers - 1, got {self.num_critical}")
        if self.conv_kernel % 2 == 0:
            raise ValueError(f"stylegan3 conv_kernel must be odd, got {self.conv_kernel}")
        for name in ("first_cutoff", "first_stopband", "last_stopband_rel"):
            if not (isinstance(getattr(self, name), (int, float)) and getattr(self, name) > 0):
                raise ValueError(f"stylegan3 {name} must be a positive number, got {getattr(self, name)!r}")
        clamp = self.conv_clamp
        if clamp is not None and not (isinstance(clamp, (int, float)) and not isinstance(clamp, bool) and clamp > 0):
            raise ValueError(f"stylegan3 conv_clamp must be a positive number or null, got {clamp!r}")

    @property
    def num_ws(self) -> int:
        return self.num_layers + 2


@dataclass(frozen=True)
class LayerPlan:
    """One synthesis layer's shape: what its weights and filters look like and how it pads."""

    in_channels: int
    out_channels: int
    out_size: int
    kernel: int
    up: int
    down: int
    up_taps: int  # 1: no filter
    down_taps: int
    radial: bool  # a [down_taps, down_taps] downsampling filter instead of [down_taps]
    padding: tuple[int, int]  # before, after; the same on both axes
    torgb: bool


@dataclass(frozen=True)
class Plan:
    input_channels: int
    input_size: int
    input_rate: int
    input_bandwidth: float
    layers: tuple[LayerPlan, ...]


def plan(c: StyleGAN3Config) -> Plan:
    """The layer schedule: cutoff and minimum stopband rise geometrically from the first layer
    to the last non-critical one, sampling rates are the powers of two that hold twice the
    stopband (at most the resolution), and the width halves as the cutoff doubles."""
    n = c.num_layers
    last_cutoff = c.resolution / 2
    last_stopband = last_cutoff * c.last_stopband_rel
    cutoffs, rates, sizes, channels = [], [], [], []
    for i in range(n + 1):
        e = min(i / (n - c.num_critical), 1.0)
        cutoff = c.first_cutoff * (last_cutoff / c.first_cutoff) ** e
        stopband = c.first_stopband * (last_stopband / c.first_stopband) ** e
        rate = int(2 ** math.ceil(math.log2(min(stopband * 2, c.resolution))))
        cutoffs.append(cutoff)
        rates.append(rate)
        sizes.append(c.resolution if i >= n - 1 else rate + 2 * c.margin_size)
        channels.append(3 if i == n else round(min(c.channel_base / 2 / cutoff, c.channel_max)))
    layers = []
    for i in range(n + 1):
        prev, torgb = max(i - 1, 0), i == n
        kernel = 1 if torgb else c.conv_kernel
        tmp_rate = max(rates[prev], rates[i]) * (1 if torgb else c.lrelu_upsampling)  # powers of two: whole ratios
        up, down = tmp_rate // rates[prev], tmp_rate // rates[i]
        # (toRGB keeps the rate: the critical layers before it all sample at the resolution)
        up_taps = c.filter_size * up if up > 1 else 1
        down_taps = c.filter_size * down if down > 1 else 1
        # padding on the upsampled grid that turns in_size into out_size after both filters, with
        # the sample positions shifted as the symmetric interpretation of the grid requires
        total = (sizes[i] - 1) * down + 1 - (sizes[prev] + kernel - 1) * up + up_taps + down_taps - 2
        before = (total + up) // 2
        layers.append(LayerPlan(channels[prev], channels[i], sizes[i], kernel, up, down, up_taps,
                                down_taps, c.radial_filters and i < n - c.num_critical and down_taps > 1,
                                (before, total - before), torgb))
    return Plan(channels[0], sizes[0], rates[0], cutoffs[0], tuple(layers))


class FourierInput(nn.Module):
    """Sinusoids of fixed frequencies sampled on the first layer's grid, rotated and translated
    by an affine map of w (and by `transform`, a fixed inverse transform of the output image),
    faded out where a frequency leaves the band, then mixed by a learned channel matrix."""

    def __init__(self, w_dim: int, channels: int, size: int, rate: int, bandwidth: float):
        super().__init__()
        self.size, self.rate, self.bandwidth = size, rate, bandwidth
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = EqualLinear(w_dim, 4)
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", torch.zeros(channels, 2))
        self.register_buffer("phases", torch.zeros(channels))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        t = self.affine(w)  # (cos, sin) of a rotation, then a translation
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        cos, sin, zero, one = t[:, 0], t[:, 1], torch.zeros_like(t[:, 0]), torch.ones_like(t[:, 0])
        rotate = torch.stack([cos, -sin, zero, sin, cos, zero, zero, zero, one], dim=1).view(-1, 3, 3)
        shift = torch.stack([one, zero, -t[:, 2], zero, one, -t[:, 3], zero, zero, one], dim=1).view(-1, 3, 3)
        m = rotate @ shift @ self.transform
        phases = self.phases + (self.freqs.unsqueeze(0) @ m[:, :2, 2:]).squeeze(2)  # [B, C]
        freqs = self.freqs.unsqueeze(0) @ m[:, :2, :2]  # [B, C, 2]
        fade = 1 - (freqs.norm(dim=2) - self.bandwidth) / (self.rate / 2 - self.bandwidth)
        # pixel centres in units of the sampling period, centred on the image
        grid = (torch.arange(self.size, dtype=w.dtype, device=w.device) + 0.5 - self.size / 2) / self.rate
        angle = (grid.view(1, 1, 1, -1) * freqs[..., 0, None, None] + grid.view(1, 1, -1, 1) * freqs[..., 1, None, None]
                 + phases[..., None, None])
        x = torch.sin(angle * (2 * math.pi)) * fade.clamp(0, 1)[..., None, None]
        mix = self.weight / math.sqrt(self.weight.shape[0])
        return torch.einsum("oc,bchw->bohw", mix, x)


def _fir(x: torch.Tensor, f: torch.Tensor, stride: int = 1, gain: float = 1.0) -> torch.Tensor:
    """Convolve every channel with the FIR filter `f` ([k]: separable, the same on both axes;
    [k, k]: 2-D) where it fits entirely ('valid'), keeping every `stride`-th output sample."""
    channels = x.shape[1]
    f = (f * gain).flip(list(range(f.ndim))).to(x.dtype)  # a convolution, not a correlation
    if f.ndim == 2:
        return F.conv2d(x, f.expand(channels, 1, *f.shape), stride=stride, groups=channels)
    x = F.conv2d(x, f.view(1, 1, 1, -1).expand(channels, 1, 1, -1), stride=(1, stride), groups=channels)
    return F.conv2d(x, f.view(1, 1, -1, 1).expand(channels, 1, -1, 1), stride=(stride, 1), groups=channels)


class AliasFreeLayer(nn.Module):
    """Modulated convolution, then bias and leaky ReLU evaluated `up` times more finely:
    zero insertion, padding (negative: cropping) and the low-pass `up_filter`, the activation
    (and clamp), then the low-pass `down_filter` and every `down`-th sample. The input is divided
    by the root of `magnitude_ema`, the mean square training saw there. The toRGB layer is the
    same without demodulation, activation or resampling."""

    def __init__(self, w_dim: int, p: LayerPlan, clamp: float | None):
        super().__init__()
        self.plan, self.clamp = p, clamp
        self.affine = EqualLinear(w_dim, p.in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(p.out_channels, p.in_channels, p.kernel, p.kernel))
        self.bias = nn.Parameter(torch.zeros(p.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        if p.up > 1:
            self.register_buffer("up_filter", torch.zeros(p.up_taps))
        if p.down > 1:
            self.register_buffer("down_filter", torch.zeros((p.down_taps,) * (2 if p.radial else 1)))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        p = self.plan
        x = self._modulated_conv(x, w)
        x = x + self.bias.view(1, -1, 1, 1)
        if p.up > 1:
            b, ch, h, wd = x.shape
            x = F.pad(x.view(b, ch, h, 1, wd, 1), [0, p.up - 1, 0, 0, 0, p.up - 1]).view(b, ch, h * p.up, wd * p.up)
        x = F.pad(x, [p.padding[0], p.padding[1]] * 2)
        if p.up > 1:
            x = _fir(x, self.up_filter, gain=p.up)  # gain `up` per axis keeps the mean through zero insertion
        if not p.torgb:
            x = F.leaky_relu(x, 0.2) * math.sqrt(2)
        if self.clamp is not None:
            x = x.clamp(-self.clamp, self.clamp)
        if p.down > 1:
            x = _fir(x, self.down_filter, stride=p.down)
        return x

    def _modulated_conv(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """One grouped convolution with a weight per sample: the shared weight scaled by the styles,
        demodulated to unit norm per output channel (both first brought to unit mean square,
        per sample, so float32 keeps its range), then by the input gain."""
        p, batch = self.plan, x.shape[0]
        styles = self.affine(w)  # [B, in]
        weight = self.weight
        if p.torgb:
            styles = styles / math.sqrt(p.in_channels * p.kernel**2)
        else:
            weight = weight * weight.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
            styles = styles * styles.square().mean(dim=1, keepdim=True).rsqrt()
        weight = weight.unsqueeze(0) * styles[:, None, :, None, None]  # [B, out, in, k, k]
        if not p.torgb:
            weight = weight * (weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
        weight = weight * self.magnitude_ema.rsqrt()
        x = F.conv2d(x.reshape(1, -1, *x.shape[2:]), weight.reshape(-1, p.in_channels, p.kernel, p.kernel),
                     padding=p.kernel - 1, groups=batch)
        return x.view(batch, p.out_channels, *x.shape[2:])


class SynthesisNetwork(nn.Module):
    def __init__(self, config: StyleGAN3Config):
        super().__init__()
        p = plan(config)
        self.input = FourierInput(config.w_dim, p.input_channels, p.input_size, p.input_rate, p.input_bandwidth)
        self.layers = nn.ModuleList(AliasFreeLayer(config.w_dim, layer, config.conv_clamp) for layer in p.layers)
        self.output_scale = config.output_scale

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        x = self.input(ws[:, 0])
        for i, layer in enumerate(self.layers, start=1):
            x = layer(x, ws[:, i])
        return x * self.output_scale


@ARCHS.register("stylegan3", trainable=False)
class StyleGAN3Generator(StyleBasedGenerator):
    """Alias-free style-based generator, rendering only. As with `stylegan`, `synthesis(ws)` never
    touches the mapping network and truncation is a lerp to w_avg."""

    Config = StyleGAN3Config
    synthesis_class = SynthesisNetwork
    tiny_config = dict(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=8, num_layers=4, margin_size=2)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Images [B, 3, R, R], roughly in [-1, 1], not clamped. `noise_mode` is checked and
        otherwise ignored: StyleGAN3 has no noise inputs."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [B, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        return self.synthesis_net(ws)

    def style_affines(self) -> list[torch.Tensor]:
        """Per w row, the affine that reads it ([n, w_dim]): row 0 moves the Fourier features,
        row i + 1 modulates layer i. SeFa factorises these."""
        net = self.synthesis_net
        return [m.affine.weight * m.affine.scale for m in (net.input, *net.layers)]

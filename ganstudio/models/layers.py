"""Building blocks shared by the architectures (pure PyTorch, no custom kernels).

Equalized learning rate: weights are stored as N(0, 1) samples (divided by the
learning-rate multiplier) and scaled at run time by `lr_mul / sqrt(fan_in)`, so
Adam's per-parameter step sizes act uniformly on every layer. This is also how
StyleGAN2 checkpoints store their weights, which keeps imports a renaming job.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

SQRT2 = math.sqrt(2.0)
FIR_TAPS = (1.0, 3.0, 3.0, 1.0)  # the binomial low-pass filter of StyleGAN2


def fir_kernel(taps: Sequence[float] = FIR_TAPS, gain: float = 1.0) -> torch.Tensor:
    """A separable 2-D FIR kernel [k, k] summing to `gain` (4 for 2x upsampling keeps DC)."""
    t = torch.tensor(taps, dtype=torch.float32)
    k = torch.outer(t, t)
    return k * (gain / k.sum())


def _depthwise(kernel: torch.Tensor, channels: int) -> torch.Tensor:
    return kernel[None, None].expand(channels, 1, *kernel.shape)


def blur2d(x: torch.Tensor, kernel: torch.Tensor, pad: tuple[int, int], down: int = 1,
           bias: torch.Tensor | None = None) -> torch.Tensor:
    """Filter every channel with `kernel` after padding (before, after) on both axes, then keep
    every `down`-th sample (and add `bias` per channel, when given). The kernel is symmetric, so
    correlation = convolution."""
    padding = pad[0]
    if pad[0] != pad[1]:
        x, padding = F.pad(x, [pad[0], pad[1], pad[0], pad[1]]), 0
    # Symmetric padding inside the convolution is markedly faster on CPU than F.pad.
    return F.conv2d(x, _depthwise(kernel, x.shape[1]), bias, stride=down, padding=padding, groups=x.shape[1])


def upsample2d(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """2x upsampling: zero insertion followed by the FIR `kernel` (even size, gain 4), aligned like
    upfirdn2d(up=2, pad=(k/2, k/2-1)). Computed as its four phases, one small depthwise
    convolution and a pixel shuffle: the same numbers as the strided transposed convolution, which
    PyTorch runs on a slow path on a CPU (an RGB image to 1024 px: 54 ms against 15-31 ms)."""
    phases, pad = _phase_kernels(kernel)
    channels = x.shape[1]
    y = F.conv2d(x, phases.to(x.dtype).repeat(channels, 1, 1, 1), padding=pad, groups=channels)
    return F.pixel_shuffle(y, 2)


def _phase_kernels(kernel: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The kernels [4, 1, s, s] giving output pixels (2m + a, 2n + b), phase 2a + b, from the input
    around (m, n), and their padding. Output 2m + a takes input m + d through tap a + p - 2d of the
    kernel (p = k/2 - 1, the transposed convolution's padding)."""
    k = kernel.shape[-1]
    p = k // 2 - 1
    taps = {a: {(a + p - t) // 2: t for t in range(k) if (a + p - t) % 2 == 0} for a in (0, 1)}
    pad = max(abs(d) for a in taps for d in taps[a])
    size = 2 * pad + 1
    phases = kernel.new_zeros(4, 1, size, size)
    for a in (0, 1):
        for b in (0, 1):
            for dy, ty in taps[a].items():
                for dx, tx in taps[b].items():
                    phases[2 * a + b, 0, dy + pad, dx + pad] = kernel[ty, tx]
    return phases, pad


def bias_lrelu(x: torch.Tensor, bias: torch.Tensor | None, gain: float = SQRT2, slope: float = 0.2) -> torch.Tensor:
    """Bias, leaky ReLU and a gain that restores unit variance (sqrt 2 for slope 0.2 by convention)."""
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
    return F.leaky_relu(x, slope) * gain


class EqualLinear(nn.Module):
    """Fully connected layer with equalized learning rate and an optional fused leaky ReLU.

    With `spectral=True` the weight is spectrally normalised instead and the run-time
    scale and activation gain are 1, so the layer is 1-Lipschitz.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: bool = False,
        spectral: bool = False,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        self.lr_mul = lr_mul
        self.scale = 1.0 if spectral else lr_mul / math.sqrt(in_features)
        self.activation = activation
        self.gain = 1.0 if spectral else SQRT2
        if spectral:
            parametrizations.spectral_norm(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None and self.lr_mul != 1 else self.bias
        if self.activation:
            return bias_lrelu(F.linear(x, self.weight * self.scale), bias, self.gain)
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}, lr_mul={self.lr_mul}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """Convolution with equalized learning rate, optional FIR-blurred 2x downsampling and a
    fused leaky ReLU (the StyleGAN2 discriminator's ConvLayer). `spectral` as in EqualLinear.
    `clamp` limits the output to [-clamp, clamp] (StyleGAN2-ADA's conv_clamp, for imported weights)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: bool = True,
        down: bool = False,
        spectral: bool = False,
        clamp: float | None = None,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.clamp = clamp
        self.scale = 1.0 if spectral else 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.activation = activation
        self.gain = 1.0 if spectral else SQRT2
        self.down = down
        if down:
            # Blur with the low-pass filter, then a stride-2 convolution without padding.
            p = len(FIR_TAPS) - 2 + kernel_size - 1
            self.blur_pad = ((p + 1) // 2, p // 2)
            self.register_buffer("blur_kernel", fir_kernel(), persistent=False)
        self.padding = 0 if down else kernel_size // 2
        if spectral:
            parametrizations.spectral_norm(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.down:
            x = blur2d(x, self.blur_kernel, self.blur_pad)
        weight = self.weight * self.scale
        if self.activation:
            x = F.conv2d(x, weight, stride=2 if self.down else 1, padding=self.padding)
            x = bias_lrelu(x, self.bias, self.gain)
        else:
            x = F.conv2d(x, weight, self.bias, stride=2 if self.down else 1, padding=self.padding)
        return x if self.clamp is None else x.clamp(-self.clamp, self.clamp)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        clamp = "" if self.clamp is None else f", clamp={self.clamp}"
        return f"{i}, {o}, kernel_size={k}, down={self.down}, activation={self.activation}{clamp}"


class ModulatedConv2d(nn.Module):
    """StyleGAN2's weight-modulated convolution with optional demodulation and 2x upsampling,
    then `gain` * (result + `bias`) when given (what the layer after it would do in two more
    passes over the activations).

    A batch is computed as "modulate the input, convolve with the shared weight, demodulate the
    output": mathematically the per-sample weight `w * s / ||w * s||`, but one ordinary batched
    convolution instead of a grouped one, which is what a CPU runs fastest; the demodulation
    coefficients come from a [B, in] x [in, out] product. A single image (an interactive frame,
    an inversion) whose activation is larger than the weight folds styles, demodulation, gain and
    bias into the convolution's own weight and bias instead: the same function with three fewer
    passes over the activation. Where the weight is the larger (the 512-channel layers of a big
    model at 4-32 px), modulating the activation is the cheaper way for one image too.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        demodulate: bool = True,
        up: bool = False,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.demodulate = demodulate
        self.up = up
        self._energy: tuple[tuple, torch.Tensor] | None = None  # see _weight_energy
        if up:
            # The transposed convolution grows H to 2H + k - 2; the blur trims it back to 2H.
            p = len(FIR_TAPS) - 2 - (kernel_size - 1)
            self.blur_pad = ((p + 1) // 2 + 1, p // 2 + 1)
            self.register_buffer("blur_kernel", fir_kernel(gain=4.0), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None = None,
                gain: float = 1.0) -> torch.Tensor:
        styles = self.affine(w)  # [B, in]
        if x.shape[0] == 1 and x.numel() > self.weight.numel():
            return self._single(x, self.weight * (styles[0] * self.scale)[None, :, None, None], bias, gain)
        x = self._convolve(x * (styles * self.scale)[:, :, None, None], self.weight)
        if self.demodulate:
            energy = styles.square() @ self._weight_energy().t()  # [B, out]
            x = x * (torch.rsqrt(energy * self.scale**2 + 1e-8) * gain)[:, :, None, None]
        elif gain != 1.0:
            x = x * gain
        if bias is not None:
            x = x + (bias * gain)[None, :, None, None]
        return x

    def _weight_energy(self) -> torch.Tensor:
        """sum over the kernel of weight², [out, in]: what demodulation needs of the weight. A pass
        over the whole weight, so kept while the weight is unchanged and not being trained."""
        weight = self.weight
        if weight.requires_grad and torch.is_grad_enabled():
            return torch.linalg.vector_norm(weight, dim=(2, 3)).square()
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.device)
        if self._energy is None or self._energy[0] != key:
            with torch.inference_mode(False), torch.no_grad():  # usable later with autograd on (inversion)
                self._energy = (key, torch.linalg.vector_norm(weight, dim=(2, 3)).square())
        return self._energy[1]

    def _single(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, gain: float) -> torch.Tensor:
        """One image: its own modulated weight, demodulated and scaled, the bias added by the last convolution."""
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.square().sum(dim=(1, 2, 3)) + 1e-8)[:, None, None, None]
        return self._convolve(x, weight * gain, None if bias is None else bias * gain)

    def _convolve(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        if self.up:
            x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
            return blur2d(x, self.blur_kernel, self.blur_pad, bias=bias)
        return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, kernel_size={k}, up={self.up}, demodulate={self.demodulate}"


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit mean square (the mapping network's input normalisation)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None) -> torch.Tensor:
    """The truncation trick: pull rows [0, cutoff) of ws towards w_avg by psi (all rows if None)."""
    if psi == 1.0 or cutoff == 0:
        return ws
    if cutoff is None or cutoff >= ws.shape[1]:
        return w_avg.lerp(ws, psi)
    head = w_avg.lerp(ws[:, :cutoff], psi)
    return torch.cat([head, ws[:, cutoff:]], dim=1)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, num_features: int = 1) -> torch.Tensor:
    """Append the standard deviation across groups of samples as extra feature maps, so the
    discriminator can see a lack of variety. The group is the largest divisor of the batch
    not above `group_size`."""
    b, c, h, w = x.shape
    g = min(group_size, b)
    while b % g:
        g -= 1
    y = x.reshape(g, -1, num_features, c // num_features, h, w)
    y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8)  # [B/g, F, c/F, h, w]
    y = y.mean(dim=(2, 3, 4))  # [B/g, F]
    y = y.reshape(-1, num_features, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class DiscriminatorHeads(nn.Module):
    """Every output a discriminator can have, computed from its penultimate features h [B, F]:
    the real/fake logit (with optional projection conditioning on c), ACGAN class logits and
    the InfoGAN Q head (categorical logits, continuous mean and log-variance), which shares the
    discriminator's features and adds one hidden layer of 128 units as in the InfoGAN paper."""

    Q_HIDDEN = 128

    def __init__(
        self,
        features: int,
        c_dim: int = 0,
        projection: bool = False,
        n_classes: int = 0,
        q_categorical: Sequence[int] = (),
        q_continuous: int = 0,
        spectral: bool = False,
    ):
        super().__init__()
        self.features = features
        self.q_categorical = tuple(int(n) for n in q_categorical)
        self.q_continuous = int(q_continuous)
        self.out = EqualLinear(features, 1, spectral=spectral)
        self.project = EqualLinear(c_dim, features, bias=False, spectral=spectral) if projection else None
        self.classify = EqualLinear(features, n_classes, spectral=spectral) if n_classes else None
        q_out = sum(self.q_categorical) + 2 * self.q_continuous
        self.q = (
            nn.Sequential(
                EqualLinear(features, self.Q_HIDDEN, activation=True, spectral=spectral),
                EqualLinear(self.Q_HIDDEN, q_out, spectral=spectral),
            )
            if q_out
            else None
        )

    def forward(self, h: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.out(h).squeeze(1)
        if self.project is not None:
            if c is None:
                raise ValueError("this discriminator is conditional (projection): pass c [B, c_dim]")
            logits = logits + (self.project(c.to(h.dtype)) * h).sum(dim=1) / math.sqrt(self.features)
        result = {"logits": logits, "features": h}
        if self.classify is not None:
            result["class_logits"] = self.classify(h)
        if self.q is not None:
            q = self.q(h)
            n_cat = sum(self.q_categorical)
            if n_cat:
                result["q_cat_logits"] = q[:, :n_cat]
            if self.q_continuous:
                result["q_cont_mean"] = q[:, n_cat : n_cat + self.q_continuous]
                result["q_cont_logvar"] = q[:, n_cat + self.q_continuous :]
        return result

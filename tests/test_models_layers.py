"""The shared building blocks: the fast forms must compute what the textbook forms compute."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganstudio.models.layers import ModulatedConv2d, fir_kernel, upsample2d


@pytest.mark.parametrize("kernel", [fir_kernel(gain=4.0), torch.rand(4, 4), torch.rand(6, 6), torch.rand(2, 2)],
                         ids=["stylegan2", "asymmetric4", "asymmetric6", "size2"])
def test_upsampling_by_phases_equals_the_transposed_convolution(kernel):
    x = torch.randn(2, 5, 7, 9)
    k = kernel.shape[-1]
    reference = F.conv_transpose2d(x, kernel[None, None].expand(5, 1, k, k), stride=2, padding=k // 2 - 1, groups=5)
    assert torch.allclose(upsample2d(x, kernel), reference, atol=1e-5)


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("side", [2, 16], ids=["weight-larger", "activation-larger"])
def test_one_image_gets_what_a_batch_gives_it_whichever_side_is_modulated(up, side):
    torch.manual_seed(0)
    conv = ModulatedConv2d(8, 6, 3, w_dim=4, up=up)
    x, w, bias = torch.randn(2, 8, side, side), torch.randn(2, 4), torch.randn(6)
    batch = conv(x, w, bias, gain=1.5)
    for i in range(2):
        assert torch.allclose(conv(x[i:i + 1], w[i:i + 1], bias, gain=1.5), batch[i:i + 1], atol=1e-5)


def test_the_kept_demodulation_energy_follows_the_weight():
    torch.manual_seed(0)
    conv = ModulatedConv2d(8, 6, 3, w_dim=4)
    x, w = torch.randn(1, 8, 2, 2), torch.randn(1, 4)
    with torch.inference_mode():
        before = conv(x, w)
    with torch.no_grad():
        conv.weight.mul_(torch.rand_like(conv.weight))  # an optimiser step or a load changes it in place
    with torch.inference_mode():
        after = conv(x, w)
    fresh = ModulatedConv2d(8, 6, 3, w_dim=4)
    fresh.load_state_dict(conv.state_dict())
    with torch.inference_mode():
        assert torch.equal(after, fresh(x, w)) and not torch.allclose(after, before)
    w.requires_grad_(True)  # an inversion: the kept energy, made in inference mode, is used by autograd
    conv.requires_grad_(False)
    conv(x, w).square().sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()

"""Sliced Wasserstein distance on Laplacian-pyramid patches."""

import pytest
import torch

from ganstudio.metrics.swd import laplacian_pyramid, pyramid_levels, sliced_wasserstein, swd_of_images


def _images(n: int, seed: int, resolution: int = 32) -> torch.Tensor:
    """Smooth random blobs: a low-resolution noise field upsampled, so each scale has structure."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, resolution // 8, resolution // 8, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=resolution, mode="bilinear", align_corners=False)


def test_pyramid_levels_reach_down_to_16_px_and_reconstruct_the_image():
    assert [pyramid_levels(r) for r in (16, 32, 64, 256)] == [1, 2, 3, 5]
    x = _images(2, 0)
    levels = laplacian_pyramid(x, 2)
    assert [lv.shape[-1] for lv in levels] == [32, 16]
    from ganstudio.metrics.swd import _gaussian_kernel, _up

    rebuilt = levels[0] + _up(levels[1], _gaussian_kernel(x.device))
    assert torch.allclose(rebuilt, x, atol=1e-5)


def test_sliced_wasserstein_is_zero_for_equal_sets_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(500, 6, generator=g)
    assert sliced_wasserstein(a, a.clone(), 64, 2, torch.Generator().manual_seed(1)) == pytest.approx(0.0, abs=1e-6)
    near = sliced_wasserstein(a, a + 0.1, 64, 2, torch.Generator().manual_seed(1))
    far = sliced_wasserstein(a, a + 1.0, 64, 2, torch.Generator().manual_seed(1))
    assert 0 < near < far
    with pytest.raises(ValueError, match="equally sized"):
        sliced_wasserstein(a, a[:10], 8, 1, torch.Generator())


FAST = {"directions": 64, "repeats": 1}


@pytest.mark.slow
def test_swd_sees_what_each_level_holds():
    real, other = _images(64, 1), _images(64, 2)
    base = swd_of_images(real, other, **FAST)
    assert base.resolutions == (32, 16)
    noisy = swd_of_images(real, other + 0.15 * torch.randn(other.shape, generator=torch.Generator().manual_seed(3)), **FAST)
    tinted = swd_of_images(real, (other + 0.5).clamp(-1, 1), **FAST)
    # pixel noise is fine detail: the 32 px (band-pass) level sees it most
    assert noisy.distances[0] > 3 * base.distances[0]
    # a colour cast lives in the low-pass level
    assert tinted.distances[1] > 3 * base.distances[1]
    assert base.to_json()["mean"] == pytest.approx(sum(base.distances) / 2, abs=1e-3)

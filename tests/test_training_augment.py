"""Differentiable augmentation: shapes, gradients, and what each transform does."""

import pytest
import torch

from ganstudio.training.augment import diff_augment, parse_policy, random_affine, random_stroke


def test_every_transform_is_differentiable_and_keeps_shape():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, "color,translation,cutout")
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_translation_shifts_content_by_at_most_an_eighth():
    torch.manual_seed(1)
    ones = torch.ones(64, 1, 16, 16)
    y = diff_augment(ones, "translation")
    kept = (y == 1).flatten(1).sum(1)
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    assert (kept >= 14 * 14).all() and (kept < 256).any()  # shifted by up to 2 pixels, zero-filled


def test_cutout_zeroes_at_most_a_half_size_square():
    torch.manual_seed(2)
    y = diff_augment(torch.ones(64, 3, 16, 16), "cutout")
    zeros = (y[:, 0] == 0).flatten(1).sum(1)
    assert (zeros > 0).all() and (zeros <= 8 * 8).all()
    assert torch.equal(y[:, 0], y[:, 2])  # the same square in every channel


def test_policy_parsing():
    assert parse_policy(" color, cutout ") == ("color", "cutout")
    x = torch.randn(2, 3, 8, 8)
    assert diff_augment(x, "") is x
    with pytest.raises(ValueError, match="unknown transform 'blur'; known: color, translation, cutout"):
        parse_policy("color,blur")


def test_random_affine_moves_the_content_and_fills_with_background():
    torch.manual_seed(3)
    square = torch.full((16, 1, 32, 32), -1.0)
    square[:, :, 12:20, 12:20] = 1.0
    y = random_affine(square)
    assert y.shape == square.shape and y.min() >= -1 - 1e-5 and y.max() <= 1 + 1e-5
    assert torch.allclose(y[:, :, :3], torch.full_like(y[:, :, :3], -1.0), atol=1e-5)  # the border stays background
    assert not torch.allclose(y[0], y[1])  # each image gets its own transform
    ink = (y + 1).flatten(1).sum(1) / (square + 1).flatten(1).sum(1)
    assert ((ink > 0.6) & (ink < 1.5)).all()  # zoomed by at most 15 %: the square is kept, not cut away


def test_random_stroke_thickens_or_thins_the_ink_and_keeps_the_shape_in_place():
    torch.manual_seed(0)
    bar = torch.full((60, 1, 16, 16), -1.0)
    bar[:, :, 4:12, 7:10] = 1.0  # a stroke 3 px wide
    y = random_stroke(bar.clone().requires_grad_(True))
    widths = sorted({int((row > 0).sum()) for row in y[:, 0, 8].detach()})
    assert widths == [1, 3, 5]  # thinner, unchanged, thicker: every pen drawn
    centre_of_ink = ((y > 0).float() * torch.arange(16.0)).sum((1, 2, 3)) / (y > 0).float().sum((1, 2, 3))
    assert torch.allclose(centre_of_ink, torch.full((60,), 8.0))  # the stroke stays where it was
    y.sum().backward()  # gradients pass through, as the generator's must

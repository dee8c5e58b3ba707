"""Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al., ICLR 2018, the
progressive-GAN paper): a second, network-free measure of image statistics per scale.

Each image is split into a Laplacian pyramid (the finest level holds the edges, the coarsest a
blurred thumbnail). From every level, `patches_per_image` random 7x7 neighbourhoods are cut;
each set of patch descriptors (3 x 7 x 7 = 147 numbers) is normalised per channel by the
statistics of both sets together, then compared by the sliced Wasserstein distance: project
both sets on random unit directions (4 x 128, as the paper), sort, and average the absolute
differences of the sorted projections. At most 32,768 descriptors per level and set are used
(the paper: up to 2 M on a GPU); sorting them is what the metric costs. Nothing here was trained, so it cannot share a blind spot with the judge: it sees
speckle, blur and colour casts at each scale, not attributes. Reported x 1000 as in the paper;
compare at equal image counts and with the real-vs-real baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

PATCH = 7
PATCHES_PER_IMAGE = 128  # as the paper
SWD_DESCRIPTORS = 32768  # at most this many patches per level and set (sorting them is the cost)
MIN_LEVEL_RESOLUTION = 16  # the coarsest level the paper reports (16 px)


@dataclass(frozen=True)
class SWDResult:
    resolutions: tuple[int, ...]  # one per pyramid level, finest first
    distances: tuple[float, ...]  # x 1000, one per level

    @property
    def mean(self) -> float:
        return sum(self.distances) / len(self.distances)

    def to_json(self) -> dict:
        return {"levels": {str(r): round(d, 3) for r, d in zip(self.resolutions, self.distances)},
                "mean": round(self.mean, 3)}


def _gaussian_kernel(device: torch.device) -> torch.Tensor:
    taps = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=device)
    k = torch.outer(taps, taps)
    return (k / k.sum()).expand(3, 1, 5, 5)


def _down(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=3)[:, :, ::2, ::2]


def _up(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    up = torch.zeros(b, c, h * 2, w * 2, dtype=x.dtype, device=x.device)
    up[:, :, ::2, ::2] = x * 4
    return F.conv2d(F.pad(up, (2, 2, 2, 2), mode="reflect"), kernel, groups=3)


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[B, 3, R, R] -> `levels` tensors, finest (R px, band-pass) first, the last the low-pass rest."""
    kernel = _gaussian_kernel(images.device)
    pyramid, current = [], images
    for _ in range(levels - 1):
        smaller = _down(current, kernel)
        pyramid.append(current - _up(smaller, kernel))
        current = smaller
    pyramid.append(current)
    return pyramid


def pyramid_levels(resolution: int) -> int:
    """How many levels reach from `resolution` down to 16 px (at least one)."""
    levels = 1
    while resolution // 2 ** levels >= MIN_LEVEL_RESOLUTION:
        levels += 1
    return levels


def _patches(level: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` random 7x7 patches per image, flattened: [B * count, 3 * 49]."""
    b, c, h, w = level.shape
    ys = torch.randint(0, h - PATCH + 1, (b, count), generator=generator)
    xs = torch.randint(0, w - PATCH + 1, (b, count), generator=generator)
    offsets = torch.arange(PATCH)
    rows = (ys[..., None] + offsets).view(b, count, PATCH, 1).expand(b, count, PATCH, PATCH)
    cols = (xs[..., None] + offsets).view(b, count, 1, PATCH).expand(b, count, PATCH, PATCH)
    batch = torch.arange(b).view(b, 1, 1, 1).expand_as(rows)
    patches = level.permute(0, 2, 3, 1)[batch, rows, cols]  # [b, count, 7, 7, c]
    return patches.permute(0, 1, 4, 2, 3).reshape(b * count, c * PATCH * PATCH)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: int, repeats: int,
                       generator: torch.Generator, chunk: int = 128) -> float:
    """Mean over `repeats` x `directions` random unit projections of the 1-D Wasserstein-1
    distance between two equally sized descriptor sets [N, d] (projected `chunk` directions
    at a time, so memory stays at N x chunk)."""
    if a.shape != b.shape:
        raise ValueError(f"SWD needs equally sized descriptor sets, got {tuple(a.shape)} and {tuple(b.shape)}")
    total, count = 0.0, 0
    for _ in range(repeats):
        proj = torch.randn(a.shape[1], directions, generator=generator, dtype=a.dtype)
        proj = proj / proj.norm(dim=0, keepdim=True)
        for part in proj.split(chunk, dim=1):
            pa, _ = torch.sort((a @ part).t().contiguous(), dim=1)  # sorting along rows is the fast way
            pb, _ = torch.sort((b @ part).t().contiguous(), dim=1)
            total += float((pa - pb).abs().mean()) * part.shape[1]
            count += part.shape[1]
    return total / count


class PyramidDescriptors:
    """Collects patch descriptors per pyramid level from image batches (in [-1, 1]), so that
    images can stream through without being kept."""

    def __init__(self, resolution: int, patches_per_image: int = PATCHES_PER_IMAGE, seed: int = 0):
        self.levels = pyramid_levels(resolution)
        self.resolutions = tuple(resolution // 2 ** i for i in range(self.levels))
        self.count = patches_per_image
        self.generator = torch.Generator().manual_seed(seed)
        self.parts: list[list[torch.Tensor]] = [[] for _ in range(self.levels)]

    def add(self, images: torch.Tensor) -> None:
        images = images.detach().float().cpu()
        if images.shape[-1] != self.resolutions[0]:
            raise ValueError(f"images are {images.shape[-1]} px; these descriptors are for {self.resolutions[0]} px")
        for i, level in enumerate(laplacian_pyramid(images, self.levels)):
            self.parts[i].append(_patches(level, self.count, self.generator))

    def level(self, i: int) -> torch.Tensor:
        if not self.parts[i]:
            raise ValueError("no images were added")
        return torch.cat(self.parts[i])


def swd(real: PyramidDescriptors, fake: PyramidDescriptors, directions: int = 128, repeats: int = 4,
        seed: int = 0, max_descriptors: int = SWD_DESCRIPTORS) -> SWDResult:
    """SWD x 1000 per level between two descriptor collections of the same resolution; each
    set is cut to the smaller one's size and at most `max_descriptors` (a seeded random choice)."""
    if real.resolutions != fake.resolutions:
        raise ValueError(f"descriptor levels differ: {real.resolutions} vs {fake.resolutions}")
    generator = torch.Generator().manual_seed(seed)
    distances = []
    for i in range(real.levels):
        a, b = real.level(i), fake.level(i)
        n = min(len(a), len(b), max_descriptors)
        a = a[torch.randperm(len(a), generator=generator)[:n]]
        b = b[torch.randperm(len(b), generator=generator)[:n]]
        both = torch.cat([a, b]).view(2 * n, 3, -1)
        mean, std = both.mean(dim=(0, 2)), both.std(dim=(0, 2)).clamp_min(1e-8)
        norm = lambda x: ((x.view(n, 3, -1) - mean[:, None]) / std[:, None]).view(n, -1)  # noqa: E731
        distances.append(1000 * sliced_wasserstein(norm(a), norm(b), directions, repeats, generator))
    return SWDResult(real.resolutions, tuple(distances))


def swd_of_images(real: torch.Tensor, fake: torch.Tensor, **options) -> SWDResult:
    """SWD of two in-memory image batches [N, 3, R, R] (tests and small sets)."""
    a = PyramidDescriptors(real.shape[-1], seed=options.pop("patch_seed", 0))
    b = PyramidDescriptors(fake.shape[-1], seed=1 + a.generator.initial_seed())
    a.add(real)
    b.add(fake)
    return swd(a, b, **options)

"""Tiny labelled image sets for the metrics tests: attributes anyone can see in the pixels."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks run fastest on one thread, and a shared 2-core machine punishes two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

ATTRIBUTES = ["left_brighter", "reddish", "top_dark"]


def attribute_image(bits: torch.Tensor, gen: torch.Generator, resolution: int) -> torch.Tensor:
    """A noisy grey image whose left half is brighter / red is stronger / top is darker per bit."""
    img = torch.randn(3, resolution, resolution, generator=gen) * 0.15 - 0.2
    half = resolution // 2
    if bits[0] > 0.5:
        img[:, :, :half] += 0.6
    if bits[1] > 0.5:
        img[0] += 0.6
    if bits[2] > 0.5:
        img[:, :half, :] -= 0.5
    return img.clamp(-1, 1)


class AttributeImages(Dataset):
    """`n` images with random visible attributes (and their factor values), deterministic per index."""

    label_kind = "attributes"
    label_names = ATTRIBUTES

    def __init__(self, n: int = 400, resolution: int = 32, seed: int = 0, p: float = 0.5):
        self.n, self.resolution, self.seed, self.p = n, resolution, seed, p

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        bits = (torch.rand(len(ATTRIBUTES), generator=gen) < self.p).float()
        return attribute_image(bits, gen, self.resolution), bits, bits.clone()


class LabelledDigits(Dataset):
    """A class-labelled set: the class is which quadrant is bright (one-hot labels)."""

    label_kind = "class"
    label_names = ["top_left", "top_right", "bottom_left", "bottom_right"]

    def __init__(self, n: int = 200, resolution: int = 32, seed: int = 0):
        self.n, self.resolution, self.seed = n, resolution, seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        gen = torch.Generator().manual_seed(self.seed * 7919 + i)
        cls = int(torch.randint(0, 4, (1,), generator=gen))
        img = torch.randn(3, self.resolution, self.resolution, generator=gen) * 0.1 - 0.5
        h = self.resolution // 2
        img[:, (cls // 2) * h:(cls // 2 + 1) * h, (cls % 2) * h:(cls % 2 + 1) * h] += 1.0
        return img.clamp(-1, 1), torch.nn.functional.one_hot(torch.tensor(cls), 4).float()


def ring_centres(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(k) * (2 * torch.pi / k)
    return torch.stack([radius * angles.cos(), radius * angles.sin()], 1)


class Points(Dataset):
    """A ring of 8 Gaussians exposing its mixture `centres` and `std`."""

    def __init__(self, n: int = 600, seed: int = 0, std: float = 0.05):
        self.centres = ring_centres()
        gen = torch.Generator().manual_seed(seed)
        self.std = std
        self.points = self.centres[torch.randint(0, 8, (n,), generator=gen)] + torch.randn(n, 2, generator=gen) * std

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.points[i]


class StructuredPoints(Points):
    """The same ring, judging quality by its own structure (as ganstudio.data's toy sets do);
    here a point is high quality only within ONE std, so its verdicts are recognisable."""

    num_modes = 8

    def nearest_mode(self, points: torch.Tensor) -> torch.Tensor:
        return torch.cdist(points, self.centres).argmin(1)

    def high_quality(self, points: torch.Tensor) -> torch.Tensor:
        return torch.cdist(points, self.centres).min(1).values <= self.std


# ----- generators that sample the data distributions exactly, so eval's numbers are predictable ----
from dataclasses import dataclass  # noqa: E402

from ganstudio.models.base import ConfigModule  # noqa: E402
from ganstudio.registry import ARCHS  # noqa: E402


@dataclass(frozen=True)
class OracleConfig:
    z_dim: int = 8
    resolution: int = 32
    points: bool = False
    collapse: bool = False  # always the same attributes / the same mode
    noisy_attribute: bool = False  # the second attribute ("reddish") is drawn only when noise is on
    num_ws: int = 1  # rows of w+ (copies of w); synthesis reads only the first, the "coarse" one


@ARCHS.register("test-oracle")
class OracleGenerator(ConfigModule):
    """Draws from AttributeImages' (or Points') distribution using z as its randomness."""

    Config = OracleConfig

    def __init__(self, config: OracleConfig):
        super().__init__(config)
        self.z_dim, self.w_dim, self.resolution, self.c_dim = config.z_dim, config.z_dim, config.resolution, 0
        self.num_ws = config.num_ws
        self.register_buffer("w_avg", torch.zeros(config.z_dim))

    def mapping(self, z, psi=1.0, cutoff=None, c=None):
        return self.w_avg.lerp(z, psi).unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws, noise_mode="const"):
        out = []
        for w in ws[:, 0]:
            gen = torch.Generator().manual_seed(int(w.abs().sum() * 1e6) % 2**31)
            if self.config.points:
                k = 0 if self.config.collapse else int(torch.randint(0, 8, (1,), generator=gen))
                out.append(ring_centres()[k] + torch.randn(2, generator=gen) * 0.05)
            else:
                bits = torch.ones(3) if self.config.collapse else (w[:3] > 0).float()
                if self.config.noisy_attribute and noise_mode == "none":
                    bits[1] = 0.0
                out.append(attribute_image(bits, gen, self.resolution))
        return torch.stack(out)

    def forward(self, z, c=None, psi=1.0, cutoff=None, noise_mode="const"):
        return self.synthesis(self.mapping(z, psi, cutoff, c), noise_mode)


@dataclass(frozen=True)
class ProbeConfig:
    resolution: int = 32


@ARCHS.register("test-probe-encoder")
class ProbeEncoder(ConfigModule):
    """An 'encoder' whose code units read the three visible attributes off the pixels."""

    Config = ProbeConfig

    def __init__(self, config: ProbeConfig):
        super().__init__(config)
        self.resolution = config.resolution
        self.scale = torch.nn.Parameter(torch.ones(3))

    def forward(self, img):
        h = img.shape[-1] // 2
        left_right = img[..., :, :h].mean((1, 2, 3)) - img[..., :, h:].mean((1, 2, 3))
        red = img[:, 0].mean((1, 2)) - img[:, 1:].mean((1, 2, 3))
        bottom_top = img[..., h:, :].mean((1, 2, 3)) - img[..., :h, :].mean((1, 2, 3))
        return torch.stack([left_right, red, bottom_top], 1) * self.scale


def install_fake_data(monkeypatch, **datasets) -> None:
    """Stand in for `ganstudio.data.open_dataset` with the given name -> dataset factories."""
    import ganstudio.data
    from ganstudio.errors import UserError

    def open_dataset(spec: str, **overrides):
        name = spec.split("?")[0].split(":")[0]
        if name not in datasets:
            raise UserError(f"unknown data set '{name}'; known: {', '.join(sorted(datasets))}")
        return datasets[name]()

    monkeypatch.setattr(ganstudio.data, "open_dataset", open_dataset)


def small_judge(folder, dataset: Dataset, spec: str):
    """A judge trained in a second on a tiny labelled set, saved as a checkpoint; its path."""
    from ganstudio.metrics.judge import save_judge, train_judge

    model, report = train_judge(dataset, steps=60, heldout=80, channels=(8, 16), feature_dim=16, batch_size=32)
    assert report.overall > 0.9
    return save_judge(folder / "judge.safetensors", model, report, spec, "test", 0)

"""2-D distributions for the playground and mode-collapse studies: ring (8 Gaussians),
grid (25 Gaussians), two moons, spiral, or points from a CSV file.

Each built-in distribution knows its noiseless structure: `centres` (one point per mode),
`support` (dense points of the structure, each tagged with its mode in `support_modes`) and
the noise `std`, so metrics can count covered modes and the share of high-quality samples.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Iterable

import torch

from ..registry import DATASETS

_EXACT = "donot_use_mm_for_euclid_dist"   # the matmul shortcut loses ~1e-3 near the structure


class Toy2D(torch.utils.data.Dataset):
    """Items are points [2]. `centres`, `support`, `support_modes` and `std` are None for CSV data."""

    label_kind = "none"
    label_names: list[str] = []

    def __init__(self, name: str, points: torch.Tensor, centres: torch.Tensor | None = None,
                 support: torch.Tensor | None = None, support_modes: torch.Tensor | None = None,
                 std: float | None = None):
        self.name = name
        self.points = points.float()
        self.centres = centres
        self.support = support if support is not None else centres
        self.support_modes = support_modes if support_modes is not None else (
            torch.arange(len(centres)) if centres is not None else None)
        self.std = std

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.points[index]

    @property
    def num_modes(self) -> int:
        return 0 if self.centres is None else len(self.centres)

    def _structure(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.support is None:
            raise ValueError(f"toy data set {self.name!r} has no known structure (points from a file)")
        return self.support, self.support_modes

    def distance(self, points: torch.Tensor) -> torch.Tensor:
        """Distance of each point [N, 2] to the noiseless structure."""
        support, _ = self._structure()
        return torch.cdist(points.float(), support, compute_mode=_EXACT).min(dim=1).values

    def nearest_mode(self, points: torch.Tensor) -> torch.Tensor:
        """Index of the mode whose part of the structure is nearest to each point."""
        support, modes = self._structure()
        return modes[torch.cdist(points.float(), support, compute_mode=_EXACT).argmin(dim=1)]

    def high_quality(self, points: torch.Tensor, k: float = 3.0) -> torch.Tensor:
        """True where a point lies within k standard deviations of the structure."""
        return self.distance(points) <= k * self.std


def ring(n: int = 100_000, seed: int = 0, modes: int = 8, radius: float = 1.0, sigma: float = 0.01) -> Toy2D:
    """Gaussians evenly spaced on a circle; the defaults are the Unrolled-GAN / VEEGAN / PacGAN ring."""
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    centres = torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], 1).float()
    return _gaussians("ring", centres, sigma, n, seed)


def grid(n: int = 100_000, seed: int = 0, side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> Toy2D:
    """Gaussians on a square lattice; the defaults are the literature's {-4, -2, 0, 2, 4}² grid."""
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    centres = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    return _gaussians("grid", centres, sigma, n, seed)


def moons(n: int = 100_000, seed: int = 0, sigma: float = 0.05, arcs_per_moon: int = 4) -> Toy2D:
    """Two interleaved half circles (as scikit-learn draws them); each split into arcs = modes."""
    t = torch.linspace(0.0, math.pi, 400, dtype=torch.float64)
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1.0 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    return _curve("moons", [upper.float(), lower.float()], arcs_per_moon, sigma, n, seed)


def spiral(n: int = 100_000, seed: int = 0, sigma: float = 0.05, turns: float = 1.75, modes: int = 8) -> Toy2D:
    """An Archimedean spiral arm; equal lengths of the arm are the modes."""
    t = torch.linspace(0.5 * math.pi, (0.5 + 2 * turns) * math.pi, 2000, dtype=torch.float64)
    arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / 3.0
    return _curve("spiral", [arm.float()], modes, sigma, n, seed)


def _gaussians(name: str, centres: torch.Tensor, std: float, n: int, seed: int) -> Toy2D:
    gen = torch.Generator().manual_seed(seed)
    which = torch.randint(len(centres), (n,), generator=gen)
    points = centres[which] + std * torch.randn(n, 2, generator=gen)
    return Toy2D(name, points, centres=centres, std=std)


def _curve(name: str, pieces: list[torch.Tensor], modes_per_piece: int, std: float, n: int, seed: int) -> Toy2D:
    """Sample uniformly by arc length along polylines, split each into equal-length modes."""
    support, labels, centres = [], [], []
    for p, piece in enumerate(pieces):
        seg = (piece[1:] - piece[:-1]).norm(dim=1)
        arc = torch.cat([torch.zeros(1), seg.cumsum(0)])
        # Resample at equal arc-length spacing so uniform indices are uniform along the curve.
        even = torch.linspace(0.0, float(arc[-1]), len(piece))
        idx = torch.searchsorted(arc, even).clamp(1, len(piece) - 1)
        w = ((even - arc[idx - 1]) / (arc[idx] - arc[idx - 1]).clamp_min(1e-12)).unsqueeze(1)
        dense = piece[idx - 1] + w * (piece[idx] - piece[idx - 1])
        mode = (torch.arange(len(dense)) * modes_per_piece // len(dense)) + p * modes_per_piece
        support.append(dense)
        labels.append(mode)
        for m in range(modes_per_piece):
            members = dense[mode == m + p * modes_per_piece]
            centres.append(members[len(members) // 2])
    support_t, labels_t = torch.cat(support), torch.cat(labels)
    gen = torch.Generator().manual_seed(seed)
    which = torch.randint(len(support_t), (n,), generator=gen)
    points = support_t[which] + std * torch.randn(n, 2, generator=gen)
    return Toy2D(name, points, centres=torch.stack(centres), support=support_t, support_modes=labels_t, std=std)


def from_csv(path: str | Path) -> Toy2D:
    """Points from a CSV with two numeric columns; a non-numeric first line is a header."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such points file")
    with path.open(newline="") as fh:
        return parse_points(fh, str(path), name=path.stem)


def parse_points(lines: Iterable[str] | str, label: str = "points", name: str = "points",
                 max_points: int | None = None) -> Toy2D:
    """Points from CSV text (lines or one string): two numbers 'x,y' a line, blank lines
    skipped, a non-numeric first line taken as a header. Errors name `label` and the line."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    rows = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            if len(row) != 2:
                raise ValueError
            x, y = float(row[0]), float(row[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError
            rows.append((x, y))
        except ValueError:
            if number == 1:
                continue  # header
            raise ValueError(f"{label}, line {number}: expected two numbers 'x,y', got {','.join(row)!r}") from None
        if max_points is not None and len(rows) > max_points:
            raise ValueError(f"{label}: more than {max_points} points")
    if not rows:
        raise ValueError(f"{label}: no points")
    return Toy2D(name, torch.tensor(rows, dtype=torch.float32))


MIXTURES = {"ring": ring, "grid": grid, "moons": moons, "spiral": spiral}
# the shape options each distribution takes from a spec (beside n and seed): name -> (type, low bound)
SHAPE_OPTIONS = {
    "ring": {"modes": (int, 1), "radius": (float, 0.0), "sigma": (float, 0.0)},
    "grid": {"side": (int, 1), "spacing": (float, 0.0), "sigma": (float, 0.0)},
    "moons": {"arcs_per_moon": (int, 1), "sigma": (float, 0.0)},
    "spiral": {"modes": (int, 1), "turns": (float, 0.0), "sigma": (float, 0.0)},
}


def _shape(name: str, options) -> dict:
    """The shape options given in a spec, checked (counts at least 1, lengths positive)."""
    from . import DataSpecError

    shape = {}
    for key, (kind, low) in SHAPE_OPTIONS[name].items():
        value = options.int(key, low=low) if kind is int else options.float(key)
        if value is None:
            continue
        if kind is float and not (math.isfinite(value) and value > low):
            raise DataSpecError(f"toy:{name}: option {key} must be a positive number, got {value}")
        shape[key] = value
    return shape


@DATASETS.register("toy")
def _open(arg: str | None, options) -> Toy2D:
    """toy:ring|grid|moons|spiral?n=100000&seed=0 plus shape options (e.g. toy:ring?radius=1&sigma=0.01),
    or toy:/path/points.csv"""
    from . import DataSpecError

    if not arg:
        raise DataSpecError(f"toy: name a distribution ({', '.join(MIXTURES)}) or a .csv file, e.g. toy:grid")
    try:
        if arg in MIXTURES:
            return MIXTURES[arg](n=options.int("n", 100_000, low=1), seed=options.int("seed", 0),
                                 **_shape(arg, options))
        if arg.lower().endswith(".csv"):
            return from_csv(arg)
    except DataSpecError:
        raise
    except ValueError as exc:
        raise DataSpecError(f"toy: {exc}") from None
    raise DataSpecError(f"toy: unknown distribution {arg!r}; known: {', '.join(MIXTURES)} or a path ending in .csv")

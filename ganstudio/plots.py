"""Pictures drawn with Pillow, for every layer that needs one: line charts (learning curves),
scatter plots of 2-D points with the window they show (`View`), a value raster as a heat map,
and arrows. It computes nothing about models: what to draw comes from its callers (metrics,
training, the playground), so any of them may import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

LOW, MID, HIGH = np.array([190, 210, 245]), np.array([255, 255, 255]), np.array([250, 215, 175])
ARROW = (0, 120, 60)


# ----- 2-D points -----------------------------------------------------------------------------
def plot_view(*arrays) -> tuple[np.ndarray, float]:
    """The square window a scatter plot shows: (centre [2], side length) around the 0.5 to
    99.5 percentiles of the points, with a 10 % margin."""
    everything = np.concatenate([np.asarray(a, dtype=np.float64)[:, :2] for a in arrays if a is not None])
    lo, hi = np.percentile(everything, 0.5, axis=0), np.percentile(everything, 99.5, axis=0)
    return (lo + hi) / 2, float(max(hi - lo)) * 1.1 or 1.0


def scatter_plot(real: np.ndarray, fake: np.ndarray, centres=None, size: int = 512,
                 view: tuple[np.ndarray, float] | None = None, background: Image.Image | None = None) -> Image.Image:
    """Real points grey, samples red, mixture centres blue, on one square canvas: white, or
    `background` (drawn over the same `view`, which is `plot_view` of the points unless given)."""
    mid, span = view if view is not None else plot_view(real, fake, centres)

    def px(p: np.ndarray) -> np.ndarray:
        return (p - mid) / span * size + size / 2

    image = background.convert("RGB").resize((size, size)) if background is not None \
        else Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for points, colour in ((real, (150, 150, 150)), (fake, (220, 30, 30))):
        for x, y in px(points[:, :2]):
            draw.ellipse((x - 1.5, size - y - 1.5, x + 1.5, size - y + 1.5), fill=colour)
    if centres is not None:
        for x, y in px(np.asarray(centres)[:, :2]):
            draw.line((x - 5, size - y, x + 5, size - y), fill=(30, 60, 220), width=2)
            draw.line((x, size - y - 5, x, size - y + 5), fill=(30, 60, 220), width=2)
    return image


@dataclass(frozen=True)
class View:
    """A square window on the plane: its centre, side length and size in pixels."""

    centre: tuple[float, float]
    span: float
    size: int = 512

    @classmethod
    def around(cls, *arrays, size: int = 512, zoom: float = 1.25) -> "View":
        """The window of `plot_view` around the points, widened by `zoom` so samples may stray."""
        mid, span = plot_view(*arrays)
        return cls((float(mid[0]), float(mid[1])), span * zoom, size)

    @property
    def plot(self) -> tuple[np.ndarray, float]:
        """As `scatter_plot` takes it."""
        return np.asarray(self.centre), self.span

    def grid(self, res: int) -> torch.Tensor:
        """Points [res*res, 2] at the centres of a res x res raster, top row first."""
        step = self.span / res
        offsets = (torch.arange(res, dtype=torch.float32) + 0.5) * step - self.span / 2
        xs = offsets + self.centre[0]
        ys = self.centre[1] - offsets
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)

    def pixels(self, points: np.ndarray) -> np.ndarray:
        p = (np.asarray(points, dtype=np.float64)[:, :2] - np.asarray(self.centre)) / self.span * self.size
        return np.stack([p[:, 0] + self.size / 2, self.size / 2 - p[:, 1]], 1)


def heat_picture(value: np.ndarray, size: int) -> Image.Image:
    """A raster of values in [0, 1] as colours, blue (0) through white (0.5) to orange (1),
    enlarged smoothly to `size` px."""
    t = np.clip(np.asarray(value, dtype=np.float64), 0.0, 1.0)[..., None]
    colour = np.where(t < 0.5, LOW + (MID - LOW) * (t * 2), MID + (HIGH - MID) * (t * 2 - 1))
    return Image.fromarray(colour.round().astype(np.uint8), "RGB").resize((size, size), Image.BILINEAR)


def draw_arrows(image: Image.Image, view: View, points: np.ndarray, directions: np.ndarray,
                length: float = 0.06) -> Image.Image:
    """Arrows from points along directions, scaled together: the 90th-percentile gradient is
    `length` of the window long, longer ones are capped at twice that."""
    norms = np.linalg.norm(directions, axis=1)
    scale = float(np.percentile(norms, 90)) if len(norms) else 0.0
    if not scale > 0 or not np.isfinite(scale):
        return image
    start = view.pixels(points)
    d = directions / scale * length * view.size
    cap = 2 * length * view.size
    d *= np.minimum(1.0, cap / np.maximum(np.linalg.norm(d, axis=1), 1e-12))[:, None]
    end = start + np.stack([d[:, 0], -d[:, 1]], 1)
    draw = ImageDraw.Draw(image)
    for (x0, y0), (x1, y1) in zip(start, end):
        draw.line((x0, y0, x1, y1), fill=ARROW, width=2)
        dx, dy = x1 - x0, y1 - y0
        norm = float(np.hypot(dx, dy))
        if norm > 3:  # a small head, two strokes back from the tip
            ux, uy = dx / norm, dy / norm
            for sx, sy in ((-uy, ux), (uy, -ux)):
                draw.line((x1, y1, x1 - 5 * ux + 3 * sx, y1 - 5 * uy + 3 * sy), fill=ARROW, width=2)
    return image



# ----- line charts ------------------------------------------------------------------------------
PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
           (23, 190, 207), (140, 86, 75), (227, 119, 194))


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(int(math.ceil((hi - first) / step)) + 1)]


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.0e}"


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], title: str, x_label: str, y_label: str,
               size: tuple[int, int] = (640, 400), log_y: bool = False,
               reference: tuple[str, float] | None = None) -> Image.Image:
    """One line (with dots) per named series of (x, y) points; `reference` draws a dashed
    horizontal line with its name (e.g. a goal); `log_y` uses a log10 y axis."""
    width, height = size
    left, right, top, bottom = 64, 16, 30, 70
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    points = [(x, y) for pts in series.values() for x, y in pts if y is not None and (y > 0 or not log_y)]
    ys = [y for _, y in points] + ([reference[1]] if reference else [])
    if not points:
        draw.text((left, top), f"{title}: no data", fill="black", font=font)
        return image
    fy = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    x_lo, x_hi = min(x for x, _ in points), max(x for x, _ in points)
    x_ticks = _nice_ticks(min(0.0, x_lo), x_hi)
    if log_y:
        decades = range(math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys))) + 1)
        steps = (1, 2, 5) if len(decades) <= 3 else (1,)
        y_ticks = [m * 10.0 ** e for e in decades for m in steps if m * 10.0 ** e <= 10.0 ** decades[-1]]
    else:
        y_ticks = _nice_ticks(min(0.0, min(ys)), max(ys))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], fy(y_ticks[0]), fy(y_ticks[-1])

    def px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0 or 1) * (width - left - right),
                height - bottom - (fy(y) - y0) / (y1 - y0 or 1) * (height - top - bottom))

    for t in x_ticks:
        x, _ = px(t, y_ticks[0])
        draw.line((x, top, x, height - bottom), fill=(230, 230, 230))
        draw.text((x - 8, height - bottom + 4), _label(t), fill="black", font=font)
    for t in y_ticks:
        _, y = px(x_ticks[0], t)
        draw.line((left, y, width - right, y), fill=(230, 230, 230))
        draw.text((4, y - 6), _label(t), fill="black", font=font)
    draw.rectangle((left, top, width - right, height - bottom), outline="black")
    if reference is not None:
        _, y = px(x_ticks[0], reference[1])
        for x in range(left, width - right, 10):
            draw.line((x, y, min(x + 5, width - right), y), fill=(90, 90, 90))
        draw.text((left + 4, y - 12), reference[0], fill=(90, 90, 90), font=font)
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        xy = [px(x, y) for x, y in pts if y is not None and (y > 0 or not log_y)]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for x, y in xy:
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=colour)
        lx = left + (i % 3) * (width - left - right) // 3
        ly = height - bottom + 22 + (i // 3) * 14
        draw.rectangle((lx, ly + 3, lx + 10, ly + 9), fill=colour)
        draw.text((lx + 14, ly), name, fill="black", font=font)
    draw.text((left, 8), title, fill="black", font=font)
    draw.text((left, height - 16), f"x: {x_label}    y: {y_label}", fill=(60, 60, 60), font=font)
    return image


def stack(images: Sequence[Image.Image], columns: int = 2) -> Image.Image:
    """Charts of one size side by side, `columns` wide."""
    w, h = images[0].size
    rows = math.ceil(len(images) / columns)
    sheet = Image.new("RGB", (w * min(columns, len(images)), h * rows), "white")
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * w, (i // columns) * h))
    return sheet

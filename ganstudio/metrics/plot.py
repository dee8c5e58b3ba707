"""Line charts drawn with Pillow (no plotting library): learning curves for reports and cards."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

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

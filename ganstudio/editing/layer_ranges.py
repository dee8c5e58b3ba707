"""Which w+ rows an edit or a style mix touches: coarse / middle / fine presets."""

from __future__ import annotations

from ..errors import UserError

PRESETS = ("all", "coarse", "middle", "fine")


class LayerRangeError(UserError):
    pass


def preset_rows(name: str, num_ws: int) -> tuple[int, int]:
    """Rows [start, stop) for a preset, scaled to the model's number of style rows.

    As in the StyleGAN paper, coarse styles drive the 4-8 px levels (pose, face shape),
    middle 16-32 px (features, hair style) and fine the rest (colour, micro-structure).
    A style generator spends two w rows per resolution level, so coarse = rows 0-3 and
    middle = rows 4-7. Models under 64 px have too few rows for that; they are cut in thirds,
    and one or two rows (DCGAN, tiny models) cannot be split, so no preset is ever empty.
    """
    if name == "all":
        return 0, num_ws
    if num_ws >= 10:
        bounds = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, num_ws)}
    elif num_ws <= 2:  # too few rows for three groups: coarse the first, fine the last, middle both
        bounds = {"coarse": (0, 1), "middle": (0, num_ws), "fine": (num_ws - 1, num_ws)}
    else:
        a = max(1, round(num_ws / 3))
        b = max(a + 1, round(2 * num_ws / 3)) if num_ws > 2 else a
        bounds = {"coarse": (0, a), "middle": (a, b), "fine": (b, num_ws)}
    if name not in bounds:
        raise LayerRangeError(f"unknown layer preset '{name}'; known: {', '.join(PRESETS)}")
    return bounds[name]


def check_rows(layers: tuple[int, int] | None, num_ws: int) -> slice:
    """A validated slice of w+ rows; None means every row."""
    if layers is None:
        return slice(0, num_ws)
    start, stop = int(layers[0]), int(layers[1])
    if not 0 <= start < stop <= num_ws:
        raise LayerRangeError(f"layer range [{start}, {stop}) is outside the model's {num_ws} style rows")
    return slice(start, stop)

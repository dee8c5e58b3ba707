"""SynthFaces: procedurally drawn faces that carry the attributes and factors that made them.

No face photographs can be downloaded here, yet every edit the studio makes should be
measurable; a face drawn from known parameters gives an exact answer to "does this image
have glasses?". Each face is a pure function of (seed, index): the random numbers come from
a numpy Generator seeded with that pair, drawn in fixed-size blocks so that forcing one
attribute (say Eyeglasses on) leaves every other factor of the face unchanged.

Drawing: opaque shapes with PIL on a supersampled, premultiplied RGBa canvas (2x, at least 128 px),
box-downsampled (the anti-aliasing), then soft effects in numpy at the output size (blush,
light shading over an ellipsoid head, grain), composited over a plain or gradient background.
"""

from __future__ import annotations

import colorsys
import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, NamedTuple

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..registry import DATASETS

ATTRIBUTES = (
    "Smiling", "Mouth_Slightly_Open", "Eyeglasses", "Wearing_Hat", "Bangs", "Long_Hair", "Beard",
    "Pale_Skin", "Black_Hair", "Brown_Hair", "Blond_Hair", "Red_Hair", "Gray_Hair",
)
HAIR_COLOURS = ("Black_Hair", "Brown_Hair", "Blond_Hair", "Red_Hair", "Gray_Hair")

# Continuous factors and their ranges; each is drawn uniformly unless noted in `sample_face`.
FACTOR_RANGES: dict[str, tuple[float, float]] = {
    "skin_tone": (0.0, 1.0),            # pale .. dark
    "hair_shade": (0.0, 1.0),           # dark .. light within the hair colour
    "face_width": (0.86, 1.12),         # multiplier on head width
    "face_length": (0.93, 1.07),        # multiplier on head height
    "jaw": (0.12, 0.42),                # how much the jaw narrows towards the chin
    "head_scale": (0.9, 1.05),
    "head_x": (-0.045, 0.045),          # shift of the head centre, fraction of the image
    "head_y": (-0.03, 0.03),
    "yaw": (-1.0, 1.0),                 # features shift sideways (+ = towards image right)
    "tilt": (-1.0, 1.0),                # in-plane head rotation, +-11 degrees
    "light_x": (-1.0, 1.0),             # light direction in the image plane (x, y of a
    "light_y": (-1.0, 1.0),             #   vector inside the unit disc)
    "shading": (0.15, 0.55),            # strength of the light falloff
    "background_hue": (0.0, 1.0),
    "background_lightness": (0.0, 1.0),
    "background_gradient": (0.0, 1.0),  # 0 = plain
    "eye_size": (0.88, 1.15),
    "gaze": (-1.0, 1.0),                # iris shift inside the eye
    "brow_height": (0.0, 1.0),
    "nose_width": (0.85, 1.2),
    "mouth_width": (0.88, 1.15),
    "mouth_curve": (0.0, 1.0),          # how strongly a smile curves
    "hair_volume": (0.0, 1.0),
}
FACTORS = tuple(FACTOR_RANGES)

_SKIN = np.array([(252, 226, 210), (244, 206, 182), (230, 184, 150), (206, 150, 110),
                  (168, 114, 78), (124, 80, 52), (84, 54, 36)], np.float64)
_HAIR = {  # (darkest, lightest) of each colour; hair_shade interpolates
    "Black_Hair": ((22, 19, 19), (48, 40, 36)),
    "Brown_Hair": ((64, 40, 25), (128, 84, 48)),
    "Blond_Hair": ((198, 160, 96), (240, 212, 152)),
    "Red_Hair": ((140, 50, 22), (204, 98, 46)),
    "Gray_Hair": ((140, 140, 144), (222, 222, 226)),
}
_IRIS = ((92, 56, 30), (54, 34, 22), (128, 98, 50), (76, 118, 70), (70, 114, 176), (112, 126, 140))
_SCLERA = (238, 234, 228)
_TEETH = (236, 232, 222)
_MOUTH_INSIDE = (70, 22, 26)
_BLUSH = np.array((205, 80, 80), np.float32).reshape(3, 1, 1)
_FRAMES = ((18, 18, 20), (60, 34, 22), (120, 24, 30), (26, 36, 80), (190, 160, 80), (200, 200, 206))

_N_SLOTS = 64       # uniforms for attributes, factors and styles (fixed positions)
# Uniforms for stochastic detail, by position: 0-13 long-hair hem, 18-19 grain window,
# 20-35 long-hair strands, 36 curls, 40-51 beard strands, 60-137 freckles, 140-158 hair strands.
_N_DETAIL = 160


@dataclass(frozen=True)
class FacePriors:
    """How often each attribute appears, and how attributes lean on each other.

    `rates` are probabilities when no linked parent is present; each link (child, parent,
    log_odds) adds `coupling * log_odds` to the child's log-odds when the parent is on. The
    defaults mimic real photo collections (bangs go with long hair, beards rarely do, gray
    hair comes with glasses and beards), so naive attribute directions come out entangled.
    `coupling=0` makes every attribute independent.
    """

    rates: tuple[tuple[str, float], ...] = (
        ("Long_Hair", 0.5), ("Beard", 0.3), ("Bangs", 0.14), ("Smiling", 0.5),
        ("Mouth_Slightly_Open", 0.22), ("Eyeglasses", 0.16), ("Wearing_Hat", 0.14),
    )
    links: tuple[tuple[str, str, float], ...] = (
        ("Long_Hair", "Gray_Hair", -1.4),
        ("Beard", "Long_Hair", -2.4),
        ("Beard", "Gray_Hair", 1.0),
        ("Bangs", "Long_Hair", 1.3),
        ("Bangs", "Beard", -0.8),
        ("Mouth_Slightly_Open", "Smiling", 1.6),
        ("Eyeglasses", "Gray_Hair", 1.5),
        ("Wearing_Hat", "Beard", 0.5),
    )
    hair_rates: tuple[tuple[str, float], ...] = (
        ("Black_Hair", 0.26), ("Brown_Hair", 0.34), ("Blond_Hair", 0.2), ("Red_Hair", 0.08), ("Gray_Hair", 0.12),
    )
    # Log-odds slope of each hair colour against skin tone (darker skin: more black hair).
    hair_skin: tuple[tuple[str, float], ...] = (
        ("Black_Hair", 3.0), ("Brown_Hair", 0.6), ("Blond_Hair", -3.5), ("Red_Hair", -3.0), ("Gray_Hair", 0.0),
    )
    pale_below: float = 0.22   # skin_tone under this is Pale_Skin
    coupling: float = 1.0

    def __post_init__(self):
        for child, parent, _ in self.links:
            if child not in _ORDER or parent not in ATTRIBUTES:
                raise ValueError(f"FacePriors link ({child}, {parent}): child must be one of {_ORDER}, "
                                 f"parent one of {ATTRIBUTES}")
            if parent in _ORDER and _ORDER.index(parent) >= _ORDER.index(child):
                raise ValueError(f"FacePriors link ({child}, {parent}): parent must be sampled first; order is {_ORDER}")
        missing = set(_ORDER) - {name for name, _ in self.rates}
        if missing:
            raise ValueError(f"FacePriors.rates misses {sorted(missing)}")
        if {n for n, _ in self.hair_rates} != set(HAIR_COLOURS):
            raise ValueError(f"FacePriors.hair_rates must name exactly {HAIR_COLOURS}")


# Binary attributes sampled in this order (hair colour and Pale_Skin come first, from skin tone).
_ORDER = ("Long_Hair", "Beard", "Bangs", "Smiling", "Mouth_Slightly_Open", "Eyeglasses", "Wearing_Hat")


@dataclass
class FaceSpec:
    """Everything needed to draw one face: public attributes/factors plus drawing styles."""

    attributes: dict[str, bool]
    factors: dict[str, float]
    styles: dict[str, float] = field(default_factory=dict)
    detail: np.ndarray = field(default_factory=lambda: np.zeros(_N_DETAIL))


class RenderedFace(NamedTuple):
    image: Image.Image
    attributes: dict[str, bool]
    factors: dict[str, float]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _pick(weights: list[float], u: float) -> int:
    total = sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w / total
        if u < acc:
            return i
    return len(weights) - 1


def _hair_weights(priors: FacePriors, skin_tone: float) -> list[float]:
    slope = dict(priors.hair_skin)
    return [rate * math.exp(priors.coupling * slope[name] * (skin_tone - 0.5)) for name, rate in priors.hair_rates]


def sample_face(seed: int, index: int, priors: FacePriors | None = None,
                force: Mapping[str, float | bool] | None = None) -> FaceSpec:
    """The parameters of face `index` of stream `seed`.

    `force` pins attributes (True/False) or factors (numbers) while every other draw stays
    the same, e.g. `force={"Eyeglasses": True}` gives the same person wearing glasses.
    Forced attributes do not re-condition the others (the point is "same face, one change").
    """
    priors = priors or DEFAULT_PRIORS
    force = dict(force or {})
    unknown = sorted(set(force) - set(ATTRIBUTES) - set(FACTORS))
    if unknown:
        raise ValueError(f"cannot force {unknown}: not a SynthFaces attribute or factor")
    rng = np.random.default_rng((int(seed), int(index)))
    u = rng.random(_N_SLOTS)
    detail = rng.random(_N_DETAIL)

    factors = {}
    for k, (name, (lo, hi)) in enumerate(FACTOR_RANGES.items()):
        factors[name] = lo + (hi - lo) * float(u[k])
    # Light comes from inside the unit disc; a plain background 40% of the time.
    factors["light_x"], factors["light_y"] = _disc(factors["light_x"], factors["light_y"])
    factors["background_gradient"] = max(0.0, factors["background_gradient"] - 0.4) / 0.6
    for name in FACTORS:
        if name in force:
            factors[name] = float(force[name])
    slot = len(FACTORS)  # 23

    attributes = dict.fromkeys(ATTRIBUTES, False)
    hair_index = _pick(_hair_weights(priors, factors["skin_tone"]), float(u[slot]))
    attributes[HAIR_COLOURS[hair_index]] = True
    attributes["Pale_Skin"] = factors["skin_tone"] < priors.pale_below
    rates = dict(priors.rates)
    for k, name in enumerate(_ORDER):
        logit = _logit(rates[name])
        for child, parent, log_odds in priors.links:
            if child == name and attributes[parent]:
                logit += priors.coupling * log_odds
        attributes[name] = bool(u[slot + 1 + k] < _sigmoid(logit))
    slot += 1 + len(_ORDER)  # 31

    _apply_forced_attributes(attributes, factors, force, priors, float(u[slot]))
    attributes["Pale_Skin"] = factors["skin_tone"] < priors.pale_below
    slot += 1

    styles = {name: float(u[slot + k]) for k, name in enumerate(_STYLE_SLOTS)}
    return FaceSpec(attributes, factors, styles, detail)


# Style choices (which hat, which haircut, colours of clothes ...): uniforms, read by the painter.
_STYLE_SLOTS = (
    "short_style", "long_style", "bangs_style", "hat_style", "hat_hue", "hat_value", "glasses_style",
    "frame_colour", "sunglasses", "beard_style", "iris", "shirt_hue", "shirt_value", "collar",
    "freckles", "blush", "lip", "background_hue2", "background_angle", "ears", "brow_shape",
    "eye_tilt", "lip_size", "nose_length", "hat_tilt", "pompom", "hair_length",
)


def _disc(x: float, y: float) -> tuple[float, float]:
    """Map the unit square onto the unit disc (uniform in angle, sqrt in radius)."""
    angle = math.pi * (x + 1.0)
    radius = math.sqrt((y + 1.0) / 2.0)
    return radius * math.cos(angle), radius * math.sin(angle)


def _apply_forced_attributes(attributes: dict, factors: dict, force: dict, priors: FacePriors, u: float) -> None:
    on = [name for name in HAIR_COLOURS if name in force and bool(force[name])]
    if len(on) > 1:
        raise ValueError(f"hair colours are exclusive; cannot force {on} on together")
    current = next(name for name in HAIR_COLOURS if attributes[name])
    if on:
        chosen = on[0]
    elif current in force and not bool(force[current]):
        # Choose among the colours allowed, with the skin-dependent weights.
        allowed = [n for n in HAIR_COLOURS if not (n in force and not bool(force[n]))]
        if not allowed:
            raise ValueError("every hair colour is forced off")
        weights = dict(zip(HAIR_COLOURS, _hair_weights(priors, factors["skin_tone"])))
        chosen = allowed[_pick([weights[n] for n in allowed], u)]
    else:
        chosen = current
    for name in HAIR_COLOURS:
        attributes[name] = name == chosen
    for name in _ORDER:
        if name in force:
            attributes[name] = bool(force[name])
    if "Pale_Skin" in force:
        pale = bool(force["Pale_Skin"])
        t = factors["skin_tone"]
        if (t < priors.pale_below) != pale:
            if "skin_tone" in force:
                raise ValueError(f"skin_tone={t} contradicts Pale_Skin={pale} (pale below {priors.pale_below})")
            # Keep the relative position inside the new range.
            frac = t / priors.pale_below if t < priors.pale_below else (t - priors.pale_below) / (1 - priors.pale_below)
            factors["skin_tone"] = frac * priors.pale_below if pale else priors.pale_below + frac * (1 - priors.pale_below)


DEFAULT_PRIORS = FacePriors()


def attributes_vector(attributes: Mapping[str, bool], names=ATTRIBUTES) -> np.ndarray:
    return np.array([float(attributes[n]) for n in names], np.float32)


def render_face(seed: int, index: int, resolution: int = 64, force: Mapping[str, float | bool] | None = None,
                priors: FacePriors | None = None) -> RenderedFace:
    """Draw face `index` of stream `seed`: (PIL RGB image, attributes, factors)."""
    spec = sample_face(seed, index, priors, force)
    return RenderedFace(draw_face(spec, resolution), dict(spec.attributes), dict(spec.factors))


# --------------------------------------------------------------------------------------------
# Drawing

def check_resolution(resolution: int) -> int:
    if not isinstance(resolution, (int, np.integer)) or not 32 <= resolution <= 256:
        raise ValueError(f"SynthFaces resolution must be an integer from 32 to 256, got {resolution!r}")
    return int(resolution)


def _supersample(resolution: int) -> int:
    """Canvas factor: at least 2x, and a canvas of at least 128 px so small faces stay clean."""
    return max(2, -(-128 // resolution))


@lru_cache(maxsize=None)
def _circle(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    return np.cos(t), np.sin(t)


@lru_cache(maxsize=None)
def _unit_circle(n: int) -> np.ndarray:
    return np.stack(_circle(n), axis=1)


@lru_cache(maxsize=None)
def _span(n: int) -> np.ndarray:
    """n points evenly spaced over [0, 1] (cached: numpy call overhead dominates small shapes)."""
    return np.linspace(0.0, 1.0, n)


# Fixed profiles of small features (computed once; numpy call overhead dominates tiny arrays).
_T7, _T11, _T13 = np.linspace(-1, 1, 7), np.linspace(-1, 1, 11), np.linspace(-1, 1, 13)
_LID_UP, _LID_LOW = (1 - _T11 ** 2) ** 0.7, 0.8 * (1 - _T11[::-1] ** 2)
_U7 = np.linspace(0, 1, 7)
_BROW_ARCH = np.sin(_U7 * math.pi * 0.9)


def _linspace(lo: float, hi: float, n: int) -> np.ndarray:
    return lo + (hi - lo) * _span(n)


def _pts(xs, ys) -> np.ndarray:
    """Column-stack x and y coordinates (faster than np.stack for tiny arrays)."""
    out = np.empty((len(xs), 2))
    out[:, 0] = xs
    out[:, 1] = ys
    return out


@lru_cache(maxsize=None)
def _top_arc(n: int, lowest: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sin t, -cos t, t) for the points of an n-gon circle (y down) whose height -cos t is at
    most `lowest`, ordered from the left over the top to the right: the outline of domes and hair."""
    t = np.linspace(-math.pi, math.pi, n, endpoint=False)
    keep = -np.cos(t) <= lowest
    return np.sin(t[keep]), -np.cos(t[keep]), t[keep]


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 20) -> np.ndarray:
    return _unit_circle(n) * (rx, ry) + (cx, cy)


def _mix(c1, c2, t: float) -> tuple[int, int, int]:
    return tuple(int(round(a + (b - a) * t)) for a, b in zip(c1, c2))


def _scale(c, k: float) -> tuple[int, int, int]:
    """Colour c times k (k > 0), clipped to 255."""
    r, g, b = c
    return min(255, int(r * k + 0.5)), min(255, int(g * k + 0.5)), min(255, int(b * k + 0.5))


def _lum(c) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h % 1.0, s, v))


def skin_colour(tone: float) -> tuple[int, int, int]:
    """Interpolate the pale..dark skin ramp at `tone` in [0, 1]."""
    x = min(max(tone, 0.0), 1.0) * (len(_SKIN) - 1)
    i = min(int(x), len(_SKIN) - 2)
    c = _SKIN[i] + (_SKIN[i + 1] - _SKIN[i]) * (x - i)
    return tuple(int(round(v)) for v in c)


class _Painter:
    """Collects shapes given in head coordinates (image fractions, origin at the head centre,
    rotated by the head tilt; `upright` shapes are not rotated), then draws them all onto the
    supersampled canvas in one go, transforming every point with a single matrix product."""

    def __init__(self, size: int, centre: tuple[float, float], angle: float):
        self.size = size
        c, s = math.cos(angle), math.sin(angle)
        self.matrix = np.array([[c, -s], [s, c]]) * size
        self.offset = np.array(centre) * size
        self.ops: list[tuple[np.ndarray, tuple, int, bool]] = []   # (points, fill, line width or 0, upright)

    def poly(self, points: np.ndarray, fill, upright: bool = False) -> None:
        self.ops.append((points, fill, 0, upright))

    def polys(self, batch: np.ndarray, fill) -> None:
        """Several polygons of the same colour, batch [K, M, 2]."""
        for points in batch:
            self.ops.append((points, fill, 0, False))

    def lines(self, batch: np.ndarray, fill, width: float) -> None:
        """Several polylines of the same colour and width, batch [K, M, 2]."""
        w = max(1, int(round(width * self.size)))
        for points in batch:
            self.ops.append((points, fill, w, False))

    def line(self, points: np.ndarray, fill, width: float) -> None:
        self.ops.append((points, fill, max(1, int(round(width * self.size))), False))

    def outline(self, points: np.ndarray, fill, width: float) -> None:
        self.line(np.concatenate([points, points[:1]]), fill, width)

    def render(self) -> Image.Image:
        # Premultiplied RGBa: opaque shapes draw the same, and reduce() skips two conversions.
        image = Image.new("RGBa", (self.size, self.size), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        points = np.concatenate([op[0] for op in self.ops])
        rotated = (points @ self.matrix.T + self.offset).ravel().tolist()
        upright = (points * self.size + self.offset).ravel().tolist()
        start = 0
        for pts, fill, width, is_upright in self.ops:
            end = start + 2 * len(pts)
            xy = (upright if is_upright else rotated)[start:end]
            start = end
            if width:
                draw.line(xy, fill=fill, width=width)
            else:
                draw.polygon(xy, fill=fill)
        return image


@dataclass
class _Geometry:
    a: float          # head half-width
    b: float          # head half-height
    jaw: float
    phi: float        # yaw angle (radians)
    eye_y: float
    mouth_y: float

    def outline(self, n: int = 40, grow: float = 1.0) -> np.ndarray:
        """Head outline: an ellipse whose lower half narrows towards the chin."""
        cos, sin = _circle(n)
        x, y = self.a * sin * grow, -self.b * cos * grow
        lower = np.clip(y / (self.b * grow), 0.0, 1.0)
        return _pts(x * (1.0 - self.jaw * lower ** 2), y)

    def turn(self, x: float, depth: float = 1.0) -> float:
        """Horizontal position of a face feature at x after turning the head by phi."""
        theta = math.asin(max(-0.99, min(0.99, x / self.a)))
        return self.a * math.sin(theta + self.phi * depth)

    def turn_many(self, xs: np.ndarray) -> np.ndarray:
        return self.a * np.sin(np.arcsin(np.clip(xs / self.a, -0.99, 0.99)) + self.phi)

    def squeeze(self, x: float) -> float:
        """Foreshortening of a feature's width at x."""
        theta = math.asin(max(-0.99, min(0.99, x / self.a)))
        return max(0.45, math.cos(theta + self.phi))


def draw_face(spec: FaceSpec, resolution: int = 64) -> Image.Image:
    """Render a FaceSpec to an RGB PIL image of size resolution x resolution."""
    return Image.fromarray(draw_face_array(spec, resolution), "RGB")


def draw_face_array(spec: FaceSpec, resolution: int = 64) -> np.ndarray:
    """Render a FaceSpec to uint8 pixels [resolution, resolution, 3] (the data set's fast path)."""
    resolution = check_resolution(resolution)
    f, at, st, d = spec.factors, spec.attributes, spec.styles, spec.detail
    ss = _supersample(resolution)
    scale = f["head_scale"]
    a = 0.23 * f["face_width"] * scale
    b = 0.295 * f["face_length"] * scale
    centre = (0.5 + f["head_x"], 0.49 + f["head_y"])
    geo = _Geometry(a=a, b=b, jaw=f["jaw"], phi=0.32 * f["yaw"],
                    eye_y=-0.02 * b, mouth_y=0.6 * b)
    angle = math.radians(11.0) * f["tilt"]

    skin = skin_colour(f["skin_tone"])
    hair_name = next(n for n in HAIR_COLOURS if at[n])
    dark, light = _HAIR[hair_name]
    hair = _mix(dark, light, f["hair_shade"])

    p = _Painter(resolution * ss, centre, angle)
    _draw_torso(p, geo, skin, st)
    if at["Long_Hair"]:
        _draw_long_hair_back(p, geo, hair, st, d)
    _draw_neck(p, geo, skin)
    if not at["Long_Hair"]:
        _draw_ears(p, geo, skin, st)
    p.poly(geo.outline(44), skin)
    if at["Beard"]:
        _draw_beard(p, geo, hair, skin, st, d)
    _draw_eyes(p, geo, f, st, at)
    _draw_brows(p, geo, f, st, hair, hair_name)
    _draw_nose(p, geo, f, st, skin)
    _draw_mouth(p, geo, f, st, at, skin)
    if st["freckles"] < _freckle_rate(f["skin_tone"], hair_name):
        _draw_freckles(p, geo, skin, d)
    _draw_hair_front(p, geo, hair, f, st, at, d)
    if at["Wearing_Hat"]:
        _draw_hat(p, geo, st)
    if at["Eyeglasses"]:
        _draw_glasses(p, geo, st, f, skin)

    small = p.render().reduce(ss)
    return _finish(small, geo, centre, angle, f, st, at, d, skin)


def _freckle_rate(tone: float, hair_name: str) -> float:
    return (0.55 if hair_name == "Red_Hair" else 0.12) * (1.0 if tone < 0.4 else 0.3)


def _draw_torso(p: _Painter, g: _Geometry, skin, st) -> None:
    shirt = _hsv(st["shirt_hue"], 0.15 + 0.55 * st["shirt_value"], 0.25 + 0.6 * ((st["shirt_value"] * 7.3) % 1.0))
    y0 = 1.02 * g.b
    top = _ellipse(0.0, y0 + 0.26, 0.44, 0.28, 32)
    p.poly(top, shirt, upright=True)
    # Neckline: a skin V or round opening below the neck.
    w = 0.42 * g.a
    if st["collar"] < 0.5:
        p.poly(np.array([[-w, y0 - 0.02], [w, y0 - 0.02], [0.0, y0 + 0.07 + 0.05 * st["collar"]]]), skin, upright=True)
    else:
        p.poly(_ellipse(0.0, y0 - 0.005, w, 0.05, 16), _scale(skin, 0.93), upright=True)


def _draw_neck(p: _Painter, g: _Geometry, skin) -> None:
    w = 0.42 * g.a
    p.poly(np.array([[-w, 0.4 * g.b], [w, 0.4 * g.b], [w * 1.05, 1.15 * g.b], [-w * 1.05, 1.15 * g.b]]), _scale(skin, 0.84))


def _draw_ears(p: _Painter, g: _Geometry, skin, st) -> None:
    ear = _scale(skin, 0.92)
    for side in (-1.0, 1.0):
        # The ear on the far side of a turned head hides behind it.
        x = side * g.a * (0.98 + 0.06 * side * g.phi / 0.32) + g.phi * 0.08 * g.a
        ry = (0.2 + 0.06 * st["ears"]) * g.b
        rx = 0.17 * g.a * (1.0 + 0.5 * side * g.phi)
        p.poly(_ellipse(x, 0.06 * g.b, max(rx, 0.06 * g.a), ry, 16), ear)
        p.poly(_ellipse(x + side * 0.03 * g.a, 0.06 * g.b, max(rx, 0.06 * g.a) * 0.45, ry * 0.6, 12), _scale(skin, 0.78))


def _draw_long_hair_back(p: _Painter, g: _Geometry, hair, st, d) -> None:
    style = int(st["long_style"] * 3)  # 0 straight, 1 wavy, 2 very long
    width = g.a * (1.22 + 0.1 * st["long_style"])
    bottom = g.b * (1.35 + 0.25 * (style == 2) + 0.1 * st["hair_length"])
    n = 14
    xs = _linspace(-width, width, n)
    ys = bottom + 0.02 * np.cos(_linspace(0, 6 * math.pi, n)) * (style == 1) + 0.02 * (d[:n] - 0.5)
    sx, cy, _ = _top_arc(28, 0.09)
    top = _pts(width * sx, -0.05 * g.b + 1.12 * g.b * cy)
    left = np.array([[-width, 0.0]])
    right = np.array([[width, 0.0]])
    shape = np.concatenate([left, top, right, _pts(xs[::-1], ys[::-1])])
    p.poly(shape, hair)
    strand = _scale(hair, 0.78 if sum(hair) > 300 else 1.35)
    x = (d[20:26] * 2 - 1) * width * 0.85
    ends = np.stack([x, np.full(6, 0.3 * g.b), x + 0.02 * (d[30:36] - 0.5), np.full(6, bottom - 0.03)], 1)
    p.lines(ends.reshape(-1, 2, 2), strand, 0.006)


def _draw_beard(p: _Painter, g: _Geometry, hair, skin, st, d) -> None:
    colour = _scale(hair, 0.82)
    if abs(_lum(colour) - _lum(skin)) < 50:   # a beard must stand out from the skin
        colour = _scale(colour, 0.5)
    shift = g.phi * 0.5 * g.a
    if st["beard_style"] < 0.65:   # full beard from sideburns round the chin
        outer = g.outline(44, grow=1.04)
        outer = outer[outer[:, 1] >= 0.0]
        outer = outer[np.argsort(-outer[:, 0])]
        xs = _linspace(-0.98 * g.a, 0.98 * g.a, 15)
        ys = 0.44 * g.b - 0.42 * g.b * (xs / g.a) ** 2
        inner = _pts(xs + shift * (1 - (xs / g.a) ** 2), ys)
        chin = outer[:, 1] > 0.85 * g.b
        outer[chin, 1] += 0.1 * g.b * (0.4 + st["beard_style"])
        p.poly(np.concatenate([outer, inner]), colour)
    else:  # goatee and moustache
        x0 = shift
        p.poly(_ellipse(x0, 0.93 * g.b, 0.3 * g.a, 0.2 * g.b, 18), colour)
        p.poly(np.array([[x0 - 0.42 * g.a, g.mouth_y + 0.06 * g.b], [x0 - 0.3 * g.a, g.mouth_y - 0.13 * g.b],
                         [x0 + 0.3 * g.a, g.mouth_y - 0.13 * g.b], [x0 + 0.42 * g.a, g.mouth_y + 0.06 * g.b],
                         [x0, g.mouth_y - 0.04 * g.b]]), colour)
    strand = _scale(colour, 0.7 if sum(colour) > 240 else 1.5)
    x = (d[40:46] * 2 - 1) * 0.6 * g.a + shift
    y = (0.75 + 0.2 * d[46:52]) * g.b
    p.lines(np.stack([x, y, x + 0.01, y + 0.04], 1).reshape(-1, 2, 2), strand, 0.004)


def _draw_eyes(p: _Painter, g: _Geometry, f, st, at) -> None:
    iris_options = _IRIS[:3] if f["skin_tone"] > 0.55 else _IRIS
    iris = iris_options[int(st["iris"] * len(iris_options))]
    ew0 = 0.22 * g.a * f["eye_size"]
    eh0 = 0.5 * ew0 * (0.78 if at["Smiling"] else 1.0)
    tilt = (st["eye_tilt"] - 0.5) * 0.25
    t = _T11
    for side in (-1.0, 1.0):
        x = g.turn(side * 0.4 * g.a)
        ew = ew0 * g.squeeze(side * 0.4 * g.a)
        y = g.eye_y
        slope = side * tilt * eh0 * t
        upper = _pts(x + ew * t, y - eh0 * _LID_UP - slope)
        lower = _pts(x - ew * t, y + eh0 * _LID_LOW + slope)
        p.poly(np.concatenate([upper, lower[1:-1]]), _SCLERA)
        ix = x + 0.35 * ew * f["gaze"]
        r = 0.82 * eh0
        p.poly(_ellipse(ix, y + 0.05 * eh0, r * 0.95, r, 14), iris)
        p.poly(_ellipse(ix, y + 0.05 * eh0, r * 0.45, r * 0.45, 10), (16, 12, 12))
        p.line(upper, (30, 20, 20), 0.011)
        p.poly(_ellipse(ix - 0.3 * r, y - 0.3 * r, r * 0.22, r * 0.22, 8), (250, 250, 250))


def _draw_brows(p: _Painter, g: _Geometry, f, st, hair, hair_name) -> None:
    colour = _scale(hair, 0.55) if hair_name in ("Blond_Hair", "Gray_Hair", "Red_Hair") else _scale(hair, 0.9)
    y0 = g.eye_y - (0.19 + 0.08 * f["brow_height"]) * g.b
    arch = (0.04 + 0.05 * st["brow_shape"]) * g.b
    thick = (0.045 + 0.03 * st["brow_shape"]) * g.b
    t = _U7
    ys = y0 - arch * _BROW_ARCH + 0.02 * g.b * t
    for side in (-1.0, 1.0):
        xs = g.turn_many(side * (0.15 + 0.55 * t) * g.a)
        top = _pts(xs, ys - thick * (1 - 0.6 * t))
        bottom = _pts(xs[::-1], ys[::-1])
        p.poly(np.concatenate([top, bottom]), colour)


def _draw_nose(p: _Painter, g: _Geometry, f, st, skin) -> None:
    shadow = _scale(skin, 0.72)
    tip_y = (0.3 + 0.08 * st["nose_length"]) * g.b
    x = g.turn(0.0, depth=1.35)
    w = 0.13 * g.a * f["nose_width"]
    side = 1.0 if f["light_x"] < 0 else -1.0
    p.line(np.array([[g.turn(side * 0.1 * g.a), g.eye_y + 0.1 * g.b], [x + side * w * 0.9, tip_y - 0.03 * g.b]]),
           _scale(skin, 0.85), 0.008)
    t = _T7
    p.line(_pts(x + w * t, tip_y + 0.03 * g.b * (1 - t ** 2)), shadow, 0.009)
    for s in (-1.0, 1.0):
        p.poly(_ellipse(x + s * 0.55 * w, tip_y + 0.005 * g.b, 0.22 * w, 0.13 * w, 8), _scale(skin, 0.5))


def _lip_colour(skin, st) -> tuple[int, int, int]:
    return _scale(_mix(skin, (196, 86, 92), 0.35 + 0.25 * st["lip"]), 0.86)


def _draw_mouth(p: _Painter, g: _Geometry, f, st, at, skin) -> None:
    lip = _lip_colour(skin, st)
    x = g.turn(0.0, depth=1.1)
    w = 0.3 * g.a * f["mouth_width"] * g.squeeze(0.0) * (1.18 if at["Smiling"] else 1.0)
    y = g.mouth_y
    t = _T13
    xs = x + w * t
    thick = (0.035 + 0.03 * st["lip_size"]) * g.b
    if at["Smiling"]:
        curve = (0.16 + 0.12 * f["mouth_curve"]) * g.b   # corners well above the centre
        centre_line = y + curve * (1 - t ** 2) - curve * 0.5
    else:
        curve = 0.015 * g.b
        centre_line = y - curve * (1 - t ** 2)
    if at["Mouth_Slightly_Open"]:
        gap = (0.09 if at["Smiling"] else 0.075) * g.b
        top = centre_line - (gap * 0.35 if at["Smiling"] else gap * 0.5) * (1 - t ** 2)
        bottom = centre_line + gap * (1 - t ** 2) ** 0.8 * (1.6 if at["Smiling"] else 1.0)
        p.poly(np.concatenate([_pts(xs, top - thick * (1 - t ** 2) ** 0.5),
                               _pts(xs[::-1], (bottom + thick * (1 - t ** 2) ** 0.5)[::-1])]), lip)
        p.poly(np.concatenate([_pts(xs, top), _pts(xs[::-1], bottom[::-1])]), _MOUTH_INSIDE)
        teeth_bottom = top + (bottom - top) * 0.42
        p.poly(np.concatenate([_pts(xs[2:-2], top[2:-2]), _pts(xs[2:-2][::-1], teeth_bottom[2:-2][::-1])]),
               _TEETH)
    else:
        upper = _pts(xs, centre_line - thick * (1 - t ** 2) ** 0.6)
        lower = _pts(xs[::-1], (centre_line + 1.2 * thick * (1 - t ** 2) ** 0.6)[::-1])
        p.poly(np.concatenate([upper, lower]), lip)
        p.line(_pts(xs, centre_line), _scale(lip, 0.55), 0.009)
    if at["Smiling"]:
        # Smile lines beside the mouth corners make the smile readable at low resolution.
        for s in (-1.0, 1.0):
            cx = x + s * (w + 0.04 * g.a)
            p.line(np.array([[cx - s * 0.02 * g.a, y - curve * 0.9 - 0.05 * g.b], [cx + s * 0.05 * g.a, y - curve * 0.5],
                             [cx + s * 0.02 * g.a, y + 0.05 * g.b]]), _scale(skin, 0.8), 0.008)


def _draw_freckles(p: _Painter, g: _Geometry, skin, d) -> None:
    colour = _mix(skin, (150, 90, 60), 0.45)
    side = np.where(d[60:78] < 0.5, 1.0, -1.0)
    x = g.turn_many(side * (0.12 + 0.5 * d[80:98]) * g.a)
    y = (0.12 + 0.22 * d[100:118]) * g.b
    r = 0.006 + 0.004 * d[120:138]
    dots = _unit_circle(6)[None] * r[:, None, None] + np.stack([x, y], 1)[:, None, :]
    p.polys(dots, colour)


def _draw_hair_front(p: _Painter, g: _Geometry, hair, f, st, at, d) -> None:
    volume = 1.04 + 0.12 * f["hair_volume"]
    a, b = g.a, g.b
    long_hair = at["Long_Hair"]
    short_style = int(st["short_style"] * 5)   # 0 crew 1 side part 2 curly 3 quiff 4 receding
    part = (st["long_style"] - 0.5) * 0.8 * a if long_hair else (0.25 * a if short_style == 1 else 0.0)
    # Outer silhouette: the top of the head, grown by the hair volume.
    sx, cy, ang = _top_arc(40, 0.05 if long_hair else (-0.05 if short_style != 2 else 0.1))
    ox = a * volume * 1.04 * sx
    oy = b * volume * cy - 0.02 * b
    if short_style == 2 and not long_hair:   # curly: bumpy outline
        bump = 1.0 + 0.06 * np.cos(ang * 9 + d[36] * 6)
        ox, oy = ox * bump, oy * bump
        ox, oy = ox * 1.08, oy * 1.05
    outer = _pts(ox, oy)
    # Inner edge: sideburns up to the hairline, across the forehead, and down the other side.
    hairline = -0.6 * b if short_style != 4 or long_hair else -0.74 * b
    side_bottom = (0.75 + 0.25 * st["long_style"]) * b if long_hair else 0.08 * b
    side_x = a * (0.9 if long_hair else 0.98)
    xs = _linspace(side_x, -side_x, 17)
    if at["Bangs"]:
        fringe = -0.27 * b
        bang_style = int(st["bangs_style"] * 3)
        if bang_style == 0:     # blunt fringe with a slight zigzag
            ys = fringe + 0.025 * b * ((np.arange(17) % 2) - 0.5) - 0.04 * b * (xs / a) ** 2
        elif bang_style == 1:   # swept to one side
            ys = fringe - 0.12 * b * (xs / a + 1.0) * 0.5 + 0.02 * b * (np.arange(17) % 2)
        else:                   # curtain: parted in the middle
            ys = fringe - 0.14 * b * (1.0 - np.abs(xs - part) / a) + 0.02 * b * (np.arange(17) % 2)
        ys = np.minimum(ys, -0.22 * b)
    else:
        # A forehead that shows: the hairline rises towards the parting.
        rise = (1.0 - np.clip(np.abs(xs - part) / (0.95 * a), 0.0, 1.0)) ** 1.5
        ys = hairline - (0.26 if long_hair else 0.12) * b * rise
    ys = np.where(np.abs(xs) > 0.82 * a, np.minimum(ys + (np.abs(xs) - 0.82 * a) / (0.18 * a) * 0.35 * b, 0.3 * b), ys)
    inner = np.concatenate([[[side_x * 1.02, side_bottom]], _pts(xs, ys), [[-side_x * 1.02, side_bottom]]])
    if long_hair:
        outer = np.concatenate([[[-a * volume * 1.12, side_bottom + 0.1 * b]], outer, [[a * volume * 1.12, side_bottom + 0.1 * b]]])
    p.poly(np.concatenate([outer, inner]), hair)
    # Strands: short curves from the crown towards the hairline.
    strand = _scale(hair, 0.72 if sum(hair) > 300 else 1.45)
    x0 = (d[140:149] * 2 - 1) * 0.7 * a
    y0 = -b * (0.92 - 0.1 * np.abs(x0) / a) * volume
    x1 = x0 * 1.15 + 0.05 * a * (d[150:159] - 0.5)
    y1 = (-0.4 * b if at["Bangs"] else hairline - 0.12 * b) - 0.05 * b * d[150:159]
    strands = np.stack([x0, y0, (x0 + x1) / 2 + 0.03 * a, (y0 + y1) / 2, x1, y1], 1).reshape(-1, 3, 2)
    p.lines(strands, strand, 0.0055)


def _draw_hat(p: _Painter, g: _Geometry, st) -> None:
    a, b = g.a, g.b
    hue = st["hat_hue"]
    colour = _hsv(hue, 0.35 + 0.55 * ((hue * 13.1) % 1.0), 0.22 + 0.6 * st["hat_value"])
    band = _scale(colour, 0.62)
    style = int(st["hat_style"] * 3)  # 0 beanie, 1 cap, 2 brimmed hat
    skew = (st["hat_tilt"] - 0.5) * 0.06 * b
    if style == 0:
        sx, cy, _ = _top_arc(32, 0.028)
        dome = _pts(a * 1.13 * sx, -0.42 * b + 0.72 * b * cy)
        p.poly(np.concatenate([[[-a * 1.13, -0.36 * b + skew]], dome, [[a * 1.13, -0.36 * b - skew]]]), colour)
        p.poly(np.array([[-a * 1.16, -0.6 * b + skew], [a * 1.16, -0.6 * b - skew], [a * 1.16, -0.34 * b - skew],
                         [-a * 1.16, -0.34 * b + skew]]), band)
        for k in range(5):   # knit ribs on the band
            x = (-0.8 + 0.4 * k) * a
            p.line(np.array([[x, -0.58 * b], [x, -0.37 * b]]), _scale(band, 0.75), 0.006)
        if st["pompom"] < 0.5:
            p.poly(_ellipse(0.0, -1.15 * b, 0.22 * a, 0.16 * b, 14), _scale(colour, 1.25))
    elif style == 1:
        sx, cy, _ = _top_arc(32, 0.032)
        dome = _pts(a * 1.1 * sx, -0.5 * b + 0.62 * b * cy)
        p.poly(np.concatenate([[[-a * 1.1, -0.45 * b]], dome, [[a * 1.1, -0.45 * b]]]), colour)
        p.line(np.array([[0.0, -1.1 * b], [0.0, -0.5 * b]]), band, 0.008)
        sx, cy, _ = _top_arc(24, 0.05)
        p.poly(_pts(g.phi * 0.4 * a + 1.02 * a * sx, -0.45 * b - 0.2 * b * cy), band)   # the arc upside down
    else:
        crown = np.array([[-0.8 * a, -0.55 * b], [-0.72 * a, -1.28 * b], [0.0, -1.22 * b], [0.72 * a, -1.28 * b],
                          [0.8 * a, -0.55 * b]])
        p.poly(_ellipse(0.0, -0.58 * b + skew, a * 1.75, 0.15 * b, 30), band)
        p.poly(crown, colour)
        p.poly(np.array([[-0.8 * a, -0.75 * b], [0.8 * a, -0.75 * b], [0.8 * a, -0.6 * b], [-0.8 * a, -0.6 * b]]),
               _scale(colour, 0.45))
        p.poly(_ellipse(0.0, -0.56 * b + skew, a * 1.72, 0.08 * b, 30), colour)


def _draw_glasses(p: _Painter, g: _Geometry, st, f, skin) -> None:
    frame = _FRAMES[int(st["frame_colour"] * len(_FRAMES))]
    if abs(_lum(frame) - _lum(skin)) < 80:   # frames must stand out from the skin
        frame = _FRAMES[0] if _lum(skin) > 120 else (214, 214, 220)
    width = 0.02
    style = int(st["glasses_style"] * 3)  # 0 round, 1 rectangle, 2 wide rectangle
    sun = st["sunglasses"] < 0.18
    centres = []
    for side in (-1.0, 1.0):
        x = g.turn(side * 0.4 * g.a)
        sq = g.squeeze(side * 0.4 * g.a)
        rx = (0.3 if style == 0 else 0.34 + 0.04 * (style == 2)) * g.a * sq
        ry = (0.3 * g.a if style == 0 else (0.22 + 0.03 * (style == 2)) * g.a)
        y = g.eye_y + 0.02 * g.b
        if style == 0:
            lens = _ellipse(x, y, rx, ry, 20)
        else:
            cx, sy = _circle(20)
            lens = _pts(x + rx * np.sign(cx) * np.abs(cx) ** 0.4, y + ry * np.sign(sy) * np.abs(sy) ** 0.4)
        if sun:
            p.poly(lens, (28, 30, 36))
        p.outline(lens, frame, width)
        if not sun:
            p.line(np.array([[x - 0.35 * rx, y - 0.55 * ry], [x - 0.05 * rx, y - 0.75 * ry]]), (245, 245, 250), 0.008)
        centres.append((x, y, rx))
    (xl, yl, rl), (xr, yr, rr) = centres
    p.line(np.array([[xl + rl, yl - 0.005], [(xl + xr) / 2, yl - 0.02], [xr - rr, yr - 0.005]]), frame, width * 0.9)
    for (x, y, r), side in zip(centres, (-1.0, 1.0)):
        ear_x = g.turn(side * 0.99 * g.a)
        if abs(ear_x) > abs(x + side * r):
            p.line(np.array([[x + side * r, y - 0.01], [ear_x, y - 0.005]]), frame, width * 0.8)


# --------------------------------------------------------------------------------------------
# Soft effects at the output resolution

@lru_cache(maxsize=8)
def _grid(resolution: int) -> tuple[np.ndarray, np.ndarray]:
    v = (np.arange(resolution, dtype=np.float32) + 0.5) / resolution
    return np.meshgrid(v, v)


@lru_cache(maxsize=8)
def _grain_pool(resolution: int) -> np.ndarray:
    """A fixed grain texture (multiplier around 1) twice the image size; each face takes its own window."""
    noise = np.random.default_rng(resolution).standard_normal((2 * resolution, 2 * resolution))
    return (1.0 + 0.022 * noise).astype(np.float32)


def _grain(resolution: int, dx: int, dy: int) -> np.ndarray:
    return _grain_pool(resolution)[dy:dy + resolution, dx:dx + resolution]


def _finish(small: Image.Image, g: _Geometry, centre, angle, f, st, at, d, skin) -> np.ndarray:
    """Blush, light and grain on the drawn person, then composite over the background.

    `small` is premultiplied (RGBa), so compositing is out = rgb * m + background * (1 - alpha),
    and everything else is a per-pixel multiplier on 2-D maps: only a handful of operations
    touch all three colour planes."""
    res = small.size[0]
    planes = np.asarray(small).transpose(2, 0, 1).astype(np.float32)   # channels first: fast broadcasting
    rgb, alpha = planes[:3], planes[3] * np.float32(1.0 / 255.0)
    X, Y = _grid(res)
    c, s = math.cos(angle), math.sin(angle)
    # Light over an ellipsoid head: normals from the head ellipse, on its rim beyond it.
    dx, dy = X - centre[0], Y - centre[1]
    nx = (c * dx + s * dy) * (1.0 / (1.1 * g.a))
    ny = (c * dy - s * dx) * (1.0 / (1.1 * g.b))
    r2 = nx * nx + ny * ny
    rim = 1.0 / np.sqrt(np.maximum(r2, 1.0))
    nz = np.sqrt(np.maximum(1.0 - r2, 0.0))
    lx, ly = f["light_x"], f["light_y"]
    lz = math.sqrt(max(0.0, 1.4 - lx * lx - ly * ly))
    k = 1.15 * f["shading"] / math.sqrt(lx * lx + ly * ly + lz * lz)
    lambert = np.maximum((nx * lx + ny * ly) * rim + nz * lz, 0.0)
    # Grain: per-pixel detail for the generator's noise inputs to model.
    lit = (1.0 - f["shading"] + k * lambert) * _grain(res, int(d[18] * res), int(d[19] * res))
    out = _background(res, X, Y, f, st) * (1.0 - alpha) + 0.5
    # Blush on the cheeks (not through a beard): round Gaussians, so separable in x and y.
    if not at["Beard"]:
        strength = 0.08 + 0.22 * st["blush"] * (1.3 - f["skin_tone"])
        sigma2 = 2 * (0.09 * g.a) ** 2
        axis = X[0]
        blush = 0.0
        for side in (-1.0, 1.0):
            bx = g.turn(side * 0.5 * g.a)
            by = (0.28 - (0.05 if at["Smiling"] else 0.0)) * g.b
            px, py = centre[0] + c * bx - s * by, centre[1] + s * bx + c * by
            blush = blush + np.outer(np.exp(-(axis - py) ** 2 / sigma2), np.exp(-(axis - px) ** 2 / sigma2))
        w = (strength * blush).astype(np.float32) * lit
        out += _BLUSH * (w * alpha)
        lit -= w
    out += rgb * lit
    np.minimum(out, 255.0, out=out)
    return out.astype(np.uint8).transpose(1, 2, 0)


def _background(res: int, X, Y, f, st) -> np.ndarray:
    hue = f["background_hue"]
    light = f["background_lightness"]
    sat = 0.12 + 0.35 * st["background_hue2"]
    c1 = np.array(_hsv(hue, sat, 0.35 + 0.6 * light), np.float32).reshape(3, 1, 1)
    if f["background_gradient"] <= 0.0:
        return c1
    c2 = np.array(_hsv(hue + 0.25 * (st["background_hue2"] - 0.5), sat, 0.35 + 0.6 * (1.0 - light)), np.float32).reshape(3, 1, 1)
    theta = 2 * math.pi * st["background_angle"]
    t = np.clip(0.5 + (X - 0.5) * math.cos(theta) + (Y - 0.5) * math.sin(theta), 0.0, 1.0)
    return c1 + (t * f["background_gradient"]) * (c2 - c1)


# --------------------------------------------------------------------------------------------
# Torch data set

class SynthFaces(torch.utils.data.Dataset):
    """`n` faces of stream `seed`: items (image [3,R,R] in [-1,1], attributes [13] in {0,1},
    factors [F]). Item i is always face (seed, i), whatever the order of access."""

    label_kind = "attributes"

    def __init__(self, resolution: int = 64, n: int = 50_000, seed: int = 0, force: Mapping | None = None,
                 priors: FacePriors | None = None):
        self.resolution = check_resolution(resolution)
        if n < 1:
            raise ValueError(f"SynthFaces needs n >= 1, got {n}")
        self.n, self.seed = int(n), int(seed)
        self.force = dict(force or {})
        self.priors = priors or DEFAULT_PRIORS
        sample_face(self.seed, 0, self.priors, self.force)   # refuse a bad `force` now, not in a worker
        self.label_names = list(ATTRIBUTES)
        self.factor_names = list(FACTORS)

    def __len__(self) -> int:
        return self.n

    def face(self, index: int) -> FaceSpec:
        if not 0 <= index < self.n:
            raise IndexError(f"SynthFaces index {index} out of range 0..{self.n - 1}")
        return sample_face(self.seed, index, self.priors, self.force)

    def __getitem__(self, index: int):
        spec = self.face(int(index))
        pixels = draw_face_array(spec, self.resolution).transpose(2, 0, 1).astype(np.float32)
        pixels = torch.from_numpy(pixels / np.float32(127.5) - np.float32(1.0))   # as imaging.from_pil, bit for bit
        labels = torch.from_numpy(attributes_vector(spec.attributes))
        factors = torch.from_numpy(np.array([spec.factors[n] for n in FACTORS], np.float32))
        return pixels, labels, factors

    def label_table(self) -> torch.Tensor:
        """Attributes of every item [n, 13], without drawing (fast: for splits and statistics)."""
        rows = [attributes_vector(self.face(i).attributes) for i in range(self.n)]
        return torch.from_numpy(np.stack(rows))


def with_priors(**changes) -> FacePriors:
    """DEFAULT_PRIORS with some fields replaced, e.g. with_priors(coupling=0.0)."""
    return dataclasses.replace(DEFAULT_PRIORS, **changes)


def parse_force(items: list[str] | None) -> dict[str, float | bool]:
    """`["Eyeglasses:1", "yaw:0.5"]` -> {"Eyeglasses": True, "yaw": 0.5} (attributes as booleans)."""
    force: dict[str, float | bool] = {}
    for item in items or []:
        name, sep, value = item.partition(":")
        if not sep:
            raise ValueError(f"force item {item!r} is not NAME:VALUE")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"force item {item!r}: {value!r} is not a number") from None
        force[name] = bool(number) if name in ATTRIBUTES else number
    return force


@DATASETS.register("synthfaces")
def _open(arg: str | None, options) -> SynthFaces:
    """synthfaces[:RESOLUTION]?n=50000&seed=0&coupling=1&force=Eyeglasses:1,yaw:0 (a resolution=
    option, e.g. a caller's override, wins over the one after the colon)."""
    from . import DataSpecError

    n, seed = options.int("n", 50_000, low=1), options.int("seed", 0)
    coupling, force = options.float("coupling", DEFAULT_PRIORS.coupling), options.list("force")
    override = options.int("resolution")
    try:
        resolution = override or (int(arg) if arg else 64)
    except ValueError:
        raise DataSpecError(f"synthfaces: resolution {arg!r} is not an integer from 32 to 256") from None
    try:
        return SynthFaces(resolution, n=n, seed=seed, force=parse_force(force), priors=with_priors(coupling=coupling))
    except ValueError as exc:
        raise DataSpecError(f"synthfaces: {exc}") from None

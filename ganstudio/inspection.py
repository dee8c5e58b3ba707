"""Code inspection: what each part of a model's latent code does.

- Traversal grids: one axis swept across a range for several seeds. An axis is
  `z[i]` (z dimension i set to each value; z is standard normal, so values are in standard
  deviations), `w[i]` (w dimension i moved by value x its spread over sampled w),
  `METHOD/NAME` (a direction, value = its edit alpha, as on the Edit sliders; `pca` and
  `sefa` are computed on the fly for models without such files) or an InfoGAN code `cK`
  (a categorical one takes each of its values, a continuous one each value of the range).
  `layers` limits z, w and direction axes to those w+ rows (InfoGAN codes feed the mapping).
- Leakage: which attributes a direction moves, as a judge trained on real images sees them:
  the mean change of each attribute's probability between -alpha and +alpha over n samples.
- Cosine similarities between directions, and the disentanglement (DCI, MIG) of the
  encoder's codes against the data set's ground-truth factors.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from .data import data_set_name
from .editing.directions import DirectionError
from .editing.edit import ResolvedEdit, apply_edits
from .editing.layer_ranges import check_rows
from .errors import UserError
from .imaging import make_grid, to_pils
from .latents import z_from_seeds
from .latents import MAX_SEEDS_PER_CALL, parse_seeds
from .studio import Studio, StudioError

MAX_CELLS = 2 * MAX_SEEDS_PER_CALL
MAX_STEPS = 15
_DIMENSION = re.compile(r"^\s*([zw])\s*\[\s*(\d+)\s*\]\s*$")


@dataclass
class Traversal:
    axis: str
    seeds: list[int]
    values: list[float]
    images: list[list[Image.Image]]  # [seed][value]
    rows: tuple[int, int] | None = None  # the w+ rows [start, stop) the axis moved; None: every row

    def rows_text(self) -> str:
        """'rows 0–3' or 'row 4' for an edit limited to some w+ rows, '' when every row moved."""
        if self.rows is None:
            return ""
        start, stop = self.rows
        return f"row {start}" if stop - start == 1 else f"rows {start}–{stop - 1}"

    def grid(self, padding: int = 2) -> Image.Image:
        """One row per seed, one column per value."""
        return make_grid([img for row in self.images for img in row], columns=len(self.values), padding=padding)


@dataclass
class Matrix:
    """A labelled table of numbers: rows x columns."""

    rows: list[str]
    columns: list[str]
    values: np.ndarray

    def to_json(self) -> dict:
        return {"rows": self.rows, "columns": self.columns, "values": np.round(self.values, 4).tolist()}

    def heatmap(self, cell: int = 22, scale: float = 1.0) -> Image.Image:
        """Blue (-scale) - white (0) - red (+scale) cells with the values written in, labelled
        rows on the left and columns on top (rotated)."""
        font_w = 6  # PIL's built-in bitmap font: 6 px per character
        left = 6 + font_w * max(len(r) for r in self.rows)
        top = 6 + font_w * max(len(c) for c in self.columns)
        image = Image.new("RGB", (left + cell * len(self.columns) + 2, top + cell * len(self.rows) + 2), "white")
        draw = ImageDraw.Draw(image)
        for j, name in enumerate(self.columns):
            label = Image.new("RGB", (top, cell), "white")
            ImageDraw.Draw(label).text((2, (cell - 10) // 2), name, fill="black")
            image.paste(label.rotate(90, expand=True), (left + j * cell, 0))
        for i, name in enumerate(self.rows):
            draw.text((2, top + i * cell + (cell - 10) // 2), name, fill="black")
            for j in range(len(self.columns)):
                v = float(np.clip(self.values[i, j] / scale, -1.0, 1.0))
                fade = int(255 * (1 - abs(v)))
                colour = (255, fade, fade) if v > 0 else (fade, fade, 255)
                x, y = left + j * cell, top + i * cell
                draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=colour, outline=(230, 230, 230))
                text = f"{self.values[i, j]:+.1f}"[:4] if abs(self.values[i, j]) >= 0.05 else ""
                draw.text((x + 1, y + (cell - 10) // 2), text, fill="black" if abs(v) < 0.6 else "white")
        return image


class Inspector:
    """Code inspection on the models of a Studio; caches what it computes per generator."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.catalogue = studio.catalogue
        self._spread: dict[tuple[str, str], torch.Tensor] = {}
        self._lock = threading.Lock()

    # ----- axes -------------------------------------------------------------------------------
    def axes(self, model: str) -> list[str]:
        """Axis names for a model (z[0] and w[0] stand for every dimension)."""
        spec = self.studio.condition_spec(model)
        names = [f"{m}/{n}" for m, ds in self.studio.directions(model).items() for n in ds.names]
        return (spec.code_names if spec and spec.kind == "codes" else []) + names + ["z[0]", "w[0]"]

    def axis_range(self, model: str, axis: str) -> tuple[float, float]:
        """The values a traversal of `axis` starts with: an InfoGAN continuous code's training range
        (-1 to 1; beyond it the code was never seen and can change the class), else -3 to 3."""
        spec = self.studio.condition_spec(model)
        if spec is not None and spec.kind == "codes" and axis in spec.code_names[len(spec.categorical):]:
            return -1.0, 1.0
        return -3.0, 3.0

    def w_spread(self, model: str) -> torch.Tensor:
        """Standard deviation of each w dimension over sampled w (the unit of a w[i] axis)."""
        key = (model, self.catalogue.generator_hash(model))
        with self._lock:
            if key in self._spread:
                return self._spread[key]
        spread = self.catalogue.sampled_ws(model).std(0)
        with self._lock:
            self._spread[key] = spread
        return spread

    # ----- traversal grids ----------------------------------------------------------------------
    @torch.inference_mode()
    def traverse(self, model: str, axis: str, seeds="0-3", lo: float = -3.0, hi: float = 3.0, steps: int = 7,
                 layers: tuple[int, int] | None = None, psi: float = 1.0, condition: str | None = None) -> Traversal:
        """Images for every (seed, value) along `axis` (see the module docstring)."""
        studio = self.studio
        seed_list = parse_seeds(seeds)
        if not 2 <= int(steps) <= MAX_STEPS:
            raise StudioError(f"steps must be between 2 and {MAX_STEPS}, got {steps}")
        if not lo < hi:
            raise StudioError(f"the range must go up: from {lo} to {hi}")
        G = studio.generator(model)
        rows = check_rows(layers, G.num_ws)
        conditions = studio.conditions(model, seed_list, condition)
        z = z_from_seeds(seed_list, G.z_dim).to(studio.device)
        base = studio.map_codes(model, G, z, conditions, psi=psi)
        values = np.linspace(lo, hi, int(steps)).tolist()
        axis = axis.strip()
        spec = studio.condition_spec(model)
        if spec is not None and spec.kind == "codes" and axis in spec.code_names:
            values, columns = self._code_columns(model, G, z, conditions, axis, values, psi)
            moved_rows = None  # a code feeds the mapping network, so every row moves
        else:
            columns = [self._moved(model, G, base, z, conditions, axis, v, rows, psi) for v in values]
            moved_rows = None if (rows.start, rows.stop) == (0, G.num_ws) else (rows.start, rows.stop)
        if len(seed_list) * len(values) > MAX_CELLS:
            raise StudioError(f"a grid of at most {MAX_CELLS} images, got {len(seed_list)} seeds x {len(values)} values")
        ws = torch.stack(columns, 1)  # [seeds, values, num_ws, w_dim]
        images = to_pils(G.synthesis(ws.flatten(0, 1), noise_mode="const"))
        per_row = len(values)
        return Traversal(axis, seed_list, values, [images[i * per_row:(i + 1) * per_row] for i in range(len(seed_list))],
                         moved_rows)

    def _moved(self, model, G, base, z, conditions, axis: str, value: float, rows: slice, psi: float) -> torch.Tensor:
        """base ws with `axis` set to / moved by `value` in `rows`."""
        out = base.clone()
        dim = _DIMENSION.match(axis)
        if dim:
            space, i = dim.group(1), int(dim.group(2))
            size = G.z_dim if space == "z" else G.w_dim
            if i >= size:
                raise StudioError(f"axis {axis}: this model's {space} has dimensions 0 to {size - 1}")
            if space == "z":
                moved = z.clone()
                moved[:, i] = value
                out[:, rows] = self.studio.map_codes(model, G, moved, conditions, psi=psi)[:, rows]
            else:
                out[:, rows, i] += value * float(self.w_spread(model)[i])
            return out
        method, sep, name = axis.partition("/")
        sets = self.studio.directions(model)
        if not sep or method not in sets:
            raise StudioError(f"unknown axis '{axis}'; use z[i], w[i], a direction like "
                              f"{next(iter(self.axes(model)), 'pca/PC0')}, or an InfoGAN code")
        ds = sets[method]
        try:
            vector = ds.vector(name).to(self.studio.device)
        except DirectionError as exc:
            raise StudioError(str(exc)) from None
        edit = ResolvedEdit(vector, ds.space, float(value), rows)
        return apply_edits(G, base, [edit], z=z, psi=psi, c=self.studio.condition_vectors(model, conditions))

    def _code_columns(self, model, G, z, conditions, axis: str, values, psi: float):
        """An InfoGAN code swept: each category of a categorical code, else each value."""
        spec = self.studio.condition_spec(model)
        index = spec.code_names.index(axis)
        if index < len(spec.categorical):
            values = list(range(spec.categorical[index]))
        columns = []
        for v in values:
            texts = [spec.text({**spec.parse(c), axis: v}) for c in conditions]
            columns.append(self.studio.map_codes(model, G, z, texts, psi=psi))
        return [float(v) for v in values], columns

    # ----- directions side by side -----------------------------------------------------------
    def cosines(self, model: str, methods: list[str] | None = None) -> Matrix:
        """Cosine similarity between every pair of directions (of the given methods) in w."""
        sets = self.studio.directions(model)
        chosen = [m for m in (methods or sets) if m in sets and sets[m].space == "w"]
        if not chosen:
            raise StudioError(f"model '{model}' has no w-space directions among {', '.join(methods or sets) or 'none'}")
        names = [f"{m}/{n}" for m in chosen for n in sets[m].names]
        vectors = torch.cat([sets[m].vectors for m in chosen]).double()
        unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return Matrix(names, names, (unit @ unit.T).numpy())

    def judges(self) -> list[str]:
        """Models that are attribute judges (classifiers trained on real images)."""
        return [e.name for e in self.catalogue.models() if e.info is not None and e.info.primary == "judge"]

    def judge_for(self, model: str) -> str | None:
        """The judge trained on the model's kind of data (same data set name), else the first one."""
        judges = self.judges()
        data = data_set_name(self.catalogue.entry(model).info.dataset)
        matching = [j for j in judges if data_set_name(self.catalogue.entry(j).info.dataset) == data]
        return (matching or judges or [None])[0]

    @torch.inference_mode()
    def leakage(self, model: str, method: str, judge: str, n: int = 64, alpha: float = 3.0,
                layers: tuple[int, int] | None = None, seed: int = 0, progress=None) -> Matrix:
        """Mean change of each judged attribute's probability from -alpha to +alpha along each
        direction of `method`, over n samples: the diagonal is the intended effect, the rest leakage."""
        from .metrics.features import build_extractor

        if not 1 <= int(n) <= 1024:
            raise StudioError(f"samples must be between 1 and 1024, got {n}")
        studio = self.studio
        sets = self.studio.directions(model)
        if method not in sets:
            raise StudioError(f"model '{model}' has no '{method}' directions; it has: {', '.join(sets)}")
        if judge not in self.judges():
            raise StudioError(f"'{judge}' is not a judge; available: {', '.join(self.judges()) or 'none'}")
        extractor = build_extractor("judge", self.catalogue.entry(judge).path, studio.device)
        G = studio.generator(model)
        rows = check_rows(layers, G.num_ws)
        seeds = list(range(seed, seed + int(n)))
        conditions = studio.conditions(model, seeds)
        z = z_from_seeds(seeds, G.z_dim).to(studio.device)
        base = studio.map_codes(model, G, z, conditions)
        ds = sets[method]
        out = np.zeros((len(ds.names), len(extractor.label_names)))
        for k, name in enumerate(ds.names):
            probs = []
            for sign in (-1.0, 1.0):
                edit = ResolvedEdit(ds.vector(name).to(studio.device), ds.space, sign * float(alpha), rows)
                ws = apply_edits(G, base, [edit], z=z, c=studio.condition_vectors(model, conditions))
                probs.append(extractor(G.synthesis(ws, noise_mode="const").clamp(-1, 1))[1].float().mean(0))
            out[k] = (probs[1] - probs[0]).cpu().numpy()
            if progress is not None:
                progress(k + 1, len(ds.names))
        return Matrix([f"{method}/{n_}" for n_ in ds.names], list(extractor.label_names), out)

    def disentanglement(self, model: str, data: str, n: int = 500) -> dict:
        """DCI and MIG of the encoder's codes E(x) against the ground-truth factors of `data`."""
        from torch.utils.data import DataLoader, Subset

        from .data import open_dataset
        from .metrics.disentanglement import dci, mig

        E = self.catalogue.network(model, "E")
        if E is None:
            raise StudioError(f"model '{model}' has no encoder, so there are no codes of real images to score")
        try:
            dataset = open_dataset(data)
        except UserError as exc:  # a bad spec, an unknown data set
            raise StudioError(str(exc)) from None
        factor_names = list(getattr(dataset, "factor_names", []) or [])
        if not factor_names:
            raise StudioError(f"data '{data}' has no ground-truth factors (SynthFaces has them)")
        codes, factors = [], []
        with torch.inference_mode():
            for batch in DataLoader(Subset(dataset, range(min(int(n), len(dataset)))), batch_size=64):
                code = E(batch[0].to(self.studio.device)).float().cpu()
                codes.append(code.mean(1) if code.dim() == 3 else code)
                factors.append(batch[2].float())
        codes_t, factors_t = torch.cat(codes), torch.cat(factors)
        return {"model": model, "data": data, "n": len(codes_t), "factors": factor_names,
                "dci": dci(codes_t, factors_t).to_json(), "mig": mig(codes_t, factors_t).to_json()}

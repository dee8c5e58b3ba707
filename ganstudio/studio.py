"""The headless studio: everything the app does, as plain Python calls.

`Studio` turns user requests (model name, seeds, sliders, recipes) into images plus the latent
codes behind them, on the models of a `Catalogue` (ganstudio.catalogue), which finds, loads and
caches them. The Gradio layer, the CLI and notebooks all call this; none of them touch torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Iterable, Iterator

import torch
from PIL import Image
from torch import nn

from .catalogue import Catalogue
from .editing.conditions import ConditionError, ConditionSpec
from .editing.directions import DirectionSet
from .editing.edit import ResolvedEdit, apply_edits
from .editing.inversion import InversionSettings, InversionStep, invert
from .editing.layer_ranges import check_rows
from .editing.recipe import Edit, Recipe
from .editing import mixing
from .errors import StudioError, UserError
from .imaging import from_pil, to_pil, to_pils
from .latents import MAX_SEEDS_PER_CALL, parse_seeds, z_from_seed, z_from_seeds
from .previews import FineDetail, face_key, preview_level


@dataclass
class Sample:
    seed: int
    image: Image.Image
    z: torch.Tensor
    ws: torch.Tensor
    condition: str | None = None  # what a conditional generator was told (class, attributes, codes)


@dataclass
class Rendered:
    """An image, the w+ code that made it, and the recipe that replays it."""

    image: Image.Image
    ws: torch.Tensor
    recipe: Recipe




class Studio:
    """The operations (sample, mix, walk, render, edit, interpolate, invert, translate) on the
    models of a catalogue. Its only state is a cache (the previews' fine detail of the last few
    faces drawn), so any number can share one catalogue."""

    def __init__(
        self,
        catalogue: Catalogue | str | os.PathLike | Iterable[str | os.PathLike],
        device: str = "auto",
        cache_size: int = 4,
    ):
        """On `catalogue`, or on a new one over these checkpoint folders (with `device` and `cache_size`)."""
        if not isinstance(catalogue, Catalogue):
            catalogue = Catalogue(catalogue, device=device, cache_size=cache_size)
        self.catalogue = catalogue
        self.device = catalogue.device
        self._fine_detail = FineDetail()  # the previews' keyframes (ganstudio.previews)

    # ----- the catalogue's look-ups that the tabs make on every event -----------------------
    def model_names(self, kind: str | None = None) -> list[str]:
        return self.catalogue.model_names(kind)

    def default_model(self, kind: str | None = None) -> str | None:
        return self.catalogue.default_model(kind)

    def generator(self, name: str) -> nn.Module:
        return self.catalogue.generator(name)

    def directions(self, name: str) -> dict[str, DirectionSet]:
        return self.catalogue.directions(name)

    # ----- conditions (class / attribute / InfoGAN-code generators) -----------------------
    def condition_spec(self, name: str) -> ConditionSpec | None:
        """What the model's generator takes besides z; None for unconditional generators."""
        info = self.catalogue.load(name).info
        try:
            return ConditionSpec.of(self.generator(name), info.meta, info.labels)
        except ConditionError as exc:
            raise StudioError(f"model '{name}': {exc}") from None

    def conditions(self, name: str, seeds: list[int], condition: str | None = None) -> list[str] | None:
        """The condition text per seed: `condition` for all of them, or each seed's own when it
        is empty. None for an unconditional model (which refuses a non-empty condition)."""
        spec = self.condition_spec(name)
        given = (condition or "").strip()
        if spec is None:
            if given:
                raise StudioError(f"model '{name}' is not conditional; leave the condition empty")
            return None
        try:
            fixed = spec.text(spec.parse(given)) if given else None
        except ConditionError as exc:
            raise StudioError(str(exc)) from None
        return [fixed if fixed is not None else spec.for_seed(seed) for seed in seeds]

    def condition_vectors(self, name: str, texts: list[str] | None) -> torch.Tensor | None:
        if texts is None:
            return None
        try:
            return self.condition_spec(name).vectors(texts).to(self.device)
        except ConditionError as exc:
            raise StudioError(str(exc)) from None

    def map_codes(self, name: str, G: nn.Module, z: torch.Tensor, conditions: list[str] | None,
                  psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
        """G's mapping of z, told each row's condition when it is conditional (ψ checked)."""
        return _map_z(G, z, self.condition_vectors(name, conditions), psi, cutoff)

    def _resolve(self, name: str, edits: Iterable[Edit], num_ws: int) -> list[ResolvedEdit]:
        sets = self.directions(name)
        resolved = []
        for e in edits:
            if e.method not in sets:
                known = ", ".join(sets) or "none"
                raise StudioError(f"model '{name}' has no '{e.method}' directions; it has: {known}")
            ds = sets[e.method]
            vector = ds.conditional(e.name, e.keep).to(self.device)
            resolved.append(ResolvedEdit(vector, ds.space, float(e.alpha), check_rows(e.layers, num_ws)))
        return resolved

    # ----- recipes --------------------------------------------------------------------------
    def seed_recipe(self, model: str, seed: int, psi: float = 1.0, cutoff: int | None = None,
                    noise_mode: str = "const", condition: str | None = None) -> Recipe:
        conditions = self.conditions(model, [int(seed)], condition)
        return Recipe(model=model, model_hash=self.catalogue.generator_hash(model), seed=int(seed), psi=float(psi),
                      cutoff=cutoff, noise_mode=noise_mode, condition=conditions[0] if conditions else None)

    def code_recipe(self, model: str, code: torch.Tensor, space: str, **fields) -> Recipe:
        return Recipe(model=model, model_hash=self.catalogue.generator_hash(model), code=Recipe.code_to_list(code),
                      space=space, **fields)

    def edit(self, base: Recipe, method: str, alphas: dict[str, float], layers: tuple[int, int] | None = None,
             keep: Iterable[str] = (), preview: bool = False) -> Rendered:
        """Slider values -> image: one Edit per non-zero alpha along `method`'s directions."""
        edits = [Edit(f"{method}/{name}", float(a), layers, tuple(keep)) for name, a in alphas.items() if a]
        return self.render(base.with_edits(edits), preview=preview)

    def preview_resolution(self, model: str) -> int | None:
        """The level a dragged slider's frames are drawn afresh at for this model (finer detail
        comes from the face's last full frame; see ganstudio.previews); None: whole frames."""
        return preview_level(self.generator(model))

    def _codes(self, recipe: Recipe) -> tuple[nn.Module, torch.Tensor | None, torch.Tensor]:
        """The generator, z (when the recipe has one) and edited w+ for a recipe."""
        G = self.generator(recipe.model)
        g_hash = self.catalogue.generator_hash(recipe.model)
        if recipe.model_hash != g_hash:
            raise StudioError(f"recipe was made with generator {recipe.model_hash}; model '{recipe.model}' is {g_hash}")
        z = None
        conditions = self.conditions(recipe.model, [recipe.seed or 0], recipe.condition)
        if recipe.seed is not None:
            z = z_from_seed(recipe.seed, G.z_dim).unsqueeze(0).to(self.device)
            ws = self.map_codes(recipe.model, G, z, conditions, psi=recipe.psi, cutoff=recipe.cutoff)
        else:
            code = recipe.code_tensor().unsqueeze(0).to(self.device)
            expected = {"z": (G.z_dim,), "w": (G.w_dim,), "w+": (G.num_ws, G.w_dim)}[recipe.space]
            if tuple(code.shape[1:]) != expected:
                raise StudioError(f"recipe code has shape {tuple(code.shape[1:])}; this model needs {expected}")
            if recipe.space == "z":
                z, ws = code, self.map_codes(recipe.model, G, code, conditions, psi=recipe.psi, cutoff=recipe.cutoff)
            elif recipe.space == "w":
                ws = code.unsqueeze(1).repeat(1, G.num_ws, 1)
            else:
                ws = code
        ws = apply_edits(G, ws, self._resolve(recipe.model, recipe.edits, G.num_ws), z=z,
                         psi=recipe.psi, cutoff=recipe.cutoff, c=self.condition_vectors(recipe.model, conditions))
        return G, z, ws

    def _synthesize(self, G: nn.Module, ws: torch.Tensor, noise_mode: str, noise_seed: int = 0,
                    resolution: int | None = None, with_coarse: bool = False):
        """G's images of ws (stopped at `resolution`; or, `with_coarse`, the full frame and the
        image at `resolution` from one pass), with noise_mode="random" replayable from `noise_seed`."""
        def draw():
            if with_coarse:
                return G.synthesis_and_coarse(ws, resolution, noise_mode=noise_mode)
            return G.synthesis(ws, noise_mode=noise_mode, **({} if resolution is None else {"resolution": resolution}))

        if noise_mode != "random":  # nothing random to replay; seeding costs ~1 ms a frame
            return draw()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(noise_seed)
            return draw()

    @torch.inference_mode()
    def render(self, recipe: Recipe, preview: bool = False) -> Rendered:
        """Replay a recipe to its image: bit-identical for the same model file. `preview`: on a
        large StyleGAN2 model, the cheap frame a dragged slider shows (the coarse levels drawn
        afresh, the fine detail of this face's last full frame); the whole frame elsewhere, and
        when this face has not been drawn whole yet."""
        G, _, ws = self._codes(recipe)
        level, seed = preview_level(G), recipe.seed or 0
        if level is None:
            image = self._synthesize(G, ws, recipe.noise_mode, seed)
        else:
            key = face_key(recipe)
            detail = self._fine_detail.get(key) if preview else None
            if detail is not None:
                image = G.lift(self._synthesize(G, ws, recipe.noise_mode, seed, level)) + detail
            else:
                image, coarse = self._synthesize(G, ws, recipe.noise_mode, seed, level, with_coarse=True)
                self._fine_detail.put(key, image - G.lift(coarse))
        return Rendered(to_pil(image[0]), ws[0].cpu(), recipe)

    # ----- style mixing and interpolation ---------------------------------------------------
    @torch.inference_mode()
    def mix(self, model: str, row_seeds, col_seeds, layers: tuple[int, int] | None = None, psi: float = 1.0,
            noise_mode: str = "const") -> list[list[Rendered]]:
        """The StyleGAN mixing grid: cell (r, c) is column seed c with row seed r's styles in `layers`."""
        rows_list, cols_list = parse_seeds(row_seeds), parse_seeds(col_seeds)
        if len(rows_list) * len(cols_list) > MAX_SEEDS_PER_CALL:
            raise StudioError(f"a mixing grid of at most {MAX_SEEDS_PER_CALL} cells, got {len(rows_list)}x{len(cols_list)}")
        G = self.generator(model)
        rows = check_rows(layers, G.num_ws)
        row_ws = self.map_codes(model, G, z_from_seeds(rows_list, G.z_dim).to(self.device),
                           self.conditions(model, rows_list), psi=psi)
        col_ws = self.map_codes(model, G, z_from_seeds(cols_list, G.z_dim).to(self.device),
                           self.conditions(model, cols_list), psi=psi)
        grid = mixing.mix_styles(row_ws, col_ws, rows)
        images = self._synthesize(G, grid.flatten(0, 1), noise_mode)
        out, k = [], 0
        for r, row_seed in enumerate(rows_list):
            line = []
            for c, col_seed in enumerate(cols_list):
                recipe = self.code_recipe(model, grid[r, c], "w+", noise_mode=noise_mode, extra={
                    "mix": {"row_seed": row_seed, "col_seed": col_seed, "rows": [rows.start, rows.stop], "psi": psi}})
                line.append(Rendered(to_pil(images[k]), grid[r, c].cpu(), recipe))
                k += 1
            out.append(line)
        return out

    @torch.inference_mode()
    def interpolate(self, a: Recipe, b: Recipe, frames: int = 24, space: str = "w") -> list[Image.Image]:
        """Frames from recipe a to recipe b: slerp between their z, or lerp between their w+."""
        if a.model != b.model:
            raise StudioError("both ends of an interpolation must come from the same model")
        if not 2 <= frames <= 240:
            raise StudioError("frames must be between 2 and 240")
        G, za, wa = self._codes(a)
        _, zb, wb = self._codes(b)
        if space == "z":
            if za is None or zb is None:
                raise StudioError("z interpolation needs codes in z (seeds); use w for inverted codes")
            ws = _map_z(G, mixing.interpolate(za[0], zb[0], frames, "z"), self._path_conditions(a, b, frames),
                        a.psi, a.cutoff)
        else:
            ws = mixing.interpolate(wa[0], wb[0], frames, "w")
        return self._frames(G, ws, a.noise_mode)

    @torch.inference_mode()
    def walk(self, model: str, seeds, frames_per_step: int = 16, space: str = "z", psi: float = 1.0) -> list[Image.Image]:
        """A looping latent walk through the seeds (back to the first)."""
        seed_list = parse_seeds(seeds)
        if len(seed_list) < 2:
            raise StudioError("a latent walk needs at least 2 seeds")
        if not 2 <= frames_per_step <= 120:
            raise StudioError("frames per step must be between 2 and 120")
        check_psi(psi)
        G = self.generator(model)
        z = z_from_seeds(seed_list, G.z_dim).to(self.device)
        c = self.condition_vectors(model, self.conditions(model, seed_list))
        if space == "z":
            c_path = None if c is None else mixing.latent_walk(c, frames_per_step, "w")
            ws = _map_z(G, mixing.latent_walk(z, frames_per_step, "z"), c_path, psi)
        else:
            ws = mixing.latent_walk(_map_z(G, z, c, psi), frames_per_step, "w")
        return self._frames(G, ws, "const")

    def _path_conditions(self, a: Recipe, b: Recipe, frames: int) -> torch.Tensor | None:
        """Conditions along a z path between two recipes: linear between their vectors."""
        ends = [self.conditions(r.model, [r.seed or 0], r.condition) for r in (a, b)]
        if ends[0] is None:
            return None
        c = self.condition_vectors(a.model, ends[0] + ends[1])
        return mixing.interpolate(c[0], c[1], frames, "w")

    def _frames(self, G: nn.Module, ws: torch.Tensor, noise_mode: str, batch: int = 16) -> list[Image.Image]:
        return [img for i in range(0, len(ws), batch) for img in to_pils(self._synthesize(G, ws[i:i + batch], noise_mode))]

    # ----- inversion ------------------------------------------------------------------------
    def invert(self, model: str, image: Image.Image, settings: InversionSettings) -> Iterator[tuple[InversionStep, Recipe]]:
        """Stream an inversion of a (safely loaded) image: each step with the recipe of its code."""
        G = self.generator(model)
        target = from_pil(image, G.resolution).to(self.device)
        E, D = self.catalogue.network(model, "E"), self.catalogue.network(model, "D")
        if D is None:
            if settings.lambda_realism > 0:
                raise StudioError(f"model '{model}' has no discriminator: set λ2 (realism) to 0")
            settings = replace(settings, lambda_perceptual=0.0)  # the perceptual term uses D's features
        spec = self.condition_spec(model)
        if spec is not None and settings.space == "z":
            raise StudioError(f"model '{model}' is conditional: its z needs a condition, which a photo does not "
                              "come with; invert in w or w+")
        c = None if spec is None else spec.mean_vector().unsqueeze(0).to(self.device)
        for step in invert(G, target, settings, E=E, D=D, c=c):
            recipe = self.code_recipe(
                model, step.code, settings.space, noise_mode=settings.noise_mode,
                inversion={**settings.to_dict(), "steps_run": step.step, "psnr": round(step.psnr, 3)},
            )
            yield step, recipe

    # ----- translation --------------------------------------------------------------------
    def translate(self, model: str, image: Image.Image, to, labels=None) -> Image.Image:
        """An image translated to the target domain(s); see ganstudio.translate.translate."""
        from .translate import translate

        return translate(self.catalogue.translator(model), image, to=to, labels=labels)

    def translate_all(self, model: str, image: Image.Image, labels=None):
        """The input translated into every domain, as in the StarGAN figure (a DomainGrid)."""
        from .translate import translate_all_domains

        return translate_all_domains(self.catalogue.translator(model), image, labels=labels)

    def warm_up(self, name: str | None = None) -> str | None:
        """Load a generator (default: the one the tabs open on), its directions, and render one
        image, so the first visitor waits for neither the load nor first-call allocations.
        Returns the model warmed, or None when there is none or it cannot be used."""
        name = name or self.default_model("generator")
        if name is None:
            return None
        try:
            self.directions(name)
            self.render(self.seed_recipe(name, 0))
        except UserError:
            return None  # the tabs will show what is wrong with it
        return name

    # ----- sampling -----------------------------------------------------------------------
    @torch.inference_mode()
    def sample(
        self,
        model: str,
        seeds: str | int | Iterable[int],
        psi: float = 1.0,
        cutoff: int | None = None,
        noise_mode: str = "const",
        condition: str | None = None,
    ) -> list[Sample]:
        """Images for seeds at truncation psi, with the z and w codes that made them. A
        conditional model is told `condition` (see ConditionSpec), or each seed's own."""
        seed_list = parse_seeds(seeds)
        check_psi(psi)
        G = self.generator(model)
        conditions = self.conditions(model, seed_list, condition)
        z = z_from_seeds(seed_list, G.z_dim).to(self.device)
        ws = self.map_codes(model, G, z, conditions, psi=float(psi), cutoff=cutoff)
        images = G.synthesis(ws, noise_mode=noise_mode)
        return [
            Sample(seed, image, z_i.cpu(), ws_i.cpu(), conditions[i] if conditions else None)
            for i, (seed, image, z_i, ws_i) in enumerate(zip(seed_list, to_pils(images), z, ws))
        ]


def check_psi(psi: float) -> None:
    """The one check of a truncation ψ. Every mapping of z makes it (`_map_z`); sample and walk
    make it first too, so a bad ψ is refused before a model is loaded."""
    if not -1.0 <= float(psi) <= 2.0:
        raise StudioError(f"psi must be between -1 and 2, got {psi}")


def _map_z(G: nn.Module, z: torch.Tensor, c: torch.Tensor | None, psi: float = 1.0,
           cutoff: int | None = None) -> torch.Tensor:
    """G's mapping of z at truncation ψ: sample, mix, walk, render and interpolate all map z here,
    so none of them can skip the ψ check."""
    check_psi(psi)
    return G.mapping(z, psi=psi, cutoff=cutoff, c=c)

"""The headless studio: everything the app does, as plain Python calls.

`Studio` finds models under one or more checkpoint folders (reading headers
only), loads them lazily into a small cache, and turns user requests (model
name, seeds, sliders) into images plus the latent codes behind them. The
Gradio layer, the CLI and notebooks all call this; none of them touch torch.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

import torch
from PIL import Image
from torch import nn

from . import checkpoint
from .checkpoint import Checkpoint, CheckpointError, CheckpointInfo
from .editing.conditions import ConditionError, ConditionSpec
from .editing.directions import DIRECTIONS_SUFFIX, DirectionError, DirectionSet
from .editing.edit import ResolvedEdit, apply_edits
from .editing.inversion import InversionSettings, InversionStep, invert
from .editing.layer_ranges import check_rows
from .editing.recipe import Edit, Recipe
from .editing import mixing
from .errors import UserError
from .imaging import from_pil, to_pil, to_pils
from .latents import MAX_SEED, z_from_seed, z_from_seeds

GENERATOR_ROLES = ("G_ema", "G")
# The shipped models: `checkpoints/` beside the package in a source checkout.
DEFAULT_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
MAX_SEEDS_PER_CALL = 64


class StudioError(UserError):
    """A request the studio cannot serve; the message is meant for the user."""


@dataclass(frozen=True)
class ModelEntry:
    """One checkpoint found on disk: its name in the studio, header info and model card."""

    name: str
    path: Path
    info: CheckpointInfo | None
    card: str | None
    error: str | None = None


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


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def parse_seeds(text: str | int | Iterable[int]) -> list[int]:
    """Seeds from '1, 2, 5-8' (ranges allowed) or an int or a list; clear error otherwise."""
    if isinstance(text, int):
        seeds = [text]
    elif isinstance(text, str):
        seeds = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part:
                    lo, hi = part.split("-", 1)
                    lo_i, hi_i = int(lo), int(hi)
                    if hi_i < lo_i or hi_i - lo_i >= MAX_SEEDS_PER_CALL:
                        raise StudioError(f"seed range '{part}' must be ascending and at most {MAX_SEEDS_PER_CALL} long")
                    seeds.extend(range(lo_i, hi_i + 1))
                else:
                    seeds.append(int(part))
            except ValueError:
                raise StudioError(f"seeds: '{part}' is not a whole number or a range like 3-7") from None
    else:
        seeds = [int(s) for s in text]
    if not seeds:
        raise StudioError("seeds: give at least one seed, e.g. '0, 1, 2' or '10-17'")
    if len(seeds) > MAX_SEEDS_PER_CALL:
        raise StudioError(f"seeds: at most {MAX_SEEDS_PER_CALL} at a time, got {len(seeds)}")
    for s in seeds:
        if not 0 <= s <= MAX_SEED:
            raise StudioError(f"seeds: {s} is out of range (0 to {MAX_SEED})")
    return seeds


class Studio:
    def __init__(
        self,
        checkpoint_dirs: str | os.PathLike | Iterable[str | os.PathLike],
        device: str = "auto",
        cache_size: int = 4,
    ):
        if isinstance(checkpoint_dirs, (str, os.PathLike)):
            checkpoint_dirs = [checkpoint_dirs]
        self.checkpoint_dirs = [Path(d).resolve() for d in checkpoint_dirs]
        self.device = resolve_device(device)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, float, int], Checkpoint] = OrderedDict()
        self._headers: dict[Path, tuple[tuple, ModelEntry]] = {}
        self._scanned: tuple[tuple, tuple[dict[str, ModelEntry], set[str]]] | None = None
        self._directions: dict[tuple, dict[str, DirectionSet]] = {}
        self._hashes: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()
        self._lock = threading.RLock()

    def add_checkpoint_dir(self, folder: str | os.PathLike) -> None:
        """List the models in one more folder from now on (e.g. runs opened from the Runs tab)."""
        path = Path(folder).resolve()
        with self._lock:
            if path not in self.checkpoint_dirs:
                self.checkpoint_dirs.append(path)

    # ----- model discovery (headers only) -------------------------------------------------
    def models(self) -> list[ModelEntry]:
        """Every checkpoint under the folders, as they are now (headers only)."""
        return list(self._scan()[0].values())

    def _fingerprint(self) -> tuple:
        """Path, mtime and size of every model and card file: what a scan's result depends on.
        Far cheaper than a scan, which renders run several times per frame."""
        found = []
        for root in self.checkpoint_dirs:
            for folder, _, files in os.walk(root):
                for file in files:
                    if file.endswith((".safetensors", ".md")):
                        try:
                            st = os.stat(os.path.join(folder, file))
                        except OSError:  # a dangling link, or a file removed meanwhile
                            continue
                        found.append((folder, file, st.st_mtime_ns, st.st_size))
        return tuple(self.checkpoint_dirs), tuple(found)

    def _scan(self) -> tuple[dict[str, ModelEntry], set[str]]:
        """The entries by name, and the names of links that point out of their checkpoint folder."""
        fingerprint = self._fingerprint()
        with self._lock:
            if self._scanned is not None and self._scanned[0] == fingerprint:
                return self._scanned[1]
        entries: dict[str, ModelEntry] = {}
        outside: set[str] = set()
        for root in self.checkpoint_dirs:
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*.safetensors")):
                if path.name.endswith(DIRECTIONS_SUFFIX):
                    continue  # direction files belong to a model; they are not models
                name = path.relative_to(root).with_suffix("").as_posix()
                if not _inside(path, root):
                    outside.add(name)  # a symlink pointing out of the checkpoints folder is never served
                elif name not in entries:
                    entries[name] = self._entry(name, path, root)
        result = entries, outside - entries.keys()
        with self._lock:
            self._scanned = (fingerprint, result)
        return result

    def _entry(self, name: str, path: Path, root: Path) -> ModelEntry:
        stat = path.stat()
        card_path = path.with_suffix(".md")
        card_stat = card_path.stat() if card_path.is_file() else None
        key = (stat.st_mtime_ns, stat.st_size, card_stat and (card_stat.st_mtime_ns, card_stat.st_size))
        with self._lock:
            cached = self._headers.get(path)
            if cached and cached[0] == key and cached[1].name == name:
                return cached[1]
        readable = card_path.is_file() and _inside(card_path, root)  # never a link to a file outside
        card = card_path.read_text(encoding="utf-8", errors="replace") if readable else None
        try:
            entry = ModelEntry(name, path, checkpoint.read_info(path), card)
        except CheckpointError as exc:
            entry = ModelEntry(name, path, None, card, error=str(exc))
        with self._lock:
            self._headers[path] = (key, entry)
        return entry

    def model_names(self, kind: str | None = None) -> list[str]:
        """Names of the readable models, optionally only one kind ("generator", "translation")."""
        return [e.name for e in self.models() if e.info is not None and (kind is None or model_kind(e.info) == kind)]

    def default_model(self, kind: str | None = None) -> str | None:
        """The model a tab opens on: the highest-resolution one of the kind (the flagship, e.g.
        synthfaces64 over the 32 px digits models), then by name; None when there is none."""
        entries = [e for e in self.models() if e.info is not None and (kind is None or model_kind(e.info) == kind)]
        if not entries:
            return None
        return min(entries, key=lambda e: (-(e.info.resolution or 0), e.name)).name

    def entry(self, name: str) -> ModelEntry:
        """The model called `name`; only names that the scan found are accepted (no paths)."""
        if not isinstance(name, str) or not name:
            raise StudioError("choose a model first")
        entries, outside = self._scan()
        e = entries.get(name)
        if e is not None:
            if e.error:
                raise StudioError(f"model '{name}' cannot be used: {e.error}")
            return e
        known = ", ".join(self.model_names()) or "none (train or import one first)"
        if _path_like(name):
            raise StudioError(f"model '{name}' looks like a path; give a model name as listed: {known}")
        if name in outside:
            raise StudioError(f"model '{name}' is a link pointing outside the checkpoint folder, so it is not "
                              f"served; copy the file into the folder instead")
        raise StudioError(f"unknown model '{name}'; available: {known}")

    def _root_of(self, path: Path) -> Path:
        """The checkpoint folder a scanned model path lies in."""
        return next(root for root in self.checkpoint_dirs if path.is_relative_to(root))

    # ----- loading ------------------------------------------------------------------------
    def load(self, name: str) -> Checkpoint:
        """Load a model (all its networks) once and keep it in a small LRU cache."""
        entry = self.entry(name)
        stat = entry.path.stat()
        key = (name, stat.st_mtime, stat.st_size)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            # Built outside inference mode even when a render triggered the load: parameters made
            # inside it are inference tensors, which inversion's autograd could never use.
            with torch.inference_mode(False):
                loaded = checkpoint.load(entry.path, device=self.device)
        except CheckpointError as exc:
            raise StudioError(str(exc)) from None
        for module in loaded.networks.values():
            module.requires_grad_(False)
        with self._lock:
            for old in [k for k in self._cache if k[0] == name]:
                del self._cache[old]  # a changed file replaces its stale copy
            self._cache[key] = loaded
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return loaded

    def generator(self, name: str) -> nn.Module:
        loaded = self.load(name)
        for role in GENERATOR_ROLES:
            if role in loaded.networks:
                return loaded.networks[role]
        raise StudioError(f"model '{name}' holds no generator (roles: {', '.join(loaded.networks)})")

    def network(self, name: str, role: str) -> nn.Module | None:
        """A network of the model by role (D, E, ...), or None when the model has none."""
        return self.load(name).networks.get(role)

    def generator_hash(self, name: str) -> str:
        G = self.generator(name)
        with self._lock:
            if G not in self._hashes:
                self._hashes[G] = checkpoint.state_hash(G)
            return self._hashes[G]

    # ----- conditions (class / attribute / InfoGAN-code generators) -----------------------
    def condition_spec(self, name: str) -> ConditionSpec | None:
        """What the model's generator takes besides z; None for unconditional generators."""
        info = self.load(name).info
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

    def map_codes(self, name: str, G: nn.Module, z: torch.Tensor, conditions: list[str] | None, **kwargs) -> torch.Tensor:
        """G's mapping of z, told each row's condition when it is conditional (ψ checked)."""
        check_psi(kwargs.get("psi", 1.0))
        return G.mapping(z, c=self.condition_vectors(name, conditions), **kwargs)

    # ----- directions -----------------------------------------------------------------------
    def directions(self, name: str) -> dict[str, DirectionSet]:
        """Direction sets for a model: those inside its unit, then `<name>.*.directions.safetensors` beside it.
        Sets picked by measurement (`ganstudio directions pick`) come first, so the Edit tab opens on them.

        Cached until the model or a direction file changes, since slider events call this per frame.
        """
        loaded = self.load(name)
        g_hash = self.generator_hash(name)
        path = self.entry(name).path
        root = self._root_of(path)
        # Direction files beside the model; a link pointing out of the checkpoint folder is ignored.
        files = sorted(f for f in path.parent.glob(f"{path.stem}.*{DIRECTIONS_SUFFIX}") if _inside(f, root))
        key = (name, g_hash, tuple((f, f.stat().st_mtime_ns) for f in files))
        with self._lock:
            if key in self._directions:
                return self._directions[key]
        found: dict[str, DirectionSet] = {}
        described = loaded.info.meta.get("directions") or {}
        for method, desc in described.items():
            vectors = loaded.extra.get(f"directions.{method}")
            if vectors is not None:
                found[method] = DirectionSet(method, desc["space"], list(desc["names"]), vectors, g_hash)
        for file in files:
            try:
                ds = DirectionSet.load(file, generator_hash=g_hash)
            except DirectionError:
                continue  # for another generator, or unreadable: never applied to this one
            found[ds.method] = ds
        found = dict(sorted(found.items(), key=lambda item: not item[1].origins))
        with self._lock:
            self._directions = {k: v for k, v in self._directions.items() if k[0] != name}
            self._directions[key] = found
        return found

    def default_directions(self, name: str) -> str | None:
        """The set the Edit tab and `ganstudio edit` use unless told: a picked one (listed first), else
        the first found; None when the model has none."""
        return next(iter(self.directions(name)), None)

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
        return Recipe(model=model, model_hash=self.generator_hash(model), seed=int(seed), psi=float(psi),
                      cutoff=cutoff, noise_mode=noise_mode, condition=conditions[0] if conditions else None)

    def code_recipe(self, model: str, code: torch.Tensor, space: str, **fields) -> Recipe:
        return Recipe(model=model, model_hash=self.generator_hash(model), code=Recipe.code_to_list(code),
                      space=space, **fields)

    def edit(self, base: Recipe, method: str, alphas: dict[str, float], layers: tuple[int, int] | None = None,
             keep: Iterable[str] = ()) -> Rendered:
        """Slider values -> image: one Edit per non-zero alpha along `method`'s directions."""
        edits = [Edit(f"{method}/{name}", float(a), layers, tuple(keep)) for name, a in alphas.items() if a]
        return self.render(base.with_edits(edits))

    def _codes(self, recipe: Recipe) -> tuple[nn.Module, torch.Tensor | None, torch.Tensor]:
        """The generator, z (when the recipe has one) and edited w+ for a recipe."""
        G = self.generator(recipe.model)
        g_hash = self.generator_hash(recipe.model)
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

    def _synthesize(self, G: nn.Module, ws: torch.Tensor, noise_mode: str, noise_seed: int = 0) -> torch.Tensor:
        if noise_mode != "random":  # nothing random to replay; seeding costs ~1 ms a frame
            return G.synthesis(ws, noise_mode=noise_mode)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(noise_seed)  # makes noise_mode="random" replayable too
            return G.synthesis(ws, noise_mode=noise_mode)

    @torch.inference_mode()
    def render(self, recipe: Recipe) -> Rendered:
        """Replay a recipe to its image: bit-identical for the same model file."""
        G, _, ws = self._codes(recipe)
        image = self._synthesize(G, ws, recipe.noise_mode, recipe.seed or 0)
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
            ws = G.mapping(mixing.interpolate(za[0], zb[0], frames, "z"), psi=a.psi, cutoff=a.cutoff,
                           c=self._path_conditions(a, b, frames))
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
            ws = G.mapping(mixing.latent_walk(z, frames_per_step, "z"), psi=psi, c=c_path)
        else:
            ws = mixing.latent_walk(G.mapping(z, psi=psi, c=c), frames_per_step, "w")
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
        E, D = self.network(model, "E"), self.network(model, "D")
        if D is None:
            if settings.lambda_realism > 0:
                raise StudioError(f"model '{model}' has no discriminator: set λ2 (realism) to 0")
            settings = replace(settings, lambda_perceptual=0.0)  # the perceptual term uses D's features
        for step in invert(G, target, settings, E=E, D=D):
            recipe = self.code_recipe(
                model, step.code, settings.space, noise_mode=settings.noise_mode,
                inversion={**settings.to_dict(), "steps_run": step.step, "psnr": round(step.psnr, 3)},
            )
            yield step, recipe

    # ----- translation --------------------------------------------------------------------
    def translator(self, name: str):
        """The translation model `name` (CycleGAN or StarGAN), built from the cached checkpoint."""
        from .translate import load_translator

        if model_kind(self.entry(name).info) != "translation":
            raise StudioError(f"model '{name}' is not a translation model (CycleGAN or StarGAN)")
        return load_translator(self.load(name))

    def translate(self, model: str, image: Image.Image, to, labels=None) -> Image.Image:
        """An image translated to the target domain(s); see ganstudio.translate.translate."""
        from .translate import translate

        return translate(self.translator(model), image, to=to, labels=labels)

    def translate_all(self, model: str, image: Image.Image, labels=None):
        """The input translated into every domain, as in the StarGAN figure (a DomainGrid)."""
        from .translate import translate_all_domains

        return translate_all_domains(self.translator(model), image, labels=labels)

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
    """The one check of a truncation ψ, for every way the studio maps z (sample, mix, walk, render)."""
    if not -1.0 <= float(psi) <= 2.0:
        raise StudioError(f"psi must be between -1 and 2, got {psi}")


def model_kind(info: CheckpointInfo) -> str:
    """"translation" (CycleGAN/StarGAN: image in, image out), "generator" (latent code in, image
    out), "points" (latent code in, 2-D point out: the lab's toy models), or "other"."""
    if "translation" in info.meta:
        return "translation"
    for role in GENERATOR_ROLES:
        if role in info.networks:
            return "generator" if info.networks[role].config.get("resolution") else "points"
    return "other"


def _path_like(name: str) -> bool:
    """A name that tries to be a path: absolute, drive-qualified, with '..' or '.' parts or backslashes."""
    parts = name.split("/")
    return (name.startswith(("/", "~")) or "\\" in name or "\0" in name or (len(name) > 1 and name[1] == ":")
            or any(part in ("", ".", "..") for part in parts))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False

"""The model catalogue: which models the checkpoint folders hold, and their networks, loaded once.

`Catalogue` finds models under one or more checkpoint folders (reading headers only, again
whenever a file changes, so new files show without a restart), accepts only the names it found
(never a path), loads a model's networks lazily into a small cache, fingerprints generators and
finds the direction sets that belong to them. It renders nothing: the CLI's look-ups,
`ganstudio eval` and translation need only this, and `ganstudio.studio.Studio` builds its
operations on it.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import torch
from torch import nn

from . import checkpoint
from .checkpoint import Checkpoint, CheckpointError, CheckpointInfo
from .editing import directions as direction_methods
from .editing.codes import sampled_ws
from .editing.conditions import ConditionError, ConditionSpec
from .editing.directions import DIRECTIONS_SUFFIX, DirectionError, DirectionSet
from .errors import StudioError
from .registry import DIRECTIONS

if TYPE_CHECKING:
    from .translate import Translator

GENERATOR_ROLES = ("G_ema", "G")
# Sampled w behind the PCA and SeFa sets of a model that has no files of them, and the Inspect tab's w[i] units.
SAMPLED_WS = 2000
# The shipped models: `checkpoints/` beside the package in a source checkout.
DEFAULT_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


@dataclass(frozen=True)
class ModelEntry:
    """One checkpoint found on disk: its name in the studio, header info and model card."""

    name: str
    path: Path
    info: CheckpointInfo | None
    card: str | None
    error: str | None = None


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Catalogue:
    """The models under the checkpoint folders, by name, and their networks on one device."""

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
        """The model's image generator; a lab model of 2-D points is refused by name, not crashed on."""
        loaded = self.load(name)
        if model_kind(loaded.info) == "points":
            raise StudioError(f"model '{name}' draws 2-D points, not images: open it in the Playground tab "
                              "(or measure it with `ganstudio eval`)")
        for role in GENERATOR_ROLES:
            if role in loaded.networks:
                return loaded.networks[role]
        raise StudioError(f"model '{name}' holds no generator (roles: {', '.join(loaded.networks)})")

    def network(self, name: str, role: str) -> nn.Module | None:
        """A network of the model by role (D, E, ...), or None when the model has none."""
        return self.load(name).networks.get(role)

    def generator_hash(self, name: str) -> str:
        """The generator's fingerprint, which recipes and direction files name to say whose they are."""
        G = self.generator(name)
        with self._lock:
            if G not in self._hashes:
                self._hashes[G] = checkpoint.state_hash(G)
            return self._hashes[G]

    def translator(self, name: str) -> Translator:
        """The translation model `name` (CycleGAN or StarGAN), built from the cached checkpoint."""
        from .translate import load_translator

        if model_kind(self.entry(name).info) != "translation":
            raise StudioError(f"model '{name}' is not a translation model (CycleGAN or StarGAN)")
        return load_translator(self.load(name))

    # ----- directions -----------------------------------------------------------------------
    def directions(self, name: str) -> dict[str, DirectionSet]:
        """Direction sets for a model: those inside its unit, then `<name>.*.directions.safetensors` beside it,
        then the unsupervised ones (PCA, and SeFa on a style-based generator) computed from the generator
        where no file has them, so every model opens with sliders, a freshly imported one too.
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
        computed_here = set(DIRECTIONS.having(supervised=False)) - set(DIRECTIONS.having(conditional=True))
        missing = [method for method in sorted(computed_here) if method not in found]
        codes, G = (self.sampled_ws(name), self.generator(name)) if missing else (None, None)
        for method in missing:
            try:
                found[method] = direction_methods.compute(method, codes, None, None, "w", g_hash, G=G)
            except DirectionError:
                continue  # SeFa needs a style-based generator
        with self._lock:
            self._directions = {k: v for k, v in self._directions.items() if k[0] != name}
            self._directions[key] = found
        return found

    def sampled_ws(self, name: str) -> torch.Tensor:
        """SAMPLED_WS w of the model's generator (seeds from 0; a conditional one told each seed's
        condition): what its computed direction sets and w[i] units are measured on."""
        loaded, G = self.load(name), self.generator(name)
        try:
            spec = ConditionSpec.of(G, loaded.info.meta, loaded.info.labels)
        except ConditionError as exc:
            raise StudioError(f"model '{name}': {exc}") from None
        conditions = spec.vectors([spec.for_seed(i) for i in range(SAMPLED_WS)]) if spec else None
        return sampled_ws(G, SAMPLED_WS, seed=0, device=self.device, conditions=conditions)

    def default_directions(self, name: str) -> str | None:
        """The set the Edit tab and `ganstudio edit` use unless told: a picked one (listed first), else
        the first found (a computed pca when there are no files)."""
        return next(iter(self.directions(name)), None)


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

"""The headless studio: everything the app does, as plain Python calls.

`Studio` finds models under one or more checkpoint folders (reading headers
only), loads them lazily into a small cache, and turns user requests (model
name, seeds, sliders) into images plus the latent codes behind them. The
Gradio layer, the CLI and notebooks all call this; none of them touch torch.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch
from PIL import Image
from torch import nn

from . import checkpoint
from .checkpoint import Checkpoint, CheckpointError, CheckpointInfo
from .imaging import to_pils
from .latents import z_from_seeds

GENERATOR_ROLES = ("G_ema", "G")
# The shipped models: `checkpoints/` beside the package in a source checkout.
DEFAULT_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
MAX_SEEDS_PER_CALL = 64


class StudioError(ValueError):
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
        if not 0 <= s < 2**32:
            raise StudioError(f"seeds: {s} is out of range (0 to {2**32 - 1})")
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
        self._headers: dict[Path, tuple[tuple[float, int], ModelEntry]] = {}
        self._lock = threading.RLock()

    # ----- model discovery (headers only) -------------------------------------------------
    def models(self) -> list[ModelEntry]:
        """Every checkpoint under the folders, rescanned on each call (cheap: headers only)."""
        entries: dict[str, ModelEntry] = {}
        for root in self.checkpoint_dirs:
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*.safetensors")):
                if not _inside(path, root):
                    continue  # a symlink pointing out of the checkpoints folder is never served
                name = path.relative_to(root).with_suffix("").as_posix()
                if name not in entries:
                    entries[name] = self._entry(name, path)
        return list(entries.values())

    def _entry(self, name: str, path: Path) -> ModelEntry:
        stat = path.stat()
        key = (stat.st_mtime, stat.st_size)
        with self._lock:
            cached = self._headers.get(path)
            if cached and cached[0] == key and cached[1].name == name:
                return cached[1]
        card_path = path.with_suffix(".md")
        card = card_path.read_text(encoding="utf-8", errors="replace") if card_path.is_file() else None
        try:
            entry = ModelEntry(name, path, checkpoint.read_info(path), card)
        except CheckpointError as exc:
            entry = ModelEntry(name, path, None, card, error=str(exc))
        with self._lock:
            self._headers[path] = (key, entry)
        return entry

    def model_names(self, role: str | None = None) -> list[str]:
        """Names of the readable models, optionally only those holding a network with `role`."""
        return [
            e.name for e in self.models() if e.info is not None and (role is None or _has_role(e.info, role))
        ]

    def entry(self, name: str) -> ModelEntry:
        """The model called `name`; only names that the scan found are accepted (no paths)."""
        if not isinstance(name, str) or not name:
            raise StudioError("choose a model first")
        for e in self.models():
            if e.name == name:
                if e.error:
                    raise StudioError(f"model '{name}' cannot be used: {e.error}")
                return e
        known = ", ".join(self.model_names()) or "none (train or import one first)"
        raise StudioError(f"unknown model '{name}'; available: {known}")

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

    # ----- sampling -----------------------------------------------------------------------
    @torch.inference_mode()
    def sample(
        self,
        model: str,
        seeds: str | int | Iterable[int],
        psi: float = 1.0,
        cutoff: int | None = None,
        noise_mode: str = "const",
    ) -> list[Sample]:
        """Images for seeds at truncation psi, with the z and w codes that made them."""
        seed_list = parse_seeds(seeds)
        if not -1.0 <= float(psi) <= 2.0:
            raise StudioError(f"psi must be between -1 and 2, got {psi}")
        G = self.generator(model)
        z = z_from_seeds(seed_list, G.z_dim).to(self.device)
        ws = G.mapping(z, psi=float(psi), cutoff=cutoff)
        images = G.synthesis(ws, noise_mode=noise_mode)
        return [
            Sample(seed, image, z_i.cpu(), ws_i.cpu())
            for seed, image, z_i, ws_i in zip(seed_list, to_pils(images), z, ws)
        ]


def _has_role(info: CheckpointInfo, role: str) -> bool:
    return role in info.networks or (role == "G" and any(r in info.networks for r in GENERATOR_ROLES))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False

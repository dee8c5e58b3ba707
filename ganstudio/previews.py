"""A dragged slider's frames on a large StyleGAN2 generator, at a small share of a full frame's cost.

The skip architecture sums an RGB image from every level, so a full frame is the image of its
coarse levels, upsampled, plus what the finer levels add. While a slider moves, the coarse levels
(at most PREVIEW_SHARE of the multiply-adds) are drawn afresh and the finer levels' part is taken
from the last full frame of the same face; the release draws the frame whole again. What the
coarse levels draw (colour, layout, large shapes) follows the slider at once, at full size; finer
detail follows on release.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from threading import Lock

import torch
from torch import nn

from .editing.recipe import Recipe

PREVIEW_FROM = 256  # smaller generators draw every frame whole (a 64 px frame takes tens of ms)
PREVIEW_SHARE = 1 / 16  # of a full frame's multiply-adds that a preview may spend
KEPT_FACES = 4  # faces whose fine detail is kept (12 MB each at 1024 px)


def preview_level(G: nn.Module) -> int | None:
    """The finest resolution a dragged slider's frames are drawn afresh at: the largest level
    costing at most PREVIEW_SHARE of the full frame. None (whole frames) for generators under
    PREVIEW_FROM and for those without lower-level images (StyleGAN3)."""
    if G.resolution < PREVIEW_FROM or not getattr(G, "preview_resolutions", ()):
        return None
    costs = G.level_costs()
    budget = costs[G.resolution] * PREVIEW_SHARE
    return max((r for r in G.preview_resolutions if costs[r] <= budget), default=G.preview_resolutions[0])


def face_key(recipe: Recipe) -> str:
    """One face whatever its edits: the recipe without them."""
    text = json.dumps(recipe.with_edits(()).to_dict(), sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()


class FineDetail:
    """Per face, the finer levels' part of its last full frame (full - lift(coarse)), for the
    previews of its next edits. Thread-safe; the least recently used face goes first."""

    def __init__(self, capacity: int = KEPT_FACES):
        self.capacity = capacity
        self._detail: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._lock = Lock()

    def get(self, key: str) -> torch.Tensor | None:
        with self._lock:
            if key in self._detail:
                self._detail.move_to_end(key)
            return self._detail.get(key)

    def put(self, key: str, detail: torch.Tensor) -> None:
        with self._lock:
            self._detail[key] = detail
            self._detail.move_to_end(key)
            while len(self._detail) > self.capacity:
                self._detail.popitem(last=False)

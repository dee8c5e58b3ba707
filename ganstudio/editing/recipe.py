"""Recipes: the complete, replayable description of an image the studio made.

A recipe names the model (and the hash of its generator's weights), where the
latent code came from (a seed, or an explicit code from inversion), truncation,
noise mode, and the edits applied. It serialises to JSON, rides inside exported
PNGs, and replays to the identical image.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ..errors import UserError
from ..latents import MAX_SEED

RECIPE_VERSION = 1
SPACES = ("z", "w", "w+")
NOISE_MODES = ("const", "random", "none")


class RecipeError(UserError):
    """A recipe that cannot be read or replayed; the message names the field."""


@dataclass(frozen=True)
class Edit:
    """Move along `direction` ("method/name", e.g. "mean_diff/Smiling") by `alpha`.

    `layers` = (start, stop) limits the edit to those w+ rows; `keep` lists attributes whose
    directions the edit is made orthogonal to (conditional editing).
    """

    direction: str
    alpha: float
    layers: tuple[int, int] | None = None
    keep: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        return self.direction.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.direction.split("/", 1)[1]


@dataclass(frozen=True)
class Recipe:
    model: str
    model_hash: str
    seed: int | None = None
    code: list | None = None  # the latent code as nested lists (float32 values), when not from a seed
    space: str = "z"
    psi: float = 1.0
    cutoff: int | None = None
    noise_mode: str = "const"
    edits: tuple[Edit, ...] = ()
    condition: str | None = None  # a conditional generator's class / attributes / codes (ConditionSpec text)
    inversion: dict[str, Any] | None = None
    version: int = RECIPE_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if (self.seed is None) == (self.code is None):
            raise RecipeError("recipe needs exactly one of 'seed' or 'code'")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise RecipeError(f"recipe field 'seed' must be a whole number from 0 to {MAX_SEED}, got {self.seed}")
        if self.space not in SPACES:
            raise RecipeError(f"recipe field 'space' must be one of {', '.join(SPACES)}, got '{self.space}'")
        if self.seed is not None and self.space != "z":
            raise RecipeError("recipe with a 'seed' must have space 'z'")
        if self.noise_mode not in NOISE_MODES:
            raise RecipeError(f"recipe field 'noise_mode' must be one of {', '.join(NOISE_MODES)}")

    # ----- codes ------------------------------------------------------------------------
    @staticmethod
    def code_to_list(code: torch.Tensor) -> list:
        """float32 values survive JSON exactly (a float64 holds every float32)."""
        return code.detach().to("cpu", torch.float32).tolist()

    def code_tensor(self) -> torch.Tensor:
        if self.code is None:
            raise RecipeError("recipe has a seed, not a code")
        try:
            return torch.tensor(self.code, dtype=torch.float32)
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"recipe field 'code' is not a numeric array: {exc}") from None

    def with_edits(self, edits: tuple[Edit, ...] | list[Edit]) -> "Recipe":
        return _replace(self, edits=tuple(edits))

    # ----- JSON -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["edits"] = [
            {**asdict(e), "layers": list(e.layers) if e.layers else None, "keep": list(e.keep)} for e in self.edits
        ]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> "Recipe":
        if not isinstance(data, dict):
            raise RecipeError("a recipe must be a JSON object")
        version = data.get("version", RECIPE_VERSION)
        if version != RECIPE_VERSION:
            raise RecipeError(f"recipe version {version} is not supported (this ganstudio reads {RECIPE_VERSION})")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise RecipeError(f"unknown recipe fields: {', '.join(unknown)}")
        for key in ("model", "model_hash"):
            if not isinstance(data.get(key), str):
                raise RecipeError(f"recipe field '{key}' is missing or not a string")
        try:
            edits = tuple(_edit_from_dict(e) for e in data.get("edits") or ())
            values = {**data, "edits": edits}
            if values.get("seed") is not None:
                values["seed"] = int(values["seed"])
            values["psi"] = float(values.get("psi", 1.0))
            return cls(**values)
        except RecipeError:
            raise
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"malformed recipe: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise RecipeError(f"recipe is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def read_recipe_file(path) -> Recipe:
    """A recipe from a .json file or from a PNG exported by ganstudio (its text chunk)."""
    from pathlib import Path

    from ..imaging import ImageLoadError, read_png_recipe

    path = Path(path)
    try:
        if path.suffix.lower() == ".png":
            data = read_png_recipe(path)
            if data is None:
                raise RecipeError(f"{path.name}: this PNG carries no ganstudio recipe")
            return Recipe.from_dict(data)
        return Recipe.from_json(path.read_text(encoding="utf-8"))
    except ImageLoadError as exc:
        raise RecipeError(str(exc)) from None
    except UnicodeDecodeError:
        raise RecipeError(f"{path.name}: not a text (JSON) file") from None
    except OSError as exc:
        raise RecipeError(f"{path.name}: cannot read ({exc.strerror or exc})") from None


def _edit_from_dict(data: Any) -> Edit:
    if not isinstance(data, dict) or "direction" not in data or "alpha" not in data:
        raise RecipeError("each recipe edit needs 'direction' and 'alpha'")
    direction = str(data["direction"])
    if "/" not in direction:
        raise RecipeError(f"edit direction '{direction}' must look like 'method/name'")
    layers = data.get("layers")
    if layers is not None:
        if len(layers) != 2:
            raise RecipeError(f"edit layers must be [start, stop], got {layers}")
        layers = (int(layers[0]), int(layers[1]))
    return Edit(direction, float(data["alpha"]), layers, tuple(str(k) for k in data.get("keep") or ()))


def _replace(recipe: Recipe, **changes) -> Recipe:
    from dataclasses import replace

    return replace(recipe, **changes)

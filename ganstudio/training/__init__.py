"""The headless training backend: objectives (losses.py), recipes (recipes.py and one module
per family, each registering itself in RECIPES), the loop (loop.py), run folders (runs.py).
`ganstudio train` and `ganstudio export` drive it. Importing the package registers every recipe."""

from ..registry import RECIPES
from . import aegan_recipe, encoder_recipe, recipes, toy_recipe, translation_recipes  # noqa: F401  (registration)
from .train_config import TrainConfig
from .loop import RunResult, Trainer, TrainingError
from .recipes import DataInfo, Phase, Recipe, StepContext

__all__ = ["TrainConfig", "Trainer", "TrainingError", "RunResult", "RECIPES", "Recipe", "Phase", "StepContext",
           "DataInfo"]

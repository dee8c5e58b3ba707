"""The headless training backend: objectives (losses.py), recipes (recipes.py), the loop
(loop.py), run folders (runs.py). `ganstudio train` and `ganstudio export` drive it."""

from .config import TrainConfig
from .loop import RunResult, Trainer, TrainingError
from .recipes import RECIPES, DataInfo, Phase, Recipe, StepContext

__all__ = ["TrainConfig", "Trainer", "TrainingError", "RunResult", "RECIPES", "Recipe", "Phase", "StepContext",
           "DataInfo"]

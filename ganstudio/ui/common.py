"""Wiring helpers shared by the tabs: user-facing errors and the shared model queue."""

from __future__ import annotations

import functools
import inspect
from typing import Callable

import gradio as gr

from ..editing.recipe import Recipe, RecipeError, read_recipe_file
from ..errors import UserError
from ..studio import StudioError

# Small (64 px) model outputs are shown scaled up with crisp pixels; the files stay untouched.
PIXEL_ART = ["gs-pixels"]
CSS = """
.gs-pixels img { width: 100% !important; height: 100% !important; object-fit: contain; image-rendering: pixelated; }
"""

# All model work runs in one concurrency group, so the device is never oversubscribed.
MODEL_GROUP = "model"


def user_errors(fn: Callable) -> Callable:
    """Turn the studio's user-facing exceptions into short gr.Error messages (no stack traces)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except UserError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return wrapper




def recipe_from_upload(path: str | None) -> Recipe:
    """The recipe in an uploaded JSON or ganstudio PNG, or a StudioError saying what is wrong."""
    if not path:
        raise StudioError("choose a recipe file")
    try:
        return read_recipe_file(path)
    except RecipeError as exc:
        raise StudioError(str(exc)) from None

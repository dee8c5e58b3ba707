"""Wiring helpers shared by the tabs: user-facing errors, the shared model queue, and files
handed to Gradio."""

from __future__ import annotations

import functools
import inspect
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import gradio as gr

from ..editing.recipe import Recipe, RecipeError, read_recipe_file
from ..errors import UserError
from ..studio import StudioError

# Small (64 px) model outputs are shown enlarged to fit their boxes, smoothly unless the page's
# "crisp pixels" switch is on (it sets gs-crisp on the page); the files stay at the model's size.
PIXEL_ART = ["gs-pixels"]
CSS = """
.gs-pixels img { width: 100% !important; height: 100% !important; object-fit: contain; image-rendering: auto; }
.gs-crisp .gs-pixels img { image-rendering: pixelated; }
.gs-captions .caption, .gs-captions .caption-label {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; max-width: 100% !important;
}
"""
# The page's switch between smooth and crisp enlargement: a class on the document, set in the browser.
CRISP_JS = "(crisp) => { document.documentElement.classList.toggle('gs-crisp', crisp); return crisp; }"

# The truncation ψ a tab starts from: none. The face model's card measures ψ 0.7 as costing
# half the recall (the variety of faces) and gaining no precision.
DEFAULT_PSI = 1.0

# Tall enough (px) for an upload box to show "Drop File Here - or - Click to Upload" in full.
UPLOAD_HEIGHT = 120

# All model work runs in one concurrency group, so the device is never oversubscribed.
MODEL_GROUP = "model"


def term_plot(value=None, *, y: str, label: str) -> gr.LinePlot:
    """Lines over `step`, one per `term`, with their legend. No fixed height: with one, Gradio
    6.31 clips the legend below the plot and the curves cannot be told apart."""
    return gr.LinePlot(value, x="step", y=y, color="term", label=label)


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


class _Handoff:
    """Files the tabs give Gradio as outputs (exports, animations, a photo sent to Invert).

    Gradio copies an output file into its own cache as the event returns, so ours are needed
    only for a moment: each goes into a fresh subfolder of one folder per process (its name
    stays what the user downloads), subfolders older than KEEP_S go on the next call, and the
    whole folder goes at exit. A long-running public studio then never fills /tmp.
    """

    KEEP_S = 600.0
    SWEEP_EVERY_S = 30.0  # a dragged slider hands off several frames a second; one sweep serves them all

    def __init__(self) -> None:
        self._root: tempfile.TemporaryDirectory | None = None
        self._lock = threading.Lock()
        self._swept = 0.0

    def write(self, name: str, data: bytes) -> str:
        with self._lock:
            if self._root is None:
                self._root = tempfile.TemporaryDirectory(prefix="ganstudio-handoff-")
            root = Path(self._root.name)
            now = time.time()
            if now - self._swept >= self.SWEEP_EVERY_S:
                self._swept = now
                for folder in root.iterdir():
                    if folder.stat().st_mtime < now - self.KEEP_S:
                        shutil.rmtree(folder, ignore_errors=True)
            path = Path(tempfile.mkdtemp(dir=root)) / name
        path.write_bytes(data)
        return str(path)


_HANDOFF = _Handoff()


def handoff_file(name: str, data: bytes) -> str:
    """Write `data` as a file called `name` for a Gradio output; its path (see _Handoff)."""
    return _HANDOFF.write(name, data)


def recipe_from_upload(path: str | None) -> Recipe:
    """The recipe in an uploaded JSON or ganstudio PNG, or a StudioError saying what is wrong."""
    if not path:
        raise StudioError("choose a recipe file")
    try:
        return read_recipe_file(path)
    except RecipeError as exc:
        raise StudioError(str(exc)) from None


def generator_picker(studio) -> gr.Dropdown:
    """The "Model" dropdown of the tabs that draw with a generator, opened on the default one."""
    return gr.Dropdown(studio.model_names("generator"), value=studio.default_model("generator"), label="Model",
                       allow_custom_value=True)

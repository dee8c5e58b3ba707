"""Runs tab: training runs under the runs folder, their loss curves and newest samples, and
"open in the studio" (the latest snapshot exported into a folder the studio lists)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from ...catalogue import Catalogue
from ...errors import StudioError
from ...imaging import ImageLoadError, load_image
from ...training.run_reader import RunSummary, export_for_studio, latest_samples, list_runs, loss_rows
from ..common import MODEL_GROUP, term_plot, user_errors
from ..tab import Handoffs, TabContext


class OpenedRuns:
    """A temporary checkpoints folder, added to the catalogue's folders on first use."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self._folder: tempfile.TemporaryDirectory | None = None

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="ganstudio-opened-runs-")
            self.catalogue.add_checkpoint_dir(self._folder.name)
        return Path(self._folder.name)


def _find(runs_dir: Path, name: str | None) -> RunSummary:
    """The run called `name` among those listed (never a path from the request)."""
    if not name:
        raise StudioError("choose a run first")
    for run in list_runs(runs_dir):
        if run.name == name:
            return run
    raise StudioError(f"no run '{name}' under {runs_dir}")


def _shown(runs_dir: Path, name: str | None) -> tuple[dict, pd.DataFrame, object]:
    """What the tab shows for a run: its summary, loss curves and newest sample picture."""
    if not name:
        return {}, pd.DataFrame(columns=["step", "kimg", "term", "value"]), None
    run = _find(runs_dir, name)
    picture = latest_samples(run.path)
    try:
        image = load_image(picture, name=picture.name) if picture else None
    except ImageLoadError:  # being written, or damaged: the rest of the run still shows
        image = None
    return run.to_json(), pd.DataFrame(loss_rows(run.path), columns=["step", "kimg", "term", "value"]), image


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; opening a run in the studio refreshes the other tabs' model pickers."""
    catalogue, runs_dir, model_pickers = ctx.catalogue, ctx.runs_dir, ctx.pickers
    opened = OpenedRuns(catalogue)
    names = [r.name for r in list_runs(runs_dir)]
    first = _shown(runs_dir, names[0] if names else None)
    with gr.Row():
        refresh = gr.Button("Refresh", scale=0)
        gr.Markdown(f"Runs under `{runs_dir}` (`ganstudio train … --out {runs_dir}`; "
                    "start the studio with `--runs DIR` for another folder).")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            chosen = gr.Dropdown(names, value=names[0] if names else None, label="Run", allow_custom_value=True)
            info = gr.JSON(first[0], label="Run")
            open_btn = gr.Button("Open latest snapshot in the studio", variant="primary")
            status = gr.Markdown()
        with gr.Column(scale=2):
            curve = term_plot(first[1], y="value", label="Losses (stats.jsonl)")
            samples = gr.Image(first[2], label="Newest samples", type="pil", format="png", interactive=False,
                               height=420)

    @user_errors
    def on_refresh(current):
        now = [r.name for r in list_runs(runs_dir)]
        value = current if current in now else (now[0] if now else None)
        return gr.Dropdown(choices=now, value=value), *_shown(runs_dir, value)

    @user_errors
    def show(name):
        return _shown(runs_dir, name)

    @user_errors
    def open_in_studio(name):
        run = _find(runs_dir, name)
        path = export_for_studio(run, opened.folder)
        model = path.relative_to(opened.folder).with_suffix("").as_posix()
        pickers = [gr.Dropdown(choices=catalogue.model_names(kind)) for _, kind in model_pickers]
        return (f"Opened **{model}** (step {run.step}) in the studio: pick it in the other tabs.", *pickers)

    refresh.click(on_refresh, chosen, [chosen, info, curve, samples], api_name="runs_refresh")
    chosen.change(show, chosen, [info, curve, samples], api_name="run_show")
    open_btn.click(open_in_studio, chosen, [status, *(p for p, _ in model_pickers)], api_name="run_open",
                   concurrency_id=MODEL_GROUP)
    return Handoffs()

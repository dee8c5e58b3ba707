"""build_app(studio) -> gr.Blocks. Nothing runs at import time; launch.py launches."""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr

from ..studio import Studio
from . import gradio_cache
from .common import CRISP_JS, MODEL_GROUP, user_errors
from .session_history import SessionHistory
from .tab import Handoffs, Inbox, Picker, Send, TabContext
from .tabs import edit, history, inspect_codes, invert, models, playground, runs, sample, translate

QUEUE_MAX_SIZE = 64
# Gradio's temp folder (uploads, output images): every 30 min, files unused for 2 hours go.
DELETE_CACHE = (1800, 7200)

# (title, id, module) in page order; each module's build(ctx) follows ui/tab.py. A tab's model
# pickers reach the tabs after it, so Models and Runs, which refresh them all, come last.
TABS = (
    ("Sample & Mix", "sample", sample),
    ("Edit", "edit", edit),
    ("Invert", "invert", invert),
    ("Translate", "translate", translate),
    ("History", "history", history),
    ("Inspect codes", "inspect", inspect_codes),
    ("Playground", "playground", playground),
    ("Models", "models", models),
    ("Runs", "runs", runs),
)


def _hand_over(send: Send, inbox: Inbox):
    """The click of a "Send to …" button: its pick, taken by the Inbox, and the page switched to
    that tab. It wears the pick's signature, so the endpoint's parameters are the pick's."""

    @user_errors
    @functools.wraps(send.pick)
    def hand_over(*args, **kwargs):
        return (*inbox.take(send.pick(*args, **kwargs)), gr.Tabs(selected=send.to))

    return hand_over


def _connect(built: dict[str, Handoffs], tabs: gr.Tabs) -> None:
    """Every tab's "Send to …" buttons, each to the Inbox of the tab it names."""
    for handoffs in built.values():
        for send in handoffs.sends:
            inbox = built[send.to].inbox
            send.button.click(_hand_over(send, inbox), send.source, [*inbox.outputs, tabs], api_name=send.api_name,
                              concurrency_id=MODEL_GROUP if inbox.model_work else None)


def build_app(studio: Studio, runs_dir: str = "runs") -> gr.Blocks:
    session = SessionHistory()
    gradio_cache.install()
    with gr.Blocks(title="ganstudio", analytics_enabled=False, delete_cache=DELETE_CACHE) as app:
        with gr.Row():
            gr.Markdown("# ganstudio\nGAN latent exploration and photo editing. Pictures are shown enlarged to "
                        "fit; downloads keep the model's own size (64×64 px for the shipped models).")
            crisp = gr.Checkbox(False, label="Crisp pixels", info="show each model pixel as a square, unsmoothed",
                                scale=0, min_width=200, elem_id="crisp-pixels")
        crisp.change(None, crisp, crisp, js=CRISP_JS, api_name="display_crisp", queue=False)
        with gr.Tabs() as tabs:
            built: dict[str, Handoffs] = {}
            pickers: tuple[Picker, ...] = ()
            for title, tab_id, module in TABS:
                with gr.Tab(title, id=tab_id) as page:
                    built[tab_id] = module.build(TabContext(studio, session, page, Path(runs_dir), pickers))
                pickers += built[tab_id].pickers
            _connect(built, tabs)
    # One worker for model work on a CPU; a GPU can take a couple at once.
    limit = 2 if studio.device.type == "cuda" else 1
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=limit)
    return app

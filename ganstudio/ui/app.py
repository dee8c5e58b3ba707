"""build_app(studio) -> gr.Blocks. Nothing runs at import time; launch.py launches."""

from __future__ import annotations

import gradio as gr

from ..studio import Studio
from .common import CRISP_JS
from . import gradio_cache
from .session_history import SessionHistory
from .tabs import edit as edit_tab
from .tabs import history as history_tab
from .tabs import inspect_codes as inspect_tab
from .tabs import invert as invert_tab
from .tabs import models as models_tab
from .tabs import playground as playground_tab
from .tabs import runs as runs_tab
from .tabs import sample as sample_tab
from .tabs import translate as translate_tab

QUEUE_MAX_SIZE = 64
# Gradio's temp folder (uploads, output images): every 30 min, files unused for 2 hours go.
DELETE_CACHE = (1800, 7200)


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
            with gr.Tab("Sample & Mix", id="sample"):
                sample_picker, link_sample = sample_tab.build(studio, session)
            with gr.Tab("Edit", id="edit"):
                edit = edit_tab.build(studio, session)
            link_sample(edit, tabs, "edit")
            with gr.Tab("Invert", id="invert"):
                invert_picker, invert_upload, inverted, invert_to_translate = invert_tab.build(
                    studio, session, edit, tabs, "edit")
            with gr.Tab("Translate", id="translate"):
                translate_input, translate_picker, translate_sampler, link_translate = translate_tab.build(
                    studio, session)
            link_translate(invert_upload, tabs, "invert")
            for button, image, api_name in [(edit.send_to_translate, edit.after, "edit_to_translate"),
                                            (invert_to_translate, inverted, "invert_to_translate")]:
                button.click(lambda picture: (picture, gr.Tabs(selected="translate")), image,
                             [translate_input, tabs], api_name=api_name)
            with gr.Tab("History", id="history") as history_page:
                history_tab.build(studio, session, edit, tabs, "edit", history_page)
            with gr.Tab("Inspect codes", id="inspect") as inspect_page:
                inspect_picker = inspect_tab.build(studio, inspect_page)
            pickers = [(sample_picker, "generator"), (edit.outputs[0], "generator"), (invert_picker, "generator"),
                       (translate_picker, "translation"), (translate_sampler, "generator"),
                       (inspect_picker, "generator")]
            with gr.Tab("Playground", id="playground"):
                _, toy_picker = playground_tab.build(studio.catalogue)
            pickers.append((toy_picker, "points"))
            with gr.Tab("Models", id="models"):
                models_tab.build(studio.catalogue, pickers)
            with gr.Tab("Runs", id="runs"):
                runs_tab.build(studio.catalogue, runs_dir, pickers)
    # One worker for model work on a CPU; a GPU can take a couple at once.
    limit = 2 if studio.device.type == "cuda" else 1
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=limit)
    return app

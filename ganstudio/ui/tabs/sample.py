"""Sample tab: seeds and truncation in, images out."""

from __future__ import annotations

import gradio as gr

from ...imaging import make_grid
from ...studio import Studio
from ..common import MODEL_GROUP, PIXEL_ART, user_errors


def build(studio: Studio) -> gr.Dropdown:
    names = studio.model_names("G")
    with gr.Row():
        with gr.Column(scale=1):
            model = gr.Dropdown(names, value=names[0] if names else None, label="Model", allow_custom_value=True)
            seeds = gr.Textbox("0", label="Seeds", info="e.g. 0, 1, 2 or 10-17")
            psi = gr.Slider(-1.0, 2.0, value=1.0, step=0.05, label="Truncation ψ")
            go = gr.Button("Sample", variant="primary")
        with gr.Column(scale=2):
            image = gr.Image(label="Samples", type="pil", format="png", interactive=False, height=512,
                             elem_classes=PIXEL_ART)

    @user_errors
    def run(model_name, seed_text, psi_value):
        samples = studio.sample(model_name, seed_text, psi=psi_value)
        pictures = [s.image for s in samples]
        return pictures[0] if len(pictures) == 1 else make_grid(pictures, columns=min(8, len(pictures)))

    go.click(run, [model, seeds, psi], image, api_name="sample", concurrency_id=MODEL_GROUP)
    psi.input(run, [model, seeds, psi], image, api_name="sample_psi", concurrency_id=MODEL_GROUP,
              trigger_mode="always_last")
    return model

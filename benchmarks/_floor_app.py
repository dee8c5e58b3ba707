"""The smallest Gradio app shaped like the studio's /edit endpoint: text in, (64 px PNG image,
text) out, on the same queue settings and image cache, no model. slider_frame.py --floor times it to show
the round trip Gradio itself costs on this machine.

    python benchmarks/_floor_app.py PORT
"""

from __future__ import annotations

import sys

import gradio as gr
from PIL import Image

from ganstudio.ui import gradio_cache

IMAGE = Image.new("RGB", (64, 64), (120, 90, 60))


def edit(recipe: str):
    return IMAGE, recipe


def main() -> None:
    gradio_cache.install()  # as build_app does: identical outputs from concurrent requests are safe
    with gr.Blocks(analytics_enabled=False) as app:
        text = gr.Textbox()
        image = gr.Image(type="pil", format="png")
        out = gr.Textbox()
        gr.Button().click(edit, text, [image, out], api_name="edit")
    app.queue(max_size=64, default_concurrency_limit=1)
    app.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), quiet=True, ssr_mode=False)


if __name__ == "__main__":
    main()

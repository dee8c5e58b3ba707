"""Sample & Mix tab: seeds and truncation, the style-mixing grid, interpolations and latent walks."""

from __future__ import annotations

import random

import gradio as gr
from PIL import Image

from ...editing.layer_ranges import PRESETS, preset_rows
from ...imaging import ANIMATION_FORMATS, animation_bytes, make_grid
from ...latents import MAX_SEEDS_PER_CALL, parse_seeds
from ...studio import Studio, StudioError
from ..common import DEFAULT_PSI, MODEL_GROUP, PIXEL_ART, generator_picker, handoff_file, user_errors
from ..session_history import SessionHistory
from ..tab import Handoffs, Picker, Send, TabContext, recipe_required


def _random_seeds(seed_text):
    count = min(len(parse_seeds(seed_text)) if seed_text.strip() else 8, MAX_SEEDS_PER_CALL)
    return ", ".join(str(random.randrange(2**31)) for _ in range(count))


def _save_animation(images, fmt_name):
    """The animation as a file, and a GIF of it for the preview (the same file when it is one)."""
    path = handoff_file(f"animation.{fmt_name}", animation_bytes(images, fmt_name))
    gif = path if fmt_name == "gif" else handoff_file("preview.gif", animation_bytes(images, "gif"))
    return path, gif


def _captioned_mix(studio: Studio, model_name, rows_text, cols_text, grid, psi_value, noise_mode) -> Image.Image:
    """The mixing grid framed by its sources: the column seeds' samples along the top, the row
    seeds' down the left, each captioned with its seed."""
    row_imgs = [s.image for s in studio.sample(model_name, rows_text, psi=psi_value, noise_mode=noise_mode)]
    col_imgs = [s.image for s in studio.sample(model_name, cols_text, psi=psi_value, noise_mode=noise_mode)]
    blank = Image.new("RGB", col_imgs[0].size, (255, 255, 255))
    cells = [blank, *col_imgs]
    captions = ["", *(f"seed {s}" for s in parse_seeds(cols_text))]
    for r, (line, seed) in enumerate(zip(grid, parse_seeds(rows_text))):
        cells += [row_imgs[r], *(cell.image for cell in line)]
        captions += [f"seed {seed}", *([""] * len(line))]
    return make_grid(cells, columns=len(col_imgs) + 1, padding=2, captions=captions)


def _describe(seed: int, condition: str | None) -> str:
    """A sample's caption: its seed, and the condition a conditional model was told."""
    return f"seed {seed}" + (f" · {condition}" if condition else "")


class _Sampling:
    """The tab's events (their parameter names are the API's); samples and mixes go into the session history."""

    def __init__(self, studio: Studio, session: SessionHistory):
        self.studio, self.session = studio, session

    @user_errors
    def sample(self, model_name, seed_text, psi_value, cutoff_value, noise_mode, condition_text, request: gr.Request):
        cutoff_layers = int(cutoff_value) or None
        samples = self.studio.sample(model_name, seed_text, psi=psi_value, cutoff=cutoff_layers, noise_mode=noise_mode,
                                     condition=condition_text)
        for s in reversed(samples):  # newest first: the first seed ends on top
            recipe = self.studio.seed_recipe(model_name, s.seed, psi=psi_value, cutoff=cutoff_layers,
                                             noise_mode=noise_mode, condition=s.condition)
            self.session.add(request, s.image, recipe.to_dict())
        return [(s.image, _describe(s.seed, s.condition)) for s in samples]

    @user_errors
    def on_select(self, model_name, seed_text, psi_value, cutoff_value, noise_mode, condition_text,
                  event: gr.SelectData):
        seed = parse_seeds(seed_text)[event.index]
        recipe = self.studio.seed_recipe(model_name, seed, psi=psi_value, cutoff=int(cutoff_value) or None,
                                         noise_mode=noise_mode, condition=condition_text)
        return recipe.to_dict(), f"Selected: {_describe(seed, recipe.condition)}"

    @user_errors
    def mix(self, model_name, rows_text, cols_text, preset_name, start_row, stop_row, psi_value, noise_mode,
            request: gr.Request):
        G = self.studio.generator(model_name)
        rows = (int(start_row), int(stop_row)) if preset_name == "custom" else preset_rows(preset_name, G.num_ws)
        grid = self.studio.mix(model_name, rows_text, cols_text, rows, psi=psi_value, noise_mode=noise_mode)
        image = _captioned_mix(self.studio, model_name, rows_text, cols_text, grid, psi_value, noise_mode)
        self.session.add(request, image, {"command": "mix", "model": model_name, "rows": rows_text,
                                          "columns": cols_text, "layers": list(rows), "psi": psi_value,
                                          "noise_mode": noise_mode})
        return image

    @user_errors
    def interpolate(self, model_name, a, b, space_name, n_frames, fmt_name, psi_value):
        if a is None or b is None or a < 0 or b < 0:
            raise StudioError("seeds must be whole numbers >= 0")
        ra = self.studio.seed_recipe(model_name, int(a), psi=psi_value)
        rb = self.studio.seed_recipe(model_name, int(b), psi=psi_value)
        return _save_animation(self.studio.interpolate(ra, rb, frames=int(n_frames), space=space_name), fmt_name)

    @user_errors
    def walk(self, model_name, seed_text, space_name, n_frames, fmt_name, psi_value):
        n_seeds = len(parse_seeds(seed_text))
        per_step = max(2, int(n_frames) // max(1, n_seeds))
        return _save_animation(self.studio.walk(model_name, seed_text, per_step, space=space_name, psi=psi_value),
                               fmt_name)


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; "Send selected to Edit" sends the selected sample's recipe."""
    studio = ctx.studio
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = generator_picker(studio)
            with gr.Row():
                seeds = gr.Textbox("0-7", label="Seeds", info="e.g. 0, 1, 2 or 10-17", scale=3)
                dice = gr.Button("🎲 Random", scale=1, min_width=80)
            psi = gr.Slider(-1.0, 2.0, value=DEFAULT_PSI, step=0.05, label="Truncation ψ", elem_id="sample-psi")
            with gr.Row():
                cutoff = gr.Number(0, label="ψ layer cutoff (0 = all layers)", precision=0, minimum=0)
                noise = gr.Radio(["const", "random", "none"], value="const", label="Noise")
            condition = gr.Textbox("", label="Condition (conditional models)", elem_id="sample-condition",
                                   info="a class, attributes or InfoGAN codes (c1=3, c2=0.5); empty: from each seed")
            go = gr.Button("Sample", variant="primary")
        with gr.Column(scale=2):
            gallery = gr.Gallery(label="Samples (select one, then send it on)", columns=4, height=420, elem_id="samples",
                                 format="png", object_fit="contain", elem_classes=PIXEL_ART)
            # The gallery's captions are cut to a line; a conditional model's full condition shows here.
            selected_text = gr.Markdown("", elem_id="sample-selected")
            send_edit = gr.Button("Send selected to Edit")
    selected = gr.State(None)  # the recipe (dict) of the selected sample

    with gr.Accordion("Style mixing", open=True):
        with gr.Row():
            row_seeds = gr.Textbox("1, 2, 3", label="Row seeds (give their styles)")
            col_seeds = gr.Textbox("10, 11, 12, 13", label="Column seeds (receive them)")
            preset = gr.Dropdown([*PRESETS[1:], "custom"], value="coarse", label="Layers")
            start = gr.Number(0, label="custom: from row", precision=0, minimum=0)
            stop = gr.Number(4, label="to row (exclusive)", precision=0, minimum=1)
        mix_btn = gr.Button("Mix")
        mix_image = gr.Image(label="Mixing grid (top: columns, left: rows)", type="pil", format="png",
                             interactive=False, height=480, elem_classes=PIXEL_ART, elem_id="mix-grid")

    with gr.Accordion("Interpolation and latent walk", open=False):
        with gr.Row():
            seed_a = gr.Number(1, label="From seed", precision=0, minimum=0)
            seed_b = gr.Number(2, label="To seed", precision=0, minimum=0)
            space = gr.Radio([("slerp in z", "z"), ("lerp in w", "w")], value="w", label="Path")
            frames = gr.Slider(2, 120, value=24, step=1, label="Frames")
            fmt = gr.Radio(list(ANIMATION_FORMATS), value="gif", label="Format")
        with gr.Row():
            lerp_btn = gr.Button("Interpolate")
            walk_seeds = gr.Textbox("1, 2, 3, 4", label="Walk through seeds (loops)")
            walk_btn = gr.Button("Latent walk")
        animation = gr.File(label="Animation", interactive=False)
        preview = gr.Image(label="Preview (GIF)", type="filepath", interactive=False, height=256,
                           elem_classes=PIXEL_ART, elem_id="walk-preview")

    on = _Sampling(studio, ctx.session)
    sample_inputs = [model, seeds, psi, cutoff, noise, condition]
    go.click(on.sample, sample_inputs, gallery, api_name="sample", concurrency_id=MODEL_GROUP)
    psi.input(on.sample, sample_inputs, gallery, api_name="sample_psi", concurrency_id=MODEL_GROUP,
              trigger_mode="always_last")
    dice.click(user_errors(_random_seeds), seeds, seeds, api_name="random_seeds", queue=False).then(
        on.sample, sample_inputs, gallery, api_name="sample_random", concurrency_id=MODEL_GROUP)
    gallery.select(on.on_select, sample_inputs, [selected, selected_text], api_name="sample_select")
    mix_btn.click(on.mix, [model, row_seeds, col_seeds, preset, start, stop, psi, noise], mix_image, api_name="mix",
                  concurrency_id=MODEL_GROUP)
    lerp_btn.click(on.interpolate, [model, seed_a, seed_b, space, frames, fmt, psi], [animation, preview],
                   api_name="interpolate", concurrency_id=MODEL_GROUP)
    walk_btn.click(on.walk, [model, walk_seeds, space, frames, fmt, psi], [animation, preview], api_name="walk",
                   concurrency_id=MODEL_GROUP)
    to_edit = Send(send_edit, selected, "edit", "sample_to_edit", recipe_required("select a sample first"))
    return Handoffs(pickers=(Picker(model, "generator"),), sends=(to_edit,))

"""Edit tab: attribute sliders over a sampled, inverted or loaded face; before/after, undo/redo, export."""

from __future__ import annotations

import gradio as gr

from ...editing import history as hist
from ...editing.directions import DirectionSet
from ...editing.layer_ranges import PRESETS, preset_rows
from ...editing.recipe import Recipe
from ...imaging import jpeg_bytes, png_bytes
from ...studio import Studio, StudioError
from ..common import (DEFAULT_PSI, MODEL_GROUP, PIXEL_ART, UPLOAD_HEIGHT, generator_picker, handoff_file,
                      recipe_from_upload, user_errors)
from ..session_history import SessionHistory
from ..tab import Handoffs, Inbox, Picker, Send, TabContext

MAX_SLIDERS = 16
SLIDER_RANGE = 3.0
IMAGE_HEIGHT = 320
JPEG_FRAMES_FROM = 256  # px: a dragged slider's frames this wide go as JPEG (PNG: 340 ms at 1024 px, JPEG 3 ms)


def _slider_updates(ds: DirectionSet | None, values=None):
    """One slider per direction, a picked set's sliders saying where each came from."""
    names_now, values = (ds.names if ds else []), values or [0.0] * MAX_SLIDERS
    return [
        gr.Slider(label=names_now[i] if i < len(names_now) else "", visible=i < len(names_now), value=values[i],
                  info=ds.origin_note(names_now[i]) if i < len(names_now) else "")
        for i in range(MAX_SLIDERS)
    ]


def _keep_update(names_now, kept=()):
    """What "Keep fixed" offers: the directions of the set in use, the only ones an edit can be
    made orthogonal to (the model's labels may name attributes the set has no direction for)."""
    return gr.CheckboxGroup(choices=names_now, value=[k for k in kept if k in names_now])


class _Editor:
    """The tab's events (their parameter names and docstrings are the API's). A face is a base
    recipe (no edits) and the slider values; each event renders it again through the studio."""

    def __init__(self, studio: Studio, session: SessionHistory):
        self.studio, self.session = studio, session

    def direction_set(self, model_name, method_name) -> DirectionSet | None:
        return (self.studio.directions(model_name) if model_name else {}).get(method_name)

    def render(self, model_name, base, method_name, preset, keep_names, *values, preview=False):
        if base is None:
            return None, None
        base_recipe = Recipe.from_dict(base)
        ds = self.direction_set(model_name, method_name)
        names_now = ds.names if ds else []
        alphas = {n: float(v) for n, v in zip(names_now, values)}
        rows = None
        if preset != "all":
            rows = preset_rows(preset, self.studio.generator(base_recipe.model).num_ws)
        rendered = self.studio.edit(base_recipe, method_name, alphas, rows, keep_names or (), preview=preview) \
            if names_now else self.studio.render(base_recipe, preview=preview)
        return rendered.image, rendered.recipe.to_dict()

    live = user_errors(render)  # the edit as the controls stand (Keep fixed, Layers, undo and redo)

    def load(self, model_name, base: Recipe, edits=()):
        """A new starting point: method choices, sliders (set from `edits`), before and after."""
        studio = self.studio
        sets = studio.directions(model_name)
        used = {e.method for e in edits}
        method_name = next(iter(used)) if len(used) == 1 else studio.catalogue.default_directions(model_name)
        names_now = sets[method_name].names if method_name in sets else []
        values = [0.0] * MAX_SLIDERS
        for e in edits:
            if e.method == method_name and e.name in names_now:
                values[names_now.index(e.name)] = e.alpha
        before_image = studio.render(base).image
        shown = studio.render(base.with_edits(edits)) if edits else None
        return (gr.Dropdown(value=model_name), base.to_dict(), gr.Dropdown(choices=list(sets), value=method_name),
                _keep_update(names_now, edits[0].keep if edits else ()),
                before_image, shown.image if shown else before_image,
                (shown.recipe if shown else base).to_dict(), hist.new_history(values),
                *_slider_updates(sets.get(method_name), values),
                # the seed and psi boxes say where this face came from (an inverted face has no seed)
                gr.Number(value=base.seed) if base.seed is not None else gr.Number(), gr.Slider(value=base.psi))

    def recorded(self, request, updates):
        """Put a freshly loaded starting point (the After image and its recipe) into the History."""
        self.session.add(request, updates[5], updates[6])
        return updates

    @user_errors
    def from_seed(self, model_name, seed_value, psi_value, request: gr.Request):
        if seed_value is None:
            raise StudioError("seed: enter a whole number")
        recipe = self.studio.seed_recipe(model_name, int(seed_value), psi=psi_value)
        return self.recorded(request, self.load(model_name, recipe))

    @user_errors
    def from_file(self, path, request: gr.Request):
        loaded = recipe_from_upload(path)
        return self.recorded(request, self.load(loaded.model, loaded.with_edits(()), loaded.edits))

    @user_errors
    def from_recipe(self, recipe_dict):
        """For other tabs: open a recipe (e.g. an inversion result) here."""
        loaded = Recipe.from_dict(recipe_dict)
        return self.load(loaded.model, loaded.with_edits(()), loaded.edits)

    @user_errors
    def on_method(self, model_name, base, method_name, preset):
        image, shown = self.render(model_name, base, method_name, preset, (), *([0.0] * MAX_SLIDERS))
        ds = self.direction_set(model_name, method_name)
        return (image, shown, hist.new_history([0.0] * MAX_SLIDERS), _keep_update(ds.names if ds else []),
                *_slider_updates(ds))

    @user_errors
    def drag(self, *inputs):
        """A frame while a slider moves: on a large model the cheap preview (ganstudio.previews; the
        release draws it whole), sent as a JPEG file, which Gradio passes on as it is: encoding a
        1024 px frame as the PNG the After image keeps would take longer than drawing the preview."""
        image, shown = self.render(*inputs, preview=True)
        if image is not None and image.width >= JPEG_FRAMES_FROM:
            image = handoff_file("preview.jpg", jpeg_bytes(image))
        return image, shown

    @user_errors
    def record(self, h, model_name, base, method_name, preset, keep_names, request: gr.Request, *values):
        """A released slider: the edit at the values released, rendered again (the last frame
        drawn during the drag may be of an earlier value), as the After image, one undo step and
        an entry in the session's history, so History, Export and "Open in Edit" show what the
        user sees."""
        image, shown = self.render(model_name, base, method_name, preset, keep_names, *values)
        self.session.add(request, image, shown)
        return hist.push(h, [float(v) for v in values]), image, shown

    def show_step(self, h, model_name, base, method_name, preset, keep_names):
        """After an undo or redo: the edit at the history's current values, the sliders set to them."""
        image, shown = self.live(model_name, base, method_name, preset, keep_names, *h["current"])
        return (h, image, shown, *[gr.Slider(value=v) for v in h["current"]])

    def undo(self, h, *a):
        return self.show_step(hist.undo(h), *a)

    def redo(self, h, *a):
        return self.show_step(hist.redo(h), *a)

    @user_errors
    def reset(self, model_name, base, method_name, preset, keep_names, h):
        zeros = [0.0] * MAX_SLIDERS
        image, shown = self.render(model_name, base, method_name, preset, keep_names, *zeros)
        return (hist.push(h, zeros), image, shown, *[gr.Slider(value=0.0) for _ in range(MAX_SLIDERS)])

    @user_errors
    def export(self, shown):
        if not shown:
            raise StudioError("nothing to export yet: start from a seed, a recipe or an inversion")
        rendered = self.studio.render(Recipe.from_dict(shown))
        path = handoff_file(f"{rendered.recipe.model.replace('/', '_')}-edit.png",
                            png_bytes(rendered.image, rendered.recipe.to_dict()))
        return gr.File(value=path, visible=True)

    @user_errors
    def api_edit(self, recipe_json: str):
        """API: render any recipe JSON (with edits) — the scriptable form of the sliders."""
        rendered = self.studio.render(Recipe.from_json(recipe_json))
        return rendered.image, rendered.recipe.to_dict()


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; other tabs send it recipes to open (its Inbox), and "Send to
    Translate" sends the After image."""
    studio = ctx.studio
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = generator_picker(studio)
            with gr.Row():
                seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                psi = gr.Slider(0.0, 1.0, value=DEFAULT_PSI, step=0.05, label="Truncation ψ")
            start = gr.Button("Start from this seed")
            recipe_file = gr.File(label="…or load a recipe (JSON, or a PNG exported by ganstudio)",
                                  file_types=[".json", ".png"], type="filepath", height=UPLOAD_HEIGHT)
            method = gr.Dropdown([], label="Direction method", allow_custom_value=True)
            keep = gr.CheckboxGroup([], label="Keep fixed (conditional edit)")
            layers = gr.Dropdown(list(PRESETS), value="all", label="Layers (w+ rows)")
        with gr.Column(scale=2):
            with gr.Row():
                before = gr.Image(label="Before", type="pil", format="png", interactive=False, height=IMAGE_HEIGHT,
                                  elem_classes=PIXEL_ART)
                after = gr.Image(label="After", type="pil", format="png", interactive=False, height=IMAGE_HEIGHT,
                                 elem_classes=PIXEL_ART, elem_id="edit-after")
            sliders = [gr.Slider(-SLIDER_RANGE, SLIDER_RANGE, value=0.0, step=0.05, visible=False,
                                 elem_id=f"edit-slider-{i}") for i in range(MAX_SLIDERS)]
            with gr.Row():
                undo_btn, redo_btn, reset_btn = gr.Button("Undo"), gr.Button("Redo"), gr.Button("Reset")
                export_btn = gr.Button("Export PNG + recipe", variant="primary")
                to_translate = gr.Button("Send to Translate")
            exported = gr.File(label="Download", interactive=False, visible=False)
            with gr.Accordion("Recipe", open=False):
                recipe_view = gr.JSON(label="Recipe")
    recipe = gr.State(None)  # the base recipe (no edits), as a dict
    history = gr.State(hist.new_history([0.0] * MAX_SLIDERS))

    on = _Editor(studio, ctx.session)
    load_outputs = [model, recipe, method, keep, before, after, recipe_view, history, *sliders, seed, psi]
    start.click(on.from_seed, [model, seed, psi], load_outputs, api_name="edit_start", concurrency_id=MODEL_GROUP)
    recipe_file.upload(on.from_file, recipe_file, load_outputs, api_name="edit_load_recipe",
                       concurrency_id=MODEL_GROUP)
    method.input(on.on_method, [model, recipe, method, layers], [after, recipe_view, history, keep, *sliders],
                 api_name="edit_method", concurrency_id=MODEL_GROUP)
    live_inputs = [model, recipe, method, layers, keep, *sliders]
    for i, slider in enumerate(sliders):
        slider.input(on.drag, live_inputs, [after, recipe_view], api_name=f"edit_slider_{i}",
                     concurrency_id=MODEL_GROUP, trigger_mode="always_last")
        # in the model queue, so it runs after the drag's frames and its image is the last shown
        slider.release(on.record, [history, model, recipe, method, layers, keep, *sliders],
                       [history, after, recipe_view], api_name=f"edit_record_{i}", concurrency_id=MODEL_GROUP)
    for control, name in ((keep, "edit_keep"), (layers, "edit_layers")):
        control.input(on.live, live_inputs, [after, recipe_view], api_name=name, concurrency_id=MODEL_GROUP,
                      trigger_mode="always_last")
    for button, step, name in ((undo_btn, on.undo, "edit_undo"), (redo_btn, on.redo, "edit_redo")):
        button.click(step, [history, model, recipe, method, layers, keep], [history, after, recipe_view, *sliders],
                     api_name=name, concurrency_id=MODEL_GROUP)
    reset_btn.click(on.reset, [model, recipe, method, layers, keep, history], [history, after, recipe_view, *sliders],
                    api_name="edit_reset", concurrency_id=MODEL_GROUP)
    export_btn.click(on.export, recipe_view, exported, api_name="edit_export", concurrency_id=MODEL_GROUP)
    api_in = gr.Textbox(visible=False)
    api_in.submit(on.api_edit, api_in, [after, recipe_view], api_name="edit", concurrency_id=MODEL_GROUP)
    return Handoffs(pickers=(Picker(model, "generator"),),
                    inbox=Inbox(load_outputs, on.from_recipe, model_work=True),
                    sends=(Send(to_translate, after, "translate", "edit_to_translate"),))

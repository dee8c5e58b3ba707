"""History tab: every image this session made, with its recipe; reopen, download, or
reproduce an image from a recipe file (JSON, or a PNG exported by ganstudio)."""

from __future__ import annotations


import gradio as gr

from ...imaging import png_bytes
from ...studio import StudioError
from ..common import MODEL_GROUP, PIXEL_ART, UPLOAD_HEIGHT, handoff_file, recipe_from_upload, user_errors
from ..tab import Handoffs, Send, TabContext


def _is_latent_recipe(recipe: dict | None) -> bool:
    return bool(recipe) and "command" not in recipe


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab (it shows the session's history whenever it is opened); "Open in
    Edit" sends the selected image's recipe to Edit."""
    studio, session = ctx.studio, ctx.session
    with gr.Row():
        with gr.Column(scale=2):
            gallery = gr.Gallery(label="Made in this session (newest first)", columns=4, height=480, format="png",
                                 object_fit="contain", elem_id="history", elem_classes=[*PIXEL_ART, "gs-captions"])
            refresh = gr.Button("Refresh")
        with gr.Column(scale=1, min_width=280):
            recipe_view = gr.JSON(label="Recipe of the selected image")
            with gr.Row():
                to_edit = gr.Button("Open in Edit")
                download = gr.Button("Download PNG + recipe")
            exported = gr.File(label="Download", interactive=False, visible=False)
            recipe_file = gr.File(label="Reproduce from a recipe (JSON, or a PNG exported by ganstudio)",
                                  file_types=[".json", ".png"], type="filepath", height=UPLOAD_HEIGHT)
    # The selected entry's index: a hidden field rather than a gr.State, so API callers can pass it too.
    chosen = gr.Number(None, precision=0, visible=False)

    def show(request: gr.Request):
        return [(e.image, e.caption) for e in session.entries(request)]

    def on_select(event: gr.SelectData, request: gr.Request):
        entries = session.entries(request)
        if not 0 <= event.index < len(entries):
            return None, None
        return event.index, entries[event.index].recipe

    def entry(index, request: gr.Request):
        entries = session.entries(request)
        if index is None or not 0 <= int(index) < len(entries):
            raise StudioError("select an image in the history first")
        return entries[int(index)]

    # the pick of "Open in Edit" (no docstring: it would describe the endpoint)
    def open_in_edit(index, request: gr.Request):
        chosen_entry = entry(index, request)
        if not _is_latent_recipe(chosen_entry.recipe):
            raise StudioError("this image has no latent code to edit (a translation); send it to Invert instead")
        return chosen_entry.recipe

    @user_errors
    def save(index, request: gr.Request):
        chosen_entry = entry(index, request)
        path = handoff_file(f"ganstudio-{int(index):02d}.png", png_bytes(chosen_entry.image, chosen_entry.recipe))
        return gr.File(value=path, visible=True)

    @user_errors
    def reproduce(path, request: gr.Request):
        rendered = studio.render(recipe_from_upload(path))
        session.add(request, rendered.image, rendered.recipe.to_dict())
        return show(request), rendered.recipe.to_dict(), 0

    ctx.page.select(show, None, gallery, api_name="history_tab", queue=False)
    refresh.click(show, None, gallery, api_name="history", queue=False)
    gallery.select(on_select, None, [chosen, recipe_view], api_name="history_select", queue=False)
    download.click(save, chosen, exported, api_name="history_download", queue=False)
    recipe_file.upload(reproduce, recipe_file, [gallery, recipe_view, chosen], api_name="history_reproduce",
                       concurrency_id=MODEL_GROUP)
    return Handoffs(sends=(Send(to_edit, chosen, "edit", "history_to_edit", open_in_edit),))

"""Models tab: what is in the checkpoint folders, from headers only, with model cards."""

from __future__ import annotations

import gradio as gr

from ...catalogue import Catalogue
from ..tab import Handoffs, TabContext

EMPTY_STATE = """\
### No models yet

ganstudio found no checkpoints in {folders}.

* **Train one**: `ganstudio train gan --data synthfaces:64 --out runs/`, then
  `ganstudio export runs/<run> --out checkpoints/my-model.safetensors`.
* **Import one**: `ganstudio import stylegan2-pt ffhq.pt --size 1024 --out checkpoints/ffhq.safetensors`.
* **Bring your own folder**: `python launch.py --checkpoints /path/to/models`.

New files appear here after **Refresh**, without restarting.
"""


def models_table(catalogue: Catalogue) -> list[list[str]]:
    rows = []
    for e in catalogue.models():
        if e.info is None:
            rows.append([e.name, "unreadable", "", "", "", e.error or ""])
            continue
        i = e.info
        rows.append([
            e.name, i.arch, ", ".join(i.roles), str(i.resolution or ""), ", ".join(i.labels), i.dataset or "",
        ])
    return rows


def model_details(catalogue: Catalogue, name: str | None) -> tuple[dict, str]:
    if not name:
        return {}, ""
    for e in catalogue.models():
        if e.name == name:
            info = e.info.to_json() if e.info else {"error": e.error}
            return info, e.card or "_No model card (`NAME.md` beside the checkpoint)._"
    return {}, ""


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; **Refresh** also refreshes the other tabs' model pickers (`ctx.pickers`)."""
    catalogue, model_pickers = ctx.catalogue, ctx.pickers
    names = catalogue.model_names()
    folders = ", ".join(f"`{d}`" for d in catalogue.checkpoint_dirs)
    empty = gr.Markdown(EMPTY_STATE.format(folders=folders), visible=not names)
    with gr.Row():
        refresh = gr.Button("Refresh", scale=0)
    table = gr.Dataframe(
        headers=["model", "arch", "networks", "px", "labels", "dataset / error"],
        value=models_table(catalogue), interactive=False, wrap=True,
        column_widths=["16%", "13%", "13%", "5%", "31%", "22%"],
    )
    first = names[0] if names else None
    chosen = gr.Dropdown(names, value=first, label="Details for", allow_custom_value=True)
    first_header, first_card = model_details(catalogue, first)  # shown on opening, not only after a change
    with gr.Row():
        header = gr.JSON(first_header, label="Header")
        with gr.Column(scale=2):  # the card's tables need the width more than the header does
            card = gr.Markdown(first_card)

    def on_refresh(current):
        names_now = catalogue.model_names()
        value = current if current in names_now else (names_now[0] if names_now else None)
        pickers = [gr.Dropdown(choices=catalogue.model_names(kind)) for _, kind in model_pickers]
        return (gr.Markdown(visible=not names_now), models_table(catalogue),
                gr.Dropdown(choices=names_now, value=value), *pickers)

    refresh.click(on_refresh, chosen, [empty, table, chosen, *(p for p, _ in model_pickers)], api_name="refresh_models")
    chosen.change(lambda n: model_details(catalogue, n), chosen, [header, card], api_name="model_info")
    return Handoffs()

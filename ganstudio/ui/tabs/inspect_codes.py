"""Code inspection tab: traversal grids, InfoGAN code sweeps, direction leakage and cosines,
and the disentanglement score. All work is in ganstudio.inspection; this only wires widgets."""

from __future__ import annotations

import gradio as gr

from ...editing.layer_ranges import PRESETS, preset_rows
from ...inspection import Inspector, MAX_STEPS
from ...studio import StudioError
from ..common import DEFAULT_PSI, MODEL_GROUP, PIXEL_ART, user_errors
from ..tab import Handoffs, Picker, TabContext

LAYER_CHOICES = [*PRESETS, "custom"]


class _Inspection:
    """The tab's events (their parameter names and docstrings are the API's), over one Inspector."""

    def __init__(self, inspector: Inspector):
        self.inspector, self.studio = inspector, inspector.studio

    # what the tab shows for a model: its description, axes, direction methods, data set and judge
    def on_model(self, model_name):
        studio, inspector = self.studio, self.inspector
        if model_name not in studio.model_names("generator"):
            return "", gr.Dropdown(choices=[]), gr.Dropdown(choices=[]), gr.CheckboxGroup(choices=[]), "", gr.Dropdown()
        axes = inspector.axes(model_name)
        sets = list(inspector.studio.directions(model_name))
        spec = studio.condition_spec(model_name)
        info = studio.catalogue.entry(model_name).info
        text = f"**{model_name}**: {info.arch}, {studio.generator(model_name).num_ws} w+ rows"
        if spec is not None:
            text += f"; conditional: {spec.help()}"
        data_default = f"{info.dataset.split('?')[0]}?n=500&seed=7" if info.dataset else ""
        return (text, gr.Dropdown(choices=axes, value=axes[0]),
                gr.Dropdown(choices=sets, value=sets[0] if sets else None),
                gr.CheckboxGroup(choices=sets, value=[m for m in sets if m in ("mean_diff", "svm")] or sets[:1]),
                data_default, gr.Dropdown(choices=inspector.judges(), value=inspector.judge_for(model_name)))

    def on_model_switch(self, model_name):
        """Another model: its axes and methods, and no result left over from the last one."""
        return (*self.on_model(model_name), None, "", None, None, None, None)

    def on_axis(self, model_name, axis_name):
        return self.inspector.axis_range(model_name, axis_name or "")

    def rows_of(self, model_name, preset, start_row, stop_row):
        if preset == "custom":
            return int(start_row), int(stop_row)
        return preset_rows(preset, self.studio.generator(model_name).num_ws)

    @user_errors
    def traverse(self, model_name, axis_name, seed_text, lo_v, hi_v, n_steps, preset, start_row, stop_row, psi_v,
                 cond):
        if not axis_name:
            raise StudioError("choose an axis")
        rows = self.rows_of(model_name, preset, start_row, stop_row)
        result = self.inspector.traverse(model_name, axis_name, seed_text, float(lo_v), float(hi_v), int(n_steps),
                                         layers=rows, psi=float(psi_v), condition=cond)
        parts = [f"**{result.axis}** at " + ", ".join(f"{v:g}" for v in result.values),
                 f"seeds {', '.join(map(str, result.seeds))}", result.rows_text()]
        return result.grid(), " · ".join(p for p in parts if p)

    @user_errors
    def leakage(self, model_name, method_name, judge_name, n, alpha_v, progress=gr.Progress()):
        if not method_name or not judge_name:
            raise StudioError("choose a direction method and a judge")
        matrix = self.inspector.leakage(model_name, method_name, judge_name, n=int(n), alpha=float(alpha_v),
                                        progress=lambda k, total: progress(k / total, desc=f"direction {k} of {total}"))
        return matrix.heatmap(), matrix.to_json()

    @user_errors
    def cosines(self, model_name, chosen):
        return self.inspector.cosines(model_name, list(chosen or [])).heatmap()

    @user_errors
    def disentanglement(self, model_name, spec, n):
        if not spec.strip():
            raise StudioError("give a data set with ground-truth factors, e.g. synthfaces:64?n=500&seed=7")
        return self.inspector.disentanglement(model_name, spec.strip(), n=int(n))


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab. Axes and methods are filled in when the page is opened, so the
    app starts without loading models."""
    studio = ctx.studio
    inspector = Inspector(studio)
    names = studio.model_names("generator")
    judges = inspector.judges()
    first_model = studio.default_model("generator")
    with gr.Row():
        model = gr.Dropdown(names, value=first_model, label="Model", allow_custom_value=True, scale=2,
                            elem_id="inspect-model")
        about = gr.Markdown(elem_id="inspect-about")

    with gr.Accordion("Traversal grid", open=True):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                axis = gr.Dropdown([], label="Axis", allow_custom_value=True, elem_id="inspect-axis",
                                   info="a direction, an InfoGAN code (c1, c2, …), or type z[i] / w[i] for any dimension")
                seeds = gr.Textbox("0-3", label="Seeds (one row each)")
                with gr.Row():
                    lo = gr.Number(-3.0, label="From")
                    hi = gr.Number(3.0, label="To")
                    steps = gr.Slider(2, MAX_STEPS, value=7, step=1, label="Steps")
                with gr.Row():
                    layers = gr.Dropdown(LAYER_CHOICES, value="all", label="Layers (w+ rows)")
                    start = gr.Number(0, label="custom: from row", precision=0, minimum=0)
                    stop = gr.Number(4, label="to row (exclusive)", precision=0, minimum=1)
                psi = gr.Slider(0.0, 1.0, value=DEFAULT_PSI, step=0.05, label="Truncation ψ")
                condition = gr.Textbox("", label="Condition (conditional models; empty: from each seed)")
                go = gr.Button("Traverse", variant="primary")
            with gr.Column(scale=2):
                grid = gr.Image(label="Rows: seeds · columns: values", type="pil", format="png", interactive=False,
                                height=420, elem_classes=PIXEL_ART, elem_id="inspect-grid")
                values = gr.Markdown()

    with gr.Accordion("Which attributes each direction moves (leakage)", open=False):
        gr.Markdown("A judge trained on real images decides every attribute on samples pushed to −α and +α "
                    "along each direction; a cell is the mean change of that attribute's probability. "
                    "The intended attribute should be red, the rest white.")
        with gr.Row():
            method = gr.Dropdown([], label="Direction method", allow_custom_value=True)
            # the judge for the model shown first, so an API call that leaves it out gets a fitting one
            judge = gr.Dropdown(judges, value=inspector.judge_for(first_model) if first_model else None, label="Judge",
                                allow_custom_value=True)
            samples = gr.Slider(8, 256, value=64, step=8, label="Samples")
            alpha = gr.Slider(0.5, 5.0, value=3.0, step=0.5, label="α")
        leak_btn = gr.Button("Measure leakage")
        leak_map = gr.Image(label="Leakage heat map", type="pil", format="png", interactive=False,
                            elem_id="inspect-leakage")
        leak_table = gr.JSON(label="Values")

    with gr.Accordion("Cosine similarity between directions", open=False):
        methods = gr.CheckboxGroup([], label="Methods")
        cos_btn = gr.Button("Compare")
        cos_map = gr.Image(label="Cosine similarity", type="pil", format="png", interactive=False)

    with gr.Accordion("Disentanglement of the encoder's codes", open=False):
        gr.Markdown("DCI (Lasso importances) and MIG of E(x) against the data set's ground-truth factors "
                    "(SynthFaces renders them with every image).")
        with gr.Row():
            data = gr.Textbox("", label="Data set", info="e.g. synthfaces:64?n=500&seed=7")
            n_images = gr.Slider(100, 2000, value=500, step=100, label="Images")
        score_btn = gr.Button("Score")
        score = gr.JSON(label="DCI and MIG")

    on = _Inspection(inspector)
    model_outputs = [about, axis, method, methods, data, judge]
    results = [grid, values, leak_map, leak_table, cos_map, score]
    model.change(user_errors(on.on_model_switch), model, model_outputs + results, api_name="inspect_model")
    ctx.page.select(user_errors(on.on_model), model, model_outputs, api_name="inspect_open")
    axis.change(user_errors(on.on_axis), [model, axis], [lo, hi], api_name="inspect_axis_range")
    go.click(on.traverse, [model, axis, seeds, lo, hi, steps, layers, start, stop, psi, condition], [grid, values],
             api_name="traverse", concurrency_id=MODEL_GROUP)
    leak_btn.click(on.leakage, [model, method, judge, samples, alpha], [leak_map, leak_table], api_name="leakage",
                   concurrency_id=MODEL_GROUP)
    cos_btn.click(on.cosines, [model, methods], cos_map, api_name="direction_cosines", concurrency_id=MODEL_GROUP)
    score_btn.click(on.disentanglement, [model, data, n_images], score, api_name="disentanglement",
                    concurrency_id=MODEL_GROUP)
    return Handoffs(pickers=(Picker(model, "generator"),))

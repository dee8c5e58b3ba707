"""Translate tab: CycleGAN direction or StarGAN target attributes, side by side and into every domain."""

from __future__ import annotations


import gradio as gr

from ...domains import request_choices
from ...imaging import load_image
from ...studio import Studio, StudioError
from ...translate import TranslateError, translation_spec
from ..common import DEFAULT_PSI, MODEL_GROUP, PIXEL_ART, user_errors
from ..tab import Handoffs, Inbox, Picker, Send, TabContext

IMAGE_HEIGHT = 300


def _domains(studio: Studio, name: str | None) -> tuple[str, list[str], list[tuple[str, str]]]:
    """Kind, domain names and StarGAN target choices from the header only (no weights are
    loaded to lay out the tab); a header that is not a valid translation model lays out none."""
    if not name:
        return "", [], []
    try:
        kind, domains, groups = translation_spec(studio.catalogue.entry(name).info)
    except TranslateError:
        return "", [], []
    return kind, list(domains), request_choices(domains, groups) if kind == "stargan" else []


def _direction_widgets(kind: str, domains: list[str], choices: list[tuple[str, str]],
                       hidden_targets: list[tuple[str, str]] | None = None) -> tuple[gr.Radio, gr.CheckboxGroup]:
    """The direction radio (CycleGAN) and target checkboxes (StarGAN), shown for the model's kind.

    The radio's values never depend on the model (B/A). The checkboxes offer a StarGAN's
    targets; for any other model they are hidden and hold `hidden_targets`. The studio checks
    the names it is given against the model either way.
    """
    a, b = domains if kind == "cyclegan" else ("A", "B")
    targets = choices if kind == "stargan" else list(hidden_targets or [])
    return (gr.Radio([(f"{a} → {b}", "B"), (f"{b} → {a}", "A")], value="B", label="CycleGAN direction",
                     visible=kind == "cyclegan"),
            gr.CheckboxGroup(targets, value=[], label="StarGAN target attributes", visible=kind == "stargan"))


def _every_stargan_target(studio: Studio) -> list[tuple[str, str]]:
    """What the hidden checkboxes hold when the tab opens on another kind of model. Gradio
    accepts only values among a checkbox's choices, and an API client that never calls
    /translate_model keeps the opening ones; so /translate takes any StarGAN's targets."""
    return list(dict.fromkeys(c for name in studio.model_names("translation") for c in _domains(studio, name)[2]))


def _as_input(picture):
    """A picture sent here (Edit and Invert send their results), as the input."""
    return (picture,)


# the pick of "Send result to Invert" (no docstring: it would describe the endpoint)
def _translated(image):
    if image is None:
        raise StudioError("translate an image first")
    return image


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; it sends the translated image to Invert.

    The input comes from an upload, a generator's sample (model and seed), or another tab
    (Edit and Invert send their results here: its Inbox)."""
    studio, session = ctx.studio, ctx.session
    names = studio.model_names("translation")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = gr.Dropdown(names, value=studio.default_model("translation"), label="Translation model",
                                allow_custom_value=True)
            upload = gr.File(elem_id="translate-upload", label="Upload a photo", type="filepath", height=100,
                             file_types=[".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"])
            with gr.Row():
                generator = gr.Dropdown(studio.model_names("generator"), value=studio.default_model("generator"),
                                        label=f"or a sample (ψ {DEFAULT_PSI}) of", allow_custom_value=True, scale=2,
                                        min_width=120)
                seed = gr.Number(0, label="seed", precision=0, minimum=0, scale=1, min_width=70)
            use_sample = gr.Button("Use this sample")
            direction, targets = _direction_widgets(*_domains(studio, studio.default_model("translation")),
                                                    _every_stargan_target(studio))
            with gr.Row():
                go = gr.Button("Translate", variant="primary")
                sweep = gr.Button("All domains")
        with gr.Column(scale=2):
            with gr.Row():
                source = gr.Image(label="Input", type="pil", format="png", interactive=False, height=IMAGE_HEIGHT,
                                  elem_classes=PIXEL_ART, elem_id="translate-source")
                result = gr.Image(label="Translated", type="pil", format="png", interactive=False,
                                  height=IMAGE_HEIGHT, elem_classes=PIXEL_ART, elem_id="translate-result")
            grid = gr.Image(label="Every domain", type="pil", format="png", interactive=False, height=200,
                            elem_classes=PIXEL_ART)
            send = gr.Button("Send result to Invert")

    @user_errors
    def on_model(name):
        return _direction_widgets(*_domains(studio, name), _every_stargan_target(studio))

    @user_errors
    def on_upload(path):
        if not path:
            raise StudioError("choose an image")
        return load_image(path, name="the uploaded file")

    @user_errors
    def on_sample(generator_name, seed_value):
        if not generator_name:
            raise StudioError("choose a generator to sample from")
        return studio.render(studio.seed_recipe(generator_name, int(seed_value or 0), psi=DEFAULT_PSI)).image

    def _require(image, name):
        if image is None:
            raise StudioError("no input image: upload one, or send one from Sample, Edit or Invert")
        if not name:
            raise StudioError("choose a translation model (none found: train one with `ganstudio train cyclegan`)")

    @user_errors
    def run(name, image, to_domain, target_names, request: gr.Request):
        _require(image, name)
        kind = _domains(studio, name)[0]
        if kind == "stargan" and not target_names:
            raise StudioError("tick at least one target attribute")
        to = to_domain if kind == "cyclegan" else list(target_names)
        translated = studio.translate(name, image, to=to)
        session.add(request, translated, {"command": "translate", "model": name,
                                          "to": to if isinstance(to, str) else ",".join(to)})
        return translated

    @user_errors
    def run_all(name, image, request: gr.Request):
        _require(image, name)
        grid = studio.translate_all(name, image).grid
        session.add(request, grid, {"command": "translate_all", "model": name})
        return grid

    model.change(on_model, model, [direction, targets], api_name="translate_model")
    upload.upload(on_upload, upload, source, api_name="translate_upload")
    use_sample.click(on_sample, [generator, seed], source, api_name="translate_sample", concurrency_id=MODEL_GROUP)
    go.click(run, [model, source, direction, targets], result, api_name="translate", concurrency_id=MODEL_GROUP)
    sweep.click(run_all, [model, source], grid, api_name="translate_all", concurrency_id=MODEL_GROUP)
    return Handoffs(pickers=(Picker(model, "translation"), Picker(generator, "generator")),
                    inbox=Inbox([source], _as_input),
                    sends=(Send(send, result, "invert", "translate_to_invert", _translated),))

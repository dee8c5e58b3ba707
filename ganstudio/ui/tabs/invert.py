"""Invert tab: upload a photo, watch the reconstruction converge, send the code to Edit."""

from __future__ import annotations

import threading
import time

import gradio as gr
import pandas as pd

from ...editing.inversion import METHODS, InversionError, InversionSettings
from ...imaging import center_square, fit_notes, load_image, png_bytes, to_pil
from ...studio import StudioError
from ..common import MODEL_GROUP, PIXEL_ART, UPLOAD_HEIGHT, generator_picker, handoff_file, term_plot, user_errors
from ..session_history import SessionHistory
from ..tab import Handoffs, Inbox, Picker, Send, TabContext, recipe_required
from .edit import IMAGE_HEIGHT

PREVIEW_EVERY = 5  # stream a frame every N optimisation steps
PLOT_EVERY = 20  # and the loss plot every N steps ...
PLOT_POINTS = 100  # ... with at most this many steps per term drawn


def loss_frame(rows: list[dict]) -> pd.DataFrame:
    """The loss rows for the plot, thinned to about PLOT_POINTS steps (the last always kept)."""
    steps = sorted({r["step"] for r in rows})
    stride = max(1, len(steps) // PLOT_POINTS)
    keep = set(steps[::stride]) | {steps[-1]}
    return pd.DataFrame([r for r in rows if r["step"] in keep])


class StopRequests:
    """Stop presses, per session: a run stops at its next step when Stop was pressed after the run
    was asked for (its click, or its start for an API call), so a press while the run waits in the
    queue counts and a press from before it does not. (Cancelling the event instead races the
    last frame in flight, which could then overwrite the stopped state.)"""

    def __init__(self):
        self._asked: dict[str, float] = {}  # session -> when its next run was clicked for
        self._pressed: dict[str, float] = {}  # session -> when Stop was last pressed
        self._lock = threading.Lock()

    def ask(self, request: gr.Request) -> None:
        """The user clicked for a run (it may wait in the queue before it begins)."""
        with self._lock:
            self._asked[SessionHistory.key(request)] = time.monotonic()

    def begin(self, request: gr.Request) -> float:
        """A run begins; returns the moment after which a press stops it."""
        with self._lock:
            return self._asked.pop(SessionHistory.key(request), time.monotonic())

    def press(self, request: gr.Request) -> None:
        with self._lock:
            self._pressed[SessionHistory.key(request)] = time.monotonic()

    def take(self, request: gr.Request, since: float) -> bool:
        """Whether Stop was pressed for the run asked for at `since` (a press is taken once)."""
        with self._lock:
            key = SessionHistory.key(request)
            if self._pressed.get(key, -1.0) < since:
                return False
            del self._pressed[key]
            return True


def _as_upload(image):
    """A picture sent here, as the upload's file (Translate is the tab that sends them)."""
    return (handoff_file("translated.png", png_bytes(image)),)


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; photos sent here land in its upload (its Inbox), and it sends
    the inverted code to Edit and the reconstruction to Translate."""
    studio, session = ctx.studio, ctx.session
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = generator_picker(studio)
            upload = gr.File(elem_id="invert-upload", label="Photo (PNG, JPEG, WebP, BMP, GIF, TIFF)", type="filepath",
                             height=UPLOAD_HEIGHT,
                             file_types=[".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"])
            method = gr.Radio([(f"{k}: {v}", k) for k, v in METHODS.items()], value=3, label="Method")
            space = gr.Radio(["z", "w", "w+"], value="w+", label="Latent space")
            with gr.Row():
                lambda_code = gr.Number(0.0, label="λ1 · ‖z − z0‖²", minimum=0)
                lambda_realism = gr.Number(0.0, label="λ2 · D(G(z))", minimum=0)
            steps = gr.Slider(0, 1000, value=200, step=10, label="Max steps")
            with gr.Row():
                run = gr.Button("Invert", variant="primary")
                stop = gr.Button("Stop")
        with gr.Column(scale=2):
            with gr.Row():
                target = gr.Image(label="Input (as the model sees it)", type="pil", format="png", interactive=False,
                                  height=IMAGE_HEIGHT, elem_classes=PIXEL_ART)
                result = gr.Image(label="Reconstruction", type="pil", format="png", interactive=False,
                                  height=IMAGE_HEIGHT, elem_classes=PIXEL_ART, elem_id="invert-result")
            status = gr.Markdown(elem_id="invert-status")
            curve = term_plot(y="loss", label="Loss")
            with gr.Row():
                send = gr.Button("Send to Edit")
                send_to_translate = gr.Button("Send to Translate")
    recipe = gr.JSON(visible=False)  # not a State: API callers get the recipe with the last frame
    stops = StopRequests()

    @user_errors
    def invert(model_name, path, method_value, space_value, l1, l2, max_steps, request: gr.Request):
        asked = stops.begin(request)
        if not path:
            raise StudioError("upload a photo first")
        image = load_image(path, name="the uploaded file")
        try:
            settings = InversionSettings(method=int(method_value), space=space_value, steps=int(max_steps),
                                         lambda_code=float(l1 or 0), lambda_realism=float(l2 or 0))
        except InversionError as exc:
            raise StudioError(str(exc)) from None
        G = studio.generator(model_name)
        shown_target = center_square(image.convert("RGB"), G.resolution)  # exactly what the model is given
        notes = fit_notes(image.size, G.resolution)
        for note in notes:
            gr.Warning(note[0].upper() + note[1:] + ".")
        warning = "".join(f"\n\n⚠ {note}." for note in notes)
        rows = []
        for step, step_recipe in studio.invert(model_name, image, settings):
            rows += [{"step": step.step, "loss": v, "term": k} for k, v in step.losses.items()]
            stopped_here = stops.take(request, asked)
            last = step.done or stopped_here
            if last or step.step % PREVIEW_EVERY == 0:
                text = f"step {step.step} · PSNR {step.psnr:.2f} dB · loss {step.losses['total']:.4f}"
                if last:
                    text = ("**Stopped** at " if stopped_here else "**Done.** ") + text
                    session.add(request, to_pil(step.image), step_recipe.to_dict())
                # redrawing the plot is the browser's heaviest work: every few frames, thinned out
                curve_now = loss_frame(rows) if last or step.step % PLOT_EVERY == 0 else gr.skip()
                yield shown_target, to_pil(step.image), text + warning, curve_now, step_recipe.to_dict()
            if stopped_here:
                return

    def clear(request: gr.Request):
        """A new run starts from an empty page: nothing of the last run (its result, its "Done",
        its recipe) may stay beside a new input, least of all when the new upload is refused.
        From the click on, Stop applies to the new run, even while it waits in the queue."""
        stops.ask(request)
        return None, None, "Starting…", None, None

    outputs = [target, result, status, curve, recipe]
    run.click(clear, None, outputs, api_name="invert_clear", queue=False).then(
        invert, [model, upload, method, space, lambda_code, lambda_realism, steps], outputs, api_name="invert",
        concurrency_id=MODEL_GROUP)
    # not queued, so it never waits behind the inversion it stops; the inversion sees the request at
    # its next step and ends with a "Stopped at step N" frame, its result kept (Send to Edit works)
    stop.click(stops.press, None, None, api_name="invert_stop", queue=False)
    return Handoffs(pickers=(Picker(model, "generator"),), inbox=Inbox([upload], _as_upload),
                    sends=(Send(send, recipe, "edit", "invert_to_edit", recipe_required("invert a photo first")),
                           Send(send_to_translate, result, "translate", "invert_to_translate")))

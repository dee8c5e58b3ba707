"""Playground tab: train a 2-D GAN live and watch it (ganstudio.lab.toy does the work).

Each browser session has its own ToyTrainer, kept server-side by session hash (the oldest
sessions are dropped beyond MAX_SESSIONS). Controls apply on the next Start / Step: a new
objective, k, learning rates, optimiser or batch carry the networks on; a new target,
architecture or seed starts again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

import gradio as gr
import pandas as pd

from ...catalogue import Catalogue
from ...imaging import make_grid
from ...lab.presets import PRESETS
from ...lab.seed_study import compare_presets
from ...lab.toy import POINTS, TARGETS, LabError, ToySettings, ToyTrainer, points_from_text
from ...registry import LOSSES
from ...training.train_config import OPTIMIZERS
from ..common import MODEL_GROUP, UPLOAD_HEIGHT, handoff_file, term_plot, user_errors
from ..tab import Handoffs, Picker, TabContext

MAX_SESSIONS = 8
MAX_RUN_STEPS = 10_000  # per Start: a stream holds the model queue while it runs
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
PLOT_ROWS = 800  # rows per curve sent to the browser
COMPARE_COLUMNS = ["preset", "data", "steps", "modes reached", "HQ", "reverse KL", "covered", "seconds"]
# the notes on a frame for what applying the controls did (see ToyTrainer.apply)
NOTES = {"reset": "(settings changed: started again)", "live": "(new settings applied, networks kept)"}
SAMPLE_POINTS = "# x,y  (one point a line)\n" + "\n".join(
    f"{x},{y}" for x, y in ((-1, -1), (-1, 1), (1, -1), (1, 1), (0, 0)) for _ in range(4))


class Sessions:
    """ToyTrainers by session hash, least recently used dropped first."""

    def __init__(self, limit: int = MAX_SESSIONS):
        self.limit = limit
        self._items: OrderedDict[str, tuple[ToyTrainer, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[ToyTrainer, str] | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: str, lab: ToyTrainer, points_text: str) -> None:
        with self._lock:
            self._items[key] = (lab, points_text)
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _key(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "local"


def _loss_args(text: str) -> dict:
    text = (text or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabError(f"objective options: not valid JSON ({exc.msg}), e.g. {{\"gp_lambda\": 10}}") from None
    if not isinstance(value, dict):
        raise LabError('objective options: a JSON object, e.g. {"gp_lambda": 10}')
    return value


def _points_text(text: str, upload: str | None) -> str:
    if upload:
        path = Path(upload)
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise LabError(f"points file: over {MAX_UPLOAD_BYTES // 2**20} MiB")
        return path.read_text(encoding="utf-8", errors="replace")
    return text or ""


def _curves(rows: list[dict], terms: list[str]) -> pd.DataFrame:
    stride = max(1, -(-len(rows) // PLOT_ROWS))
    long = [{"step": r["step"], "value": r[t], "term": t} for r in rows[::stride] for t in terms if t in r]
    return pd.DataFrame(long, columns=["step", "value", "term"])


def _settings_of(target_v, points_v, upload_v, loss_v, args_v, k, opt, glr, dlr, batch_v,
                 decay_v, r1_v, gw, gd, dw, dd, pack_v, minibatch_v, zd, seed_v) -> tuple[ToySettings, str]:
    """The controls' values (in the order of the tab's `controls`) as settings, and the points' text."""
    settings = ToySettings(
        target=target_v, loss=loss_v, loss_args=_loss_args(args_v), d_steps=int(k), optimizer=opt,
        g_lr=float(glr or 0), d_lr=float(dlr or 0), lr_decay=float(decay_v or 0), r1_gamma=float(r1_v or 0),
        batch=int(batch_v), g_width=int(gw), g_depth=int(gd), d_width=int(dw), d_depth=int(dd), pack=int(pack_v or 1),
        minibatch=int(minibatch_v or 0), z_dim=int(zd), seed=int(seed_v or 0),
    )
    text = _points_text(points_v, upload_v) if target_v == POINTS else ""
    return settings.validate(), text


def _control_values(s: ToySettings) -> list:
    """The controls showing settings s (the points boxes are left as they are)."""
    return [s.target, gr.update(), gr.update(), s.loss, json.dumps(s.loss_args) if s.loss_args else "",
            s.d_steps, s.optimizer, s.g_lr, s.d_lr, s.batch, s.lr_decay, s.r1_gamma, s.g_width, s.g_depth,
            s.d_width, s.d_depth, s.pack, s.minibatch, s.z_dim, s.seed]


def _frame(heat_v, arrows_v) -> dict:
    """How each picture is drawn: the D heat map, and gradient arrows on 64 samples or none."""
    return {"heat": heat_v, "arrows": 64 if arrows_v else 0}


def _view(lab: ToyTrainer, image, state, note: str = ""):
    """A frame of the outputs: the picture, the status line, the loss and coverage curves and the command."""
    text = state.summary()
    if state.modes is None:
        text += " · (your points have no known modes: coverage is not measured)"
    if state.diverged:
        text = "**Diverged** (non-finite losses): lower the learning rates and Reset. " + text
    elif note:
        text = f"{note} " + text
    cov_rows = [{"step": r["step"], "modes covered": r["coverage"], "modes reached": r["reached"],
                 "HQ rate": r["hq_rate"]} for r in lab.coverage_history]
    return (image, text, _curves(lab.history, ["D/loss", "G/loss"]),
            _curves(cov_rows, ["modes covered", "modes reached", "HQ rate"]),
            f"Headless: `{lab.settings.command(max(lab.step_count, 1))}`")


def _comparison_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"preset": r["preset"], "data": r["target"], "steps": r["steps"], "modes reached":
                          f"{r['reached']} of {r['modes']}", "HQ": f"{r['hq_rate']:.1%}", "reverse KL":
                          round(r["kl_modes"], 3), "covered": r["covered"], "seconds": round(r["seconds"])}
                         for r in rows], columns=COMPARE_COLUMNS)


class _Lab:
    """The tab's events (their parameter names and docstrings are the API's) on the sessions'
    ToyTrainers. Run, step and reset take the `n_controls` controls' values, then their own inputs."""

    def __init__(self, catalogue: Catalogue, sessions: Sessions, n_controls: int):
        self.catalogue, self.sessions, self.n_controls = catalogue, sessions, n_controls

    def load_preset(self, name):
        if name not in PRESETS:
            return [gr.update()] * (self.n_controls + 2)
        p = PRESETS[name]
        return [*_control_values(p.settings), p.steps, f"{p.about} Press **Start** ({p.steps} steps)."]

    def trainer(self, request, values) -> tuple[ToyTrainer, str]:
        """The session's trainer with these settings applied; and what happened ("new", "reset", ...)."""
        settings, text = _settings_of(*values)
        key = _key(request)
        found = self.sessions.get(key)
        parsed = points_from_text(text, "your points") if settings.target == POINTS else None
        if found is None:
            lab = ToyTrainer(settings, parsed)
            self.sessions.put(key, lab, text)
            return lab, "new"
        lab, old_text = found
        if settings.target == lab.settings.target:  # the widgets have no shape options: an opened model keeps its own
            settings = settings.replace(shape=lab.settings.shape)
        if settings.target == POINTS and text != old_text:
            lab.reset(settings, parsed)
            self.sessions.put(key, lab, text)
            return lab, "reset"
        return lab, lab.apply(settings)

    @user_errors
    def run(self, request: gr.Request, *values):
        n_steps, n_every, heat_v, arrows_v = values[self.n_controls:]
        lab, what = self.trainer(request, values[:self.n_controls])
        total = max(1, min(int(n_steps or 1), MAX_RUN_STEPS))
        if lab.settings.lr_decay:  # this Start ends the run: the decay reaches 0 at its last step
            lab.apply(lab.settings.replace(run_steps=lab.step_count + total))
        note = NOTES.get(what, "")
        shown = False
        for state, image in lab.run(total, max(1, int(n_every)), **_frame(heat_v, arrows_v)):
            shown = True
            yield _view(lab, image, state, note)
        if not shown:  # nothing to train (diverged): still show where the session stands
            state, image = lab.snapshot(**_frame(heat_v, arrows_v), record=False)
            yield _view(lab, image, state, note)

    @user_errors
    def step_once(self, request: gr.Request, *values):
        lab, what = self.trainer(request, values[:self.n_controls])
        lab.step(1)
        state, image = lab.snapshot(**_frame(*values[self.n_controls:]))
        return _view(lab, image, state, NOTES.get(what, ""))

    @user_errors
    def restart(self, request: gr.Request, *values):
        lab, what = self.trainer(request, values[:self.n_controls])
        if what not in ("new", "reset"):
            lab.reset()
        state, image = lab.snapshot(**_frame(*values[self.n_controls:]), record=False)
        return _view(lab, image, state, "(started again)")

    @user_errors
    def compare(self, names, seed_v, steps_v):
        """Presets side by side: each trained afresh with seed `seed_v` (for `steps_v` steps, 0: its
        own), scored by the PacGAN protocol; the sheet and the table grow as each one finishes."""
        names = list(names or [])
        rows, tiles, captions = [], [], []
        yield None, _comparison_table(rows), f"Training '{names[0]}' (1 of {len(names)})…" if names else ""
        for name, row, plot in compare_presets(names, int(seed_v or 0), int(steps_v or 0) or None):
            rows.append(row)
            tiles.append(plot.resize((320, 320)))
            captions.append(f"{name}: {row['reached']}/{row['modes']}, HQ {row['hq_rate']:.0%}")
            nxt = f" Training '{names[len(rows)]}' ({len(rows) + 1} of {len(names)})…" if len(rows) < len(names) else ""
            yield (make_grid(tiles, columns=min(4, len(tiles)), captions=captions), _comparison_table(rows),
                   f"{len(rows)} of {len(names)} done, seed {int(seed_v or 0)}.{nxt}")

    @user_errors
    def export_gif(self, request: gr.Request):
        found = self.sessions.get(_key(request))
        if found is None:
            raise LabError("start a run first; the GIF holds its frames")
        return handoff_file(f"playground-step{found[0].step_count}.gif", found[0].gif())

    @user_errors
    def open_trained(self, request: gr.Request, name, heat_v, arrows_v):
        """Continue a 2-D model from its checkpoint: its settings fill the controls (so Start
        carries on rather than starting again), its G and D the session's trainer."""
        catalogue = self.catalogue
        if name not in catalogue.model_names("points"):
            raise LabError(f"'{name}' is not a 2-D model; available: {', '.join(catalogue.model_names('points')) or 'none'}")
        lab = ToyTrainer.open(catalogue.load(name))
        self.sessions.put(_key(request), lab, "")
        state, image = lab.snapshot(**_frame(heat_v, arrows_v))
        note = f"(opened {name} at step {lab.step_count}; Start continues it)"
        return (*_control_values(lab.settings), *_view(lab, image, state, note))


def build(ctx: TabContext) -> Handoffs:
    """Lay out and wire the tab; its picker lists the 2-D models."""
    catalogue = ctx.catalogue
    s0 = ToySettings()
    toy_models = catalogue.model_names("points")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            preset = gr.Dropdown(["custom", *PRESETS], value="custom", label="Preset (the lecture's figures)")
            with gr.Row():
                model = gr.Dropdown(toy_models, value=catalogue.default_model("points"), scale=3,
                                    label="…or continue a trained 2-D model", allow_custom_value=True)
                open_model = gr.Button("Open", scale=1, min_width=60)
            about = gr.Markdown()
            target = gr.Radio(list(TARGETS), value=s0.target, label="Target")
            with gr.Accordion("Your points (target 'points')", open=False):
                points = gr.Textbox(SAMPLE_POINTS, lines=6, max_lines=12, label="CSV: x,y per line")
                upload = gr.File(label="…or a .csv file", file_types=[".csv", ".txt"], type="filepath",
                                 height=UPLOAD_HEIGHT)
            loss = gr.Dropdown(LOSSES.names(), value=s0.loss, label="Objective")
            loss_args = gr.Textbox("", label="Objective options (JSON)", placeholder='e.g. {"gp_lambda": 10}')
            with gr.Row():
                d_steps = gr.Slider(1, 10, value=s0.d_steps, step=1, label="k: D steps per G step")
                optimizer = gr.Radio(list(OPTIMIZERS), value=s0.optimizer, label="Optimiser")
            with gr.Row():
                g_lr = gr.Number(s0.g_lr, label="G learning rate", minimum=0)
                d_lr = gr.Number(s0.d_lr, label="D learning rate", minimum=0)
            batch = gr.Slider(16, 2048, value=s0.batch, step=16, label="Batch")
            lr_decay = gr.Slider(0, 0.9, value=s0.lr_decay, step=0.05,
                                 label="LR decay: last part of the run (to the end of each Start) where "
                                       "the lrs fall to 0")
            r1_gamma = gr.Number(s0.r1_gamma, label="R1 γ: D's gradient on real points, penalised (0: off)",
                                 minimum=0, maximum=100)
            with gr.Accordion("Networks", open=False):
                with gr.Row():
                    g_width = gr.Slider(8, 512, value=s0.g_width, step=8, label="G width")
                    g_depth = gr.Slider(1, 6, value=s0.g_depth, step=1, label="G depth")
                with gr.Row():
                    d_width = gr.Slider(8, 512, value=s0.d_width, step=8, label="D width")
                    d_depth = gr.Slider(1, 6, value=s0.d_depth, step=1, label="D depth")
                    pack = gr.Slider(1, 8, value=s0.pack, step=1, label="D pack (PacGAN: samples judged at once)")
                    minibatch = gr.Slider(0, 16, value=s0.minibatch, step=1,
                                          label="D minibatch kernels (minibatch discrimination; 0: off)")
                with gr.Row():
                    z_dim = gr.Slider(1, 64, value=s0.z_dim, step=1, label="z dimensions")
                    seed = gr.Number(s0.seed, label="Seed", precision=0, minimum=0)
        with gr.Column(scale=2):
            with gr.Row():
                start = gr.Button("Start", variant="primary")
                stop = gr.Button("Pause")
                one = gr.Button("Step")
                reset = gr.Button("Reset")
            with gr.Row():
                steps = gr.Number(2000, label="Steps per Start", precision=0, minimum=1, maximum=MAX_RUN_STEPS)
                every = gr.Slider(1, 200, value=25, step=1, label="Steps per frame")
                heat = gr.Checkbox(True, label="D heat map")
                arrows = gr.Checkbox(True, label="Gradient arrows")
            plot = gr.Image(label="Real (grey), generated (red), D (orange: real, blue: fake), G's gradient (green)",
                            type="pil", format="png", interactive=False, height=512)
            status = gr.Markdown(elem_id="playground-status")
            with gr.Row():
                losses = term_plot(y="value", label="Losses")
                coverage = term_plot(y="value", label="Share of modes covered / reached, HQ rate")
            with gr.Row():
                export = gr.Button("Export GIF")
                gif = gr.File(label="Animation", interactive=False)
            command = gr.Markdown()
            with gr.Accordion("Presets side by side (the same seed, each trained afresh and scored alike)",
                              open=False, elem_id="playground-compare"):
                with gr.Row():
                    compared = gr.CheckboxGroup(list(PRESETS), value=["grid: all 25 modes", "grid: plain GAN"],
                                                label="Presets", scale=3)
                    with gr.Column(scale=1, min_width=160):
                        compare_seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                        compare_steps = gr.Number(0, label="Steps (0: each preset's own)", precision=0,
                                                  minimum=0, maximum=20_000)
                        compare_go = gr.Button("Compare")
                compare_status = gr.Markdown()
                compare_sheet = gr.Image(label="Each preset's samples over the data", type="pil", format="png",
                                         interactive=False)
                compare_table = gr.Dataframe(headers=COMPARE_COLUMNS, label="Modes reached, HQ rate and reverse "
                                             "KL over 2,500 samples (docs/lab.md has them over 10 seeds)",
                                             interactive=False)

    controls = [target, points, upload, loss, loss_args, d_steps, optimizer, g_lr, d_lr, batch, lr_decay,
                r1_gamma, g_width, g_depth, d_width, d_depth, pack, minibatch, z_dim, seed]
    on = _Lab(catalogue, Sessions(), len(controls))
    outputs = [plot, status, losses, coverage, command]
    frame_opts = [heat, arrows]
    preset.change(on.load_preset, preset, [*controls, steps, about], api_name="playground_preset")
    started = start.click(on.run, [*controls, steps, every, *frame_opts], outputs, api_name="playground_start",
                          concurrency_id=MODEL_GROUP)
    stop.click(None, None, None, cancels=[started], api_name="playground_pause")
    one.click(on.step_once, [*controls, *frame_opts], outputs, api_name="playground_step", concurrency_id=MODEL_GROUP)
    reset.click(on.restart, [*controls, *frame_opts], outputs, api_name="playground_reset", concurrency_id=MODEL_GROUP)
    export.click(on.export_gif, None, gif, api_name="playground_gif", concurrency_id=MODEL_GROUP)
    compare_go.click(on.compare, [compared, compare_seed, compare_steps], [compare_sheet, compare_table,
                     compare_status], api_name="playground_compare", concurrency_id=MODEL_GROUP)
    open_model.click(on.open_trained, [model, *frame_opts], [*controls, *outputs], api_name="playground_open",
                     concurrency_id=MODEL_GROUP)
    return Handoffs(pickers=(Picker(model, "points"),))

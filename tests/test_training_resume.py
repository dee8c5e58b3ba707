"""Exact resume, stopping on signals, and the non-finite guard."""

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganstudio.config_io import ConfigError
from ganstudio.training import Trainer, TrainingError
from ganstudio.training.runs import RunError, find_resume, read_config, read_stats
from tests.training_kit import ToyImages, tiny_config

ROOT = Path(__file__).resolve().parent.parent


class NoisyImages(ToyImages):
    """Draws from numpy's and Python's global RNGs per item, so resume must restore them too."""

    def __getitem__(self, i):
        image, labels = super().__getitem__(i)
        if np.random.rand() < 0.5:
            image = image.flip(-1)
        return image + random.gauss(0, 0.01), labels


def _state(trainer):
    nets = {**trainer.nets, **trainer.ema}
    return {f"{role}.{k}": v for role, net in nets.items() for k, v in net.state_dict().items()}


def test_resume_continues_exactly(tmp_path):
    # Everything random at once: augmentation, style mixing, lazy R1, k = 2, ACGAN labels, data order.
    config = tiny_config(recipe="acgan", kimg=0.096, snapshot_kimg=1.0, d_steps=2, augment="color,translation,cutout",
                         style_mixing=0.5, r1_gamma=1.0, r1_interval=3, seed=7)
    straight = Trainer(config, NoisyImages(), out=tmp_path / "a", progress=False)
    assert straight.run().step == 6

    first = Trainer(dataclasses.replace(config, kimg=0.048), NoisyImages(), out=tmp_path / "b", progress=False)
    half = first.run()
    assert half.step == 3
    del first
    torch.manual_seed(123)  # whatever happened in between must not matter
    resumed = Trainer.resume(find_resume("latest", tmp_path / "b"), NoisyImages(), {"kimg": 0.096}, progress=False)
    assert resumed.step_count == 3
    assert resumed.run().step == 6

    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for name in ("D", "G"):
        sa, sb = straight.optimizers[name].state_dict()["state"], resumed.optimizers[name].state_dict()["state"]
        assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)
    stats = read_stats(half.run_dir)
    assert [s["step"] for s in stats] == [2, 3, 4, 6]  # one run folder, appended
    first_after_resume = stats[2]  # one step (16 images: k = 2 batches of 8) since the resume, not 64 since 0
    images = first_after_resume["img_per_s"] * first_after_resume["timing"]["interval_s"]
    assert images == pytest.approx(16, rel=0.05)
    record = read_config(half.run_dir)  # says what the run does now, and what changed at the resume
    assert record["config"]["kimg"] == 0.096
    assert record["resumes"] == [{"snapshot": half.snapshot.name, "kimg": 0.048, "changes": {"kimg": 0.096}}]


def test_resume_refuses_changes_that_would_break_it(tmp_path):
    result = Trainer(tiny_config(kimg=0.016), ToyImages(), out=tmp_path, progress=False).run()
    with pytest.raises(ConfigError, match="cannot change batch, loss when resuming"):
        Trainer.resume(result.snapshot, ToyImages(), {"batch": 4, "loss": "hinge", "kimg": 1.0})
    with pytest.raises(RunError, match="no such run folder or snapshot"):
        find_resume(tmp_path / "nope")
    (result.run_dir / "latest").write_text("snapshots/gone.safetensors\n")
    with pytest.raises(RunError, match="gone.safetensors, which does not exist"):
        find_resume(result.run_dir)


def test_resume_with_new_loss_weights_fine_tunes_the_run_and_records_it(tmp_path):
    result = Trainer(tiny_config(kimg=0.016, loss="wgan-gp"), ToyImages(), out=tmp_path, progress=False).run()
    changes = {"kimg": 0.1, "loss_args": {"gp_lambda": 2.0}}
    tuned = Trainer.resume(result.snapshot, ToyImages(), changes, progress=False)
    assert tuned.recipe.objective.gp_lambda == 2.0
    assert tuned.run().step > result.step
    record = read_config(result.run_dir)
    assert record["config"]["loss_args"] == {"gp_lambda": 2.0}
    assert record["resumes"] == [{"snapshot": result.snapshot.name, "kimg": result.kimg, "changes": changes}]


def _fail_phase(trainer, phase_name, when):
    """Make a phase's loss NaN whenever when(trainer) is true (a diverging run, on demand)."""
    phase = next(p for p in trainer.phases if p.name == phase_name)
    run = phase.run

    def maybe_nan(nets, batch, ctx):
        losses = run(nets, batch, ctx)
        if when(trainer):
            losses["loss"] = losses["loss"] * float("nan")
        return losses

    phase.run = maybe_nan


def test_a_non_finite_step_is_skipped_and_counted(tmp_path):
    trainer = Trainer(tiny_config(), ToyImages(), out=tmp_path, progress=False)
    _fail_phase(trainer, "D", lambda t: t.step_count == 2)
    for _ in range(2):
        trainer.step()
    d_before = {k: v.clone() for k, v in trainer.nets["D"].state_dict().items()}
    g_before = {k: v.clone() for k, v in trainer.nets["G"].state_dict().items()}
    trainer.step()
    assert all(torch.equal(d_before[k], v) for k, v in trainer.nets["D"].state_dict().items())  # no D update
    assert any(not torch.equal(g_before[k], v) for k, v in trainer.nets["G"].state_dict().items())  # G went on
    assert trainer.skipped == 1 and trainer.bad_in_a_row == 1
    trainer.step()
    assert trainer.bad_in_a_row == 0
    result = trainer.run()
    assert result.exit_code == 0 and read_stats(result.run_dir)[-1]["skipped"] == 1


def test_persistent_non_finite_losses_stop_with_the_last_good_snapshot(tmp_path):
    trainer = Trainer(tiny_config(kimg=1.0, max_nonfinite=3), ToyImages(), out=tmp_path, progress=False)
    _fail_phase(trainer, "G", lambda t: t.step_count >= 4)
    with pytest.raises(TrainingError) as err:
        trainer.run()
    message = str(err.value)
    assert "3 steps in a row had non-finite losses" in message and "phase G" in message
    assert "snapshot-000004.safetensors" in message
    run = trainer.run_dir
    assert (run / "latest").read_text().strip() == "snapshots/snapshot-000004.safetensors"
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == ["snapshot-000004.safetensors"]
    assert read_stats(run)[-1]["skipped"] == 3


def test_sigint_finishes_the_step_saves_and_returns_130(tmp_path):
    before = signal.getsignal(signal.SIGINT)  # Python's handler; SIG_IGN when pytest runs as a background job
    trainer = Trainer(tiny_config(kimg=1.0), ToyImages(), out=tmp_path, progress=False)
    _fail_phase(trainer, "G", lambda t: t.step_count == 5 and os.kill(os.getpid(), signal.SIGINT))
    result = trainer.run()
    assert result.exit_code == 130 and result.reason == "SIGINT" and result.step == 6
    assert (trainer.run_dir / "latest").read_text().strip() == "snapshots/snapshot-000006.safetensors"
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored


SCRIPT = """
import sys, torch
torch.set_num_threads(1)
from tests.training_kit import ToyImages, tiny_config
from ganstudio.training import Trainer
trainer = Trainer(tiny_config(kimg=1000.0, log_every=1, snapshot_kimg=1000.0), ToyImages(), out=sys.argv[1],
                  progress=False)
sys.exit(trainer.run().exit_code)
"""


@pytest.mark.slow
def test_sigterm_in_a_subprocess_saves_and_exits_143(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("*/stats.jsonl")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "SIGTERM: finishing this step, then saving" in err
    [run] = list(tmp_path.iterdir())
    snapshot = find_resume(run)
    last_logged = read_stats(run)[-1]["step"]
    assert snapshot.name == f"snapshot-{last_logged:06d}.safetensors"
    assert Trainer.resume(snapshot, ToyImages(), progress=False).step_count == last_logged


def test_resume_with_a_lower_learning_rate_and_longer_ema(tmp_path):
    result = Trainer(tiny_config(kimg=0.016, lr=2e-3), ToyImages(), out=tmp_path, progress=False).run()
    changes = {"kimg": 0.032, "g_lr": 5e-4, "d_lr": 1e-3, "ema_kimg": 2.0}
    tuned = Trainer.resume(result.snapshot, ToyImages(), changes, progress=False)
    assert tuned.optimizers["G"].state  # the moments carry on
    tuned.run()
    assert [g["lr"] for g in tuned.optimizers["G"].param_groups] == [5e-4]
    assert [g["lr"] for g in tuned.optimizers["D"].param_groups] == [1e-3]
    assert tuned.config.ema_kimg == 2.0
    assert read_config(result.run_dir)["resumes"][0]["changes"] == changes

"""The headless 2-D GAN playground (ganstudio.lab.toy): steps, objectives, points, pictures."""

import math
import shlex
from pathlib import Path

import pytest
import torch

from ganstudio.cli import build_parser
from ganstudio.lab.presets import PRESETS
from ganstudio.lab.toy import LabError, ToySettings, ToyTrainer, points_from_text
from ganstudio.registry import LOSSES

SMALL = dict(batch=32, g_width=16, g_depth=1, d_width=16, d_depth=1)


def small(**changes) -> ToySettings:
    return ToySettings(**{**SMALL, **changes})


def params(net: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in net.parameters()])


def test_steps_train_the_generator_and_report_coverage():
    lab = ToyTrainer(small(), samples=256)
    before = params(lab.G)
    state = lab.step(3)
    assert not torch.equal(before, params(lab.G))
    assert state.step == 3 and [row["step"] for row in lab.history] == [1, 2, 3]
    assert state.modes == 8 and 0 <= state.covered <= state.reached <= 8 and 0.0 <= state.coverage <= 1.0
    assert 0.0 <= state.hq_rate <= 1.0
    assert set(state.losses) >= {"D/loss", "G/loss"} and not state.diverged
    assert "modes covered" in state.summary()


@pytest.mark.parametrize("loss", LOSSES.names())
def test_every_objective_trains_with_finite_losses(loss):
    lab = ToyTrainer(small(loss=loss, d_steps=2), samples=128)
    state = lab.step(2)
    assert state.losses and all(math.isfinite(v) for v in state.losses.values()), state.losses
    assert state.skipped == 0 and lab.trainer.phase_steps == {"D": 4, "G": 2}


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_optimisers(optimizer):
    lab = ToyTrainer(small(optimizer=optimizer, g_lr=0.01, d_lr=0.02), samples=64)
    lab.step(1)
    opts = lab.trainer.optimizers
    assert type(opts["G"]).__name__.lower() == optimizer
    assert opts["G"].param_groups[0]["lr"] == 0.01 and opts["D"].param_groups[0]["lr"] == 0.02


def test_live_settings_keep_the_networks_and_others_start_again():
    lab = ToyTrainer(small(), samples=64)
    lab.step(2)
    trained = params(lab.G)
    assert lab.apply(small()) == "unchanged"
    assert lab.apply(small(loss="hinge", d_steps=3, g_lr=5e-4)) == "live"
    assert torch.equal(params(lab.G), trained) and lab.step_count == 2
    assert lab.step(1).step == 3 and lab.trainer.phase_steps["D"] == 3
    assert lab.apply(small(loss="hinge", d_steps=3, g_lr=5e-4, target="grid")) == "reset"
    assert lab.step_count == 0 and lab.history == [] and lab.state().modes == 25


def test_settings_are_checked():
    with pytest.raises(LabError, match="unknown objective"):
        ToyTrainer(small(loss="nope"))
    with pytest.raises(LabError, match="d_lr must be between"):
        small(d_lr=5.0).validate()
    with pytest.raises(LabError, match="target must be one of"):
        small(target="circle").validate()
    with pytest.raises(LabError, match="options for wgan"):
        small(loss="wgan", loss_args={"clip": -1}).validate()
    with pytest.raises(LabError, match="give your points first"):
        ToyTrainer(small(target="points"))


def test_points_parse_and_bad_points_name_the_line():
    points = points_from_text("x,y\n0.5,1.5\n\n-2,3\n")
    assert points.points.tolist() == [[0.5, 1.5], [-2.0, 3.0]]
    with pytest.raises(LabError, match=r"pasted, line 3: expected two numbers 'x,y', got '3,four'"):
        points_from_text("1,2\n\n3,four\n", "pasted")
    with pytest.raises(LabError, match="line 2"):
        points_from_text("1,2\n1,2,3\n")
    with pytest.raises(LabError, match="line 2"):
        points_from_text("1,2\nnan,1\n")
    with pytest.raises(LabError, match="no points"):
        points_from_text("x,y\n")


def test_training_on_your_points_has_no_mode_numbers():
    data = points_from_text("\n".join(f"{x},{x * 0.5}" for x in range(-5, 6)))
    lab = ToyTrainer(small(target="points"), data, samples=64)
    state = lab.step(2)
    assert state.step == 2 and state.modes is None and state.coverage is None and state.hq_rate is None
    assert state.reached is None and "no known modes" not in state.summary()
    assert lab.render(heat=False, arrows=0).size == (512, 512)


def test_pictures_frames_and_gif():
    lab = ToyTrainer(small(), samples=64, size=128)
    frames = list(lab.run(6, every=2))
    assert [s.step for s, _ in frames] == [2, 4, 6] and len(lab.frames) == 3
    image = frames[-1][1]
    assert image.size == (128, 128) and image.mode == "RGB"
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 10  # heat map, points, arrows: not a blank canvas
    gif = lab.gif(fps=5)
    assert gif[:6] in (b"GIF87a", b"GIF89a")


def test_presets_are_valid_and_their_command_lines_parse():
    for name, preset in PRESETS.items():
        settings = preset.settings.validate()
        assert settings.target in ("ring", "grid") and preset.steps > 0 and preset.about
        assert settings.run_steps == preset.steps  # a decaying lr ends with the preset's run
        argv = shlex.split(settings.command(preset.steps))[1:]
        args = build_parser().parse_args(argv)
        assert args.recipe == "toy" and args.data == f"toy:{settings.target}?n=50000&seed=0"
        assert args.loss == settings.loss and (f"lr_decay={settings.lr_decay}" in args.set) == (settings.lr_decay > 0)
        assert args.kimg * 1000 == preset.steps * settings.batch * settings.d_steps


def export_toy_model(tmp_path, folder) -> Path:
    """A 2-D model trained for a few steps by `ganstudio train toy` and exported, as shipped ones are."""
    from ganstudio.cli import main

    runs = tmp_path / "toy-runs"
    assert main(["train", "toy", "--data", "toy:ring?n=2000&seed=3&radius=2&sigma=0.02", "--loss", "hinge", "--batch", "32",
                 "--kimg", "0.192", "--seed", "3", "--out", str(runs), "--snapshot-kimg", "0.192", "--set",
                 "G.width=16", "G.depth=1", "D.width=16", "D.depth=1", "d_steps=2", "d_lr=5e-4", "workers=0"]) == 0
    out = folder / "ring-toy.safetensors"
    [run] = runs.iterdir()
    assert main(["export", str(run), "--out", str(out)]) == 0
    return out


def test_a_trained_toy_model_opens_where_it_stopped(tmp_path):
    from ganstudio import checkpoint

    loaded = checkpoint.load(export_toy_model(tmp_path, tmp_path))
    lab = ToyTrainer.open(loaded)
    s = lab.settings
    assert (s.target, s.loss, s.d_steps, s.d_lr, s.batch, s.seed, s.g_width, s.d_depth) == \
        ("ring", "hinge", 2, 5e-4, 32, 3, 16, 1)
    assert s.shape == {"radius": "2", "sigma": "0.02"}  # the ring it was trained on, not today's default
    assert torch.allclose(lab.dataset.centres.norm(dim=1), torch.full((8,), 2.0))
    assert lab.step_count == 3  # 192 points = 3 steps of 2 batches of 32
    z = torch.randn(5, s.z_dim)
    assert torch.equal(lab.G(z), loaded.networks["G"](z))
    assert lab.step(1).step == 4


def test_image_operations_refuse_a_toy_model_by_name(tmp_path, capsys):
    from ganstudio.cli import main
    from ganstudio.studio import Studio, StudioError

    folder = tmp_path / "models"
    export_toy_model(tmp_path, folder)
    with pytest.raises(StudioError, match="'ring-toy' draws 2-D points, not images: open it in the Playground"):
        Studio(folder).seed_recipe("ring-toy", 1)
    for argv in (["edit", "--seed", "1", "--set", "PC0=1", "--out", str(tmp_path / "x.png")],
                 ["traverse", "--axis", "z[0]", "--out", str(tmp_path / "x.png")]):
        assert main([argv[0], "--model", str(folder / "ring-toy.safetensors"), *argv[1:]]) == 2
        assert "draws 2-D points, not images" in capsys.readouterr().err


def test_only_toy_checkpoints_of_built_in_targets_open(tmp_path):
    from ganstudio import checkpoint
    from tests.conftest import make_tiny

    checkpoint.save(tmp_path / "faces.safetensors", {"G_ema": make_tiny()})
    with pytest.raises(LabError, match="not a 2-D model"):
        ToyTrainer.open(checkpoint.load(tmp_path / "faces.safetensors"))


def test_a_packing_discriminator_judges_packs_of_samples():
    from ganstudio.models.mlp2d import MLP2DDConfig, MLP2DDiscriminator

    D = MLP2DDiscriminator(MLP2DDConfig(width=8, depth=1, pack=4))
    x = torch.randn(12, 2)
    assert D(x).shape == (3,)  # one decision per pack of 4
    assert torch.allclose(D(x)[1:2], D(x[4:8]))  # a pack is its 4 samples side by side
    assert torch.allclose(D.point_scores(x[:1]), D(x[:1].repeat(4, 1)))  # a point alone: a pack of its copies
    with pytest.raises(ValueError, match="packs of 4 samples; got a batch of 6"):
        D(x[:6])


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp", "feature-matching"])
def test_pacgan_trains_and_draws_in_the_playground_and_from_the_command_line(loss, tmp_path):
    lab = ToyTrainer(small(pack=4, loss=loss), samples=64, size=128)
    assert lab.D.config.pack == 4 and lab.D.body[0].in_features == 8
    frames = list(lab.run(2, every=2))  # heat map (points as packs of copies) and arrows on whole packs
    assert frames[-1][0].losses and all(math.isfinite(v) for v in frames[-1][0].losses.values())
    assert "D.pack=4" in lab.settings.command(10)
    with pytest.raises(LabError, match="batch must be a multiple of pack"):
        small(pack=3).validate()  # batch 32
    args = build_parser().parse_args(shlex.split(lab.settings.command(2))[1:])
    assert "D.pack=4" in args.set


def test_minibatch_discrimination_tells_a_collapsed_batch_from_a_varied_one():
    from ganstudio.models.mlp2d import MLP2DDConfig, MLP2DDiscriminator

    torch.manual_seed(0)
    D = MLP2DDiscriminator(MLP2DDConfig(width=8, depth=1, minibatch=3))
    varied, collapsed = torch.randn(16, 2) * 3, torch.randn(1, 2).repeat(16, 1)
    closeness = D._closeness(D.features(collapsed), copies=False)
    assert closeness.shape == (16, 3) and torch.allclose(closeness, torch.ones(16, 3))  # copies: exp(0) each
    assert D._closeness(D.features(varied), copies=False).max() < 1
    # the same point decides differently in a varied batch and in a batch of its copies
    assert not torch.allclose(D(torch.cat([collapsed[:1], varied[1:]]))[0], D(collapsed)[0])
    assert torch.allclose(D.point_scores(collapsed[:1]), D(collapsed)[:1])  # the heat map: a batch of copies
    with pytest.raises(ValueError, match="minibatch kernels must be between 0 and 64"):
        MLP2DDiscriminator(MLP2DDConfig(minibatch=65))


def test_minibatch_discrimination_trains_in_the_playground_and_its_command_line_keeps_it():
    lab = ToyTrainer(small(minibatch=4, loss="wgan-gp"), samples=64, size=128)
    frames = list(lab.run(2, every=2))
    assert frames[-1][0].losses and all(math.isfinite(v) for v in frames[-1][0].losses.values())
    assert lab.D.out.in_features == 16 + 4
    args = build_parser().parse_args(shlex.split(lab.settings.command(2))[1:])
    assert "D.minibatch=4" in args.set


def test_train_toy_refuses_a_batch_that_does_not_fill_whole_packs(tmp_path):
    from ganstudio.cli import main

    code = main(["train", "toy", "--data", "toy:ring?n=2000", "--batch", "30", "--kimg", "0.06", "--out",
                 str(tmp_path), "--set", "D.pack=4", "workers=0"])
    assert code != 0


def test_train_toy_starts_from_a_preset_and_the_options_given_win(capsys):
    import json

    from ganstudio.cli import main

    assert main(["train", "toy", "--preset", "covers all modes", "--seed", "4", "--set", "D.width=64", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)["config"]
    preset = PRESETS["covers all modes"]
    assert config["loss"] == "wgan-gp" and config["d_steps"] == 5 and config["seed"] == 4
    assert config["D"] == {"width": 64, "depth": 3}  # one network option changed, the others kept
    assert config["kimg"] * 1000 == preset.steps * 256 * 5
    assert main(["train", "gan", "--preset", "mode collapse", "--data", "toy:ring", "--dry-run"]) == 2
    assert "--preset is for `ganstudio train toy`" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: an unknown name, listing the presets
        build_parser().parse_args(["train", "toy", "--preset", "nope"])
    assert "'mode collapse'" in capsys.readouterr().err


def test_lr_decay_holds_the_rate_then_lowers_it_to_zero_at_the_end_of_the_run():
    lab = ToyTrainer(small(lr_decay=0.5, run_steps=4, g_lr=1e-3, d_lr=2e-3), samples=64, size=128)
    total = 4 * 32  # points D sees in the run: steps x batch x k
    factor = lab.trainer.recipe.lr_factor
    assert [factor(n) for n in (0, total // 2, total * 3 // 4, total, 2 * total)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    lab.step(4)
    assert lab.trainer.optimizers["D"].param_groups[0]["lr"] == pytest.approx(2e-3 * factor(lab.trainer.nimg - 32))
    assert lab.trainer.optimizers["D"].param_groups[0]["lr"] < 2e-3
    # open-ended (no length): the rate stays; a live change of the length keeps the run's place in the schedule
    assert ToyTrainer(small(lr_decay=0.5), samples=64).trainer.recipe.lr_factor(10**9) == 1.0
    nimg = lab.trainer.nimg
    assert lab.apply(lab.settings.replace(run_steps=8)) == "live" and lab.trainer.nimg == nimg
    args = build_parser().parse_args(shlex.split(lab.settings.command(4))[1:])
    assert "lr_decay=0.5" in args.set
    with pytest.raises(LabError, match="lr_decay must be between 0 and 0.99"):
        small(lr_decay=1.0).validate()


def test_train_toy_refuses_an_lr_decay_that_is_not_a_fraction(tmp_path, capsys):
    from ganstudio.cli import main

    assert main(["train", "toy", "--data", "toy:ring?n=2000", "--kimg", "0.06", "--out", str(tmp_path),
                 "--set", "lr_decay=1", "workers=0"]) != 0
    assert "lr_decay is the last fraction of the run" in capsys.readouterr().err


def _real_gradient_norm(lab: ToyTrainer) -> float:
    real = lab.dataset.centres.repeat(8, 1).requires_grad_(True)
    (grad,) = torch.autograd.grad(lab.D(real).sum(), real)
    return float(grad.norm(dim=1).mean())


def test_r1_flattens_d_at_real_points_and_travels_with_the_command_line_and_the_export(tmp_path, capsys):
    import json

    from ganstudio import checkpoint
    from ganstudio.cli import main

    plain, penalised = (ToyTrainer(small(target="grid", r1_gamma=gamma), samples=64, size=128) for gamma in (0, 10))
    for lab in (plain, penalised):
        lab.step(30)
    assert _real_gradient_norm(penalised) < 0.7 * _real_gradient_norm(plain)  # 0.59 here
    assert penalised.apply(penalised.settings.replace(r1_gamma=1.0)) == "live"
    args = build_parser().parse_args(shlex.split(penalised.settings.command(30))[1:])
    assert {"r1_gamma=1.0", "r1_interval=1"} <= set(args.set)
    with pytest.raises(LabError, match="r1_gamma must be between 0 and 100"):
        small(r1_gamma=-1).validate()

    assert main(["train", "toy", "--preset", "grid: all 25 modes", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)["config"]
    assert (config["r1_gamma"], config["r1_interval"]) == (0.1, 1)
    runs, out = tmp_path / "runs", tmp_path / "grid.safetensors"
    assert main(["train", "toy", "--data", "toy:grid?n=2000", "--batch", "32", "--kimg", "0.064", "--out", str(runs),
                 "--snapshot-kimg", "0.064", "--set", "G.width=16", "G.depth=1", "D.width=16", "D.depth=1",
                 "r1_gamma=0.5", "r1_interval=1", "workers=0"]) == 0
    assert main(["export", str(next(runs.iterdir())), "--out", str(out)]) == 0
    assert ToyTrainer.open(checkpoint.load(out)).settings.r1_gamma == 0.5

"""A few-step run end to end, every recipe and objective, and the loop's mechanics."""

import json
import math
import re

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganstudio import checkpoint
from ganstudio.config_io import ConfigError
from ganstudio.latents import z_from_seeds
from ganstudio.models.tiny import TinyConfig, TinyGenerator
from ganstudio.studio import Studio
from ganstudio.training import Trainer
from ganstudio.training.export import export_run
from ganstudio.training.losses import GanBatch
from ganstudio.training.recipes import Inputs
from ganstudio.training.runs import RunError, read_stats
from tests.training_kit import ToyImages, tiny_config


def test_short_run_writes_a_run_folder_whose_export_the_studio_samples(tmp_path):
    trainer = Trainer(tiny_config(), ToyImages(), out=tmp_path / "runs", progress=False)
    result = trainer.run()
    run = result.run_dir
    assert result.exit_code == 0 and result.step == 8 and result.kimg == pytest.approx(0.064)
    assert re.fullmatch(r"00000-toy16-tiny", run.name)
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["loss"] == "nonsaturating" and config["config"]["optimizer"] == "adam"
    assert config["networks"]["D"]["arch"] == "tiny_d" and config["data"]["label_names"] == ["A", "B", "C"]

    stats = read_stats(run)
    assert [s["step"] for s in stats] == [2, 4, 6, 8]
    last = stats[-1]
    assert {"D/loss", "D/real", "D/fake", "G/loss"} <= set(last["losses"])
    assert all(math.isfinite(v) for v in last["losses"].values())
    assert last["img_per_s"] > 0 and last["sec_per_kimg"] > 0 and last["skipped"] == 0
    assert {"interval_s", "data_s", "snapshot_s"} <= set(last["timing"])

    assert Image.open(run / "samples" / "reals.png").size == (2 * 16 + 3 * 2,) * 2  # 4 images, 2x2 grid
    assert sorted(p.name for p in (run / "samples").glob("fakes-*.png")) == ["fakes-000004.png", "fakes-000008.png"]
    assert (run / "latest").read_text().strip() == "snapshots/snapshot-000008.safetensors"
    assert result.snapshot == run / "snapshots" / "snapshot-000008.safetensors"

    out = export_run(run, tmp_path / "checkpoints" / "toy.safetensors")
    info = checkpoint.read_info(out)
    assert info.roles == ("G_ema", "D") and info.arch == "tiny" and info.dataset == "toy16"
    assert info.step == 8 and info.kimg == pytest.approx(0.064) and info.labels == ("A", "B", "C")
    assert info.meta["recipe"] == "gan" and info.meta["loss"] == "nonsaturating" and info.meta["run"] == run.name
    assert "train_state" not in info.meta and info.extra_keys == ()

    studio = Studio(tmp_path / "checkpoints", device="cpu")
    [sample] = studio.sample("toy", "5")
    G_ema = trainer.ema["G_ema"]
    expected = G_ema(z_from_seeds([5], G_ema.z_dim))
    assert torch.allclose(studio.generator("toy")(sample.z[None]), expected)


def test_export_can_average_the_weights_of_the_last_snapshots(tmp_path):
    run = Trainer(tiny_config(snapshot_kimg=0.016), ToyImages(), out=tmp_path, progress=False).run().run_dir
    snaps = sorted((run / "snapshots").glob("*.safetensors"))
    assert [p.name[-18:-12] for p in snaps] == ["000002", "000004", "000006", "000008"]
    out = export_run(run, tmp_path / "avg.safetensors", average=3)
    info = checkpoint.read_info(out)
    assert info.meta["averaged_steps"] == [4, 6, 8] and info.step == 8
    averaged, window = checkpoint.load(out), [checkpoint.load(p) for p in snaps[1:]]
    for role in ("G_ema", "D"):
        for key, value in averaged[role].state_dict().items():
            values = [c[role].state_dict()[key] for c in window]
            expected = sum(v.double() for v in values) / 3 if value.is_floating_point() else values[-1]
            assert torch.allclose(value.double(), expected.double(), atol=1e-6), (role, key)
    last = window[-1]["G_ema"].state_dict()
    assert any(not torch.equal(v, last[k]) for k, v in averaged["G_ema"].state_dict().items())
    one = checkpoint.load(export_run(snaps[1], tmp_path / "one.safetensors", average=1))  # a snapshot file works too
    assert "averaged_steps" not in one.info.meta and one.info.step == 4
    with pytest.raises(RunError, match="--average 3 needs 3 snapshots up to this one, the run folder has 2"):
        export_run(snaps[1], tmp_path / "x.safetensors", average=3)
    with pytest.raises(RunError, match="at least 1"):
        export_run(run, tmp_path / "x.safetensors", average=0)
    odd = checkpoint.load(snaps[0])  # a network of another shape in the window is refused by name
    odd.networks["G_ema"] = TinyGenerator(TinyConfig(hidden=16))
    checkpoint.save(run / "snapshots" / "snapshot-000009.safetensors", odd.networks, meta=odd.info.meta)
    with pytest.raises(RunError, match="snapshot-000008.safetensors: network 'G_ema' differs from the last"):
        export_run(run / "snapshots" / "snapshot-000009.safetensors", tmp_path / "x.safetensors", average=2)
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize("recipe,loss,extra_keys,options", [
    ("gan", "minimax", set(), {}),
    ("gan", "wgan-gp", {"D/gp", "D/wdist"}, {}),
    ("gan", "lsgan", set(), {}),
    ("gan", "hinge", set(), {}),
    ("gan", "feature-matching", {"G/fm"}, {}),
    ("cgan", "nonsaturating", set(), {}),
    ("cgan", "nonsaturating", {"D/cls_real", "D/cls_real_acc", "G/cls"}, {"cgan_class_weight": 1.0}),
    ("acgan", "nonsaturating", {"D/cls_real", "D/cls_fake", "D/cls_real_acc", "G/cls"}, {}),
    ("infogan", "nonsaturating", {"D/info", "G/info", "G/info_cat", "G/info_cont"}, {}),
    ("infogan", "nonsaturating", {"D/info", "G/info_cat", "D/cluster"}, {"info_invariant": True, "info_cluster": 1.0}),
    ("infogan", "nonsaturating", {"D/info", "G/info_cat", "D/cluster"},
     {"info_invariant": True, "info_cluster": 1.0, "info_stroke": True}),
])
def test_every_recipe_and_objective_trains(recipe, loss, extra_keys, options):
    trainer = Trainer(tiny_config(recipe=recipe, loss=loss, d_steps=1, info_cat=(3,), info_cont=1, **options),
                      ToyImages(), out=None, progress=False)
    before = {k: v.clone() for k, v in trainer.nets["G"].state_dict().items()}
    for _ in range(2):
        trainer.step()
    assert extra_keys <= set(trainer.last_losses)
    assert all(torch.isfinite(v) for v in trainer.last_losses.values())
    logged = list(trainer._interval.loss_sums.values())
    assert logged and not any(v.requires_grad for v in logged)  # stats never hold on to a graph
    assert any(not torch.equal(before[k], v) for k, v in trainer.nets["G"].state_dict().items())
    images = trainer.recipe.grid({**trainer.nets, **trainer.ema}, [0, 1, 2])
    assert images.shape == (3, 3, 16, 16)


def test_infogan_can_read_the_categorical_codes_from_a_turned_copy():
    """With info_invariant, Q's categorical logits come from a randomly turned copy of the samples
    (their pose carries no code), the continuous codes still from the samples themselves."""
    trainer = Trainer(tiny_config(recipe="infogan", info_cat=(3,), info_cont=1, info_invariant=True), ToyImages(),
                      out=None, progress=False)
    seen = []

    class ReadsImages:
        def heads(self, x, c=None):
            seen.append(x)
            level = x.mean(dim=(1, 2, 3))
            return {"logits": level, "q_cat_logits": torch.stack([level, -level, x[:, 0, 0, 0]], 1),
                    "q_cont_mean": level[:, None]}

    torch.manual_seed(0)
    fake = torch.rand(6, 3, 16, 16) * 2 - 1
    cat, cont = torch.tensor([[0], [1], [2], [0], [1], [2]]), torch.rand(6, 1)
    losses = trainer.recipe._info(GanBatch(ReadsImages(), fake), Inputs(z=torch.zeros(6, 1), target=(cat, cont)))
    assert len(seen) == 2 and seen[0] is fake
    turned = seen[1]
    assert turned.shape == fake.shape and not torch.allclose(turned, fake)
    turned_level = turned.mean(dim=(1, 2, 3))
    want = F.cross_entropy(torch.stack([turned_level, -turned_level, turned[:, 0, 0, 0]], 1), cat[:, 0])
    assert losses["cat"].item() == pytest.approx(want.item())
    assert losses["cont"].item() == pytest.approx(0.5 * ((cont - fake.mean(dim=(1, 2, 3))[:, None]).square()
                                                         + math.log(2 * math.pi)).mean().item())


def test_conditional_recipes_build_conditional_networks():
    trainer = Trainer(tiny_config(recipe="acgan"), ToyImages(), out=None, progress=False)
    assert trainer.nets["G"].c_dim == 3 and trainer.nets["D"].config.n_classes == 3
    trainer = Trainer(tiny_config(recipe="infogan", info_cat=(4, 2), info_cont=3), ToyImages(), out=None,
                      progress=False)
    assert trainer.nets["G"].c_dim == 9 and trainer.nets["D"].config.q_categorical == (4, 2)
    with pytest.raises(ConfigError, match="needs a labelled data set"):
        Trainer(tiny_config(recipe="cgan"), ToyImages(labels=()), out=None, progress=False)
    with pytest.raises(ConfigError, match="sets tiny.c_dim=3"):
        Trainer(tiny_config(recipe="cgan", G={"c_dim": 5}), ToyImages(), out=None, progress=False)


def test_a_cgan_class_head_learns_from_real_faces_only_and_asks_g_for_c():
    """With cgan_class_weight, D keeps its projection and gains a class head, trained on real
    images' labels alone (never on G's fakes, which G could then teach it to misread); G's term
    is the head's loss on its fakes against the c they were drawn for."""
    plain = Trainer(tiny_config(recipe="cgan"), ToyImages(), out=None, progress=False)
    assert plain.nets["D"].config.n_classes == 0
    losses = {}
    for weight in (1.0, 2.0):  # the same start and batch: D's loss differs by the weighted term alone
        trainer = Trainer(tiny_config(recipe="cgan", cgan_class_weight=weight, r1_gamma=0.0),
                          ToyImages(kind="attributes"), out=None, progress=False)
        assert trainer.nets["D"].config.n_classes == 3 and trainer.nets["D"].config.c_dim == 3
        trainer.step()
        losses[weight] = trainer.last_losses
    assert "D/cls_fake" not in losses[1.0] and {"D/cls_real", "G/cls"} <= set(losses[1.0])
    assert (losses[2.0]["D/loss"] - losses[1.0]["D/loss"]).item() == pytest.approx(losses[1.0]["D/cls_real"].item(),
                                                                                   rel=1e-4)


def test_an_attribute_conditional_run_records_how_often_each_attribute_is_on(tmp_path):
    """The studio draws a seed's condition from these frequencies; they survive a resume."""
    data = ToyImages(n=32, kind="attributes")
    trainer = Trainer(tiny_config(recipe="cgan", kimg=0.032), data, out=tmp_path / "runs", progress=False)
    first = trainer.run()
    resumed = Trainer.resume(first.snapshot, data, changes={"kimg": 0.064}, progress=False)
    resumed.run()
    assert resumed.recipe.label_counts[-1] == 2 * trainer.recipe.label_counts[-1] > 0  # counted on from the snapshot
    meta = checkpoint.load(export_run(first.run_dir, tmp_path / "cgan.safetensors"), roles=[]).info.meta
    want = data.labels.mean(0).tolist()  # every image seen equally often: whole epochs
    assert list(meta["label_frequencies"]) == ["A", "B", "C"]
    assert list(meta["label_frequencies"].values()) == pytest.approx(want, abs=1e-4)
    classes = Trainer(tiny_config(recipe="cgan"), ToyImages(), out=None, progress=False)
    classes.step()
    assert "label_frequencies" not in classes.recipe.meta()  # a class is drawn by the seed, not a prior


def test_wgan_runs_five_rmsprop_critic_steps_with_clipping():
    trainer = Trainer(tiny_config(loss="wgan"), ToyImages(), out=None, progress=False)
    assert trainer.config.d_steps == 5 and trainer.config.lr == 5e-5
    assert isinstance(trainer.optimizers["D"], torch.optim.RMSprop)
    trainer.step()
    assert trainer.nimg == 5 * 8 and trainer.phase_steps == {"D": 5, "G": 1}
    assert all(p.abs().max() <= 0.01 for p in trainer.nets["D"].parameters())


def test_lazy_r1_every_n_steps_scaled_by_n():
    trainer = Trainer(tiny_config(r1_gamma=2.0, r1_interval=4), ToyImages(), out=None, progress=False)
    d_phase = trainer.phases[0]
    batch = trainer._next_batch()
    seen = []
    for step in range(5):
        torch.manual_seed(0)
        ctx = type("Ctx", (), {"step": 0, "phase_step": step, "reduce_mean": staticmethod(lambda t: t)})
        seen.append(d_phase.run(trainer.nets, batch, ctx))
    assert ["r1" in s for s in seen] == [True, False, False, False, True]
    # the loss carries gamma / 2 * N * R1 on the lazy steps
    assert (seen[0]["loss"] - seen[1]["loss"]).item() == pytest.approx(2.0 / 2 * 4 * seen[0]["r1"].item(), rel=1e-4)


def test_style_mixing_replaces_later_layers():
    torch.manual_seed(0)
    trainer = Trainer(tiny_config(style_mixing=1.0), ToyImages(), out=None, progress=False)
    G = trainer.nets["G"]
    inputs = Inputs(z=torch.randn(4, G.z_dim))
    mixed = trainer.recipe.generate(G, inputs)
    assert not torch.allclose(mixed, G(inputs.z))
    trainer.recipe.config = tiny_config(style_mixing=0.0)
    assert torch.equal(trainer.recipe.generate(G, inputs), G(inputs.z))


def test_ema_half_life_and_tracked_w_avg():
    copy = Trainer(tiny_config(ema_kimg=0.0, ema_rampup=None), ToyImages(), out=None, progress=False)
    frozen = Trainer(tiny_config(ema_kimg=1e9, ema_rampup=None), ToyImages(), out=None, progress=False)
    start = {k: v.clone() for k, v in frozen.ema["G_ema"].named_parameters()}
    for _ in range(3):
        copy.step()
        frozen.step()
    for (name, p_ema), p in zip(copy.ema["G_ema"].named_parameters(), copy.nets["G"].parameters()):
        assert torch.equal(p_ema, p), name  # half-life 0: G_ema is G
    for name, p_ema in frozen.ema["G_ema"].named_parameters():
        assert torch.allclose(p_ema, start[name], atol=1e-6), name  # endless half-life: G_ema stays put
    assert copy.nets["G"].w_avg.abs().sum() > 0
    assert torch.equal(copy.ema["G_ema"].w_avg, copy.nets["G"].w_avg)


def test_recipe_hooks_for_schedules_and_state_survive_resume(tmp_path, monkeypatch):
    from ganstudio.registry import RECIPES
    from ganstudio.training.recipes import GanRecipe

    class Scheduled(GanRecipe):
        """Halves the learning rate after 16 images; counts its G steps as recipe state."""

        name = "scheduled"

        def __init__(self, config, data):
            super().__init__(config, data)
            self.g_steps = torch.zeros((), dtype=torch.int64)

        def lr_factor(self, nimg):
            return 0.5 if nimg >= 16 else 1.0

        def g_step(self, nets, batch, ctx):
            self.g_steps += 1
            return super().g_step(nets, batch, ctx)

        def state_tensors(self):
            return {"g_steps": self.g_steps}

        def load_state_tensors(self, tensors):
            self.g_steps = tensors["g_steps"].clone()

    monkeypatch.setitem(RECIPES._items, "scheduled", Scheduled)
    trainer = Trainer(tiny_config(recipe="scheduled", kimg=0.032, lr=1e-3), ToyImages(), out=tmp_path, progress=False)
    for _ in range(2):  # 8 then 16 images seen
        trainer.step()
        assert trainer.optimizers["G"].param_groups[0]["lr"] == 1e-3
    trainer.step()
    assert trainer.optimizers["G"].param_groups[0]["lr"] == 5e-4 and trainer.optimizers["D"].param_groups[0]["lr"] == 5e-4
    result = trainer.run()
    resumed = Trainer.resume(result.snapshot, ToyImages(), progress=False)
    assert int(resumed.recipe.g_steps) == int(trainer.recipe.g_steps) == result.step == 4

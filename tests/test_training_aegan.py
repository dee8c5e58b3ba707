"""The aegan recipe: a GAN and an encoder trained together, exported as one model unit."""

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.catalogue import Catalogue
from ganstudio.config_io import ConfigError
from ganstudio.training.aegan_recipe import batch_correlation, moment_gap, pyramid_l1
from ganstudio.training.export import export_run
from ganstudio.training.loop import Trainer
from ganstudio.training.runs import read_stats

from .training_kit import ToyImages, tiny_config

STYLE = {"channel_base": 64, "channel_max": 16, "z_dim": 8, "w_dim": 8, "mapping_layers": 2, "noise_max_res": 8}
SMALL_D = {"channel_base": 64, "channel_max": 16}
SMALL_E = {"channel_base": 64, "channel_max": 16}


def aegan_config(**changes):
    base = dict(recipe="aegan", arch="stylegan", G=STYLE, D=SMALL_D, E=SMALL_E, kimg=0.192, ae_interval=2,
                snapshot_kimg=0.096)
    base.update(changes)
    return tiny_config(**base)


def test_pyramid_l1_is_zero_for_equal_images_and_weighs_every_scale():
    x = torch.rand(2, 3, 16, 16)
    assert float(pyramid_l1(x, x)) == 0.0
    shifted = x + 0.1  # a colour cast shows at every level of the pyramid
    assert float(pyramid_l1(shifted, x)) == pytest.approx(0.4, rel=1e-5)
    checker = torch.zeros(1, 3, 16, 16)
    checker[..., ::2, ::2] = checker[..., 1::2, 1::2] = 1.0  # fine detail averages away below full size
    assert float(pyramid_l1(checker, torch.full_like(checker, 0.5))) == pytest.approx(0.5, rel=1e-5)


def test_batch_correlation_ignores_scale_and_offset_and_constant_targets():
    targets = torch.tensor([[0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])  # column 1 never varies
    codes = torch.stack([targets[:, 0] * 5 - 3, torch.randn(4)], dim=1)
    assert float(batch_correlation(codes, targets)) == pytest.approx(1.0, abs=1e-5)
    assert float(batch_correlation(-codes, targets)) == pytest.approx(-1.0, abs=1e-5)
    flat = torch.ones(4, 1)
    value = batch_correlation(codes[:, :1].requires_grad_(), flat)
    assert float(value.detach()) == 0.0 and value.requires_grad


@pytest.mark.slow
def test_aegan_trains_generator_and_encoder_and_exports_the_unit(tmp_path):
    data = ToyImages(n=64, resolution=16, labels=("A", "B"), kind="attributes")
    trainer = Trainer(aegan_config(ae_labels=1.0), data, out=tmp_path / "runs", progress=False)
    E_before = {k: v.clone() for k, v in trainer.nets["E"].state_dict().items()}
    result = trainer.run()
    losses = read_stats(result.run_dir)[-1]["losses"]
    # every term reached the log, and the encoder was updated in the generator phase at its own lr
    assert {"G/ae_pixel", "G/ae_latent", "G/ae_labels", "G/fake", "D/real"} <= set(losses)
    assert any(not torch.equal(E_before[k], v) for k, v in trainer.nets["E"].state_dict().items())
    g_opt = trainer.optimizers["G"]
    assert sorted(group["lr"] for group in g_opt.param_groups) == pytest.approx(sorted([0.0025, 0.0005]))
    unit = export_run(result.run_dir, tmp_path / "ckpt" / "faces.safetensors")
    info = checkpoint.read_info(unit)
    assert info.roles == ("G_ema", "D", "E") and info.meta["recipe"] == "aegan"
    assert info.meta["supervised_units"] == ["A", "B"]  # w units 0 and 1 are tied to the labels
    assert Catalogue(tmp_path / "ckpt").network("faces", "E").space == "w+"


def test_aegan_lazy_terms_run_every_interval_only():
    trainer = Trainer(aegan_config(ae_interval=3), ToyImages(n=32, resolution=16, labels=()), out=None,
                      progress=False)
    seen = []
    for _ in range(4):
        trainer.last_losses.clear()
        trainer.step()
        seen.append("G/ae_pixel" in trainer.last_losses and "G/ae_latent" in trainer.last_losses)
    assert seen == [True, False, False, True]


def test_aegan_refuses_labels_it_does_not_have_more_units_than_w_and_points():
    with pytest.raises(ConfigError, match="ae_labels needs a data set with attribute labels or factors"):
        Trainer(aegan_config(ae_labels=1.0), ToyImages(labels=()), out=None, progress=False)
    with pytest.raises(ConfigError, match="ties 3 labels to w units, but w has 2"):
        Trainer(aegan_config(ae_labels=1.0, G={**STYLE, "z_dim": 2, "w_dim": 2}),
                ToyImages(labels=("A", "B", "C"), kind="attributes"), out=None, progress=False)
    from ganstudio.data import open_dataset

    with pytest.raises(ConfigError, match="trains on images"):
        Trainer(aegan_config(arch="mlp2d", G={}, D={}, E={}), open_dataset("toy:ring?n=64"), out=None,
                progress=False)


def test_the_latent_prior_pulls_the_mapping_towards_the_spread_of_the_real_codes():
    real = torch.randn(256, 4) * 0.3 + 0.5
    assert float(moment_gap(real, real)) == 0.0
    wide = torch.randn(256, 4) * 0.9 + 0.5  # three times the spread, same centre
    assert float(moment_gap(wide, real)) == pytest.approx(0.36, abs=0.08)

    def mapping_after_one_step(weight):
        trainer = Trainer(aegan_config(ae_prior=weight, ae_interval=1), ToyImages(n=32, resolution=16, labels=()),
                          out=None, progress=False)
        trainer.step()
        assert ("G/ae_prior" in trainer.last_losses) == (weight > 0)
        return [p.detach() for n, p in trainer.nets["G"].named_parameters() if n.startswith("mapping")]

    with_prior, without = mapping_after_one_step(1.0), mapping_after_one_step(0.0)  # same seed, same batch
    assert any(not torch.equal(a, b) for a, b in zip(with_prior, without))  # the term reaches the mapping


def _labeller(path, names):
    from ganstudio.models.judge import Judge, JudgeConfig

    torch.manual_seed(3)
    model = Judge(JudgeConfig(num_labels=len(names), resolution=16, channels=(4, 8), feature_dim=8))
    return checkpoint.save(path, {"judge": model}, labels=list(names))


def test_the_slider_term_asks_a_frozen_labeller_to_see_a_units_label_flip_and_no_other(tmp_path):
    names = ("Smiling", "Red_Hair", "Blond_Hair")
    data = ToyImages(n=32, resolution=16, labels=names, kind="attributes")
    labeller = _labeller(tmp_path / "labeller.safetensors", names)
    trainer = Trainer(aegan_config(ae_labels=1.0, ae_edit=1.0, ae_labeller=str(labeller), ae_interval=1), data,
                      out=None, progress=False)
    frozen = {k: v.clone() for k, v in trainer.recipe.labeller(torch.device("cpu")).state_dict().items()}
    trainer.step()
    assert torch.isfinite(trainer.last_losses["G/ae_edit"])
    assert all(torch.equal(v, trainer.recipe.labeller(torch.device("cpu")).state_dict()[k]) for k, v in frozen.items())
    # the term reaches the synthesis network, not the mapping (w is given, not learnt here)
    G = trainer.nets["G"]
    G.zero_grad()
    ws = G.mapping(torch.randn(8, G.z_dim)).detach()
    trainer.recipe.slider_term(G, ws, step=0).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in G.named_parameters() if "synthesis" in n)
    assert all(p.grad is None for n, p in G.named_parameters() if n.startswith("mapping"))


def test_the_slider_term_needs_units_and_a_labeller_of_the_same_labels(tmp_path):
    data = ToyImages(n=32, resolution=16, labels=("A", "B"), kind="attributes")
    with pytest.raises(ConfigError, match="ae_edit .* needs ae_labels > 0 .* and ae_labeller"):
        Trainer(aegan_config(ae_labels=1.0, ae_edit=1.0), data, out=None, progress=False)
    other = _labeller(tmp_path / "other.safetensors", ("X", "Y"))
    trainer = Trainer(aegan_config(ae_labels=1.0, ae_edit=1.0, ae_labeller=str(other), ae_interval=1), data,
                      out=None, progress=False)
    with pytest.raises(ConfigError, match=r"decides \['X', 'Y'\]; the units are \['A', 'B'\]"):
        trainer.step()

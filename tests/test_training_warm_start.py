"""`--init CHECKPOINT`: a new run whose trained networks start from an exported model's weights."""

import dataclasses

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.models.discriminator import ResNetDConfig, ResNetDiscriminator
from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator
from ganstudio.training import Trainer
from ganstudio.training.train_config import TrainConfig
from ganstudio.training.export import export_run
from ganstudio.training.runs import RunError, read_config
from tests.training_kit import ToyImages, tiny_config


def _weights(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def exported(tmp_path):
    """A tiny GAN trained a few steps and exported as a checkpoint (G_ema and D, no G)."""
    result = Trainer(tiny_config(), ToyImages(), out=tmp_path / "first", progress=False).run()
    return export_run(result.run_dir, tmp_path / "model.safetensors")


def test_a_new_run_starts_from_the_checkpoint_and_records_it(tmp_path, exported):
    source = checkpoint.load(exported)
    config = tiny_config(init=str(exported), seed=1)
    trainer = Trainer(config, ToyImages(), out=tmp_path / "second", progress=False)
    assert _same(_weights(trainer.nets["G"]), _weights(source["G_ema"]))  # the export has no G: G_ema stands in
    assert _same(_weights(trainer.ema["G_ema"]), _weights(source["G_ema"]))
    assert _same(_weights(trainer.nets["D"]), _weights(source["D"]))
    assert trainer.step_count == 0 and trainer.nimg == 0  # only weights come along
    record = read_config(trainer.run_dir)
    assert record["config"]["init"] == str(exported)
    assert record["init"]["roles"] == {"G": "G_ema", "D": "D", "G_ema": "G_ema"}
    assert len(record["init"]["sha256"]) == 64
    result = trainer.run()
    assert result.reason == "finished"
    assert not _same(_weights(trainer.nets["G"]), _weights(source["G_ema"]))  # and it trains on from there
    exported_again = checkpoint.read_info(export_run(result.run_dir, tmp_path / "tuned.safetensors"))
    assert exported_again.meta["init"] == {"path": str(exported), "sha256": record["init"]["sha256"]}


def test_a_random_start_differs_from_the_checkpoint_and_its_export_names_no_init(tmp_path, exported):
    trainer = Trainer(tiny_config(seed=1), ToyImages(), out=tmp_path / "runs", progress=False)
    assert not _same(_weights(trainer.nets["D"]), _weights(checkpoint.load(exported)["D"]))
    result = trainer.run()
    assert "init" not in checkpoint.read_info(export_run(result.run_dir, tmp_path / "m.safetensors")).meta


def test_resume_keeps_the_run_and_does_not_reload_the_checkpoint(tmp_path, exported):
    first = Trainer(tiny_config(init=str(exported)), ToyImages(), out=tmp_path / "runs", progress=False).run()
    trainer = Trainer.resume(first.snapshot, ToyImages(), {"kimg": 0.128}, progress=False)
    assert trainer.step_count > 0
    snapshot = checkpoint.load(first.snapshot, roles=["D"])
    assert _same(_weights(trainer.nets["D"]), _weights(snapshot["D"]))
    result = trainer.run()
    assert checkpoint.read_info(export_run(result.run_dir, tmp_path / "m.safetensors")).meta["init"]["path"] == \
        str(exported)  # the export after a resume still says where the run started


def test_a_checkpoint_of_another_shape_is_refused_with_the_role(tmp_path, exported):
    config = tiny_config(init=str(exported), G={"hidden": 16})
    with pytest.raises(RunError, match=r"its 'G_ema' does not fit this run's 'G' .*: size mismatch for "):
        Trainer(config, ToyImages(), out=None, progress=False)


def test_a_checkpoint_without_any_trained_network_is_refused(tmp_path):
    other = checkpoint.save(tmp_path / "d.safetensors",
                             {"D2": ResNetDiscriminator(ResNetDConfig(resolution=16, channel_base=64, channel_max=16))})
    with pytest.raises(RunError, match=r"has none of the networks this run trains \(D, G, G_ema\); it has D2"):
        Trainer(tiny_config(init=str(other)), ToyImages(), out=None, progress=False)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(RunError, match=r"--init: .*nope\.safetensors"):
        Trainer(tiny_config(init=str(tmp_path / "nope.safetensors")), ToyImages(), out=None, progress=False)


def test_the_encoder_recipe_takes_only_E_and_keeps_its_generator_frozen(tmp_path):
    torch.manual_seed(0)
    options = dict(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=16, mapping_layers=2)
    G_new, G_old = StyleGANGenerator(StyleGANConfig(**options)), StyleGANGenerator(StyleGANConfig(**options))
    D = ResNetDiscriminator(ResNetDConfig(resolution=16, channel_base=64, channel_max=16))
    generator = checkpoint.save(tmp_path / "new.safetensors", {"G_ema": G_new, "D": D}, dataset="test")
    base = dict(recipe="encoder", arch="encoder", data="test", generator=str(generator), batch=8, kimg=0.016,
                snapshot_kimg=0.016, workers=0, G={"channel_base": 64, "channel_max": 16})
    earlier = Trainer(TrainConfig(**base), ToyImages(resolution=16, labels=()), out=None, progress=False)
    old_unit = checkpoint.save(tmp_path / "old.safetensors", {"G_ema": G_old, "D": D, "E": earlier.nets["E"]})
    config = dataclasses.replace(TrainConfig(**base), init=str(old_unit))
    trainer = Trainer(config, ToyImages(resolution=16, labels=()), out=None, progress=False)
    assert trainer.init_record["roles"] == {"E": "E"}
    assert _same(_weights(trainer.nets["E"]), _weights(earlier.nets["E"]))
    assert _same(_weights(trainer.nets["G_ema"]), _weights(G_new))  # from --generator, not from the old unit


def test_a_generator_with_fewer_noise_inputs_starts_from_one_with_more(tmp_path):
    G = dict(resolution=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=256, channel_max=16)
    D = dict(resolution=16, channel_base=256, channel_max=16)
    first = Trainer(tiny_config(arch="stylegan", G=G, D=D), ToyImages(), out=tmp_path / "first", progress=False).run()
    exported = export_run(first.run_dir, tmp_path / "noisy.safetensors")
    trainer = Trainer(tiny_config(arch="stylegan", G={**G, "noise_max_res": 8}, D=D, init=str(exported)), ToyImages(),
                      out=tmp_path / "second", progress=False)
    dropped = read_config(trainer.run_dir)["init"]["dropped_noise_inputs"]
    assert dropped["G"] == [f"synthesis_net.blocks.2.{conv}.{key}" for conv in ("conv0", "conv1")
                            for key in ("noise_const", "noise_strength")]
    source = _weights(checkpoint.load(exported)["G_ema"])
    kept = _weights(trainer.nets["G"])
    assert all(torch.equal(kept[k], source[k]) for k in kept)  # everything else comes along unchanged
    with pytest.raises(RunError, match="size mismatch"):  # other differences are still refused
        Trainer(tiny_config(arch="stylegan", G={**G, "channel_max": 8}, D=D, init=str(exported)), ToyImages(),
                out=None, progress=False)


def test_a_mapping_that_learns_faster_starts_computing_the_same_w(tmp_path):
    G = dict(resolution=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=256, channel_max=16)
    D = dict(resolution=16, channel_base=256, channel_max=16)
    first = Trainer(tiny_config(arch="stylegan", G=G, D=D), ToyImages(), out=tmp_path / "first", progress=False).run()
    exported = export_run(first.run_dir, tmp_path / "model.safetensors")
    trainer = Trainer(tiny_config(arch="stylegan", G={**G, "mapping_lr_mul": 0.1}, D=D, init=str(exported)),
                      ToyImages(), out=None, progress=False)
    source, G_new = checkpoint.load(exported)["G_ema"], trainer.nets["G"]
    assert G_new.mapping_net.layers[0].lr_mul == 0.1 != source.mapping_net.layers[0].lr_mul
    z = torch.randn(4, 8)
    with torch.no_grad():
        assert torch.allclose(G_new.mapping(z), source.mapping(z), atol=1e-5)
        ws = source.mapping(z)
        assert torch.allclose(G_new.synthesis(ws), source.synthesis(ws), atol=1e-5)
    stored = dict(G_new.named_parameters())["mapping_net.layers.0.weight"]
    assert torch.allclose(stored, source.state_dict()["mapping_net.layers.0.weight"] * 0.1)  # 0.01 / 0.1


def test_a_discriminator_head_the_checkpoint_lacks_starts_fresh_and_is_recorded(tmp_path):
    """A cgan given a class head (`cgan_class_weight`) starts from a plain cgan's export: every
    weight the export has comes along, the new head keeps its fresh values."""
    data = ToyImages(kind="attributes")
    first = Trainer(tiny_config(recipe="cgan"), data, out=tmp_path / "first", progress=False).run()
    exported = export_run(first.run_dir, tmp_path / "cgan.safetensors")
    trainer = Trainer(tiny_config(recipe="cgan", cgan_class_weight=1.0, init=str(exported)), data,
                      out=tmp_path / "second", progress=False)
    assert read_config(trainer.run_dir)["init"]["fresh_heads"] == {"D": ["class_head.bias", "class_head.weight"]}
    source, D = _weights(checkpoint.load(exported)["D"]), _weights(trainer.nets["D"])
    assert all(torch.equal(D[k], source[k]) for k in source)
    assert trainer.run().reason == "finished"

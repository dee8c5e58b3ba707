"""The encoder recipe learns to invert a frozen generator and exports the whole model unit."""

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.models.discriminator import ResNetDConfig, ResNetDiscriminator
from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator
from ganstudio.studio import Studio
from ganstudio.training.train_config import TrainConfig
from ganstudio.training.export import export_run
from ganstudio.training.loop import Trainer
from ganstudio.training.runs import read_stats


class Faces(torch.utils.data.Dataset):
    """Images the tiny generator itself makes, so the encoder has something learnable."""

    resolution, label_names, label_kind = 16, (), "none"

    def __init__(self, G):
        with torch.no_grad():
            self.images = G(torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(1))).clamp(-1, 1)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], torch.zeros(0)


def test_a_generator_without_its_discriminator_gets_an_encoder_too(tmp_path):
    """An imported G_ema (NVlabs or rosinality files carry no usable D): the perceptual term is an
    image-pyramid L1, and the unit exported is G_ema and E."""
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=16,
                                         mapping_layers=2))
    source = checkpoint.save(tmp_path / "imported.safetensors", {"G_ema": G}, dataset="")
    config = TrainConfig(recipe="encoder", arch="encoder", data="test", generator=str(source), batch=8,
                         kimg=0.064, snapshot_kimg=0.064, workers=0, log_every=2, G={"channel_base": 64, "channel_max": 16})
    result = Trainer(config, Faces(G), out=tmp_path / "runs", progress=False).run()
    assert read_stats(result.run_dir)[-1]["losses"]["E/perceptual"] > 0
    info = checkpoint.read_info(export_run(result.run_dir, tmp_path / "ckpt" / "imported-e.safetensors"))
    assert info.roles == ("G_ema", "E")


def test_an_attribute_conditional_generator_gets_an_encoder_and_keeps_its_conditions(tmp_path):
    """Pairs are drawn with conditions as the studio draws a seed's; the unit keeps G's labels
    and label frequencies, so the studio still tells it the attributes."""
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=16,
                                         mapping_layers=2, c_dim=2))
    frequencies = {"Smiling": 0.9, "Eyeglasses": 0.1}
    source = checkpoint.save(tmp_path / "cgan.safetensors", {"G_ema": G}, dataset="", labels=list(frequencies),
                             meta={"recipe": "cgan", "label_kind": "attributes", "label_frequencies": frequencies})
    config = TrainConfig(recipe="encoder", arch="encoder", data="test", generator=str(source), batch=8,
                         kimg=0.016, snapshot_kimg=0.016, workers=0, log_every=1, G={"channel_base": 64, "channel_max": 16})
    faces = Faces.__new__(Faces)
    faces.images = torch.rand(16, 3, 16, 16) * 2 - 1
    result = Trainer(config, faces, out=tmp_path / "runs", progress=False).run()
    unit = checkpoint.load(export_run(result.run_dir, tmp_path / "ckpt" / "cgan-e.safetensors"), roles=[]).info
    assert unit.labels == ("Smiling", "Eyeglasses") and unit.meta["label_frequencies"] == frequencies
    assert unit.meta["generator_recipe"] == "cgan" and unit.meta["recipe"] == "encoder"
    studio = Studio(tmp_path / "ckpt")
    spec = studio.condition_spec("cgan-e")
    assert spec.prior == (0.9, 0.1) and studio.conditions("cgan-e", [0]) == [spec.for_seed(0)]


@pytest.mark.slow
def test_encoder_recipe_trains_and_exports_a_model_unit(tmp_path):
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=16,
                                         mapping_layers=2))
    D = ResNetDiscriminator(ResNetDConfig(resolution=16, channel_base=64, channel_max=16))
    source = checkpoint.save(tmp_path / "g.safetensors", {"G_ema": G, "D": D}, dataset="test", step=4063, kimg=130.0)
    config = TrainConfig(recipe="encoder", arch="encoder", data="test", generator=str(source), batch=8,
                         kimg=0.4, snapshot_kimg=0.2, workers=0, log_every=5, G={"channel_base": 64, "channel_max": 16})
    trainer = Trainer(config, Faces(G), out=tmp_path / "runs", progress=False)
    result = trainer.run()
    stats = read_stats(result.run_dir)
    assert stats[-1]["losses"]["E/latent"] < stats[0]["losses"]["E/latent"]  # it learns
    assert torch.equal(trainer.nets["G_ema"].w_avg, G.w_avg)  # the generator stayed frozen
    unit = export_run(result.run_dir, tmp_path / "ckpt" / "faces.safetensors")
    info = checkpoint.read_info(unit)
    assert info.roles == ("G_ema", "D", "E")
    # each network says how long it trained: G and D in the run that made them, E in this one
    assert info.networks["G_ema"].trained == {"step": 4063, "kimg": 130.0} == info.networks["D"].trained
    assert info.networks["E"].trained == {"step": result.step, "kimg": round(result.kimg, 3)}
    assert (info.step, info.kimg) == (4063, 130.0)  # the header's own length is the generator's
    assert info.to_json()["networks"]["E"]["trained"]["step"] == result.step
    studio = Studio(tmp_path / "ckpt")
    assert studio.catalogue.network("faces", "E").space == "w+"
    from PIL import Image

    from ganstudio.editing.inversion import InversionSettings

    steps = list(studio.invert("faces", Image.new("RGB", (16, 16), (120, 60, 30)), InversionSettings(method=2, space="w+")))
    assert len(steps) == 1 and steps[0][0].code.shape == (G.num_ws, 8)

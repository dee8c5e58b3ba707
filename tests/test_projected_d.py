"""The projected discriminator and its feature network: trained on real images without labels,
loaded into D at the start of a run, frozen there, and carried by every snapshot and export."""

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.config_io import ConfigError
from ganstudio.errors import UserError
from ganstudio.models.feature_net import FeatureNet, FeatureNetConfig
from ganstudio.models.projected_discriminator import ProjectedDConfig, ProjectedDiscriminator
from ganstudio.training import Trainer
from ganstudio.training.export import export_run
from ganstudio.training.feature_net import (blank_patches, load_feature_net, save_feature_net,
                                            train_feature_net)
from tests.training_kit import ToyImages, tiny_config

TINY_FEATURES = (4, 8)


def test_blank_patches_blanks_about_the_asked_share_in_whole_patches():
    images = torch.ones(64, 3, 32, 32)
    out = blank_patches(images, 0.3, torch.Generator().manual_seed(0))
    assert 0.25 < float((out == 0).float().mean()) < 0.35
    patches = out[:, 0].unfold(1, 8, 8).unfold(2, 8, 8)  # [B, 4, 4, 8, 8]
    assert ((patches.amin((-1, -2)) == patches.amax((-1, -2)))).all()  # each patch kept or blanked whole
    assert torch.equal(blank_patches(images, 0.0), images)


def test_the_feature_network_learns_to_restore_images_and_round_trips(tmp_path):
    data = ToyImages(n=80, resolution=16)
    data.images = data.images.clamp(-0.2, 0.2)  # something learnable in a few steps
    model, report = train_feature_net(data, steps=30, batch_size=16, heldout=16, channels=TINY_FEATURES,
                                      lr=5e-3)
    assert report.n_train == 64 and report.n_heldout == 16 and report.steps == 30
    assert report.heldout_l1 < 0.2 and report.heldout_psnr > 15
    path = save_feature_net(tmp_path / "f.safetensors", model, report, "toy16", "ganstudio features train", 0, 0.3)
    info = checkpoint.read_info(path)
    assert info.roles == ("features",) and info.meta["heldout_psnr"] == pytest.approx(report.heldout_psnr)
    loaded = load_feature_net(path)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(loaded.feature_maps(x), model.feature_maps(x)))
    with pytest.raises(UserError, match="mask"):
        train_feature_net(data, steps=1, mask=1.0, channels=TINY_FEATURES)


def test_projected_d_trains_only_its_scale_discriminators():
    D = ProjectedDiscriminator(ProjectedDConfig(resolution=16, feature_channels=TINY_FEATURES, width=4))
    names = [n for n, _ in D.named_parameters()]
    assert names and all(n.startswith("discriminators.") for n in names)
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    assert D(x).shape == (3, 2 * 16)  # two scales (8 and 4 px), a 4x4 grid of logits each
    assert D.features(x).shape == (3, sum(TINY_FEATURES))
    again = ProjectedDiscriminator(D.config)  # the random mixing is fixed by proj_seed
    assert torch.equal(again.channel_mixing[0].weight, D.channel_mixing[0].weight)
    with pytest.raises(ValueError, match="feature_channels"):
        D.use_feature_net(FeatureNet(FeatureNetConfig(16, (4, 16))))


def _features_file(tmp_path):
    torch.manual_seed(3)
    net = FeatureNet(FeatureNetConfig(16, TINY_FEATURES))
    return net, checkpoint.save(tmp_path / "features.safetensors", {"features": net})


def test_a_run_with_projected_d_keeps_the_feature_network_frozen_in_snapshots_and_exports(tmp_path):
    net, path = _features_file(tmp_path)
    D_options = dict(feature_channels=list(TINY_FEATURES), width=4)
    config = tiny_config(d_arch="projected_d", d_features=str(path), D=D_options, loss="hinge", r1_gamma=0)
    result = Trainer(config, ToyImages(), out=tmp_path / "runs", progress=False).run()
    assert result.exit_code == 0
    D = checkpoint.load(export_run(result.run_dir, tmp_path / "m.safetensors"))["D"]
    assert all(torch.equal(D.feature_net.state_dict()[k], v) for k, v in net.state_dict().items())
    assert torch.isfinite(D(torch.rand(2, 3, 16, 16))).all()
    path.unlink()  # the snapshot carries the feature network: resuming needs no other file
    resumed = Trainer.resume(result.snapshot, ToyImages(), changes={"kimg": 0.096}, progress=False).run()
    assert resumed.exit_code == 0
    D = checkpoint.load(resumed.snapshot, roles=["D"])["D"]
    assert all(torch.equal(D.feature_net.state_dict()[k], v) for k, v in net.state_dict().items())


def test_projected_d_without_a_feature_network_or_with_the_wrong_one_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ganstudio features train"):
        Trainer(tiny_config(d_arch="projected_d"), ToyImages(), out=tmp_path / "runs", progress=False)
    _, path = _features_file(tmp_path)
    wrong = tiny_config(d_arch="projected_d", d_features=str(path), D=dict(feature_channels=[4, 16]))
    with pytest.raises(ConfigError, match="d_features .*feature_channels"):
        Trainer(wrong, ToyImages(), out=tmp_path / "runs", progress=False).run()
    with pytest.raises(ConfigError, match="d_features is for"):
        Trainer(tiny_config(d_features=str(path)), ToyImages(), out=tmp_path / "runs", progress=False).run()


def test_features_train_cli_writes_a_checkpoint_with_its_command(tmp_path, capsys):
    out = tmp_path / "f.safetensors"
    assert main(["features", "train", "--data", "synthfaces:32?n=40", "--out", str(out), "--steps", "2",
                 "--batch-size", "8", "--heldout", "8", "--channels", "4,8"]) == 0
    info = checkpoint.read_info(out)
    assert "features train --data 'synthfaces:32?n=40'" in info.meta["command"]
    assert "wrote" in capsys.readouterr().out
    assert main(["features", "train", "--data", "synthfaces:32?n=40", "--out", str(out), "--channels", "4,x"]) == 2

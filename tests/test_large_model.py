"""Every operation the tabs call works on a large imported-style generator (256 px, G_ema only:
no discriminator, no encoder), with directions computed on the fly and from files."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.editing.inversion import InversionSettings
from ganstudio.inspection import Inspector
from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator
from ganstudio.studio import Studio, StudioError


@pytest.fixture
def large(tmp_path):
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig(resolution=256, z_dim=16, w_dim=16, mapping_layers=2, channel_base=512,
                                         channel_max=8)).eval()
    checkpoint.save(tmp_path / "big.safetensors", {"G_ema": G})
    return tmp_path


@pytest.mark.slow
def test_sample_mix_walk_edit_invert_and_inspect_a_256_px_model(large, capsys):
    assert main(["directions", "compute", "--model", str(large / "big.safetensors"), "--method", "pca",
                 "--components", "3", "--n", "500"]) == 0
    np.save(large / "big_smile_w_boundary.npy", np.eye(16)[:1])
    assert main(["directions", "import", "--model", str(large / "big.safetensors"),
                 str(large / "big_smile_w_boundary.npy"), "--name", "interfacegan"]) == 0
    studio = Studio(large)
    assert list(studio.directions("big")) == ["interfacegan", "pca", "sefa"]  # sefa computed: no file has it
    assert studio.directions("big")["pca"].names == ["PC0", "PC1", "PC2"]  # the file's
    [sample] = studio.sample("big", [3], psi=0.7)
    assert sample.image.size == (256, 256)
    grid = studio.mix("big", [1, 2], [3], layers=(0, 4))
    assert len(grid) == 2 and grid[0][0].image.size == (256, 256)
    assert len(studio.walk("big", [1, 2], frames_per_step=2)) >= 2
    base = studio.seed_recipe("big", 3)
    edited = studio.edit(base, "interfacegan", {"smile": 2.0})
    assert edited.image.size == (256, 256) and edited.image.tobytes() != studio.render(base).image.tobytes()
    assert studio.edit(base, "sefa", {"SeFa0": 1.0}, preview=True).image.size == (256, 256)  # full size, cheaper
    photo = Image.new("RGB", (300, 300), (90, 60, 40))
    steps = list(studio.invert("big", photo, InversionSettings(method=1, space="w+", steps=3, lambda_code=0.1)))
    assert steps[-1][0].done and steps[-1][1].to_dict()["code"]
    with pytest.raises(StudioError, match="has no discriminator: set λ2"):  # no D: said, not a crash
        list(studio.invert("big", photo, InversionSettings(method=1, steps=3, lambda_realism=0.1)))
    traversal = Inspector(studio).traverse("big", "sefa/SeFa0", seeds="0-1", steps=3)
    assert [len(row) for row in traversal.images] == [3, 3] and traversal.images[0][0].size == (256, 256)

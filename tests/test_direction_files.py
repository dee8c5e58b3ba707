"""Direction files from InterFaceGAN, SeFa and GANSpace become a ganstudio direction set."""

import numpy as np
import pytest
import torch

import ganstudio.models  # noqa: F401  (fills ARCHS)
from ganstudio.editing.direction_files import boundary_name, import_directions, read_vectors, space_from_names
from ganstudio.editing.directions import DirectionError, DirectionSet
from ganstudio.registry import ARCHS


@pytest.fixture
def G():
    torch.manual_seed(0)
    return ARCHS.get("stylegan").from_config(dict(resolution=16, z_dim=8, w_dim=6, mapping_layers=2,
                                                   channel_base=256, channel_max=16)).eval()


def test_interfacegan_boundaries_are_named_by_their_files_and_scaled_to_the_codes(G, tmp_path):
    smile, age = np.zeros((1, 6)), np.zeros(6)
    smile[0, 0], age[2] = 1.0, 3.0  # a boundary need not be unit length
    np.save(tmp_path / "stylegan_ffhq_smile_w_boundary.npy", smile)
    np.save(tmp_path / "stylegan_ffhq_age_w_boundary.npy", age)
    paths = [tmp_path / "stylegan_ffhq_smile_w_boundary.npy", tmp_path / "stylegan_ffhq_age_w_boundary.npy"]
    assert space_from_names(paths) == "w" and boundary_name(paths[0]) == "smile"
    result = import_directions(paths, G, "abc", "interfacegan", seed=0)
    assert result.names == ["smile", "age"] and result.space == "w" and result.generator_hash == "abc"
    from ganstudio.editing.codes import sampled_ws

    codes = sampled_ws(G, 2000, seed=0)
    assert result.vector("smile")[0] == pytest.approx(float(codes[:, 0].std()), rel=1e-4)  # one std of w along it
    assert result.vector("age")[2] == pytest.approx(float(codes[:, 2].std()), rel=1e-4)
    assert result.vector("age")[[0, 1, 3, 4, 5]].abs().max() == 0
    saved = DirectionSet.load(result.save(tmp_path / "m.interfacegan.directions.safetensors"), "abc")
    assert saved.names == result.names and "imported from stylegan_ffhq_smile_w_boundary.npy" in saved.source


def test_component_files_and_ganspace_dumps(G, tmp_path):
    np.save(tmp_path / "sefa.npy", np.eye(8)[:3] * 2)  # three unit components in z
    result = import_directions([tmp_path / "sefa.npy"], G, "h", "sefa_file", space="z")
    assert result.names == ["sefa0", "sefa1", "sefa2"] and torch.allclose(result.vectors, torch.eye(8)[:3])  # z: std 1
    np.savez(tmp_path / "ganspace.npz", lat_comp=np.eye(6)[:4].reshape(4, 1, 6), lat_stdev=np.array([4.0, 3, 2, 1]),
             var_ratio=np.ones(4))
    result = import_directions([tmp_path / "ganspace.npz"], G, "h", "ganspace", space="w", names=["a", "b", "c", "d"])
    assert result.names == ["a", "b", "c", "d"]  # lat_stdev, measured on the source model, is the scale
    assert torch.allclose(result.vectors, torch.eye(6)[:4] * torch.tensor([4.0, 3, 2, 1])[:, None])


def test_bad_files_are_refused_by_name(G, tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DirectionError, match="objects.npy: holds Python objects"):
        read_vectors(tmp_path / "objects.npy")
    (tmp_path / "text.npy").write_text("not numpy")
    with pytest.raises(DirectionError, match="text.npy: not a NumPy"):
        read_vectors(tmp_path / "text.npy")
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(DirectionError, match="needs GANSpace's 'lat_comp' array; it has weights"):
        read_vectors(tmp_path / "other.npz")
    np.save(tmp_path / "long_w_boundary.npy", np.ones((1, 7)))
    with pytest.raises(DirectionError, match="long_w_boundary.npy: vectors of length 7, but this generator's w has 6"):
        import_directions([tmp_path / "long_w_boundary.npy"], G, "h", "x")
    np.save(tmp_path / "plain.npy", np.ones((1, 6)))
    with pytest.raises(DirectionError, match="say which latent space"):
        import_directions([tmp_path / "plain.npy"], G, "h", "x")
    with pytest.raises(DirectionError, match="2 names given for 1 directions"):
        import_directions([tmp_path / "plain.npy"], G, "h", "x", space="w", names=["a", "b"])

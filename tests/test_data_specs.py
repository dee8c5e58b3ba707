import pytest
import torch

from ganstudio.data import DataSpecError, on_stream, open_dataset, parse_spec
from ganstudio.registry import DATASETS, RegistryError


def test_spec_grammar():
    spec = parse_spec("synthfaces:64?n=20000&seed=1")
    assert (spec.name, spec.arg, spec.options) == ("synthfaces", "64", {"n": "20000", "seed": "1"})
    assert parse_spec("toy").arg is None
    nested = parse_spec("split:synthfaces:64?attr=Eyeglasses")
    assert (nested.name, nested.arg) == ("split", "synthfaces:64")
    assert parse_spec("folder:/data/my%20faces?flip=1").options == {"flip": "1"}
    assert str(parse_spec("digits:32?x=1")) == "digits:32?x=1"
    for bad in ["", "?n=1", "synthfaces:64?n", "synthfaces:64?n=1&n=2"]:
        with pytest.raises(DataSpecError):
            parse_spec(bad)



def test_another_stream_replaces_or_adds_the_seed_and_keeps_the_rest():
    assert on_stream("synthfaces:64?n=20000&seed=4", 1000) == "synthfaces:64?n=20000&seed=1000"
    assert on_stream("synthfaces:64", 7) == "synthfaces:64?seed=7"
    assert on_stream("split:synthfaces:64?attr=Eyeglasses&pair_seed=3", 7) == \
        "split:synthfaces:64?attr=Eyeglasses&pair_seed=3&seed=7"  # a pairing seed is not the stream


def test_registry_names_and_errors():
    for name in ["synthfaces", "digits", "folder", "celeba", "unpaired", "split", "toy"]:
        assert name in DATASETS
    with pytest.raises(RegistryError, match="unknown dataset 'faces'; known: celeba, digits"):
        open_dataset("faces:64")


def test_options_are_typed_and_unknown_ones_refused():
    with pytest.raises(DataSpecError, match="n='many' is not an integer"):
        open_dataset("synthfaces:32?n=many")
    with pytest.raises(DataSpecError, match="unknown option.*colour"):
        open_dataset("toy:ring?colour=red")
    ds = open_dataset("synthfaces:32?n=5", n=7)
    assert len(ds) == 7 and ds.spec == "synthfaces:32?n=7"
    # callers that know their model's size pass it as an override (ganstudio directions does)
    assert open_dataset("synthfaces:64?n=2", resolution=32)[0][0].shape == (3, 32, 32)
    assert open_dataset("digits:32", resolution=16).resolution == 16


@pytest.mark.parametrize("resolution", [16, 32])
def test_digits(resolution):
    ds = open_dataset(f"digits:{resolution}")
    assert len(ds) == 1797 and ds.resolution == resolution
    assert ds.label_kind == "class" and ds.label_names == [str(d) for d in range(10)]
    image, label = ds[0]
    assert image.shape == (3, resolution, resolution) and image.min() >= -1 and image.max() <= 1
    assert label.shape == (10,) and label.sum() == 1 and label.argmax() == 0   # the first scan is a 0
    table = ds.label_table()
    assert torch.equal(table.sum(0) > 150, torch.ones(10, dtype=torch.bool))
    # a zero is a ring: its centre is dark, its left and right strokes bright
    zeros = ds.images[ds.targets == 0].mean(0)[0]
    c = resolution // 2
    assert zeros[c, c] < 0 and zeros[c, resolution // 5] > zeros[c, c] + 0.5


def test_digits_refuses_other_sizes():
    with pytest.raises(DataSpecError, match="one of"):
        open_dataset("digits:24")


def test_ring_and_grid_centres_and_samples():
    ring = open_dataset("toy:ring?n=4000&seed=3")  # the literature's ring: radius 1, sigma 0.01
    assert ring.num_modes == 8 and torch.allclose(ring.centres.norm(dim=1), torch.full((8,), 1.0))
    assert ring.std == 0.01 and ring[0].shape == (2,)
    assert ring.high_quality(ring.points).float().mean() > 0.98
    assert torch.bincount(ring.nearest_mode(ring.points), minlength=8).min() > 400
    grid = open_dataset("toy:grid?n=5000")
    assert grid.num_modes == 25
    assert sorted(set(grid.centres[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert grid.high_quality(grid.points).float().mean() > 0.98
    collapsed = torch.zeros(100, 2)
    assert set(grid.nearest_mode(collapsed).tolist()) == {12}
    assert grid.high_quality(torch.tensor([[1.0, 1.0]])).tolist() == [False]


def test_toy_shapes_are_set_by_the_spec_and_checked():
    wide = open_dataset("toy:ring?n=100&radius=2&sigma=0.02&modes=6")
    assert wide.num_modes == 6 and torch.allclose(wide.centres.norm(dim=1), torch.full((6,), 2.0)) and wide.std == 0.02
    assert open_dataset("toy:grid?n=10&side=3&spacing=1").num_modes == 9
    with pytest.raises(DataSpecError, match="radius must be a positive number"):
        open_dataset("toy:ring?radius=0")
    with pytest.raises(DataSpecError, match="side='0' is not at least 1"):
        open_dataset("toy:grid?side=0")
    # the error lists the options this distribution takes, and no others
    with pytest.raises(DataSpecError, match=r"unknown option\(s\) radius; known: arcs_per_moon, n, seed, sigma$"):
        open_dataset("toy:moons?radius=1")


def test_toy_sampling_is_deterministic():
    assert torch.equal(open_dataset("toy:grid?n=50&seed=2").points, open_dataset("toy:grid?n=50&seed=2").points)
    assert not torch.equal(open_dataset("toy:grid?n=50&seed=2").points, open_dataset("toy:grid?n=50&seed=3").points)


@pytest.mark.parametrize("name", ["moons", "spiral"])
def test_curves_have_structure_and_modes(name):
    ds = open_dataset(f"toy:{name}?n=3000")
    assert ds.num_modes == 8 and ds.std == 0.05
    assert ds.distance(ds.points).median() < 0.06
    assert ds.high_quality(ds.points).float().mean() > 0.95
    counts = torch.bincount(ds.nearest_mode(ds.points), minlength=8)
    assert counts.min() > 3000 / 8 * 0.6   # modes are equal lengths of the curve
    assert ds.distance(ds.centres).max() < 1e-5


def test_points_from_csv(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n0.5,1.5\n-2,3\n\n")
    ds = open_dataset(f"toy:{path}")
    assert ds.points.tolist() == [[0.5, 1.5], [-2.0, 3.0]] and ds.centres is None
    with pytest.raises(ValueError, match="no known structure"):
        ds.distance(ds.points)
    path.write_text("1,2\n3,four\n")
    with pytest.raises(DataSpecError, match="line 2"):
        open_dataset(f"toy:{path}")
    with pytest.raises(DataSpecError, match="unknown distribution 'circle'"):
        open_dataset("toy:circle")

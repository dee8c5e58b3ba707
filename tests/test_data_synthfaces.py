import hashlib

import numpy as np
import pytest
import torch

from ganstudio.data import open_dataset
from ganstudio.data.synthfaces import (
    ATTRIBUTES, FACTORS, HAIR_COLOURS, SynthFaces, draw_face_array, render_face, sample_face, with_priors,
)

# sha256 of faces 0..7 of seed 0 at 64 px (uint8 RGB, concatenated). Same (seed, index) must
# give the same bytes on every run; a change here means every SynthFaces data set changed.
GOLDEN_64 = "98b31d61201f29b85a25ac6263eea1492d6cbc599650a13ccad704aa4e1c0407"


def _batch_digest(seed=0, count=8, resolution=64) -> str:
    h = hashlib.sha256()
    for i in range(count):
        h.update(draw_face_array(sample_face(seed, i), resolution).tobytes())
    return h.hexdigest()


def test_rendering_is_deterministic_and_matches_the_golden_digest():
    first = _batch_digest()
    assert _batch_digest() == first
    assert first == GOLDEN_64
    assert _batch_digest(seed=1) != first


def test_any_index_renders_the_same_whatever_came_before():
    late = draw_face_array(sample_face(3, 17), 64)
    for i in range(5):
        draw_face_array(sample_face(3, i), 64)
    assert np.array_equal(draw_face_array(sample_face(3, 17), 64), late)


@pytest.mark.parametrize("resolution", [32, 100, 256])
def test_resolutions(resolution):
    face = render_face(0, 1, resolution)
    assert face.image.size == (resolution, resolution) and face.image.mode == "RGB"
    pixels = np.asarray(face.image)
    assert pixels.std() > 20  # a picture, not a flat fill


@pytest.mark.parametrize("resolution", [31, 257, 64.0])
def test_bad_resolution_is_refused(resolution):
    with pytest.raises(ValueError, match="32 to 256"):
        render_face(0, 0, resolution)


def test_attribute_names_and_exclusive_hair_colours():
    assert ATTRIBUTES[:8] == ("Smiling", "Mouth_Slightly_Open", "Eyeglasses", "Wearing_Hat", "Bangs",
                              "Long_Hair", "Beard", "Pale_Skin")
    assert HAIR_COLOURS == ("Black_Hair", "Brown_Hair", "Blond_Hair", "Red_Hair", "Gray_Hair")
    seen = set()
    for i in range(600):
        spec = sample_face(0, i)
        assert set(spec.attributes) == set(ATTRIBUTES)
        assert sum(spec.attributes[h] for h in HAIR_COLOURS) == 1
        assert set(spec.factors) == set(FACTORS)
        seen.update(h for h in HAIR_COLOURS if spec.attributes[h])
        assert spec.attributes["Pale_Skin"] == (spec.factors["skin_tone"] < 0.22)
    assert seen == set(HAIR_COLOURS)


def test_every_attribute_occurs_both_ways():
    table = SynthFaces(64, n=1500).label_table()
    rates = table.mean(0)
    assert ((rates > 0.03) & (rates < 0.97)).all(), dict(zip(ATTRIBUTES, rates.tolist()))


def _rate(table, child, parent, value):
    rows = table[:, ATTRIBUTES.index(parent)] == value
    return table[rows, ATTRIBUTES.index(child)].mean().item()


def test_default_priors_entangle_attributes_and_coupling_zero_does_not():
    coupled = SynthFaces(64, n=3000).label_table()
    assert _rate(coupled, "Bangs", "Long_Hair", 1) > _rate(coupled, "Bangs", "Long_Hair", 0) + 0.1
    assert _rate(coupled, "Beard", "Long_Hair", 1) < _rate(coupled, "Beard", "Long_Hair", 0) - 0.15
    assert _rate(coupled, "Eyeglasses", "Gray_Hair", 1) > _rate(coupled, "Eyeglasses", "Gray_Hair", 0) + 0.15
    free = SynthFaces(64, n=3000, priors=with_priors(coupling=0.0)).label_table()
    assert abs(_rate(free, "Bangs", "Long_Hair", 1) - _rate(free, "Bangs", "Long_Hair", 0)) < 0.05
    assert abs(_rate(free, "Beard", "Long_Hair", 1) - _rate(free, "Beard", "Long_Hair", 0)) < 0.05


def test_forcing_an_attribute_changes_only_that_attribute():
    for i in range(40):
        natural = sample_face(0, i)
        if natural.attributes["Eyeglasses"]:
            continue
        forced = sample_face(0, i, force={"Eyeglasses": True})
        assert forced.factors == natural.factors
        assert {k: v for k, v in forced.attributes.items() if k != "Eyeglasses"} == \
               {k: v for k, v in natural.attributes.items() if k != "Eyeglasses"}
        plain = draw_face_array(natural, 64)
        assert np.array_equal(draw_face_array(sample_face(0, i, force={"Eyeglasses": False}), 64), plain)
        assert not np.array_equal(draw_face_array(forced, 64), plain)
        return
    pytest.fail("no face without glasses among 40")


def test_forcing_hair_colours_and_factors():
    spec = sample_face(0, 2, force={"Red_Hair": True, "yaw": 0.0})
    assert spec.attributes["Red_Hair"] and sum(spec.attributes[h] for h in HAIR_COLOURS) == 1
    assert spec.factors["yaw"] == 0.0
    current = next(h for h in HAIR_COLOURS if sample_face(0, 2).attributes[h])
    other = sample_face(0, 2, force={current: False})
    assert not other.attributes[current] and sum(other.attributes[h] for h in HAIR_COLOURS) == 1
    pale = sample_face(0, 2, force={"Pale_Skin": True})
    assert pale.attributes["Pale_Skin"] and pale.factors["skin_tone"] < 0.22
    with pytest.raises(ValueError, match="exclusive"):
        sample_face(0, 2, force={"Red_Hair": True, "Blond_Hair": True})
    with pytest.raises(ValueError, match="Sunglasses"):
        sample_face(0, 2, force={"Sunglasses": True})


def test_dataset_items_shapes_ranges_and_labels():
    ds = open_dataset("synthfaces:32?n=10&seed=4")
    assert len(ds) == 10 and ds.resolution == 32 and ds.label_kind == "attributes"
    assert ds.label_names == list(ATTRIBUTES) and ds.factor_names == list(FACTORS)
    image, labels, factors = ds[3]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert image.min() >= -1 and image.max() <= 1 and image.std() > 0.1
    assert labels.shape == (13,) and set(labels.tolist()) <= {0.0, 1.0}
    assert factors.shape == (len(FACTORS),)
    assert torch.equal(ds.label_table()[3], labels)
    spec = sample_face(4, 3)
    assert factors[FACTORS.index("yaw")].item() == pytest.approx(spec.factors["yaw"], abs=1e-6)
    with pytest.raises(IndexError):
        ds[10]


def test_spec_options_force_and_attribute_selection():
    ds = open_dataset("synthfaces:32?n=6&force=Eyeglasses:1,Smiling:0&attrs=Eyeglasses,Smiling")
    assert ds.label_names == ["Eyeglasses", "Smiling"]
    assert all(ds[i][1].tolist() == [1.0, 0.0] for i in range(6))
    with pytest.raises(ValueError, match="Sunglasses"):
        open_dataset("synthfaces:32?n=6&attrs=Sunglasses")
    with pytest.raises(ValueError, match="resolution"):
        open_dataset("synthfaces:big")

"""Conditional generators in the studio: class, attribute and InfoGAN-code conditions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import make_tiny
from ganstudio import checkpoint
from ganstudio.editing.conditions import ConditionError, ConditionSpec
from ganstudio.studio import Studio, StudioError

CODES = ConditionSpec("codes", categorical=(3,), continuous=2)


def test_class_condition_is_one_hot_and_cycles_with_the_seed():
    spec = ConditionSpec("class", names=("zero", "one", "two"))
    assert spec.vector("one").tolist() == [0, 1, 0]
    assert [spec.for_seed(s) for s in range(4)] == ["zero", "one", "two", "zero"]
    with pytest.raises(ConditionError, match="one of: zero, one, two"):
        spec.vector("three")


def test_attribute_condition_is_multi_hot_and_names_unknown_attributes():
    spec = ConditionSpec("attributes", names=("Smiling", "Eyeglasses", "Bangs"))
    assert spec.vector("Bangs, Smiling").tolist() == [1, 0, 1]
    assert spec.vector("").tolist() == [0, 0, 0]
    with pytest.raises(ConditionError, match="unknown attribute.*Hat"):
        spec.vector("Smiling, Hat")


def test_infogan_codes_are_one_hot_categoricals_then_continuous_values():
    assert CODES.code_names == ["c1", "c2", "c3"]
    assert CODES.vector("c1=2, c3=-0.5").tolist() == [0, 0, 1, 0, -0.5]
    assert CODES.for_seed(4) == "c1=1, c2=0, c3=0"
    assert CODES.text(CODES.parse("c2=0.25")) == "c1=0, c2=0.25, c3=0"
    for bad, message in [("c1=3", "0 to 2"), ("c1=1.5", "whole number"), ("c4=1", "codes like"),
                         ("c2=abc", "not a number"), ("c2", "codes like")]:
        with pytest.raises(ConditionError, match=message):
            CODES.vector(bad)


def test_spec_comes_from_the_checkpoint_header():
    G = make_tiny(c_dim=5)
    assert ConditionSpec.of(G, {"recipe": "infogan", "info_cat": [3], "info_cont": 2}, ()) == CODES
    assert ConditionSpec.of(make_tiny(), {}, ()) is None
    spec = ConditionSpec.of(make_tiny(c_dim=2), {"label_kind": "attributes"}, ("A", "B"))
    assert spec == ConditionSpec("attributes", names=("A", "B"))
    with pytest.raises(ConditionError, match="describes 3 condition values but the generator takes 5"):
        ConditionSpec.of(G, {"recipe": "infogan", "info_cat": [2], "info_cont": 1}, ())


HAIR = ("Smiling", "Black_Hair", "Blond_Hair", "Red_Hair")


def test_a_seed_alone_draws_attributes_as_often_as_the_training_data_had_them():
    frequencies = {"Smiling": 0.3, "Black_Hair": 0.5, "Blond_Hair": 0.3, "Red_Hair": 0.2}
    spec = ConditionSpec.of(make_tiny(c_dim=4), {"label_kind": "attributes", "label_frequencies": frequencies}, HAIR)
    assert spec.prior == (0.3, 0.5, 0.3, 0.2)
    c = spec.seed_vectors(list(range(4000)))
    assert (c[:, 1:].sum(1) == 1).all()  # the hair colours are one exclusive group
    assert c.mean(0).tolist() == pytest.approx([0.3, 0.5, 0.3, 0.2], abs=0.03)
    assert spec.for_seed(7) == spec.for_seed(7) and spec.vector(spec.for_seed(7)).tolist() == c[7].tolist()
    rare = ConditionSpec("attributes", names=HAIR, prior=(0.0, 0.1, 0.1, 0.1))
    assert (rare.seed_vectors(list(range(2000)))[:, 1:].sum(1) == 0).float().mean() == pytest.approx(0.7, abs=0.04)
    # without frequencies (or with ones for other names) a seed keeps every attribute off, as before
    for meta in ({"label_kind": "attributes"}, {"label_kind": "attributes", "label_frequencies": {"Smiling": 1}}):
        assert ConditionSpec.of(make_tiny(c_dim=4), meta, HAIR).for_seed(3) == ""


@pytest.fixture
def studio(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    checkpoint.save(folder / "digits.safetensors", {"G_ema": make_tiny(c_dim=3)}, labels=["0", "1", "2"],
                    meta={"recipe": "cgan", "label_kind": "class"})
    checkpoint.save(folder / "info.safetensors", {"G_ema": make_tiny(seed=1, c_dim=5)},
                    meta={"recipe": "infogan", "info_cat": [3], "info_cont": 2})
    checkpoint.save(folder / "plain.safetensors", {"G_ema": make_tiny()})
    return Studio(folder, device="cpu")


def _pixels(image):
    return np.asarray(image, dtype=np.float32)


def test_studio_samples_tell_the_generator_the_condition(studio):
    as_zero, as_two = (studio.sample("digits", "0", condition=c)[0] for c in ("0", "2"))
    assert as_zero.condition == "0" and as_two.condition == "2"
    assert np.abs(_pixels(as_zero.image) - _pixels(as_two.image)).mean() > 0.5
    by_seed = studio.sample("digits", "0-3")
    assert [s.condition for s in by_seed] == ["0", "1", "2", "0"]  # without a condition the seed picks the class
    assert _pixels(by_seed[0].image).tolist() == _pixels(as_zero.image).tolist()


def test_recipes_keep_the_condition_and_replay_it(studio):
    recipe = studio.seed_recipe("info", 7, condition="c1=2,c3=0.5")
    assert recipe.condition == "c1=2, c2=0, c3=0.5"
    sample = studio.sample("info", [7], condition="c1=2, c3=0.5")[0]
    assert _pixels(studio.render(recipe).image).tolist() == _pixels(sample.image).tolist()
    replayed = type(recipe).from_json(recipe.to_json())
    assert replayed.condition == recipe.condition


def test_mixing_walks_and_interpolation_work_on_conditional_models(studio):
    assert len(studio.mix("digits", "0, 1", "2, 3")) == 2
    assert len(studio.walk("info", "0, 1", frames_per_step=3)) == 6
    a, b = studio.seed_recipe("digits", 0), studio.seed_recipe("digits", 1, condition="2")
    frames = studio.interpolate(a, b, frames=3, space="z")
    assert _pixels(frames[0]).tolist() == _pixels(studio.render(a).image).tolist()
    assert _pixels(frames[-1]).tolist() == _pixels(studio.render(b).image).tolist()


def test_bad_conditions_are_clear_errors(studio):
    with pytest.raises(StudioError, match="one of: 0, 1, 2"):
        studio.sample("digits", "0", condition="9")
    with pytest.raises(StudioError, match="'plain' is not conditional"):
        studio.sample("plain", "0", condition="1")
    assert studio.sample("plain", "0", condition="  ")[0].condition is None
    assert torch.equal(studio.condition_spec("info").vector("c1=1"), CODES.vector("c1=1"))


def test_a_conditional_model_inverts_in_w_with_d_told_the_mean_condition(tmp_path):
    from PIL import Image

    from ganstudio.editing.inversion import InversionSettings
    from ganstudio.models.discriminator import ResNetDConfig, ResNetDiscriminator

    D = ResNetDiscriminator(ResNetDConfig(resolution=16, channel_base=256, channel_max=16, c_dim=2,
                                          conditioning="projection"))
    frequencies = {"Smiling": 0.25, "Eyeglasses": 0.5}
    checkpoint.save(tmp_path / "faces.safetensors", {"G_ema": make_tiny(c_dim=2), "D": D}, labels=list(frequencies),
                    meta={"recipe": "cgan", "label_kind": "attributes", "label_frequencies": frequencies})
    studio = Studio(tmp_path)
    assert studio.condition_spec("faces").mean_vector().tolist() == [0.25, 0.5]
    photo = Image.new("RGB", (16, 16), (120, 60, 30))
    steps = list(studio.invert("faces", photo, InversionSettings(method=1, space="w+", steps=3, lambda_realism=0.5)))
    assert len(steps) == 4 and "realism" in steps[-1][0].losses
    with pytest.raises(StudioError, match="'faces' is conditional: its z needs a condition"):
        list(studio.invert("faces", photo, InversionSettings(method=1, space="z", steps=3)))
    assert CODES.mean_vector().tolist() == pytest.approx([1 / 3] * 3 + [0, 0])
    assert ConditionSpec("class", names=("a", "b")).mean_vector().tolist() == [0.5, 0.5]


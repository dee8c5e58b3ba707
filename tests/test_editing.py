"""Editing core: directions, edits, recipes, inversion — on tiny models, exact where it can be."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio import checkpoint
from ganstudio.editing import directions as dirs
from ganstudio.editing.directions import DirectionError, DirectionSet, orthogonalize
from ganstudio.editing.edit import ResolvedEdit, apply_edits
from ganstudio.editing.inversion import InversionError, InversionSettings, invert, run_inversion
from ganstudio.editing.layer_ranges import LayerRangeError, check_rows, preset_rows
from ganstudio.editing.recipe import Edit, Recipe, RecipeError
from ganstudio.imaging import png_bytes, read_png_recipe
from ganstudio.errors import UserError
from ganstudio.studio import Studio, StudioError
from tests.conftest import make_tiny


class LinearEncoder(nn.Module):
    """A fixed toy encoder: flattens the image and applies a known matrix."""

    space = "w"

    def __init__(self, in_dim, out_dim, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim, generator=g) * 0.01, requires_grad=False)

    def forward(self, x):
        return x.flatten(1) @ self.weight.T


class MeanBrightnessD(nn.Module):
    """A toy critic that prefers bright images; features are channel means."""

    def forward(self, x):
        return x.mean(dim=(1, 2, 3))

    def features(self, x):
        return x.mean(dim=(2, 3))


def test_mean_diff_equals_hand_computation():
    torch.manual_seed(0)
    images = torch.rand(6, 3, 4, 4) * 2 - 1
    E = LinearEncoder(48, 5)
    labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0], [1, 0], [0, 1]], dtype=float)
    codes = E(images).detach().double().numpy()
    names, vectors = dirs.mean_diff(codes, labels, ["A", "B"])
    hand_a = codes[[0, 1, 4]].mean(0) - codes[[2, 3, 5]].mean(0)
    hand_b = codes[[1, 2, 5]].mean(0) - codes[[0, 3, 4]].mean(0)
    assert names == ["A", "B"]
    np.testing.assert_allclose(vectors[0], hand_a, rtol=1e-12)
    np.testing.assert_allclose(vectors[1], hand_b, rtol=1e-12)


def test_mean_diff_needs_both_classes():
    with pytest.raises(DirectionError, match="'A' has no positive examples among 4;"):
        dirs.mean_diff(np.zeros((4, 3)), np.zeros((4, 1)), ["A"])
    with pytest.raises(DirectionError, match="'A' has only positive examples among 4;"):
        dirs.mean_diff(np.zeros((4, 3)), np.ones((4, 1)), ["A"])


@pytest.mark.parametrize("method", ["svm", "logreg"])
def test_linear_boundaries_find_the_separating_axis(method):
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(400, 6))
    labels = (codes[:, 2] > 0).astype(float)[:, None]
    names, vectors = dirs.DIRECTIONS.get(method)(codes, labels, ["X"])
    unit = vectors[0] / np.linalg.norm(vectors[0])
    assert abs(unit[2]) > 0.95 and vectors[0][2] > 0  # points towards the positive class
    gap = codes[labels[:, 0] > 0].mean(0) - codes[labels[:, 0] == 0].mean(0)
    assert np.isclose(np.linalg.norm(vectors[0]), abs(gap @ unit), rtol=1e-6)


def test_units_move_only_the_unit_tied_to_each_attribute():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(200, 5))
    labels = np.stack([codes[:, 3] > 0, codes[:, 1] > 0.5], 1).astype(float)
    names, vectors = dirs.units(codes, labels, ["Smiling", "Beard"], units=["Beard", "x", "y", "Smiling"])
    assert names == ["Smiling", "Beard"]
    gap = codes[labels[:, 0] > 0, 3].mean() - codes[labels[:, 0] == 0, 3].mean()
    np.testing.assert_allclose(vectors[0], [0, 0, 0, gap, 0])
    assert np.count_nonzero(vectors[1]) == 1 and vectors[1][0] != 0  # Beard's unit is 0
    with pytest.raises(DirectionError, match="trained by `aegan` with ae_labels"):
        dirs.units(codes, labels, ["Smiling", "Beard"])
    with pytest.raises(DirectionError, match="no w unit is tied to 'Beard'"):
        dirs.units(codes, labels, ["Smiling", "Beard"], units=["Smiling"])


def test_pca_and_sefa_shapes_and_scales():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(300, 8)) * np.array([5, 1, 1, 1, 1, 1, 1, 0.1])
    names, vectors = dirs.pca(codes, n_components=3)
    assert names == ["PC0", "PC1", "PC2"] and vectors.shape == (3, 8)
    assert abs(vectors[0][0]) == pytest.approx(5, rel=0.15)
    G = make_tiny()
    names, vectors = dirs.sefa(G=G, n_components=4)
    assert names[0] == "SeFa0" and vectors.shape == (4, G.w_dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_conditional_direction_is_orthogonal_to_every_condition():
    torch.manual_seed(3)
    vectors = torch.randn(5, 16)
    ds = DirectionSet("mean_diff", "w", ["Smiling", "Eyeglasses", "Long_Hair", "Beard", "Hat"], vectors, "h")
    d = ds.conditional("Smiling", ["Eyeglasses", "Long_Hair", "Beard", "Hat"])
    for k in range(1, 5):
        assert abs(float(d @ vectors[k])) < 1e-4
    assert torch.equal(ds.conditional("Smiling", []), vectors[0])
    torch.testing.assert_close(d.norm(), vectors[0].norm())  # the slider keeps its reach
    inside = DirectionSet("mean_diff", "w", ["a", "b", "c"], torch.stack([vectors[1] + vectors[2], vectors[1], vectors[2]]), "h")
    with pytest.raises(DirectionError, match="'a' lies in the span of the directions kept fixed"):
        inside.conditional("a", ["b", "c"])
    assert torch.allclose(orthogonalize(vectors[0], vectors[1:2]) @ vectors[1], torch.tensor(0.0), atol=1e-5)


def test_alpha_zero_is_the_identity_and_layers_limit_the_edit():
    G = make_tiny(num_ws=4)
    z = torch.randn(1, G.z_dim)
    ws = G.mapping(z)
    d = torch.randn(G.w_dim)
    same = apply_edits(G, ws, [ResolvedEdit(d, "w", 0.0, slice(0, 4)), ResolvedEdit(d, "z", 0.0, slice(0, 4))])
    assert torch.equal(same, ws)
    moved = apply_edits(G, ws, [ResolvedEdit(d, "w", 2.0, slice(1, 3))])
    assert torch.equal(moved[:, [0, 3]], ws[:, [0, 3]])
    assert torch.allclose(moved[:, 1:3], ws[:, 1:3] + 2 * d)
    dz = torch.randn(G.z_dim)
    moved_z = apply_edits(G, ws, [ResolvedEdit(dz, "z", 1.0, slice(2, 4))], z=z)
    assert torch.equal(moved_z[:, :2], ws[:, :2])
    assert torch.allclose(moved_z[:, 2:], G.mapping(z + dz)[:, 2:])


def test_layer_presets_and_ranges():
    assert preset_rows("coarse", 18) == (0, 4) and preset_rows("middle", 18) == (4, 8)
    assert preset_rows("fine", 10) == (8, 10) and preset_rows("all", 6) == (0, 6)
    c, m, f = (preset_rows(p, 6) for p in ("coarse", "middle", "fine"))
    assert c[0] == 0 and c[1] == m[0] and m[1] == f[0] and f[1] == 6 and all(a < b for a, b in (c, m, f))
    with pytest.raises(LayerRangeError):
        check_rows((3, 9), 6)
    for num_ws in (1, 2, 3):  # no preset is empty, however few the rows
        for preset in ("coarse", "middle", "fine"):
            start, stop = preset_rows(preset, num_ws)
            assert check_rows((start, stop), num_ws) == slice(start, stop) and start < stop


def _unit(tmp_path):
    """A checkpoint folder with a tiny model unit that carries mean_diff directions."""
    G = make_tiny(num_ws=4)
    vectors = torch.randn(2, G.w_dim, generator=torch.Generator().manual_seed(5))
    folder = tmp_path / "ckpt"
    checkpoint.save(folder / "faces.safetensors", {"G_ema": G}, labels=["Smiling", "Eyeglasses"],
                    extra={"directions.mean_diff": vectors},
                    meta={"directions": {"mean_diff": {"space": "w", "names": ["Smiling", "Eyeglasses"]}}})
    return folder, G, vectors


def test_recipe_round_trip_is_bit_exact_through_json_and_png(tmp_path):
    folder, G, _ = _unit(tmp_path)
    studio = Studio(folder)
    recipe = studio.seed_recipe("faces", 11, psi=0.7).with_edits(
        [Edit("mean_diff/Smiling", 1.5, layers=(0, 2), keep=("Eyeglasses",)), Edit("mean_diff/Eyeglasses", -1.0)]
    )
    first = studio.render(recipe)
    again = studio.render(Recipe.from_json(recipe.to_json()))
    assert first.image.tobytes() == again.image.tobytes()
    from_png = Recipe.from_dict(read_png_recipe(png_bytes(first.image, recipe.to_dict())))
    assert from_png == recipe and studio.render(from_png).image.tobytes() == first.image.tobytes()
    # codes survive JSON exactly too (an inverted image replays identically)
    code = torch.randn(4, G.w_dim)
    coded = studio.code_recipe("faces", code, "w+")
    assert torch.equal(Recipe.from_json(coded.to_json()).code_tensor(), code)
    assert studio.render(coded).image.tobytes() == studio.render(Recipe.from_json(coded.to_json())).image.tobytes()


def test_edit_changes_the_image_and_zero_alpha_does_not(tmp_path):
    folder, _, _ = _unit(tmp_path)
    studio = Studio(folder)
    base = studio.seed_recipe("faces", 2)
    plain = studio.render(base).image.tobytes()
    assert studio.render(base.with_edits([Edit("mean_diff/Smiling", 0.0)])).image.tobytes() == plain
    assert studio.render(base.with_edits([Edit("mean_diff/Smiling", 3.0)])).image.tobytes() != plain


def test_render_refuses_a_recipe_for_another_generator_and_unknown_directions(tmp_path):
    folder, _, _ = _unit(tmp_path)
    studio = Studio(folder)
    recipe = studio.seed_recipe("faces", 1)
    with pytest.raises(StudioError, match="recipe was made with generator"):
        studio.render(Recipe.from_dict({**recipe.to_dict(), "model_hash": "0" * 16}))
    with pytest.raises(StudioError, match="no 'svm' directions"):
        studio.render(recipe.with_edits([Edit("svm/Smiling", 1.0)]))
    with pytest.raises(UserError, match="no mean_diff direction 'Bald'"):
        studio.render(recipe.with_edits([Edit("mean_diff/Bald", 1.0)]))


@pytest.mark.parametrize("bad, message", [
    ("{", "not valid JSON"),
    ('{"model": "m", "model_hash": "h"}', "exactly one of 'seed' or 'code'"),
    ('{"model": "m", "model_hash": "h", "seed": 1, "colour": 2}', "unknown recipe fields: colour"),
    ('{"model": "m", "model_hash": "h", "seed": 1, "edits": [{"direction": "x"}]}', "'direction' and 'alpha'"),
    ('{"model": "m", "model_hash": "h", "seed": -1}', "'seed' must be a whole number from 0 to 4294967295, got -1"),
    ('{"model": "m", "model_hash": "h", "seed": 4294967296}', "'seed' must be .* got 4294967296"),
])
def test_malformed_recipes_name_the_problem(bad, message):
    with pytest.raises(RecipeError, match=message):
        Recipe.from_json(bad)


def test_direction_files_refuse_another_generator(tmp_path):
    ds = DirectionSet("pca", "w", ["PC0"], torch.randn(1, 8), "aaaa")
    path = ds.save(tmp_path / "m.pca.directions.safetensors")
    assert DirectionSet.load(path, generator_hash="aaaa").names == ["PC0"]
    with pytest.raises(DirectionError, match="computed for generator aaaa, not this one"):
        DirectionSet.load(path, generator_hash="bbbb")
    (tmp_path / "junk.directions.safetensors").write_bytes(b"junk")
    with pytest.raises(DirectionError, match="junk"):
        DirectionSet.load(tmp_path / "junk.directions.safetensors")


def test_a_direction_files_origins_must_describe_its_directions(tmp_path):
    from safetensors.torch import save_file

    ds = DirectionSet("best", "w", ["PC0"], torch.randn(1, 8), "aaaa", origins={"PC0": {"method": "pca", "alpha": 2}})
    assert DirectionSet.load(ds.save(tmp_path / "ok.directions.safetensors")).origin_note("PC0") == "pca × 2"
    for origins in ({"PC9": {"method": "pca", "alpha": 2}}, {"PC0": {"alpha": 2}}, {"PC0": "pca"}):
        with pytest.raises(DirectionError, match="origin of"):
            DirectionSet("best", "w", ["PC0"], torch.randn(1, 8), "aaaa", origins=origins)
        path = tmp_path / "hand-made.directions.safetensors"  # written by something other than ganstudio
        save_file({"vectors": torch.randn(1, 8)}, str(path), metadata={**ds.header(), "origins": json.dumps(origins)})
        with pytest.raises(DirectionError, match="origin of"):
            DirectionSet.load(path)


def test_studio_finds_direction_files_beside_the_model_only_for_its_generator(tmp_path):
    folder, _, _ = _unit(tmp_path)
    studio = Studio(folder)
    g_hash = studio.catalogue.generator_hash("faces")
    DirectionSet("pca", "w", ["PC0"], torch.randn(1, 8), g_hash).save(folder / f"faces.pca{dirs.DIRECTIONS_SUFFIX}")
    DirectionSet("svm", "w", ["Smiling"], torch.randn(1, 8), "other").save(folder / f"faces.svm{dirs.DIRECTIONS_SUFFIX}")
    found = studio.directions("faces")
    assert sorted(found) == ["mean_diff", "pca", "sefa"]  # sefa computed, as no file has it; the svm file is refused
    assert found["pca"].names == ["PC0"]  # the file wins over a computed pca
    assert studio.model_names() == ["faces"]  # direction files are not listed as models


def _target(G, seed=9):
    with torch.no_grad():
        return G(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(seed)))[0]


def test_inversion_streams_steps_and_improves():
    G = make_tiny()
    target = _target(G)
    steps = list(invert(G, target, InversionSettings(method=1, space="w+", steps=60, lr=0.05, lambda_perceptual=0)))
    assert steps[-1].done and all(not s.done for s in steps[:-1])
    assert [s.step for s in steps] == list(range(len(steps)))
    assert steps[-1].losses["pixel"] < steps[0].losses["pixel"] * 0.5
    assert steps[-1].psnr > steps[0].psnr


def test_encoder_method_is_one_step_and_method_three_starts_there():
    G = make_tiny()
    E = LinearEncoder(3 * 16 * 16, G.w_dim)
    target = _target(G)
    [only] = list(invert(G, target, InversionSettings(method=2, space="w", lambda_perceptual=0), E=E))
    assert only.done and torch.allclose(only.code, E(target.unsqueeze(0))[0])
    first = next(invert(G, target, InversionSettings(method=3, space="w", lambda_perceptual=0), E=E))
    assert torch.allclose(first.code, only.code)
    with pytest.raises(InversionError, match="needs an encoder"):
        next(invert(G, target, InversionSettings(method=3, lambda_perceptual=0)))


def test_lambda1_keeps_the_code_near_z0():
    G = make_tiny()
    E = LinearEncoder(3 * 16 * 16, G.w_dim, seed=4)
    target = _target(G, seed=2)
    free = run_inversion(G, target, InversionSettings(method=3, steps=40, lambda_perceptual=0, patience=100), E=E)
    tied = run_inversion(G, target, InversionSettings(method=3, steps=40, lambda_perceptual=0, lambda_code=5.0,
                                                      patience=100), E=E)
    z0 = E(target.unsqueeze(0))[0]
    assert (tied.code - z0).norm() < 0.5 * (free.code - z0).norm()


def test_lambda2_raises_the_discriminator_score():
    G = make_tiny()
    D = MeanBrightnessD()
    target = _target(G, seed=3)
    plain = run_inversion(G, target, InversionSettings(method=1, steps=30, lambda_perceptual=0, patience=100), D=D)
    real = run_inversion(G, target, InversionSettings(method=1, steps=30, lambda_perceptual=0, lambda_realism=2.0,
                                                      patience=100), D=D)
    assert D(real.image.unsqueeze(0)) > D(plain.image.unsqueeze(0))


def test_mask_restricts_the_match_and_early_stop_caps_steps():
    G = make_tiny()
    target = _target(G)
    mask = torch.zeros(1, 16, 16)
    mask[:, :, :8] = 1
    noisy = target.clone()
    noisy[:, :, 8:] = torch.rand(3, 16, 8) * 2 - 1  # garbage outside the mask must not matter
    s = InversionSettings(method=1, space="w+", steps=40, lambda_perceptual=0, patience=100)
    masked = run_inversion(G, noisy, s, mask=mask)
    assert (masked.image[:, :, :8] - target[:, :, :8]).pow(2).mean() < (masked.image[:, :, 8:] - noisy[:, :, 8:]).pow(2).mean()
    quick = list(invert(G, target, InversionSettings(method=1, steps=500, lambda_perceptual=0, tolerance=0.5, patience=3,
                                                     lr_halvings=0)))
    assert len(quick) < 20 and quick[-1].done


def test_a_plateau_halves_the_step_size_before_stopping():
    G = make_tiny()
    target = _target(G, seed=5)
    settings = dict(method=1, space="w+", steps=400, lambda_perceptual=0, lr=0.5, tolerance=0.05, patience=4)
    stop = list(invert(G, target, InversionSettings(**settings, lr_halvings=0)))
    halve = list(invert(G, target, InversionSettings(**settings, lr_halvings=3)))
    assert len(stop) < len(halve) < 401 and halve[-1].done
    assert torch.equal(stop[-1].code, halve[len(stop) - 1].code)  # the same path up to the first plateau
    assert min(s.losses["total"] for s in halve) < min(s.losses["total"] for s in stop)
    with pytest.raises(InversionError, match="lr_halvings"):
        InversionSettings(lr_halvings=-1)


def test_invalid_settings():
    with pytest.raises(InversionError, match="method must be 1, 2 or 3"):
        InversionSettings(method=4)
    G = make_tiny()
    with pytest.raises(InversionError, match="discriminator"):
        next(invert(G, _target(G), InversionSettings(method=1, lambda_perceptual=0.1)))


def test_default_loss_is_pixel_only_and_needs_no_discriminator():
    G = make_tiny()
    steps = list(invert(G, _target(G), InversionSettings(method=1, steps=3)))
    assert set(steps[-1].losses) == {"total", "pixel"}


def test_svm_normal_follows_the_codes_scale_not_barely_used_dimensions():
    import numpy as np

    from ganstudio.editing import directions as dirs

    rng = np.random.default_rng(0)
    y = rng.random(2000) > 0.5
    codes = rng.normal(size=(2000, 8))
    codes[:, 0] += np.where(y, 1.5, -1.5)  # the attribute lives in a dimension the codes use
    codes[:, 1] = 1e-3 * (np.where(y, 1.0, -1.0) + rng.normal(size=2000))  # a faint, barely-used echo
    _, mean_vec = dirs.mean_diff(codes, y[:, None].astype(float), ["A"])
    _, svm_vec = dirs.svm(codes, y[:, None].astype(float), ["A"])
    cosine = float(mean_vec[0] @ svm_vec[0] / np.linalg.norm(mean_vec[0]) / np.linalg.norm(svm_vec[0]))
    assert cosine > 0.95 and np.linalg.norm(svm_vec[0]) > 0.8 * np.linalg.norm(mean_vec[0])

"""Code inspection (ganstudio.inspection): traversal grids, InfoGAN code sweeps, leakage,
cosines and disentanglement, on models whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganstudio import checkpoint
from ganstudio.editing.directions import DirectionSet
from ganstudio.inspection import Inspector
from ganstudio.studio import Studio, StudioError
from tests._metrics_data import (  # noqa: F401  (one_thread is an autouse fixture)
    ATTRIBUTES, AttributeImages, OracleConfig, OracleGenerator, ProbeConfig, ProbeEncoder, install_fake_data,
    one_thread,
)
from tests.conftest import make_tiny
from tests.test_metrics_edits import save_pixel_judge


@pytest.fixture
def inspector(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    checkpoint.save(folder / "tiny.safetensors", {"G_ema": make_tiny(num_ws=4)})
    checkpoint.save(folder / "info.safetensors", {"G_ema": make_tiny(seed=1, c_dim=5)},
                    meta={"recipe": "infogan", "info_cat": [3], "info_cont": 2})
    checkpoint.save(folder / "oracle.safetensors", {"G_ema": OracleGenerator(OracleConfig()),
                                                     "E": ProbeEncoder(ProbeConfig())})
    save_pixel_judge(folder / "judge.safetensors", ATTRIBUTES)
    studio = Studio(folder, device="cpu")
    exact = torch.eye(3, 8) * 10
    for method, vectors in {"exact": exact, "tangled": exact + exact.roll(1, dims=0)}.items():
        DirectionSet(method, "w", list(ATTRIBUTES), vectors, studio.catalogue.generator_hash("oracle")).save(
            folder / f"oracle.{method}.directions.safetensors")
    return Inspector(studio)


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


@pytest.mark.parametrize("axis", ["z[2]", "w[5]", "pca/PC0"])
def test_a_traversal_grid_has_a_row_per_seed_a_column_per_value_and_its_ends_differ(inspector, axis):
    result = inspector.traverse("tiny", axis, "3, 4, 5", lo=-2, hi=2, steps=5)
    assert result.values == [-2.0, -1.0, 0.0, 1.0, 2.0] and result.seeds == [3, 4, 5]
    assert [len(row) for row in result.images] == [5, 5, 5]
    for row in result.images:
        assert np.abs(pixels(row[0]) - pixels(row[-1])).mean() > 0.5
    assert result.grid().size == (5 * 16 + 6 * 2, 3 * 16 + 4 * 2)


def test_layers_limit_the_traversal_to_their_rows(inspector):
    studio = inspector.studio
    G = studio.generator("tiny")
    outside = inspector.traverse("tiny", "w[0]", "1", steps=3, layers=(2, 4)).images[0]
    plain = studio.sample("tiny", "1")[0]
    mid = pixels(outside[1])  # value 0: rows 2-3 unchanged, so the plain sample
    assert np.abs(mid - pixels(plain.image)).max() <= 1
    assert G.num_ws == 4


def test_a_traversal_says_which_rows_it_moved_only_when_not_all(inspector):
    assert inspector.traverse("tiny", "w[0]", "1", steps=2, layers=(2, 4)).rows_text() == "rows 2–3"
    assert inspector.traverse("tiny", "w[0]", "1", steps=2, layers=(3, 4)).rows_text() == "row 3"
    assert inspector.traverse("tiny", "w[0]", "1", steps=2, layers=(0, 4)).rows_text() == ""
    assert inspector.traverse("tiny", "w[0]", "1", steps=2).rows_text() == ""
    assert inspector.traverse("info", "c1", "1", steps=2, layers=(0, 1)).rows is None  # codes feed the mapping


def test_infogan_codes_sweep_every_category_or_the_range(inspector):
    categorical = inspector.traverse("info", "c1", "0, 1", steps=4)
    assert categorical.values == [0.0, 1.0, 2.0] and len(categorical.images[0]) == 3
    continuous = inspector.traverse("info", "c3", "0", lo=-1, hi=1, steps=4)
    assert continuous.values == pytest.approx([-1, -1 / 3, 1 / 3, 1])
    assert np.abs(pixels(continuous.images[0][0]) - pixels(continuous.images[0][-1])).mean() > 0.5
    assert inspector.axes("info")[:3] == ["c1", "c2", "c3"]


def test_bad_axes_and_ranges_are_clear_errors(inspector):
    for axis, message in [("z[99]", "dimensions 0 to 7"), ("nope", "unknown axis 'nope'"),
                          ("pca/PC99", "no pca direction 'PC99'"), ("mean_diff/Smiling", "unknown axis")]:
        with pytest.raises(StudioError, match=message):
            inspector.traverse("tiny", axis, "0")
    with pytest.raises(StudioError, match="steps must be between 2 and 15"):
        inspector.traverse("tiny", "z[0]", "0", steps=40)
    with pytest.raises(StudioError, match="range must go up"):
        inspector.traverse("tiny", "z[0]", "0", lo=1, hi=1)


def test_leakage_shows_each_direction_moving_its_own_attribute_and_what_it_drags_along(inspector):
    exact = inspector.leakage("oracle", "exact", "judge", n=32, alpha=3)
    assert exact.rows == [f"exact/{a}" for a in ATTRIBUTES] and exact.columns == ATTRIBUTES
    assert np.all(np.diag(exact.values) > 0.9)
    assert np.abs(exact.values - np.diag(np.diag(exact.values))).max() < 0.1
    tangled = inspector.leakage("oracle", "tangled", "judge", n=32, alpha=3).values
    assert tangled[1, 0] > 0.9 and tangled[2, 1] > 0.9  # direction k also moves attribute k-1
    image = exact.heatmap()
    assert image.width > 3 * 22 and image.height > 3 * 22
    assert inspector.judges() == ["judge"] and inspector.judge_for("oracle") == "judge"
    with pytest.raises(StudioError, match="'tiny' is not a judge"):
        inspector.leakage("oracle", "exact", "tiny")


def test_cosines_compare_directions_across_methods(inspector):
    matrix = inspector.cosines("oracle", ["exact", "tangled"])
    assert len(matrix.rows) == 6
    assert np.allclose(matrix.values[:3, :3], np.eye(3))
    assert matrix.values[0, 3] == pytest.approx(2 ** -0.5)  # tangled/0 = e0 + e2


def test_disentanglement_scores_the_encoder_against_the_ground_truth_factors(inspector, monkeypatch):
    class Faces(AttributeImages):
        factor_names = ATTRIBUTES

    install_fake_data(monkeypatch, faces=lambda: Faces(n=120))
    result = inspector.disentanglement("oracle", "faces", n=120)
    assert result["n"] == 120 and result["factors"] == ATTRIBUTES
    assert result["dci"]["informativeness"] > 0.5 and result["dci"]["disentanglement"] > 0.5
    with pytest.raises(StudioError, match="'tiny' has no encoder"):
        inspector.disentanglement("tiny", "faces")


def test_traverse_command_writes_the_grid(inspector, tmp_path, capsys):
    from PIL import Image

    from ganstudio.cli import main

    folder = str(inspector.catalogue.checkpoint_dirs[0])
    out = tmp_path / "grid.png"
    assert main(["traverse", "--model", "info", "--checkpoints", folder, "--axis", "c1", "--seeds", "0-1",
                 "--device", "cpu", "--out", str(out)]) == 0
    assert Image.open(out).size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)
    assert "c1 at 0, 1, 2" in capsys.readouterr().out
    assert main(["traverse", "--model", "tiny", "--checkpoints", folder, "--axis", "z[9]", "--device", "cpu",
                 "--out", str(out)]) == 2
    assert "dimensions 0 to 7" in capsys.readouterr().err

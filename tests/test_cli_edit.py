import json

import pytest
import torch
from PIL import Image

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.imaging import read_png_recipe
from tests.conftest import make_tiny


@pytest.fixture
def unit(tmp_path):
    G = make_tiny(num_ws=4)
    vectors = torch.randn(2, G.w_dim, generator=torch.Generator().manual_seed(5)) * 2
    path = tmp_path / "faces.safetensors"
    checkpoint.save(path, {"G_ema": G}, labels=["Smiling", "Eyeglasses"],
                    extra={"directions.mean_diff": vectors},
                    meta={"directions": {"mean_diff": {"space": "w", "names": ["Smiling", "Eyeglasses"]}}})
    return path


def test_edit_then_replay_from_the_png(unit, tmp_path, capsys):
    out, again = tmp_path / "out.png", tmp_path / "again.png"
    assert main(["edit", "--model", str(unit), "--seed", "4", "--set", "Smiling=2", "--set", "Eyeglasses=-1",
                 "--out", str(out)]) == 0
    recipe = read_png_recipe(out)
    assert recipe["seed"] == 4 and [e["alpha"] for e in recipe["edits"]] == [2.0, -1.0]
    assert main(["edit", "--checkpoints", str(tmp_path), "--recipe", str(out), "--out", str(again)]) == 0
    assert Image.open(out).tobytes() == Image.open(again).tobytes()
    plain = tmp_path / "plain.png"
    main(["edit", "--model", str(unit), "--seed", "4", "--out", str(plain)])
    assert Image.open(plain).tobytes() != Image.open(out).tobytes()


def test_edit_uses_the_set_the_edit_tab_opens_on_unless_told(unit, tmp_path, capsys):
    from ganstudio.editing.directions import assemble
    from ganstudio.studio import Studio

    out = tmp_path / "out.png"
    assert main(["edit", "--model", str(unit), "--seed", "4", "--set", "Smiling=1", "--out", str(out)]) == 0
    assert read_png_recipe(out)["edits"][0]["direction"] == "mean_diff/Smiling"  # the only set
    plain = Studio(tmp_path).directions("faces")["mean_diff"]
    assemble("best", {"Smiling": (plain, 2.0, {})}).save(tmp_path / "faces.best.directions.safetensors")
    picked = tmp_path / "picked.png"
    assert main(["edit", "--model", str(unit), "--seed", "4", "--set", "Smiling=1", "--out", str(picked)]) == 0
    assert read_png_recipe(picked)["edits"][0]["direction"] == "best/Smiling"
    doubled = tmp_path / "doubled.png"
    assert main(["edit", "--model", str(unit), "--seed", "4", "--set", "Smiling=2", "--method", "mean_diff",
                 "--out", str(doubled)]) == 0
    assert Image.open(picked).tobytes() == Image.open(doubled).tobytes()  # best's 1 is mean_diff's 2

    bare = tmp_path / "bare"  # no direction files: the PCA of its sampled w, computed when asked
    checkpoint.save(bare / "plain.safetensors", {"G_ema": make_tiny(num_ws=4)})
    assert main(["edit", "--model", str(bare / "plain.safetensors"), "--seed", "1", "--set", "Smiling=1",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "no pca direction 'Smiling'; known: PC0, PC1" in capsys.readouterr().err
    assert main(["edit", "--model", str(bare / "plain.safetensors"), "--seed", "1", "--set", "PC0=2",
                 "--out", str(tmp_path / "pc0.png")]) == 0
    assert read_png_recipe(tmp_path / "pc0.png")["edits"][0]["direction"] == "pca/PC0"


@pytest.mark.parametrize("argv, message", [
    (["--seed", "1", "--set", "Bald=1"], "no mean_diff direction 'Bald'"),
    (["--seed", "1", "--set", "Smiling"], "ATTR=ALPHA"),
    (["--seed", "1", "--set", "Smiling=1", "--layers", "9:12"], "outside the model's 4 style rows"),
    (["--seed", "-1"], "'seed' must be a whole number from 0 to 4294967295, got -1"),
])
def test_edit_errors_are_one_line(unit, tmp_path, capsys, argv, message):
    assert main(["edit", "--model", str(unit), *argv, "--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().err


def test_invert_writes_result_code_recipe_and_scores(unit, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (200, 120, 90)).save(photo)
    out = tmp_path / "inv"
    assert main(["invert", "--model", str(unit), "--image", str(photo), "--method", "1", "--steps", "15",
                 "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"inverted.png", "target.png", "recipe.json", "scores.json",
                                               "code.safetensors"}
    scores = json.loads((out / "scores.json").read_text())
    assert scores["psnr"] > 5 and 0 < scores["ssim"] <= 1
    assert "PSNR" in capsys.readouterr().out
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    assert main(["invert", "--model", str(unit), "--image", str(bad), "--out", str(out)]) == 2
    assert "bad.png" in capsys.readouterr().err


def test_directions_compute_pca_and_sefa_beside_the_model(unit, tmp_path):
    assert main(["directions", "compute", "--model", str(unit), "--method", "pca", "--n", "200",
                 "--components", "3"]) == 0
    assert main(["directions", "compute", "--model", str(unit), "--method", "sefa", "--components", "3"]) == 0
    from ganstudio.studio import Studio

    assert sorted(Studio(tmp_path).directions("faces")) == ["mean_diff", "pca", "sefa"]


def test_directions_import_reads_other_tools_files_into_a_set_the_studio_offers(unit, tmp_path, capsys):
    import numpy as np

    from ganstudio.studio import Studio

    w_dim = Studio(tmp_path).generator("faces").w_dim
    for attribute in ("smile", "age"):
        np.save(tmp_path / f"stylegan_faces_{attribute}_w_boundary.npy", np.random.default_rng(0).normal(size=(1, w_dim)))
    files = [str(tmp_path / f"stylegan_faces_{a}_w_boundary.npy") for a in ("smile", "age")]
    assert main(["directions", "import", "--model", str(unit), *files, "--name", "interfacegan"]) == 0
    assert "2 interfacegan directions (w space)" in capsys.readouterr().out
    imported = Studio(tmp_path).directions("faces")["interfacegan"]
    assert imported.names == ["smile", "age"] and "imported from stylegan_faces_smile_w_boundary.npy" in imported.source
    np.save(tmp_path / "short.npy", np.ones((1, w_dim - 1)))
    assert main(["directions", "import", "--model", str(unit), str(tmp_path / "short.npy"), "--space", "w"]) == 2
    assert f"short.npy: vectors of length {w_dim - 1}, but this generator's w has {w_dim}" in capsys.readouterr().err

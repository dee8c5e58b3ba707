"""Model names are names, never paths: `..`, absolute paths and links out of the checkpoints
folder are refused by the catalogue (entry, load, directions, the model card), the Studio (render) and by the
CLI commands that take model names."""

import dataclasses
import os

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.editing.directions import DirectionSet
from ganstudio.studio import Studio, StudioError
from tests.conftest import make_tiny
from tests.test_app import _unit

PATHS = ["../outside/secret", "ckpt/../outside/secret", "faces/../faces", "./faces", "faces/", "~/secret",
         "..\\outside\\secret", "C:\\outside\\secret", "linkdir/../faces"]


@pytest.fixture
def tricks(tmp_path):
    """ckpt/ holds the model `faces` plus links out of the folder to a model, a card and a direction file."""
    folder = _unit(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    checkpoint.save(outside / "secret.safetensors", {"G_ema": make_tiny(seed=3)})
    (outside / "secret.md").write_text("TOP SECRET card\n")
    studio = Studio(folder, device="cpu")
    g_hash = studio.catalogue.generator_hash("faces")
    for method, where in (("svm", folder), ("pca", outside)):  # same generator: only the folder decides
        directions = DirectionSet(method, "w", ["Smiling"], torch.ones(1, 8), g_hash)
        directions.save(where / f"faces.{method}.directions.safetensors")
    (folder / "faces.pca.directions.safetensors").symlink_to(outside / "faces.pca.directions.safetensors")
    (folder / "linked.safetensors").symlink_to(outside / "secret.safetensors")
    (folder / "linkdir").symlink_to(outside, target_is_directory=True)
    (folder / "faces.md").symlink_to(outside / "secret.md")
    return studio, folder, outside


def test_the_studio_refuses_path_like_names(tricks):
    studio, _, outside = tricks
    for name in [*PATHS, str(outside / "secret"), str(outside / "secret.safetensors")]:
        for call in (studio.catalogue.entry, studio.catalogue.load, studio.directions, lambda n: studio.sample(n, "1")):
            with pytest.raises(StudioError, match="looks like a path; give a model name as listed: faces") as err:
                call(name)
            assert "secret" not in str(err.value).split("listed:")[1], err.value
    recipe = dataclasses.replace(studio.seed_recipe("faces", 1), model="../outside/secret")
    with pytest.raises(StudioError, match="looks like a path"):
        studio.render(recipe)


def test_links_out_of_the_checkpoints_folder_are_not_served(tricks):
    studio, _, _ = tricks
    assert studio.model_names() == ["faces"]  # neither linked nor linkdir/secret is listed
    with pytest.raises(StudioError, match="'linked' is a link pointing outside the checkpoint folder"):
        studio.catalogue.load("linked")
    with pytest.raises(StudioError, match="unknown model 'linkdir/secret'"):  # linked folders are not searched
        studio.catalogue.load("linkdir/secret")
    assert studio.catalogue.entry("faces").card is None  # the card links to a file outside: not read
    # The direction file in the folder is used; the one linked in from outside is not (pca is computed instead).
    found = studio.directions("faces")
    assert sorted(found) == ["mean_diff", "pca", "sefa", "svm"] and found["pca"].names[0] == "PC0"


def test_links_inside_the_folder_still_work(tricks):
    _, folder, _ = tricks
    (folder / "alias.safetensors").symlink_to(folder / "faces.safetensors")
    (folder / "faces.md").unlink()
    (folder / "notes.md").write_text("# faces\nthe card\n")
    (folder / "faces.md").symlink_to(folder / "notes.md")
    studio = Studio(folder, device="cpu")
    assert studio.model_names() == ["alias", "faces"]
    assert "the card" in studio.catalogue.entry("faces").card
    assert studio.generator("alias").z_dim == studio.generator("faces").z_dim


def _cli(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_the_cli_refuses_path_like_and_linked_model_names(tricks, tmp_path, capsys):
    _, folder, outside = tricks
    out = tmp_path / "out.png"
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (16, 16), (9, 9, 9)).save(photo)
    common = ["--checkpoints", str(folder), "--device", "cpu"]
    cases = [
        (["edit", *common, "--model", "../outside/secret", "--seed", "1", "--out", str(out)], "looks like a path"),
        (["edit", *common, "--model", str(outside / "secret"), "--seed", "1", "--out", str(out)], "looks like a path"),
        (["edit", *common, "--model", "linked", "--seed", "1", "--out", str(out)], "link pointing outside"),
        (["invert", *common, "--model", "linkdir/secret", "--image", str(photo), "--method", "1", "--steps", "1",
          "--out", str(tmp_path / "inv")], "unknown model 'linkdir/secret'"),
        (["invert", *common, "--model", "linked", "--image", str(photo), "--method", "1", "--steps", "1",
          "--out", str(tmp_path / "inv")], "link pointing outside"),
        (["directions", "compute", *common, "--model", "../outside/secret", "--method", "pca", "--n", "8",
          "--out", str(tmp_path / "d.directions.safetensors")], "looks like a path"),
        (["translate", *common, "--model", "../outside/secret", "--image", str(photo), "--to", "B",
          "--out", str(out)], "looks like a path"),
    ]
    for argv, expected in cases:
        code, err = _cli(capsys, *argv)
        assert code == 2 and expected in err, (argv, code, err)
        assert "Traceback" not in err
    recipe_file = tmp_path / "evil.json"
    evil = dataclasses.replace(Studio(folder).seed_recipe("faces", 1), model="../outside/secret")
    recipe_file.write_text(evil.to_json())
    code, err = _cli(capsys, "edit", *common, "--recipe", str(recipe_file), "--out", str(out))
    assert code == 2 and "looks like a path" in err, err
    assert not out.exists() and not (tmp_path / "inv").exists() and not (tmp_path / "d.directions.safetensors").exists()
    # Nothing was written outside either.
    assert sorted(os.listdir(outside)) == ["faces.pca.directions.safetensors", "secret.md", "secret.safetensors"]

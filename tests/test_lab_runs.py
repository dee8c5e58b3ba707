"""`ganstudio train toy` writes an ordinary run; the run reader reads it back; eval measures it."""

import json

import pytest

from ganstudio.cli import main
from ganstudio.studio import Studio
from ganstudio.training.run_reader import export_for_studio, latest_samples, list_runs, loss_rows, read_run
from ganstudio.training.runs import RunError
from tests.training_kit import ToyImages, tiny_config

TINY_TOY = ["--kimg", "1.28", "--batch", "32", "--snapshot-kimg", "0.64", "--no-progress",
            "--set", "workers=0", "log_every=2", "device=cpu", "G.width=16", "G.depth=1", "D.width=16", "D.depth=1"]


@pytest.fixture
def toy_run(tmp_path, capsys):
    assert main(["train", "toy", "--data", "toy:ring?n=2000", "--out", str(tmp_path / "runs"), "--loss", "wgan-gp",
                 *TINY_TOY]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return summary


def test_train_toy_writes_a_run_that_resumes_and_evaluates(toy_run, tmp_path, capsys):
    assert toy_run["status"] == "finished" and toy_run["step"] == 8
    run = read_run(toy_run["run"])
    assert run.name == "00000-toyring-mlp2d" and run.recipe == "toy" and run.arch == "mlp2d"
    assert run.loss == "wgan-gp" and run.points and run.step == 8 and run.snapshot.name == "snapshot-000008.safetensors"
    config = json.loads((run.path / "config.json").read_text())
    assert config["config"]["d_steps"] == 5 and config["networks"]["D"]["arch"] == "mlp2d_d"
    assert sorted(p.name for p in (run.path / "samples").iterdir()) == ["fakes-000004.png", "fakes-000008.png"]

    assert main(["train", "toy", "--out", str(tmp_path / "runs"), "--resume", "latest", "--kimg", "1.92",
                 "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] == 12

    out = tmp_path / "eval"
    assert main(["eval", "--model", str(read_run(run.path).snapshot), "--data", "toy:ring?n=2000", "--n", "200",
                 "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 200 and metrics["modes"]["samples"]["modes"] == 8
    assert 0.0 <= metrics["modes"]["samples"]["hq_rate"] <= 1.0


def test_the_run_reader_lists_curves_and_pictures(toy_run, tmp_path):
    runs = list_runs(tmp_path / "runs")
    assert [r.name for r in runs] == ["00000-toyring-mlp2d"]
    rows = loss_rows(runs[0].path)
    assert {r["term"] for r in rows} == {"D/loss", "D/wdist", "G/loss"}
    assert [r["step"] for r in rows if r["term"] == "G/loss"] == [2, 4, 6, 8]
    assert latest_samples(runs[0].path).name == "fakes-000008.png"
    assert len(loss_rows(runs[0].path, max_rows=5)) <= 5
    with pytest.raises(RunError, match="2-D points"):
        export_for_studio(runs[0], tmp_path / "opened")


def test_exported_point_models_round_trip_and_are_not_listed_as_image_generators(toy_run, tmp_path):
    import torch

    from ganstudio import checkpoint
    from ganstudio.training.export import export_run

    path = export_run(toy_run["run"], tmp_path / "checkpoints" / "ring.safetensors")
    loaded = checkpoint.load(path)
    G = loaded["G"]
    assert type(G).__name__ == "MLP2DGenerator" and loaded.info.roles == ("G", "D")
    z = torch.randn(5, G.z_dim)
    with torch.no_grad():
        assert G(z).shape == (5, 2) and torch.equal(G.synthesis(G.mapping(z)), G(z))
        assert loaded["D"](G(z)).shape == (5,)
    studio = Studio(tmp_path / "checkpoints")
    assert studio.model_names("points") == ["ring"] and studio.model_names("generator") == []


def test_the_run_reader_survives_broken_folders_and_opens_image_runs(tmp_path):
    from ganstudio.training.loop import Trainer

    (tmp_path / "runs" / "00007-broken").mkdir(parents=True)
    (tmp_path / "runs" / "notes").mkdir()
    Trainer(tiny_config(kimg=0.032, snapshot_kimg=0.032), ToyImages(), out=tmp_path / "runs", progress=False).run()
    runs = list_runs(tmp_path / "runs")
    assert [r.name for r in runs] == ["00008-toy16-tiny", "00007-broken"]  # newest first
    assert "no config.json" in runs[1].error and runs[1].label().endswith("(unreadable)")
    assert not runs[0].points and runs[0].step == 4 and loss_rows(runs[0].path)

    studio = Studio(tmp_path / "checkpoints")
    studio.catalogue.add_checkpoint_dir(tmp_path / "opened")
    path = export_for_studio(runs[0], tmp_path / "opened")
    assert path.name == "00008-toy16-tiny.safetensors"
    assert "00008-toy16-tiny" in studio.model_names("generator")
    assert len(studio.sample("00008-toy16-tiny", "1, 2")) == 2


def test_the_toy_recipe_refuses_images():
    from ganstudio.config_io import ConfigError
    from ganstudio.training.train_config import TrainConfig
    from ganstudio.registry import RECIPES
    from ganstudio.training.recipes import DataInfo

    with pytest.raises(ConfigError, match="trains on 2-D points"):
        RECIPES.get("toy")(TrainConfig(recipe="toy", arch="mlp2d"), DataInfo("faces", 64))


def test_train_toy_refuses_image_augmentation_by_name(tmp_path, capsys):
    assert main(["train", "toy", "--data", "toy:ring?n=200", "--out", str(tmp_path / "runs"), *TINY_TOY,
                 "augment=translation"]) == 2
    assert "recipe 'toy' does not use differentiable augmentation; drop augment=translation" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # nothing half-made

"""`ganstudio curve`: every snapshot of a run measured against the same real sets."""

import json

import pytest
from PIL import Image

from ganstudio.cli import main
from ganstudio.plots import line_chart
from ganstudio.training.loop import Trainer
from tests._metrics_data import AttributeImages, install_fake_data, one_thread, small_judge  # noqa: F401
from tests.training_kit import tiny_config


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """Two tiny runs of three snapshots each on the attribute images, and a judge for them."""
    install_fake_data(monkeypatch, attrs=lambda: AttributeImages(300))
    judge = small_judge(tmp_path, AttributeImages(400, seed=5), "attrs")
    folders = []
    for seed in (0, 1):
        config = tiny_config(data="attrs:32", seed=seed, kimg=0.096, snapshot_kimg=0.032, keep_snapshots=0)
        folders.append(Trainer(config, AttributeImages(300), out=tmp_path / "runs", progress=False).run().run_dir)
    return folders, judge


@pytest.mark.slow
def test_curve_measures_every_snapshot_of_every_run(runs, tmp_path):
    folders, judge = runs
    out = tmp_path / "curve"
    argv = ["curve", *map(str, folders), "--names", "first,second", "--judge", str(judge), "--n", "60", "--out", str(out),
            "--swd-descriptors", "1024"]
    assert main(argv) == 0
    result = json.loads((out / "curve.json").read_text())
    assert list(result["runs"]) == ["first", "second"]
    points = result["runs"]["first"]["points"]
    assert [p["step"] for p in points] == [4, 8, 12]  # 32 images per snapshot at batch 8
    assert points[0]["kimg"] == pytest.approx(0.032) and points[-1]["train_minutes"] >= points[0]["train_minutes"]
    for key in ("fd", "fd_ratio", "precision", "recall", "attributes_within"):
        assert key in points[-1]
    assert list(points[-1]["swd"]["levels"]) == ["32", "16"]
    assert result["real_vs_real"]["fd"] > 0
    assert "## first" in (out / "curve.md").read_text()
    assert Image.open(out / "curve.png").size == (1280, 800)  # four charts, two by two


@pytest.mark.slow
def test_curve_every_keeps_the_newest_and_names_must_match(runs, tmp_path, capsys):
    folders, judge = runs
    out = tmp_path / "curve"
    assert main(["curve", str(folders[0]), "--every", "2", "--judge", str(judge), "--n", "60", "--out", str(out),
                 "--swd-descriptors", "1024"]) == 0
    steps = [p["step"] for p in json.loads((out / "curve.json").read_text())["runs"][folders[0].name]["points"]]
    assert steps == [4, 12]
    first = json.loads((out / "curve.json").read_text())["runs"]
    # --add: the second run joins the curve; the first is kept as measured, not measured again
    assert main(["curve", str(folders[1]), "--names", "later", "--add", "--every", "2", "--judge", str(judge),
                 "--n", "60", "--out", str(out), "--swd-descriptors", "1024"]) == 0
    both = json.loads((out / "curve.json").read_text())["runs"]
    assert list(both) == [folders[0].name, "later"] and both[folders[0].name] == first[folders[0].name]
    assert "## later" in (out / "curve.md").read_text()
    assert main(["curve", str(folders[1]), "--add", "--judge", str(judge), "--n", "40", "--out", str(out),
                 "--swd-descriptors", "1024"]) == 2
    assert "was measured with n 60, this run with 40" in capsys.readouterr().err
    assert main(["curve", str(folders[0]), "--names", "a,b", "--judge", str(judge), "--out", str(out)]) == 2
    assert "--names gives 2 names for 1 runs" in capsys.readouterr().err
    assert main(["curve", str(tmp_path), "--judge", str(judge), "--out", str(out)]) == 2
    assert "no snapshots" in capsys.readouterr().err


@pytest.mark.slow
def test_an_attribute_conditional_run_is_told_the_real_faces_labels(runs, tmp_path):
    """As `ganstudio eval` tells it: without them a conditional generator cannot draw a sample."""
    _, judge = runs
    config = tiny_config(recipe="cgan", data="attrs:32", kimg=0.064, snapshot_kimg=0.032, keep_snapshots=0)
    run = Trainer(config, AttributeImages(300), out=tmp_path / "cruns", progress=False).run().run_dir
    out = tmp_path / "curve"
    assert main(["curve", str(run), "--judge", str(judge), "--n", "60", "--out", str(out),
                 "--swd-descriptors", "1024"]) == 0
    points = json.loads((out / "curve.json").read_text())["runs"][run.name]["points"]
    assert [p["step"] for p in points] == [4, 8] and points[-1]["attributes_of"] == 3


def test_line_chart_draws_each_series_and_the_goal_line():
    chart = line_chart({"a": [(0, 10.0), (5, 4.0)], "b": [(0, 20.0), (5, 2.5)]}, "FD", "minutes", "ratio",
                       log_y=True, reference=("goal 3x", 3.0))
    assert chart.size == (640, 400)
    colours = {colour for _, colour in chart.getcolors(10_000)}
    assert (31, 119, 180) in colours and (214, 39, 40) in colours  # the two series' colours
    empty = line_chart({"a": []}, "nothing", "x", "y")
    assert empty.size == (640, 400)


def test_a_budget_keeps_the_snapshots_made_within_it(runs):
    from ganstudio.metrics.curve import CurveError, snapshots_of, train_minutes

    folder = runs[0][0]
    every = snapshots_of(folder)
    minutes = [train_minutes(path) for path in every]
    assert minutes == sorted(minutes)
    assert snapshots_of(folder, until_minutes=minutes[1]) == every[:2]
    assert snapshots_of(folder, until_minutes=1e6) == every
    with pytest.raises(CurveError, match="no snapshots within -1 minutes of training"):
        snapshots_of(folder, until_minutes=-1)

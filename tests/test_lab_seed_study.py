"""A toy setting trained afresh per seed and scored with the 2-D protocol (ganstudio.lab.seed_study,
`ganstudio eval --seeds`)."""

import json

import numpy as np
import pytest

from ganstudio.cli import main
from ganstudio.lab.seed_study import compare_presets, score_run, score_seeds, settings_for_data
from ganstudio.lab.presets import PRESETS
from ganstudio.lab.toy import LabError, ToySettings

SMALL = ToySettings(batch=32, g_width=16, g_depth=1, d_width=16, d_depth=1)


def test_each_seed_is_its_own_run_and_the_summary_is_their_spread():
    result, sheet = score_seeds(SMALL, steps=4, seeds=[0, 1, 0], n=200, progress=False)
    first, second, again = result["runs"]
    assert [r["seed"] for r in result["runs"]] == [0, 1, 0] and all(r["steps"] == 4 for r in result["runs"])
    assert first["fd"] != second["fd"]  # another seed: other data draw, other initial networks
    assert {k: first[k] for k in ("reached", "hq_rate", "kl_modes", "fd")} == \
           {k: again[k] for k in ("reached", "hq_rate", "kl_modes", "fd")}  # the same seed repeats exactly
    for key in ("reached", "covered", "hq_rate", "kl_modes"):
        values = [r[key] for r in result["runs"]]
        assert result["summary"][key]["mean"] == pytest.approx(np.mean(values))
        assert result["summary"][key]["max"] == max(values)
        if np.isfinite(values).all():
            assert result["summary"][key]["std"] == pytest.approx(np.std(values, ddof=1))
        else:  # a run without high-quality samples has an infinite reverse KL: no spread to give
            assert result["summary"][key]["std"] is None and result["summary"][key]["mean"] == np.inf
    assert "--seed 0" in result["command"] and sheet.width > sheet.height  # three plots in one row


def test_another_mixture_keeps_the_settings_and_takes_its_shape():
    grid = settings_for_data(SMALL, "toy:grid?sigma=0.1")
    assert grid.target == "grid" and grid.shape == {"sigma": "0.1"} and grid.g_width == SMALL.g_width
    result, _ = score_seeds(grid, steps=2, seeds=[3], n=100, progress=False)
    assert result["runs"][0]["modes"] == 25
    with pytest.raises(LabError, match="built-in mixture"):
        settings_for_data(SMALL, "digits:32")


def test_eval_seeds_trains_a_preset_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["eval", "--preset", "mode collapse", "--seeds", "0-1", "--steps", "3", "--n", "100",
                 "--data", "toy:grid", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "seed 0:" in printed and "mean of 2 seeds" in printed
    result = json.loads((out / "metrics.json").read_text())
    assert result["seeds"] == [0, 1] and result["settings"]["target"] == "grid" and len(result["runs"]) == 2
    report = (out / "report.md").read_text()
    assert "preset 'mode collapse' on toy:grid" in report and "| modes reached (of 25)" in report
    assert (out / "contact_sheet.png").stat().st_size > 0


def test_eval_seeds_retrains_a_toy_checkpoint_with_its_own_settings(tmp_path):
    out = tmp_path / "ring"
    assert main(["eval", "--model", "toy2d-ring", "--seeds", "5", "--steps", "2", "--n", "100", "--out", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert result["title"].startswith("`toy2d-ring`'s settings") and result["runs"][0]["seed"] == 5
    assert result["settings"]["target"] == "ring" and result["settings"]["g_width"] > 16


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0-1"], "name the setting to train"),
    (["--seeds", "0-1", "--model", "toy2d-ring", "--preset", "mode collapse"], "not both"),
    (["--preset", "mode collapse"], "--preset needs --seeds"),
    (["--seeds", "0", "--model", "synthfaces64"], "not a 2-D model"),
    ([], "give --model"),
])
def test_eval_seeds_says_what_is_missing(tmp_path, capsys, argv, message):
    assert main(["eval", *argv, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_presets_side_by_side_train_each_with_the_same_seed_and_score_alike():
    runs = list(compare_presets(["ring: plain GAN", "ring: PacGAN", "ring: plain GAN"], seed=2, steps=3, n=100))
    assert [name for name, _, _ in runs] == ["ring: plain GAN", "ring: PacGAN"]  # a repeat is trained once
    for name, row, plot in runs:
        assert row["preset"] == name and row["target"] == "ring" and row["seed"] == 2 and row["steps"] == 3
        assert row["modes"] == 8 and 0 <= row["hq_rate"] <= 1 and plot.size[0] > 0
    alone, _ = score_run(PRESETS["ring: PacGAN"].settings.replace(seed=2), 3, n=100)
    assert {k: alone[k] for k in ("reached", "hq_rate", "fd")} == {k: runs[1][1][k] for k in ("reached", "hq_rate", "fd")}
    with pytest.raises(LabError, match="unknown preset 'nope'; known: mode collapse"):
        next(compare_presets(["ring: PacGAN", "nope"]))
    with pytest.raises(LabError, match="pick 1 to 8 presets"):
        next(compare_presets([]))
    with pytest.raises(LabError, match="steps: 1 to 20000"):
        next(compare_presets(["ring: PacGAN"], steps=10**6))

import json

import pytest
from PIL import Image

from ganstudio import checkpoint
from ganstudio.cli import main
from tests._metrics_data import (  # noqa: F401  (one_thread is an autouse fixture)
    ATTRIBUTES, AttributeImages, OracleConfig, OracleGenerator, Points, ProbeConfig, ProbeEncoder,
    StructuredPoints, install_fake_data, one_thread, small_judge,
)

FAST = ["--n", "200", "--kid-subsets", "10", "--kid-subset-size", "100", "--batch-size", "50", "--device", "cpu",
        "--swd-descriptors", "2048"]


@pytest.fixture(scope="module")
def judge_path(tmp_path_factory, one_thread):
    return small_judge(tmp_path_factory.mktemp("judge"), AttributeImages(400, seed=5), "attrs")


@pytest.fixture
def models(tmp_path, monkeypatch):
    install_fake_data(monkeypatch, attrs=lambda: AttributeImages(500), ring=lambda: Points(500),
                      structured=lambda: StructuredPoints(500))
    folder = tmp_path / "checkpoints"
    checkpoint.save(folder / "oracle.safetensors",
                    {"G_ema": OracleGenerator(OracleConfig()), "E": ProbeEncoder(ProbeConfig())}, dataset="attrs:32")
    checkpoint.save(folder / "collapsed.safetensors", {"G_ema": OracleGenerator(OracleConfig(collapse=True))},
                    dataset="attrs:32")
    checkpoint.save(folder / "noisy.safetensors", {"G_ema": OracleGenerator(OracleConfig(noisy_attribute=True))},
                    dataset="attrs:32")
    checkpoint.save(folder / "ring.safetensors", {"G": OracleGenerator(OracleConfig(points=True))}, dataset="ring")
    checkpoint.save(folder / "ring-collapsed.safetensors",
                    {"G": OracleGenerator(OracleConfig(points=True, collapse=True))}, dataset="ring")
    return folder


def _eval(models, judge_path, tmp_path, name, *extra):
    out = tmp_path / name
    argv = ["eval", "--model", name, "--checkpoints", str(models), "--judge", str(judge_path), "--out", str(out)]
    assert main([*argv, *FAST, *extra]) == 0
    return json.loads((out / "metrics.json").read_text()), out


@pytest.mark.slow
def test_a_generator_that_samples_the_data_scores_like_real_data(models, judge_path, tmp_path):
    good, out = _eval(models, judge_path, tmp_path, "oracle")
    assert good["data"] == "attrs:32"  # taken from the checkpoint header
    assert good["n"] == 200 and good["features"]["dim"] == 16
    assert good["fd"]["ratio"] < 2.5
    assert good["prdc"]["samples_vs_real"]["precision"] > 0.7 and good["prdc"]["samples_vs_real"]["recall"] > 0.7
    assert good["labels"]["names"] == ATTRIBUTES and good["labels"]["max_abs_diff"] < 0.15
    assert good["labels"]["real_labels"] == pytest.approx(good["labels"]["real_judged"], abs=0.05)
    assert good["goals"]["fd_ratio"]["met"]
    # the probe encoder reads each attribute into its own code unit
    assert good["disentanglement"]["dci"]["disentanglement"] > 0.8
    # its attributes come from w alone: switching the noise inputs off changes no verdict
    assert good["noise_off"]["agreement"] == 1.0 and good["goals"]["noise_off"]["met"]
    # the network-free distance at every pyramid level (32 and 16 px) agrees: samples like the data
    swd = good["swd"]
    assert list(swd["samples_vs_real"]["levels"]) == ["32", "16"]
    assert swd["samples_vs_real"]["mean"] < 2 * swd["real_vs_real"]["mean"]

    report = (out / "report.md").read_text()
    assert "| Fréchet distance |" in report and "real vs real" in report and "| left_brighter |" in report
    assert "| SWD ×1000, 32 px level |" in report and "| SWD ×1000, mean |" in report
    assert "Disentanglement" in report and "Quality goals" in report
    assert f"of {len(ATTRIBUTES)} within) | <= 0.05 |" in report
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.size == (8 * 32 + 9 * 2, 8 * 32 + 9 * 2)  # 32 samples over 32 real images


@pytest.mark.slow
def test_mode_collapse_shows_in_every_number(models, judge_path, tmp_path):
    good, _ = _eval(models, judge_path, tmp_path, "oracle")
    bad, _ = _eval(models, judge_path, tmp_path, "collapsed")
    assert bad["fd"]["samples_vs_real"] > 5 * good["fd"]["samples_vs_real"]
    assert bad["kid"]["samples_vs_real"]["mean"] > 5 * good["kid"]["samples_vs_real"]["mean"]
    assert bad["swd"]["samples_vs_real"]["mean"] > 2 * good["swd"]["samples_vs_real"]["mean"]
    assert bad["prdc"]["samples_vs_real"]["recall"] < 0.3 < good["prdc"]["samples_vs_real"]["recall"]
    assert bad["labels"]["samples"] == [1.0, 1.0, 1.0] and not bad["goals"]["attribute_frequencies"]["met"]
    assert (bad["goals"]["attribute_frequencies"]["within"], bad["goals"]["attribute_frequencies"]["of"]) == (0, 3)
    within = sum(abs(d) <= 0.05 for d in good["labels"]["diff"])
    assert good["goals"]["attribute_frequencies"]["within"] == within and within >= 1
    assert bad["fd"]["real_vs_real"] == good["fd"]["real_vs_real"]  # same seed, same real sets


def test_two_d_models_get_mode_coverage(models, judge_path, tmp_path, monkeypatch):
    good, out = _eval(models, judge_path, tmp_path, "ring")
    bad, _ = _eval(models, judge_path, tmp_path, "ring-collapsed")
    assert good["modes"]["samples"]["covered"] == 8 and good["modes"]["samples"]["hq_rate"] > 0.95
    assert bad["modes"]["samples"]["covered"] == 1 and bad["mmd"]["samples_vs_real"]["mmd2"] > 0.1
    assert "modes covered" in (out / "report.md").read_text()
    assert Image.open(out / "contact_sheet.png").size == (512, 512)
    # a data set that knows its structure is asked (here: quality within 1 std, about 39 % of points)
    own, _ = _eval(models, judge_path, tmp_path, "ring", "--data", "structured")
    assert own["modes"]["samples"]["covered"] == 8 and 0.25 < own["modes"]["real"]["hq_rate"] < 0.55
    # without --n a 2-D model is measured on 2,500 samples, the PacGAN / VEEGAN protocol
    install_fake_data(monkeypatch, ring=lambda: Points(6000))
    out = tmp_path / "protocol"
    assert main(["eval", "--model", "ring", "--checkpoints", str(models), "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["n"] == 2500


def test_user_errors_are_one_line(models, judge_path, tmp_path, capsys):
    base = ["eval", "--checkpoints", str(models), "--out", str(tmp_path / "x"), *FAST]
    assert main([*base, "--model", "oracle", "--judge", str(tmp_path / "none.safetensors")]) == 2
    assert "ganstudio judge train" in capsys.readouterr().err
    assert main([*base, "--model", "nope", "--judge", str(judge_path)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert main([*base, "--model", "oracle", "--features", "inception"]) == 2
    assert "--inception PATH" in capsys.readouterr().err
    assert main([*base, "--model", "oracle", "--judge", str(judge_path), "--data", "elsewhere"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown data set 'elsewhere'" in err
    assert main([*base, "--model", "oracle", "--judge", str(judge_path), "--edit-layers", "coarse,top"]) == 2
    assert "edit layers: unknown preset top; known: all, coarse, middle, fine" in capsys.readouterr().err


@pytest.mark.slow
def test_the_judge_is_found_by_the_data_set_it_was_trained_on(models, judge_path, tmp_path):
    import shutil

    from ganstudio.metrics.evaluate import DEFAULT_JUDGE, find_judge

    shutil.copy(judge_path, models / "some-judge.safetensors")  # its header says dataset "attrs"
    assert find_judge("attrs:32?n=500", [models]) == models / "some-judge.safetensors"
    assert find_judge("ring", [models]) == DEFAULT_JUDGE
    argv = ["eval", "--model", "oracle", "--checkpoints", str(models), "--out", str(tmp_path / "o"), *FAST]
    assert main(argv) == 0
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["features"]["path"].endswith("some-judge.safetensors")


def test_model_names_are_looked_up_in_the_shipped_checkpoints_and_the_extra_folders(models):
    from ganstudio.catalogue import DEFAULT_CHECKPOINTS
    from ganstudio.options import open_model

    catalogue, name = open_model("oracle", [models])
    assert name == "oracle" and catalogue.entry("oracle").path == models / "oracle.safetensors"
    shipped, _ = open_model("glasses64-cyclegan", [models])  # as `ganstudio serve --checkpoints DIR` finds it
    assert shipped.entry("glasses64-cyclegan").path == DEFAULT_CHECKPOINTS / "glasses64-cyclegan.safetensors"


def test_held_out_images_come_from_another_stream_where_the_data_set_has_streams(tmp_path):
    from ganstudio.metrics.evaluate import open_heldout

    spec, faces = open_heldout("synthfaces:32?n=4&seed=4")
    assert spec == "synthfaces:32?n=4&seed=1000" and faces.seed == 1000
    assert open_heldout("synthfaces:32?n=4&seed=1000")[1].seed == 1001  # never the stream it was trained on
    for i in range(2):
        Image.new("RGB", (16, 16), (40 * i, 0, 0)).save(tmp_path / f"{i}.png")
    spec, folder = open_heldout(f"folder:{tmp_path}?resolution=16")
    assert spec == f"folder:{tmp_path}?resolution=16" and len(folder) == 2  # a folder has no streams: itself


@pytest.mark.slow
def test_attributes_drawn_from_the_noise_inputs_show_when_the_noise_is_off(models, judge_path, tmp_path):
    noisy, out = _eval(models, judge_path, tmp_path, "noisy")
    off = noisy["noise_off"]
    assert off["n"] == 200 and off["per_attribute"]["left_brighter"] > 0.95
    # about half the samples are reddish with the noise on, none with it off
    assert 0.3 < off["per_attribute"]["reddish"] < 0.7 and off["min"] == off["per_attribute"]["reddish"]
    assert not noisy["goals"]["noise_off"]["met"]
    assert "Verdicts with the noise inputs off" in (out / "report.md").read_text()

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.metrics.features import JudgeExtractor, extract
from ganstudio.metrics.judge import (ROBUSTNESS_SIGMA, JudgeError, degrade, gaussian_blur, judge_accuracy, load_judge,
                                     save_judge, train_judge)
from ganstudio.models.judge import Judge, JudgeConfig
from tests._metrics_data import ATTRIBUTES, AttributeImages, LabelledDigits, Points, install_fake_data, one_thread  # noqa: F401

SMALL = {"channels": (8, 16), "feature_dim": 16, "batch_size": 32}


@pytest.mark.slow
def test_judge_learns_visible_attributes_and_reports_heldout_accuracy():
    model, report = train_judge(AttributeImages(400), steps=60, heldout=100, **SMALL)
    assert report.label_names == ATTRIBUTES and report.label_kind == "attributes"
    assert report.n_heldout == 80 and report.n_train == 320  # held-out capped at a fifth of the data
    assert min(report.accuracy.values()) >= 0.9
    # a fresh set the judge never saw agrees
    fresh = judge_accuracy(model, AttributeImages(100, seed=9), ATTRIBUTES)
    assert fresh.overall >= 0.9


def test_gaussian_blur_keeps_flat_images_and_smooths_each_image_by_its_own_sigma():
    flat = torch.full((1, 3, 16, 16), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, 1.5), flat)
    edges = torch.zeros(2, 3, 16, 16)
    edges[..., 8:] = 1.0
    out = gaussian_blur(edges, torch.tensor([0.0, 1.5]))
    torch.testing.assert_close(out[0], edges[0])  # sigma 0: unchanged
    assert 0.0 < out[1, 0, 0, 7] < 0.5 < out[1, 0, 0, 8] < 1.0  # the step is smoothed, symmetrically
    torch.testing.assert_close(out[1].mean(), edges[1].mean(), atol=1e-6, rtol=0)
    with pytest.raises(JudgeError, match="must be >= 0"):
        gaussian_blur(edges, -1.0)
    with pytest.raises(JudgeError, match="too large for 16x16"):
        gaussian_blur(edges, 6.0)


def test_degrade_damages_about_half_of_a_batch_and_stays_in_range():
    images = torch.rand(200, 3, 16, 16) * 2 - 1
    out = degrade(images, blur=1.5, noise=0.1, generator=torch.Generator().manual_seed(0))
    changed = (out - images).flatten(1).abs().amax(1) > 1e-6
    assert 70 < int(changed.sum()) < 130 and out.abs().max() <= 1
    again = degrade(images, blur=1.5, noise=0.1, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, again)  # seeded: a training run repeats exactly


def test_judge_report_measures_blurred_images_too_and_trains_on_damaged_copies():
    model, report = train_judge(AttributeImages(200), steps=20, heldout=40, blur=1.0, noise=0.05, **SMALL)
    assert report.blurred is not None and report.blurred.blur == ROBUSTNESS_SIGMA
    assert report.blurred.n_heldout == report.n_heldout and set(report.blurred.accuracy) == set(ATTRIBUTES)
    assert f"blurred by sigma {ROBUSTNESS_SIGMA:g}" in report.summary()
    sharp = judge_accuracy(model, AttributeImages(40, seed=3), ATTRIBUTES)
    soft = judge_accuracy(model, AttributeImages(40, seed=3), ATTRIBUTES, blur=2.0)
    assert soft.blur == 2.0 and sharp.blur == 0.0 and soft.accuracy != sharp.accuracy
    with pytest.raises(JudgeError, match="blur and noise must be >= 0"):
        train_judge(AttributeImages(200), steps=1, blur=-1.0, **SMALL)


def test_judge_handles_class_labels():
    model, report = train_judge(LabelledDigits(240), steps=40, heldout=40, **SMALL)
    assert model.config.label_kind == "class" and report.overall >= 0.9
    probs = model.probs(LabelledDigits(8)[0][0][None])
    torch.testing.assert_close(probs.sum(1), torch.ones(1))


def test_unlabelled_data_is_refused():
    with pytest.raises(JudgeError, match="labelled data set"):
        train_judge(Points(), steps=1)


@pytest.mark.parametrize("size", [32, 48, 128])
def test_any_input_size_is_resized_to_the_judges_resolution(size):
    judge = Judge(JudgeConfig(num_labels=3, resolution=32, channels=(8, 16), feature_dim=16)).eval()
    assert judge.features(torch.zeros(2, 3, size, size)).shape == (2, 16)
    assert judge(torch.zeros(2, 3, size, size)).shape == (2, 3)


def test_saved_judge_describes_itself_and_serves_as_feature_extractor(tmp_path):
    model, report = train_judge(AttributeImages(200), steps=20, heldout=40, **SMALL)
    path = save_judge(tmp_path / "judge.safetensors", model, report, "attrs:32", "ganstudio judge train ...", seed=0)
    info = checkpoint.read_info(path)
    assert info.arch == "judge" and info.primary == "judge" and list(info.labels) == ATTRIBUTES
    assert info.dataset == "attrs:32" and info.meta["heldout_accuracy"] == report.accuracy
    assert info.meta["heldout_blurred"]["blur"] == ROBUSTNESS_SIGMA
    assert info.meta["command"] == "ganstudio judge train ..." and "held-out accuracy" in info.notes
    loaded, names = load_judge(path)
    images = torch.stack([AttributeImages(4)[i][0] for i in range(4)])
    torch.testing.assert_close(loaded(images), model(images))
    extractor = JudgeExtractor(path)
    f, p = extract(extractor, [images[:2], images[2:]])
    assert extractor.dim == 16 and f.shape == (4, 16) and p.shape == (4, 3) and extractor.label_names == tuple(ATTRIBUTES)


def test_cli_trains_a_judge_and_records_the_command(tmp_path, monkeypatch, capsys):
    install_fake_data(monkeypatch, attrs=lambda: AttributeImages(300))
    out = tmp_path / "judge.safetensors"
    argv = ["judge", "train", "--data", "attrs:32?n=300", "--out", str(out), "--steps", "5", "--heldout", "60",
            "--batch-size", "16", "--feature-dim", "16", "--blur", "1", "--noise", "0.05", "--device", "cpu"]
    assert main(argv) == 0
    assert "held-out accuracy" in capsys.readouterr().out
    info = checkpoint.read_info(out)
    assert info.meta["command"].startswith("ganstudio judge train --data 'attrs:32?n=300' --out ")
    assert "--steps 5" in info.meta["command"] and "--seed 0" in info.meta["command"]
    assert "--blur 1.0 --noise 0.05" in info.meta["command"]
    assert set(info.meta["heldout_accuracy"]) == set(ATTRIBUTES)
    assert main(["judge", "eval", "--judge", str(out), "--data", "attrs", "--n", "50", "--device", "cpu"]) == 0
    assert '"n_heldout": 50' in capsys.readouterr().out
    assert main(["judge", "eval", "--judge", str(out), "--data", "attrs", "--n", "50", "--blur", "1.5"]) == 0
    assert '"blur": 1.5' in capsys.readouterr().out
    assert main(["judge", "train", "--data", "nope", "--out", str(out)]) == 2
    assert "unknown data set 'nope'" in capsys.readouterr().err

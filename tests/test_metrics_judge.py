import pytest
import torch

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.metrics.features import JudgeExtractor, extract
from ganstudio.metrics.judge import JudgeError, judge_accuracy, load_judge, save_judge, train_judge
from ganstudio.models.judge import Judge, JudgeConfig
from tests._metrics_data import ATTRIBUTES, AttributeImages, LabelledDigits, Points, install_fake_data, one_thread  # noqa: F401

SMALL = {"channels": (8, 16), "feature_dim": 16, "batch_size": 32}


def test_judge_learns_visible_attributes_and_reports_heldout_accuracy():
    model, report = train_judge(AttributeImages(400), steps=60, heldout=100, **SMALL)
    assert report.label_names == ATTRIBUTES and report.label_kind == "attributes"
    assert report.n_heldout == 80 and report.n_train == 320  # held-out capped at a fifth of the data
    assert min(report.accuracy.values()) >= 0.9
    # a fresh set the judge never saw agrees
    fresh = judge_accuracy(model, AttributeImages(100, seed=9), ATTRIBUTES)
    assert fresh.overall >= 0.9


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
            "--batch-size", "16", "--feature-dim", "16", "--device", "cpu"]
    assert main(argv) == 0
    assert "held-out accuracy" in capsys.readouterr().out
    info = checkpoint.read_info(out)
    assert info.meta["command"].startswith("ganstudio judge train --data 'attrs:32?n=300' --out ")
    assert "--steps 5" in info.meta["command"] and "--seed 0" in info.meta["command"]
    assert set(info.meta["heldout_accuracy"]) == set(ATTRIBUTES)
    assert main(["judge", "eval", "--judge", str(out), "--data", "attrs", "--n", "50", "--device", "cpu"]) == 0
    assert '"n_heldout": 50' in capsys.readouterr().out
    assert main(["judge", "train", "--data", "nope", "--out", str(out)]) == 2
    assert "unknown data set 'nope'" in capsys.readouterr().err

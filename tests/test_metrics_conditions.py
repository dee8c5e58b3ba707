"""Conditioning metrics (ganstudio.metrics.conditions) on generators whose answers are known:
InfoGAN code value k draws quadrant class PERMUTATION[k]; the conditional one draws the class it is asked for."""

import json
from dataclasses import dataclass

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.editing.conditions import ConditionSpec
from ganstudio.metrics.features import JudgeExtractor
from ganstudio.metrics.conditions import class_accuracy, code_class_match
from ganstudio.models.base import ConfigModule
from ganstudio.registry import ARCHS
from tests._metrics_data import LabelledDigits, install_fake_data, one_thread, small_judge  # noqa: F401

PERMUTATION = [2, 0, 3, 1]
SPEC = ConditionSpec("codes", categorical=(4,), continuous=1)


@dataclass(frozen=True)
class QuadrantConfig:
    z_dim: int = 4
    resolution: int = 32
    scramble: bool = False  # ignore the code: draw a random class


@ARCHS.register("test-quadrant-infogan")
class QuadrantInfoGAN(ConfigModule):
    """w = [z, c]; synthesis draws the LabelledDigits image of class PERMUTATION[argmax c[:4]]."""

    Config = QuadrantConfig

    def __init__(self, config: QuadrantConfig):
        super().__init__(config)
        self.z_dim, self.c_dim, self.resolution, self.num_ws = config.z_dim, 5, config.resolution, 1
        self.w_dim = config.z_dim + 5
        self.register_buffer("w_avg", torch.zeros(self.w_dim))

    def mapping(self, z, psi=1.0, cutoff=None, c=None):
        return torch.cat([z, c], 1).unsqueeze(1)

    def synthesis(self, ws, noise_mode="const"):
        out = []
        for w in ws[:, 0]:
            gen = torch.Generator().manual_seed(int(w[: self.z_dim].abs().sum() * 1e6) % 2**31)
            k = int(torch.randint(0, 4, (), generator=gen)) if self.config.scramble else PERMUTATION[int(w[self.z_dim:self.z_dim + 4].argmax())]
            img = torch.randn(3, self.resolution, self.resolution, generator=gen) * 0.1 - 0.5
            h = self.resolution // 2
            img[:, (k // 2) * h:(k // 2 + 1) * h, (k % 2) * h:(k % 2 + 1) * h] += 1.0
            out.append(img.clamp(-1, 1))
        return torch.stack(out)


@pytest.fixture(scope="module")
def judge_path(tmp_path_factory, one_thread):
    return small_judge(tmp_path_factory.mktemp("judge"), LabelledDigits(400, seed=3), "quads")


def test_a_code_that_picks_the_class_matches_it_one_to_one(judge_path):
    result = code_class_match(QuadrantInfoGAN(QuadrantConfig()), SPEC, JudgeExtractor(judge_path), n_per_value=24)
    assert result["matched_accuracy"] > 0.95 and result["purity"] > 0.95
    names = LabelledDigits.label_names
    assert result["matching"] == {f"c1={k}": names[PERMUTATION[k]] for k in range(4)}
    assert len(result["table"]) == 4 and sum(map(sum, result["table"])) == 96


def test_a_code_the_generator_ignores_scores_near_chance(judge_path):
    result = code_class_match(QuadrantInfoGAN(QuadrantConfig(scramble=True)), SPEC, JudgeExtractor(judge_path),
                              n_per_value=40)
    assert result["matched_accuracy"] < 0.5 and result["chance"] == 0.25


@pytest.mark.slow
def test_eval_reports_the_code_match_for_infogan_checkpoints(judge_path, tmp_path, monkeypatch):
    install_fake_data(monkeypatch, quads=lambda: LabelledDigits(200))
    folder = tmp_path / "checkpoints"
    checkpoint.save(folder / "info.safetensors", {"G_ema": QuadrantInfoGAN(QuadrantConfig())}, dataset="quads",
                    meta={"recipe": "infogan", "info_cat": [4], "info_cont": 1})
    out = tmp_path / "eval"
    assert main(["eval", "--model", "info", "--checkpoints", str(folder), "--judge", str(judge_path), "--out",
                 str(out), "--n", "80", "--kid-subsets", "5", "--kid-subset-size", "40", "--batch-size", "40",
                 "--device", "cpu"]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert result["infogan"]["matched_accuracy"] > 0.95 and result["infogan"]["n_per_value"] == 1000
    assert "InfoGAN code c1" in (out / "report.md").read_text()


def test_class_accuracy_counts_samples_the_judge_sees_as_asked():
    names = ["a", "b", "c"]
    asked = torch.eye(3)[[0, 1, 2, 2]]
    probs = torch.eye(3)[[0, 1, 2, 0]]
    result = class_accuracy(probs, asked, names, names)
    assert result["accuracy"] == 0.75 and result["per_class"] == {"a": 1.0, "b": 1.0, "c": 0.5}
    with pytest.raises(Exception, match="not the generator's"):
        class_accuracy(probs, asked, names, ["x", "y", "z"])


@ARCHS.register("test-quadrant-cgan")
class QuadrantCGAN(QuadrantInfoGAN):
    """Draws class argmax(c) (c: 4 one-hot classes), the w layout of QuadrantInfoGAN."""

    def __init__(self, config: QuadrantConfig):
        super().__init__(config)
        self.c_dim, self.w_dim = 4, config.z_dim + 4

    def synthesis(self, ws, noise_mode="const"):
        c = ws[:, 0, self.z_dim:]
        padded = torch.cat([torch.eye(4)[[PERMUTATION.index(int(k)) for k in c.argmax(1)]], c[:, :1] * 0], 1)
        return super().synthesis(torch.cat([ws[:, :, :self.z_dim], padded.unsqueeze(1)], 2))


@pytest.mark.slow
def test_eval_reports_how_often_a_conditional_generator_draws_the_asked_class(judge_path, tmp_path, monkeypatch):
    install_fake_data(monkeypatch, quads=lambda: LabelledDigits(200))
    folder = tmp_path / "checkpoints"
    checkpoint.save(folder / "cgan.safetensors", {"G_ema": QuadrantCGAN(QuadrantConfig())}, dataset="quads",
                    labels=LabelledDigits.label_names, meta={"recipe": "cgan", "label_kind": "class"})
    out = tmp_path / "eval"
    assert main(["eval", "--model", "cgan", "--checkpoints", str(folder), "--judge", str(judge_path), "--out",
                 str(out), "--n", "80", "--kid-subsets", "5", "--kid-subset-size", "40", "--batch-size", "40",
                 "--device", "cpu"]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert result["conditioning"]["accuracy"] > 0.95 and "infogan" not in result
    assert "Conditioning" in (out / "report.md").read_text()

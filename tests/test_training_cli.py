"""`ganstudio train` and `ganstudio export` (the data set is the in-test one)."""

import json

import pytest
import torch

from ganstudio.cli import main
from ganstudio.cli import train as train_cli
from ganstudio.config_io import ConfigError
from ganstudio.registry import LOSSES
from ganstudio.studio import Studio
from ganstudio.training.train_config import TrainConfig, parse_set, resolve
from tests.training_kit import ToyImages

FAST = ["--arch", "tiny", "--kimg", "0.032", "--batch", "8", "--snapshot-kimg", "0.016", "--no-progress",
        "--set", "workers=0", "log_every=2", "grid=4", "device=cpu"]


@pytest.fixture
def toy_data(monkeypatch):
    opened = []

    def fake_open(spec, resolution=None):
        opened.append(spec)
        return ToyImages(resolution=resolution or 16)

    monkeypatch.setattr(train_cli, "open_training_data", fake_open)
    return opened


def test_dry_run_prints_the_resolved_config(toy_data, tmp_path, capsys):
    code = main(["train", "gan", "--data", "toy:16", "--arch", "tiny", "--out", str(tmp_path), "--loss", "wgan",
                 "--dry-run",
                 "--set", "D.hidden=16", "G.w_dim=4"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    config = out["config"]
    assert config["optimizer"] == "rmsprop" and config["lr"] == 5e-5 and config["d_steps"] == 5
    assert config["amp"] == "none"  # bf16 only on GPUs that support it
    assert config["channels_last"] is torch.backends.cpu.get_cpu_capability().startswith("AVX512")
    assert out["networks"]["D"]["config"]["hidden"] == 16 and out["networks"]["G"]["config"]["w_dim"] == 4
    assert out["phases"][0] == {"name": "D", "updates": ["D"], "repeat": 5, "lr": 5e-5}
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_progress_ends_at_the_images_trained_when_the_last_batch_runs_past_kimg(toy_data, tmp_path, capsys):
    fast = [a for a in FAST if a != "--no-progress"]
    fast[fast.index("--kimg") + 1] = "0.02"  # 3 batches of 8: 24 images
    assert main(["train", "gan", "--data", "toy:16", "--out", str(tmp_path), *fast]) == 0
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "100%" in last and "0.02/0.02 kimg" in last, last


def test_progress_never_counts_past_its_total(toy_data, tmp_path, capsys, recwarn):
    fast = [a for a in FAST if a != "--no-progress"]
    fast[fast.index("--kimg") + 1], fast[fast.index("--batch") + 1] = "0.3", "16"  # 0.016 summed 19 times > 0.304
    assert main(["train", "gan", "--data", "toy:16", "--out", str(tmp_path), *fast]) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    assert "0.30/0.30 kimg" in err.strip().splitlines()[-1] and "<-" not in err  # no negative time left
    assert not [w for w in recwarn if "clamping frac" in str(w.message)]


def test_train_export_and_resume_from_the_command_line(toy_data, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    assert main(["train", "acgan", "--data", "toy:16", "--out", str(runs_dir), *FAST]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["step"] == 4 and toy_data == ["toy:16"]

    assert main(["train", "acgan", "--out", str(runs_dir), "--resume", "latest", "--kimg", "0.048",
                 "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["step"] == 6 and summary["run"].endswith("00000-toy16-tiny")

    ckpt = tmp_path / "checkpoints" / "toy.safetensors"
    assert main(["export", summary["run"], "--out", str(ckpt), "--fp16", "--include-g", "--average", "2"]) == 0
    capsys.readouterr()
    assert main(["info", str(ckpt)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["roles"] == ["G_ema", "D", "G"] and info["step"] == 6 and info["recipe"] == "acgan"
    assert info["averaged_steps"] == [4, 6]
    assert info["labels"] == ["A", "B", "C"] and info["networks"]["G_ema"]["config"]["c_dim"] == 3
    assert len(Studio(ckpt.parent, device="cpu").sample("toy", "0-3")) == 4

    assert main(["train", "acgan", "--data", "toy:16", "--out", str(runs_dir), "--init", str(ckpt), *FAST]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["run"].endswith("00001-toy16-tiny") and summary["step"] == 4
    record = json.loads((runs_dir / "00001-toy16-tiny" / "config.json").read_text())
    assert record["init"]["roles"] == {"D": "D", "G": "G", "G_ema": "G_ema"}  # the export has G: no stand-in


@pytest.mark.parametrize("argv,message", [
    (["train", "ganz", "--data", "toy:16"], "unknown recipe 'ganz'; known: acgan, aegan, cgan, "),
    (["train", "gan", "--data", "toy:16", "--set", "lrr=1"], "unknown TrainConfig keys: lrr"),
    (["train", "gan", "--data", "toy:16", "--arch", "tiny", "--loss", "wgann", "--dry-run"], "unknown loss 'wgann'"),
    (["train", "gan", "--data", "toy:16", "--arch", "nope", "--dry-run"], "unknown arch 'nope'"),
    (["train", "infogan", "--data", "toy:16", "--arch", "tiny", "--set", "info_cont_weight=-1", "--dry-run"],
     "info_cont_weight must not be negative, got -1"),
    (["train", "infogan", "--data", "toy:16", "--arch", "tiny", "--set", "info_stroke=true", "--dry-run"],
     "info_stroke changes the copy Q reads c1 from"),
    (["train", "gan"], "--data is required"),
    (["train", "gan", "--data", "toy:16", "--arch", "tiny", "--init", "no/such.safetensors", "--out", "/nonexistent"],
     "--init: no/such.safetensors"),
    (["export", "no/such/run", "--out", "x.safetensors"], "no such run folder or snapshot"),
])
def test_user_errors_are_one_line(toy_data, argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_parse_set_reads_json_values_and_dotted_keys():
    assert parse_set(["lr=1e-4", "augment=color,cutout", "G.w_dim=64", "G.num_ws=3", "compile=true"]) == {
        "lr": 1e-4, "augment": "color,cutout", "G": {"w_dim": 64, "num_ws": 3}, "compile": True}
    with pytest.raises(ConfigError, match="key=value"):
        parse_set(["lr"])


def test_arch_presets_yield_to_the_objective_and_to_the_user():
    cpu = torch.device("cpu")
    style = resolve(TrainConfig(arch="stylegan", batch=32), {}, cpu, resolution=64)
    assert style.betas == (0.0, 0.99) and style.lr == 0.0025 and style.style_mixing == 0.9
    assert style.r1_gamma == pytest.approx(0.0002 * 64**2 / 32)  # StyleGAN2-ADA's heuristic
    wgan = resolve(TrainConfig(arch="stylegan", loss="wgan"), LOSSES.get("wgan").defaults, cpu, 64)
    assert (wgan.optimizer, wgan.lr, wgan.d_steps) == ("rmsprop", 5e-5, 5)
    mine = resolve(TrainConfig(arch="stylegan", lr=1e-3, style_mixing=0.0, r1_gamma=0.0), {}, cpu, 64)
    assert (mine.lr, mine.style_mixing, mine.r1_gamma) == (1e-3, 0.0, 0.0)
    plain = resolve(TrainConfig(arch="tiny"), {}, cpu, 16)
    assert (plain.lr, plain.betas, plain.style_mixing, plain.r1_gamma) == (2e-4, (0.5, 0.999), 0.0, 0.0)

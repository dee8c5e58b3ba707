"""The cyclegan and stargan recipes train with the generic loop, resume exactly, and export
models that `ganstudio.translate` and the studio serve."""

import pytest
import torch
from PIL import Image

from ganstudio import checkpoint
from ganstudio.config_io import ConfigError
from ganstudio.data.wrappers import Unpaired
from ganstudio.studio import Studio
from ganstudio.training import Trainer
from ganstudio.training.export import export_run
from ganstudio.training.runs import find_resume, read_stats
from ganstudio.translate import load_translator, translate, translate_all_domains
from tests.training_kit import ToyImages, tiny_config

TINY_CYCLE = dict(recipe="cyclegan", arch="cyclegan_resnet", loss="lsgan", batch=4, G={"width": 4, "n_blocks": 1},
                  D={"width": 4, "n_layers": 2})
TINY_STAR = dict(recipe="stargan", arch="stargan_generator", loss="wgan-gp", batch=4, G={"width": 4, "n_blocks": 1},
                 D={"width": 4, "n_layers": 4})
HAIR = ("Black_Hair", "Blond_Hair", "Smiling")


def unpaired(seed=0):
    a, b = ToyImages(24, 16, labels=(), seed=seed), ToyImages(20, 16, labels=(), seed=seed + 1)
    data = Unpaired(a, b, domain_names=("plain", "Eyeglasses"))
    data.resolution = 16
    return data


def _state(trainer):
    return {f"{role}.{k}": v for role, net in trainer.nets.items() for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A few steps of each recipe, exported into one checkpoint folder: {recipe: (trainer, run dir, unit)}."""
    out = tmp_path_factory.mktemp("translation")
    runs = {}
    for name, (config, data, unit) in {
        "cyclegan": (tiny_config(**TINY_CYCLE, kimg=0.032, snapshot_kimg=0.016), unpaired(), "glasses"),
        "stargan": (tiny_config(**TINY_STAR, kimg=0.048, snapshot_kimg=0.048, augment="translation"),
                    ToyImages(32, 16, labels=HAIR, kind="attributes"), "star"),
    }.items():
        trainer = Trainer(config, data, out=out / "runs", progress=False)
        run_dir = trainer.run().run_dir
        runs[name] = (trainer, run_dir, export_run(run_dir, out / "ckpt" / f"{unit}.safetensors"))
    return runs


@pytest.mark.slow
def test_cyclegan_trains_and_exports_a_translation_model(trained):
    _, run_dir, unit = trained["cyclegan"]
    stats = read_stats(run_dir)
    assert {"G/cycle", "G/identity", "G/adv_ab", "D/d_a", "D/d_b"} <= set(stats[-1]["losses"])
    grid = Image.open(next((run_dir / "samples").glob("fakes-*.png")))
    assert grid.size[0] == grid.size[1]  # 4 rows of 4: A, A->B, B, B->A

    info = checkpoint.read_info(unit)
    assert info.roles == ("G_AB", "G_BA", "D_A", "D_B") and info.labels == ("plain", "Eyeglasses")
    assert info.meta["translation"] == {"kind": "cyclegan", "exclusive_groups": []}
    out = translate(load_translator(unit), Image.new("RGB", (40, 40), (200, 150, 120)), to="B")
    assert out.size == (16, 16)  # at the resolution the model was trained at


def test_cyclegan_learning_rate_is_constant_then_decays_to_zero(tmp_path):
    trainer = Trainer(tiny_config(**TINY_CYCLE, kimg=0.04), unpaired(), out=None, progress=False)
    recipe = trainer.recipe
    assert recipe.lr_factor(0) == recipe.lr_factor(19) == 1.0
    assert recipe.lr_factor(30) == pytest.approx(0.5) and recipe.lr_factor(40) == 0.0
    for _ in range(6):  # 24 images: into the decay
        trainer.step()
    trainer.step()
    lr = trainer.optimizers["G"].param_groups[0]["lr"]
    assert lr == pytest.approx(trainer.config.g_lr * recipe.lr_factor(24))


@pytest.mark.slow
def test_cyclegan_resume_restores_the_history_pools(tmp_path):
    config = tiny_config(**TINY_CYCLE, kimg=0.048, snapshot_kimg=1.0, seed=3, loss_args={"pool_size": 3})
    straight = Trainer(config, unpaired(), out=tmp_path / "a", progress=False)
    straight.run()

    first = Trainer(config, unpaired(), out=tmp_path / "b", progress=False)
    for _ in range(5):
        first.step()
    first.save_snapshot()
    assert len(first.recipe.pools["a"]) == 3
    torch.manual_seed(99)
    resumed = Trainer.resume(find_resume("latest", tmp_path / "b"), unpaired(), progress=False)
    assert [p.images for p in resumed.recipe.pools.values()] != [[], []]
    resumed.run()
    a, b = _state(straight), _state(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_stargan_trains_with_n_critic_and_exports_groups(trained):
    trainer, run_dir, unit = trained["stargan"]
    assert trainer.config.d_steps == 5 and trainer.phase_steps["D"] == 5 * trainer.phase_steps["G"]
    stats = read_stats(run_dir)
    assert {"D/gp", "D/cls", "G/rec", "G/cls"} <= set(stats[-1]["losses"])
    grid = Image.open(next((run_dir / "samples").glob("fakes-*.png")))
    assert grid.size[0] == grid.size[1]  # one row per input: input + one column per attribute

    info = checkpoint.read_info(unit)
    assert info.labels == HAIR and info.roles == ("G", "D")
    assert info.meta["translation"]["exclusive_groups"] == [["Black_Hair", "Blond_Hair"]]
    tr = load_translator(unit)
    figure = translate_all_domains(tr, Image.new("RGB", (16, 16), (90, 60, 40)))
    assert [name for name, _ in figure.images][0] == "input" and len(figure.images) == 1 + len(HAIR)


@pytest.mark.slow
def test_trained_models_are_served_by_the_translate_endpoints(trained, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from ganstudio.ui.app import build_app
    from tests.conftest import launch_local

    studio = Studio(trained["cyclegan"][2].parent)
    assert studio.model_names("translation") == ["glasses", "star"]
    app = launch_local(build_app(studio))
    try:
        client = Client(app.local_url, verbose=False)
        photo = tmp_path / "face.png"
        Image.new("RGB", (48, 48), (200, 150, 120)).save(photo)
        source = client.predict(handle_file(str(photo)), api_name="/translate_upload")
        # The tab opens on the CycleGAN; a StarGAN's targets are taken without /translate_model.
        star = client.predict("star", handle_file(source), "A", ["Blond_Hair", "Smiling"], api_name="/translate")
        assert Image.open(star).size == (16, 16)
        client.predict("glasses", api_name="/translate_model")
        glasses = client.predict("glasses", handle_file(source), "B", [], api_name="/translate")
        assert Image.open(glasses).size == (16, 16)
        star = client.predict("star", handle_file(source), "A", ["Blond_Hair"], api_name="/translate")
        assert Image.open(star).size == (16, 16)
        offered = client.predict("star", api_name="/translate_model")[1]
        labels = [choice[0] for choice in offered["choices"]]  # an independent attribute can be cleared too
        assert labels == ["Black_Hair", "Blond_Hair", "Smiling", "no Smiling"]
        star = client.predict("star", handle_file(source), "A", ["Blond_Hair", "Smiling"], api_name="/translate")
        assert Image.open(star).size == (16, 16)
        no_smile = client.predict("star", handle_file(source), "A", ["Smiling=0"], api_name="/translate")
        assert Image.open(no_smile).size == (16, 16)
        with pytest.raises(AppError, match="both set and cleared"):
            client.predict("star", handle_file(source), "A", ["Smiling", "Smiling=0"], api_name="/translate")
        with pytest.raises(AppError, match="Purple_Hair"):  # a name no StarGAN has is refused by name
            client.predict("star", handle_file(source), "A", ["Purple_Hair"], api_name="/translate")
        assert Image.open(client.predict("star", handle_file(source), api_name="/translate_all")).size[0] > 4 * 16
    finally:
        app.close()


@pytest.mark.parametrize("changes,data,message", [
    (dict(TINY_CYCLE), ToyImages(8, 16), "cyclegan needs unpaired two-domain data"),
    ({**TINY_CYCLE, "loss": "wgan-gp"}, unpaired(), "not available on patch scores"),
    ({**TINY_CYCLE, "loss_args": {"lambda_cycle": 1}}, unpaired(), "unknown lambda_cycle"),
    (dict(TINY_STAR), unpaired(), "stargan needs a data set with at least two attribute labels"),
    ({**TINY_STAR, "loss": "lsgan"}, ToyImages(8, 16, labels=HAIR, kind="attributes"), "trains with wgan-gp"),
    ({**TINY_STAR, "exclusive_groups": [["Black_Hair", "Red_Hair"]]}, ToyImages(8, 16, labels=HAIR, kind="attributes"),
     "unknown attribute 'Red_Hair'"),
    ({**TINY_CYCLE, "augment": "translation"}, unpaired(), "'cyclegan' does not use differentiable augmentation"),
    ({**TINY_CYCLE, "lr_decay": 0.5}, unpaired(), "cyclegan schedules its lr with loss_args.decay_start"),
    ({"recipe": "encoder", "augment": "cutout"}, ToyImages(8, 16), "'encoder' does not use differentiable augment"),
    ({**TINY_STAR, "augment": "rotate"}, ToyImages(8, 16, labels=HAIR, kind="attributes"), "unknown transform 'rotate'"),
])
def test_translation_recipes_refuse_what_they_cannot_train(changes, data, message):
    with pytest.raises(ConfigError, match=message):
        Trainer(tiny_config(**changes), data, out=None, progress=False)


def test_train_cli_picks_the_recipes_own_arch_and_loss(tmp_path, capsys):
    import json

    from ganstudio.cli import main

    argv = ["train", "stargan", "--data", "synthfaces:32?attrs=Black_Hair,Blond_Hair,Smiling&n=8", "--dry-run"]
    assert main(argv) == 0
    config = json.loads(capsys.readouterr().out)
    config = config.get("config", config)
    assert config["arch"] == "stargan_generator" and config["loss"] == "wgan-gp" and config["d_steps"] == 5

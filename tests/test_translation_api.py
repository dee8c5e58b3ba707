import ast
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.domains import decode_labels, group_indices
from ganstudio.imaging import CAPTION_HEIGHT, from_pil, load_image, read_png_recipe
from ganstudio.translate import (
    TranslateError, estimate_labels, load_translator, translate, translate_all_domains, translate_cycle,
)
from tests.conftest import make_tiny
from tests.tiny_translation import ATTRS, HAIR, RES, save_cyclegan, save_stargan


@pytest.fixture
def photo() -> Image.Image:
    """A non-square RGB image, as an upload would be."""
    pixels = torch.randint(0, 256, (30, 40, 3), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    return Image.fromarray(pixels.numpy(), "RGB")


@pytest.fixture
def cyclegan_file(tmp_path):
    return save_cyclegan(tmp_path / "horse2zebra.safetensors")


@pytest.fixture
def stargan_file(tmp_path):
    return save_stargan(tmp_path / "faces.safetensors")


# ----- CycleGAN -------------------------------------------------------------------------------

def test_cyclegan_translates_a_pil_image_each_way(cyclegan_file, photo):
    nets = checkpoint.load(cyclegan_file).networks
    x = from_pil(photo, RES)[None]
    out_b = translate(cyclegan_file, photo, to="B")
    assert out_b.mode == "RGB" and out_b.size == (RES, RES)
    assert torch.allclose(from_pil(out_b), nets["G_AB"](x)[0], atol=1 / 127)
    out_a = translate(cyclegan_file, photo, to="A")
    assert torch.allclose(from_pil(out_a), nets["G_BA"](x)[0], atol=1 / 127)
    assert translate(cyclegan_file, photo, to="zebra").tobytes() == out_b.tobytes()


def test_cyclegan_unknown_domain_lists_the_known_ones(cyclegan_file, photo):
    with pytest.raises(TranslateError, match=r"unknown domain 'C'; known: A \(horse\), B \(zebra\)"):
        translate(cyclegan_file, photo, to="C")
    with pytest.raises(TranslateError, match="StarGAN models only"):
        translate(cyclegan_file, photo, to="B", labels="x")


def test_tensors_in_tensors_out(cyclegan_file):
    tr = load_translator(cyclegan_file)
    x = torch.rand(2, 3, RES, RES) * 2 - 1
    assert translate(tr, x, to="B").shape == (2, 3, RES, RES)
    single = translate(tr, x[0], to="B")
    assert single.shape == (3, RES, RES) and torch.allclose(single, translate(tr, x, to="B")[0], atol=1e-6)
    with pytest.raises(TranslateError, match=r"\[3, 16, 16\]"):
        translate(tr, torch.zeros(3, 32, 32), to="B")


def test_only_the_generators_are_loaded_from_a_path(cyclegan_file):
    assert set(load_translator(cyclegan_file).networks) == {"G_AB", "G_BA"}


def test_a_generative_model_is_not_a_translation_model(tmp_path, photo):
    path = checkpoint.save(tmp_path / "tiny.safetensors", {"G_ema": make_tiny()})
    with pytest.raises(TranslateError, match="tiny.safetensors: not a translation model"):
        translate(path, photo, to="B")


# ----- StarGAN --------------------------------------------------------------------------------

def test_stargan_keeps_estimated_labels_and_applies_targets(stargan_file, photo):
    nets = checkpoint.load(stargan_file).networks
    x = from_pil(photo, RES)[None]
    estimated = decode_labels(nets["D"].heads(x)["class_logits"], group_indices(ATTRS, [HAIR]))
    target = estimated.clone()
    target[0, :3] = torch.tensor([0.0, 1.0, 0.0])
    target[0, 3] = 1.0
    out = translate(stargan_file, photo, to="Blond_Hair,Smiling")
    assert out.mode == "RGB" and out.size == (RES, RES)
    assert torch.allclose(from_pil(out), nets["G"](x, target)[0], atol=1 / 127)
    assert translate(stargan_file, photo, to=["Blond_Hair", "Smiling"]).tobytes() == out.tobytes()
    names = estimate_labels(stargan_file, photo)
    assert sum(name in HAIR for name in names) == 1


def test_stargan_with_given_labels(stargan_file):
    tr = load_translator(stargan_file)
    x = torch.rand(1, 3, RES, RES) * 2 - 1
    out = translate(tr, x, to="Smiling,Eyeglasses=0", labels="Black_Hair,Eyeglasses")
    expected = tr.networks["G"](x, torch.tensor([[1.0, 0, 0, 1, 0]]))
    assert torch.allclose(out, expected)
    vector = translate(tr, x, to="Smiling,Eyeglasses=0", labels=[1, 0, 0, 0, 1])
    assert torch.allclose(vector, expected)


def test_the_cycle_goes_there_and_back(cyclegan_file, stargan_file):
    x = torch.rand(2, 3, RES, RES) * 2 - 1
    cycle = load_translator(cyclegan_file)
    out, back = translate_cycle(cycle, x, to="B")
    assert torch.allclose(out, translate(cycle, x, to="B"))
    assert torch.allclose(back, cycle.networks["G_BA"](cycle.networks["G_AB"](x)))
    star = load_translator(stargan_file)
    out, back = translate_cycle(star, x[:1], to="Smiling", labels="Black_Hair")
    source, target = torch.tensor([[1.0, 0, 0, 0, 0]]), torch.tensor([[1.0, 0, 0, 1, 0]])
    assert torch.allclose(back, star.networks["G"](star.networks["G"](x[:1], target), source))


@pytest.mark.parametrize("to,message", [
    ("Purple_Hair", "unknown attribute 'Purple_Hair'; known: Black_Hair, Blond_Hair, Brown_Hair, Smiling, Eyeglasses"),
    ("Blond_Hair=0", "exactly one member set"),
    ("Blond_Hair,Brown_Hair", "both in the exclusive group"),
    ("Smiling=2", "must be 0 or 1"),
    ("Smiling,Smiling=0", "Smiling is asked to be both set and cleared"),
    ("", "name at least one target attribute"),
])
def test_stargan_bad_requests_are_clear(stargan_file, photo, to, message):
    with pytest.raises(TranslateError, match=message):
        translate(stargan_file, photo, to=to)


def test_stargan_without_discriminator_needs_the_input_labels(tmp_path, photo):
    path = save_stargan(tmp_path / "g_only.safetensors", roles=("G",))
    with pytest.raises(TranslateError, match="no discriminator to estimate"):
        translate(path, photo, to="Smiling")
    assert translate(path, photo, to="Smiling", labels="Brown_Hair").size == (RES, RES)


def test_a_loaded_checkpoint_is_accepted(stargan_file, photo):
    loaded = checkpoint.load(stargan_file)
    assert translate(loaded, photo, to="Smiling").tobytes() == translate(stargan_file, photo, to="Smiling").tobytes()


def test_all_domains_grid(stargan_file, cyclegan_file, photo):
    sweep = translate_all_domains(stargan_file, photo, labels="Black_Hair,Smiling")
    captions = [c for c, _ in sweep.images]
    assert captions == ["input", *HAIR, "-Smiling", "+Eyeglasses"]
    assert sweep.grid.size == (6 * RES + 7 * 2, RES + CAPTION_HEIGHT + 2 * 2)  # each tile captioned below
    assert all(img.size == (RES, RES) for _, img in sweep.images)
    # the Black_Hair column keeps the input's labels exactly
    same = translate(stargan_file, photo, to="Black_Hair", labels="Black_Hair,Smiling")
    assert sweep.images[1][1].tobytes() == same.tobytes()
    cyc = translate_all_domains(cyclegan_file, photo)
    assert [c for c, _ in cyc.images] == ["input", "horse", "zebra"]


def test_translate_never_imports_training_or_ui():
    source = (Path(__file__).resolve().parent.parent / "ganstudio" / "translate.py").read_text()
    modules = {n.module or "" for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m.startswith(("training", "ui", "gradio", "ganstudio.training", "ganstudio.ui")) for m in modules)


# ----- CLI ------------------------------------------------------------------------------------

def test_cli_translate_stargan_end_to_end(stargan_file, photo, tmp_path, capsys):
    photo.save(tmp_path / "in.png")
    out = tmp_path / "out" / "res.png"
    code = main(["translate", "--model", str(stargan_file), "--image", str(tmp_path / "in.png"),
                 "--to", "Blond_Hair,Smiling", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    result = load_image(out)
    assert result.size == (RES, RES)
    assert result.tobytes() == translate(stargan_file, photo, to="Blond_Hair,Smiling").tobytes()
    assert read_png_recipe(out)["to"] == "Blond_Hair,Smiling"
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_cli_translate_cyclegan_by_model_name_and_grid(cyclegan_file, photo, tmp_path, capsys):
    photo.save(tmp_path / "in.jpg")
    args = ["--model", "horse2zebra", "--checkpoints", str(cyclegan_file.parent), "--image", str(tmp_path / "in.jpg")]
    assert main(["translate", *args, "--to", "A", "--out", str(tmp_path / "a.png")]) == 0
    assert load_image(tmp_path / "a.png").size == (RES, RES)
    assert main(["translate", *args, "--all-domains", "--out", str(tmp_path / "grid.png")]) == 0
    assert load_image(tmp_path / "grid.png").size == (3 * RES + 4 * 2, RES + CAPTION_HEIGHT + 4)


@pytest.mark.parametrize("extra,expected", [
    (["--to", "C"], "unknown domain 'C'; known: A (horse), B (zebra)"),
    ([], "give --to"),
])
def test_cli_translate_request_errors_are_one_line(cyclegan_file, photo, tmp_path, capsys, extra, expected):
    photo.save(tmp_path / "in.png")
    code = main(["translate", "--model", str(cyclegan_file), "--image", str(tmp_path / "in.png"),
                 *extra, "--out", str(tmp_path / "o.png")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err
    assert not (tmp_path / "o.png").exists()


def test_cli_translate_bad_image_names_the_file(cyclegan_file, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    code = main(["translate", "--model", str(cyclegan_file), "--image", str(bad), "--to", "B",
                 "--out", str(tmp_path / "o.png")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "broken.png" in err
    assert not (tmp_path / "o.png").exists()


def test_cli_translate_unknown_model_lists_available(cyclegan_file, tmp_path, capsys):
    code = main(["translate", "--model", "nope", "--checkpoints", str(cyclegan_file.parent), "--image", "x.png",
                 "--to", "B", "--out", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown model 'nope'" in err and "horse2zebra" in err

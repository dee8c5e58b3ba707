import numpy as np
import pytest
import torch

from ganstudio import checkpoint
from ganstudio.latents import parse_seeds
from ganstudio.studio import Studio, StudioError
from tests.conftest import make_tiny


def test_unreadable_files_are_listed_with_their_error_not_served(checkpoint_dir):
    (checkpoint_dir / "broken.safetensors").write_bytes(b"junk")
    studio = Studio(checkpoint_dir)
    broken = [e for e in studio.catalogue.models() if e.name == "broken"][0]
    assert broken.info is None and "broken.safetensors" in broken.error
    assert studio.model_names() == ["tiny"]
    with pytest.raises(StudioError, match="cannot be used"):
        studio.sample("broken", "0")


def test_sample_is_deterministic_and_returns_codes(checkpoint_dir):
    studio = Studio(checkpoint_dir, device="cpu")
    a = studio.sample("tiny", "3, 4")
    b = studio.sample("tiny", [3, 4])
    assert [s.seed for s in a] == [3, 4]
    assert a[0].image.size == (16, 16) and a[0].image.mode == "RGB"
    assert a[0].z.shape == (8,) and a[0].ws.shape == (2, 8)
    assert a[0].image.tobytes() == b[0].image.tobytes()
    assert a[0].image.tobytes() != a[1].image.tobytes()


def test_every_way_of_mapping_z_checks_psi_alike(checkpoint_dir):
    studio = Studio(checkpoint_dir)
    too_far = studio.seed_recipe("tiny", 1, psi=2.5)
    for call in (lambda: studio.sample("tiny", "1", psi=2.5), lambda: studio.mix("tiny", "1", "2", psi=2.5),
                 lambda: studio.walk("tiny", "1, 2", psi=-1.5), lambda: studio.render(too_far),
                 lambda: studio.walk("tiny", "1, 2", space="w", psi=2.5),
                 lambda: studio.interpolate(too_far, studio.seed_recipe("tiny", 2), space="z"),
                 lambda: studio.interpolate(studio.seed_recipe("tiny", 2), too_far, space="w")):
        with pytest.raises(StudioError, match="psi must be between -1 and 2"):
            call()


def test_psi_zero_gives_w_avg(checkpoint_dir):
    studio = Studio(checkpoint_dir)
    w_avg = studio.generator("tiny").w_avg
    [s] = studio.sample("tiny", "5", psi=0.0)
    assert torch.allclose(s.ws, w_avg.expand_as(s.ws))


def test_names_not_paths(checkpoint_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    checkpoint.save(outside / "secret.safetensors", {"G": make_tiny()})
    (checkpoint_dir / "link.safetensors").symlink_to(outside / "secret.safetensors")
    studio = Studio(checkpoint_dir)
    assert "link" not in studio.model_names()
    for name in ("../outside/secret", str(outside / "secret.safetensors"), "link", ""):
        with pytest.raises(StudioError):
            studio.sample(name, "0")


@pytest.mark.parametrize("text, expected", [("0", [0]), ("1, 2", [1, 2]), ("3-5", [3, 4, 5]), (" 7 ;8", [7, 8])])
def test_parse_seeds(text, expected):
    assert parse_seeds(text) == expected


@pytest.mark.parametrize("text", ["", "a", "5-2", "-1", "0-1000", "99999999999"])
def test_parse_seeds_errors(text):
    with pytest.raises(StudioError, match="seed"):
        parse_seeds(text)


def test_a_model_first_loaded_by_a_render_can_still_be_inverted(checkpoint_dir):
    from PIL import Image

    from ganstudio.editing.inversion import InversionSettings

    studio = Studio(checkpoint_dir)
    studio.sample("tiny", "1")  # first load happens inside inference mode
    steps = list(studio.invert("tiny", Image.new("RGB", (16, 16), (90, 40, 200)),
                               InversionSettings(method=1, steps=3, lambda_perceptual=0)))
    assert steps[-1][0].done


def test_warm_up_loads_and_renders_the_default_model(checkpoint_dir, tmp_path):
    studio = Studio(checkpoint_dir, device="cpu")
    assert studio.warm_up() == "tiny" and len(studio.catalogue._cache) == 1
    assert Studio(tmp_path / "empty").warm_up() is None
    (checkpoint_dir / "tiny.safetensors").write_bytes(b"junk")
    assert Studio(checkpoint_dir).warm_up("tiny") is None  # a broken model is left to the tabs to report


def test_a_large_model_previews_a_dragged_slider_from_its_coarse_levels_and_the_last_full_frame(tmp_path):
    from ganstudio import checkpoint
    from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator
    from ganstudio.studio import Studio

    torch.manual_seed(0)
    for size in (256, 64):
        G = StyleGANGenerator(StyleGANConfig(resolution=size, z_dim=8, w_dim=8, mapping_layers=1, channel_base=512,
                                             channel_max=4)).eval()
        checkpoint.save(tmp_path / f"m{size}.safetensors", {"G_ema": G})
    studio = Studio(tmp_path)
    # the largest level costing at most 1/16 of the frame (4 channels up to 128 px, 2 at 256)
    assert studio.preview_resolution("m256") == 32 and studio.preview_resolution("m64") is None

    def pixels(face: str, alpha: float, preview: bool) -> np.ndarray:
        rendered = studio.edit(studio.seed_recipe("m256", 3 if face == "a" else 4), "sefa", {"SeFa0": alpha},
                               preview=preview)
        return np.asarray(rendered.image, dtype=int)

    first = pixels("a", 2.0, preview=True)  # a face never drawn whole is drawn whole
    assert first.shape == (256, 256, 3) and np.array_equal(first, pixels("a", 2.0, preview=False))
    # the same edit again: coarse levels + (full frame - its coarse levels) is that full frame
    assert np.abs(pixels("a", 2.0, preview=True) - first).max() <= 1
    dragged, released = pixels("a", -2.0, preview=True), pixels("a", -2.0, preview=False)
    assert dragged.shape == (256, 256, 3) and np.abs(dragged - first).mean() > 1  # the slider shows
    assert 0 < np.abs(dragged - released).mean() < np.abs(first - released).mean()  # fine detail waits for release
    pixels("b", 0.0, preview=False)  # another face: its own detail; the first face's last full frame is kept
    assert np.abs(pixels("a", -2.0, preview=True) - released).max() <= 1
    assert studio.render(studio.seed_recipe("m64", 3), preview=True).image.size == (64, 64)

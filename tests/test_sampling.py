import io

import pytest
import torch
from PIL import Image

from ganstudio import checkpoint
from ganstudio.editing.mixing import interpolate, latent_walk, mix_styles
from ganstudio.imaging import animation_bytes
from ganstudio.studio import Studio, StudioError
from tests.conftest import make_tiny


@pytest.fixture
def studio(tmp_path):
    checkpoint.save(tmp_path / "m.safetensors", {"G_ema": make_tiny(num_ws=6)})
    return Studio(tmp_path)


def test_mix_styles_takes_only_the_chosen_rows_from_the_row_codes():
    rows, cols = torch.randn(2, 6, 4), torch.randn(3, 6, 4)
    grid = mix_styles(rows, cols, slice(1, 3))
    assert grid.shape == (2, 3, 6, 4)
    assert torch.equal(grid[1, 2, 1:3], rows[1, 1:3])
    assert torch.equal(grid[1, 2, :1], cols[2, :1]) and torch.equal(grid[1, 2, 3:], cols[2, 3:])


def test_mixing_grid_cells_replay_and_differ_from_the_plain_column(studio):
    grid = studio.mix("m", "1, 2", "3, 4, 5", layers=(0, 3))
    assert len(grid) == 2 and len(grid[0]) == 3
    cell = grid[1][2]
    assert studio.render(cell.recipe).image.tobytes() == cell.image.tobytes()
    plain = studio.sample("m", "5")[0].image
    assert cell.image.tobytes() != plain.tobytes()
    everything = studio.mix("m", "1", "5", layers=(0, 6))[0][0]
    assert everything.image.tobytes() == studio.sample("m", "1")[0].image.tobytes()
    with pytest.raises(StudioError, match="at most 64 cells"):
        studio.mix("m", "0-9", "0-9")


def test_interpolation_ends_at_both_recipes(studio):
    a, b = studio.seed_recipe("m", 1), studio.seed_recipe("m", 2)
    for space in ("z", "w"):
        frames = studio.interpolate(a, b, frames=5, space=space)
        assert len(frames) == 5
        assert frames[0].tobytes() == studio.render(a).image.tobytes()
        assert frames[-1].tobytes() == studio.render(b).image.tobytes()
    coded = studio.code_recipe("m", torch.randn(6, 8), "w+")
    with pytest.raises(StudioError, match="z interpolation needs codes in z"):
        studio.interpolate(a, coded, space="z")
    assert len(studio.interpolate(a, coded, frames=3, space="w")) == 3


def test_slerp_keeps_the_norm_and_walk_loops():
    a, b = torch.randn(512), torch.randn(512)
    mid = interpolate(a, b, 3, "z")[1]
    assert abs(mid.norm() - (a.norm() + b.norm()) / 2) < 0.1 * a.norm()
    codes = torch.randn(3, 4)
    walk = latent_walk(codes, 4, "w")
    assert walk.shape == (12, 4) and torch.equal(walk[0], codes[0]) and torch.equal(walk[4], codes[1])


def test_walk_and_animation_export(studio):
    frames = studio.walk("m", "1, 2, 3", frames_per_step=4)
    assert len(frames) == 12
    gif = Image.open(io.BytesIO(animation_bytes(frames, "gif")))
    assert gif.n_frames == 12 and gif.info.get("loop") == 0
    import av

    for fmt in ("mp4", "webm"):
        with av.open(io.BytesIO(animation_bytes(frames, fmt))) as container:
            decoded = list(container.decode(video=0))
        assert len(decoded) == 12 and decoded[0].width >= 256

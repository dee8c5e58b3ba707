"""A user's own 1024 px StyleGAN2-ADA network pickle, imported by the CLI and used in a real
Chromium: the studio must open it with sliders (computed, as it comes with no direction files),
draw full 1024 px frames, invert a photo and traverse a direction. Random weights with few
channels, so a frame costs well under a second on 2 cores."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.test_browser import _src, _wait_change, page  # noqa: F401  (page: the browser fixture, on this studio)
from tests.test_import_nvlabs_pickle import _model, _snapshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZE = 1024


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    from ganstudio.cli import main
    from ganstudio.studio import Studio
    from ganstudio.ui.app import build_app
    from ganstudio.ui.common import CSS
    from tests.conftest import launch_local

    folder = tmp_path_factory.mktemp("own")
    G = _model(resolution=SIZE, channel_base=8 * SIZE, channel_max=8)
    pickle_path = _snapshot(folder, G, D=None)
    assert main(["import", "stylegan-pkl", str(pickle_path), "--out", str(folder / "portraits.safetensors")]) == 0
    pickle_path.unlink()  # the studio serves the imported unit alone
    assert not (folder / "SOURCE_RAN").exists()
    app = build_app(Studio(folder))
    launch_local(app, css=CSS)
    yield app.local_url
    app.close()


def _width(image) -> int:
    """The pixel width of the image the page shows, once it has loaded."""
    image.first.wait_for()
    return image.first.evaluate("img => img.complete ? img.naturalWidth : new Promise(done => "
                                "img.addEventListener('load', () => done(img.naturalWidth), {once: true}))")


def test_an_imported_1024_px_model_samples_mixes_edits_inverts_and_traverses(page, tmp_path):
    page.get_by_role("button", name="Sample", exact=True).click()
    first = page.locator("#samples img")
    _wait_change(lambda: _src(first), "", timeout=120)
    assert _width(first) == SIZE
    page.get_by_label("Row seeds (give their styles)").fill("1")
    page.get_by_label("Column seeds (receive them)").fill("2")
    page.get_by_role("button", name="Mix", exact=True).click()
    grid = page.locator("#mix-grid img")
    _wait_change(lambda: _src(grid), "", timeout=120)
    assert _width(grid) >= 2 * SIZE  # full-size frames: the column seed on top, the mix below it
    page.get_by_text("Interpolation and latent walk").click()
    page.get_by_role("spinbutton", name="number input for Frames").fill("3")
    page.get_by_role("button", name="Interpolate", exact=True).click()
    _wait_change(lambda: _src(page.locator("#walk-preview img")), "", timeout=120)

    page.get_by_role("tab", name="Edit").click()
    page.get_by_role("button", name="Start from this seed").click()
    after = page.locator("#edit-after img")
    shown = _wait_change(lambda: _src(after), "", timeout=120)
    page.locator("#edit-slider-0", has_text="PC0").wait_for()  # principal directions, computed on opening
    track = page.locator("#edit-slider-0 input[type=range]")
    track.fill("1.5")  # a frame while dragging: the preview, full size (coarse levels drawn afresh)
    preview = _wait_change(lambda: _src(after), shown, timeout=120)
    assert _width(after) == SIZE and preview.endswith(".jpg")  # sent as JPEG: PNG would take longer to encode
    track.dispatch_event("pointerup")  # released: the full frame
    _wait_change(lambda: _src(after), preview, timeout=120)
    assert _width(after) == SIZE
    page.get_by_role("tab", name="History").click()
    page.get_by_role("button", name="Refresh").click()
    page.locator("#history", has_text="PC0 +1.5").wait_for(timeout=30_000)

    page.get_by_role("tab", name="Invert").click()
    photo = tmp_path / "portrait.png"
    Image.new("RGB", (300, 400), (180, 130, 110)).save(photo)  # not square, not 1024 px: fitted to the model
    page.locator("#invert-upload input[type=file]").set_input_files(str(photo))
    page.get_by_label("1: optimise").check()
    page.get_by_label("λ1 · ‖z − z0‖²").fill("0.1")
    steps = page.get_by_role("spinbutton", name="number input for Max steps")
    steps.fill("10")
    steps.press("Enter")
    page.get_by_role("button", name="Invert", exact=True).click()
    page.locator("#invert-status", has_text="Done.").wait_for(timeout=180_000)
    assert _width(page.locator("#invert-result img")) == SIZE

    page.get_by_role("tab", name="Inspect codes").click()
    page.locator("#inspect-about", has_text="portraits").wait_for(timeout=30_000)
    axis = page.locator("#inspect-axis input")
    axis.fill("sefa/SeFa0")  # SeFa: computed from the style weights, no file needed
    axis.press("Enter")
    page.get_by_label("Seeds (one row each)").fill("0")
    page.get_by_role("spinbutton", name="number input for Steps", exact=True).fill("3")
    page.get_by_role("button", name="Traverse").click()
    grid = page.locator("#inspect-grid img")
    _wait_change(lambda: _src(grid), "", timeout=120)
    assert 3 * SIZE <= _width(grid) < 3 * SIZE + 64  # one row of three full-size frames (and the padding)

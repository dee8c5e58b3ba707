"""End-to-end journey in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(os.environ.get("GANSTUDIO_SCREENSHOTS", "")) if os.environ.get("GANSTUDIO_SCREENSHOTS") else None

if not CHROMIUM:
    if os.environ.get("CI"):
        pytest.fail("CI must install Debian's chromium for the browser tests", pytrace=False)
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    import torch

    from ganstudio import checkpoint
    from ganstudio.editing.directions import assemble
    from ganstudio.studio import Studio
    from ganstudio.ui.app import build_app
    from ganstudio.ui.common import CSS
    from tests.conftest import launch_local, make_tiny
    from tests.tiny_translation import save_cyclegan

    folder = tmp_path_factory.mktemp("ckpt")
    G = make_tiny(num_ws=4)
    checkpoint.save(folder / "faces.safetensors", {"G_ema": G}, labels=["Smiling", "Eyeglasses"],
                    extra={"directions.mean_diff": torch.randn(2, G.w_dim, generator=torch.Generator().manual_seed(1)) * 3},
                    meta={"directions": {"mean_diff": {"space": "w", "names": ["Smiling", "Eyeglasses"]}}})
    save_cyclegan(folder / "glasses.safetensors", labels=("no_glasses", "glasses"))
    checkpoint.save(folder / "other.safetensors", {"G_ema": make_tiny(seed=3, num_ws=4)})  # a second generator
    plain = Studio(folder).directions("faces")["mean_diff"]  # a picked set, as `ganstudio directions pick` writes
    assemble("best", {"Smiling": (plain, 2.0, {"success": 0.8, "preserved": 0.9, "n": 300})}).save(
        folder / "faces.best.directions.safetensors")
    class PacedStudio(Studio):
        """The tiny model runs 1,000 inversion steps in a fraction of a second, which under load is sooner
        than a Stop press travels from the page to the server (the journey's Stop then found its run
        done); a real model's step takes tens of milliseconds, so the tiny one is paced at 10 ms."""

        def invert(self, *args, **kwargs):
            for item in super().invert(*args, **kwargs):
                time.sleep(0.01)
                yield item

    app = build_app(PacedStudio(folder))
    launch_local(app, css=CSS)
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def page(studio_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(studio_url)
        page.get_by_role("tab", name="Sample & Mix").wait_for(timeout=60_000)
        yield page
        browser.close()


def _shot(page, name):
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _src(locator) -> str:
    return (locator.first.get_attribute("src") or "") if locator.count() else ""


def _wait_change(read, before, timeout=90.0):
    end = time.time() + timeout
    while time.time() < end:
        now = read()
        if now and now != before:
            return now
        time.sleep(0.2)
    raise AssertionError("the image never changed")


def test_psi_slider_changes_the_samples(page):
    page.get_by_role("button", name="Sample", exact=True).click()
    first = page.locator("#samples img")
    before = _wait_change(lambda: _src(first), "")
    slider = page.locator("#sample-psi input[type=number]")
    slider.fill("0.1")
    slider.press("Enter")
    _wait_change(lambda: _src(first), before)
    _shot(page, "sample")


def test_attribute_slider_edits_the_face(page):
    page.get_by_role("tab", name="Edit").click()
    page.get_by_role("button", name="Start from this seed").click()
    after = page.locator("#edit-after img")
    before = _wait_change(lambda: _src(after), "")
    # it opens on the picked set, each slider saying where its direction came from
    page.locator("#edit-slider-0", has_text="mean_diff × 2 · measured: 80% changed, 90% of the rest kept").wait_for()
    number = page.locator("#edit-slider-0 input[type=number]")
    number.fill("2.5")
    number.press("Enter")
    _wait_change(lambda: _src(after), before)
    _shot(page, "edit")


def test_upload_invert_watch_frames_then_translate(page, tmp_path):
    page.get_by_role("tab", name="Invert").click()
    photo = tmp_path / "face.png"
    Image.new("RGB", (48, 48), (200, 150, 120)).save(photo)
    page.locator("#invert-upload input[type=file]").set_input_files(str(photo))
    page.get_by_label("1: optimise").check()
    # Record every status text the page shows, in the page itself: polling from here misses
    # frames whenever a fast machine streams several between two polls.
    page.evaluate("""() => {
        const status = document.querySelector('#invert-status');
        window.invertFrames = [];
        new MutationObserver(() => {
            const text = status.innerText;
            if (text.includes('PSNR') && window.invertFrames.at(-1) !== text) window.invertFrames.push(text);
        }).observe(status, {subtree: true, childList: true, characterData: true});
    }""")
    page.get_by_role("button", name="Invert", exact=True).click()
    page.locator("#invert-status", has_text="Done.").wait_for(timeout=120_000)
    frames = page.evaluate("window.invertFrames")
    assert len(frames) >= 2, f"expected several streamed frames, saw {frames}"
    _shot(page, "invert")
    page.get_by_role("tab", name="Translate").click()
    page.locator("#translate-upload input[type=file]").set_input_files(str(photo))
    _wait_change(lambda: _src(page.locator("#translate-source img")), "")  # the upload is decoded and shown
    page.get_by_role("button", name="Translate", exact=True).click()
    result = page.locator("#translate-result img")
    _wait_change(lambda: _src(result), "")
    _shot(page, "translate")


def test_a_newcomers_journey_keeps_every_output_with_its_inputs(page, tmp_path):
    """Sample -> send seed 4 to Edit -> drag and release a slider -> History has exactly that
    edit -> invert an upload and Stop it -> translate -> inspect -> switch model: at every step
    what is shown belongs to the inputs beside it."""
    page.get_by_role("tab", name="Sample & Mix").click()
    page.get_by_role("button", name="Sample", exact=True).click()
    _wait_change(lambda: _src(page.locator("#samples img")), "")
    page.locator("#samples img").nth(4).click()  # seed 4
    page.locator("#sample-selected", has_text="Selected: seed 4").wait_for(timeout=30_000)
    after = page.locator("#edit-after img")
    earlier = _src(after)  # an earlier test may have left a face there
    page.get_by_role("button", name="Send selected to Edit").click()
    shown = _wait_change(lambda: _src(after), earlier)
    assert page.get_by_label("Seed", exact=True).input_value() == "4"  # the Seed box follows the face

    track = page.locator("#edit-slider-0 input[type=range]")
    for value in ("0.5", "1.2", "1.85"):  # a drag through several values, released at the last
        track.fill(value)
    track.dispatch_event("pointerup")
    _wait_change(lambda: _src(after), shown)
    page.get_by_role("tab", name="History").click()
    page.get_by_role("button", name="Refresh").click()
    page.locator("#history", has_text="seed 4 · Smiling +1.85").wait_for(timeout=30_000)

    page.get_by_role("tab", name="Invert").click()
    photo = tmp_path / "noise.png"  # noise: no early plateau, so the run is still going when stopped
    Image.frombytes("RGB", (48, 48), bytes(random.Random(0).randrange(256) for _ in range(48 * 48 * 3))).save(photo)
    clear = page.locator("#invert-upload button[aria-label='Clear']")  # a photo an earlier test uploaded
    if clear.count():
        clear.first.click()
    page.locator("#invert-upload input[type=file]").set_input_files(str(photo))
    page.get_by_label("1: optimise").check()
    steps = page.get_by_role("spinbutton", name="number input for Max steps")
    steps.fill("1000")  # long enough to be stopped
    steps.press("Enter")
    status = page.locator("#invert-status")
    before = status.inner_text()  # an earlier test's last frame may still be showing
    page.get_by_role("button", name="Invert", exact=True).click()
    # the run was asked for ("Starting…", from then on Stop applies to it, queued or running) or is going
    _wait_change(lambda: status.inner_text() if "Starting" in status.inner_text() or "PSNR" in status.inner_text()
                 else before, before)
    # dispatched, not clicked: a click first waits for the button to be "stable", which a page redrawing
    # streamed frames can put off until after the run has ended (seen under load)
    page.get_by_role("button", name="Stop").dispatch_event("click")
    end = time.time() + 60
    while "Stopped at step" not in status.inner_text() and time.time() < end:
        time.sleep(0.2)
    assert "Stopped at step" in status.inner_text(), f"after Stop the status says {status.inner_text()!r}"

    page.get_by_role("tab", name="Translate").click()
    source, result = page.locator("#translate-source img"), page.locator("#translate-result img")
    earlier_source, earlier_result = _src(source), _src(result)
    clear = page.locator("#translate-upload button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    page.locator("#translate-upload input[type=file]").set_input_files(str(photo))
    _wait_change(lambda: _src(source), earlier_source)
    page.get_by_role("button", name="Translate", exact=True).click()
    _wait_change(lambda: _src(result), earlier_result)

    page.get_by_role("tab", name="Inspect codes").click()
    page.locator("#inspect-about", has_text="faces").wait_for(timeout=30_000)  # its axes are filled in
    page.get_by_role("button", name="Traverse").click()
    grid = page.locator("#inspect-grid img")
    _wait_change(lambda: _src(grid), "")
    picker = page.locator("#inspect-model input")
    picker.fill("other")
    picker.press("Enter")
    page.locator("#inspect-about", has_text="other").wait_for(timeout=30_000)
    end = time.time() + 30
    while grid.count() and time.time() < end:  # the first model's grid does not stay beside the second
        time.sleep(0.2)
    assert grid.count() == 0

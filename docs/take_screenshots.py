"""Screenshots of the studio on the shipped checkpoints, for the README (run by hand).

    python docs/take_screenshots.py            # writes docs/screenshots/*.png
    python docs/take_screenshots.py inspect    # only some: sample edit invert translate inspect playground

Needs Debian's chromium and Playwright's Python package (pip install -e ".[test]"), and an
emoji font (Debian's fonts-noto-color-emoji) or the Random button's dice shows as an empty box;
the studio runs on 127.0.0.1 inside this process.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganstudio.catalogue import DEFAULT_CHECKPOINTS  # noqa: E402
from ganstudio.data.synthfaces import render_face  # noqa: E402
from ganstudio.studio import Studio  # noqa: E402
from ganstudio.ui.app import build_app  # noqa: E402
from ganstudio.ui.common import CSS  # noqa: E402
from tests.conftest import launch_local  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


def wait_for_image(page, selector: str, before: str = "", timeout: float = 120.0) -> str:
    end = time.time() + timeout
    while time.time() < end:
        images = page.locator(f"{selector} img")
        src = images.first.get_attribute("src") if images.count() else ""
        if src and src != before:
            return src
        time.sleep(0.2)
    raise RuntimeError(f"{selector}: no image after {timeout:.0f} s")


def sample(page, photo: Path) -> None:
    page.get_by_role("tab", name="Sample & Mix").click()
    page.get_by_role("button", name="Sample", exact=True).click()
    wait_for_image(page, "#samples")
    page.get_by_role("button", name="Mix", exact=True).click()
    time.sleep(8)


def edit(page, photo: Path) -> None:
    page.get_by_role("tab", name="Edit").click()
    page.get_by_label("Seed", exact=True).fill("4")
    page.get_by_role("button", name="Start from this seed").click()
    before = wait_for_image(page, "#edit-after")
    # Eyeglasses off and a hat on, along `best` (1 = the strength measured best): seed 4 wears glasses
    for slider, value in (("#edit-slider-2", "-1"), ("#edit-slider-3", "1")):
        number = page.locator(f"{slider} input[type=number]")
        number.fill(value)
        number.press("Enter")
        before = wait_for_image(page, "#edit-after", before)
    time.sleep(2)


def invert(page, photo: Path) -> None:
    page.get_by_role("tab", name="Invert").click()
    page.locator("#invert-upload input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Invert", exact=True).click()
    page.locator("text=Done.").wait_for(timeout=300_000)


def translate(page, photo: Path) -> None:
    page.get_by_role("tab", name="Translate").click()
    page.locator("#translate-upload input[type=file]").set_input_files(str(photo))
    wait_for_image(page, "#translate-source")
    page.get_by_role("button", name="Translate", exact=True).click()
    wait_for_image(page, "#translate-result")
    page.get_by_role("button", name="All domains").click()
    time.sleep(6)


def inspect(page, photo: Path) -> None:
    page.get_by_role("tab", name="Inspect codes").click()
    page.locator("#inspect-about").get_by_text("synthfaces64").wait_for(timeout=60_000)
    axis = page.locator("#inspect-axis input")
    axis.fill("sefa/SeFa0")
    axis.press("Enter")
    page.get_by_role("button", name="Traverse").click()
    wait_for_image(page, "#inspect-grid")
    page.get_by_text("Which attributes each direction moves").click()
    page.get_by_role("button", name="Measure leakage").click()
    wait_for_image(page, "#inspect-leakage", timeout=300)
    time.sleep(2)


def playground(page, photo: Path) -> None:
    """Presets side by side: the plain GAN's collapse next to the preset that covers the grid (seed 0)."""
    page.get_by_role("tab", name="Playground").click()
    page.get_by_text("Presets side by side").click()
    box = page.locator("#playground-compare")  # the grid pair is ticked by default
    box.get_by_role("button", name="Compare").click()
    box.get_by_text("2 of 2 done").wait_for(timeout=900_000)
    time.sleep(2)


SHOTS = {"sample": sample, "edit": edit, "invert": invert, "translate": translate, "inspect": inspect,
         "playground": playground}
ELEMENT = {"playground": "#playground-compare"}  # shots of one part of a long tab


def main() -> None:
    from playwright.sync_api import sync_playwright

    wanted = sys.argv[1:] or list(SHOTS)
    unknown = sorted(set(wanted) - set(SHOTS))
    if unknown:
        raise SystemExit(f"unknown screenshot(s) {', '.join(unknown)}; choose from {', '.join(SHOTS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    photo = Path(tempfile.mkdtemp()) / "face.png"
    render_face(seed=4242, index=7, resolution=64).image.save(photo)  # a face no shipped model trained on
    app = launch_local(build_app(Studio(DEFAULT_CHECKPOINTS)), css=CSS)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app.local_url)
            page.get_by_role("tab", name="Sample & Mix").wait_for(timeout=60_000)
            for name in wanted:
                SHOTS[name](page, photo)
                if name in ELEMENT:
                    page.locator(ELEMENT[name]).screenshot(path=str(OUT / f"{name}.png"))
                else:
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            browser.close()
    finally:
        app.close()
    print(f"wrote {', '.join(f'{name}.png' for name in wanted)} to {OUT}")


if __name__ == "__main__":
    main()

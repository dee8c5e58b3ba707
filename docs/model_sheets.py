"""Pictures of a face model for its card (run by hand): what a person sees when using it.

    python docs/model_sheets.py [--model synthfaces64] [--set best] [--seed 4] [--out docs]

Writes, for the model:
- `<model>_samples.jpg`: an uncurated contact sheet, seeds 0-63 at psi 1 (noise as the studio
  renders it, `const`), and beside it `<model>_samples_noise_off.jpg`, the same seeds with the
  noise inputs off: features that come from w survive, speckle from the noise does not;
- `<model>_sliders.jpg`: one face (`--seed`), one row per slider of direction set `--set`, at
  -2, -1, 0, +1, +2 (slider units, as the Edit tab), each row captioned with its attribute.
JPEG (quality 90): a quarter of the PNG's size, and the faces are soft anyway.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganstudio.imaging import make_grid  # noqa: E402
from ganstudio.studio import Studio  # noqa: E402

SLIDER_VALUES = (-2.0, -1.0, 0.0, 1.0, 2.0)
ENLARGE = 2  # the sheets are small faces; twice their size reads better in a card


def contact_sheet(studio: Studio, model: str, noise_mode: str, count: int = 64):
    samples = studio.sample(model, f"0-{count - 1}", psi=1.0, noise_mode=noise_mode)
    return make_grid([s.image for s in samples], columns=8, captions=[f"{s.seed}" for s in samples])


def slider_rows(studio: Studio, model: str, method: str, seed: int):
    directions = studio.directions(model)
    if method not in directions:
        sys.exit(f"{model} has no direction set '{method}'; it has {', '.join(directions) or 'none'}")
    base = studio.seed_recipe(model, seed)
    tiles, captions = [], []
    for name in directions[method].names:
        for value in SLIDER_VALUES:
            tiles.append(studio.edit(base, method, {name: value}).image)
            captions.append(f"{name} {value:+g}" if value == SLIDER_VALUES[0] else f"{value:+g}")
    return make_grid(tiles, columns=len(SLIDER_VALUES), captions=captions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="synthfaces64")
    parser.add_argument("--checkpoints", action="append", default=[], metavar="DIR")
    parser.add_argument("--set", default="best", help="the direction set whose sliders to show (default: best)")
    parser.add_argument("--seed", type=int, default=4, help="the face the slider rows edit")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    from ganstudio.catalogue import DEFAULT_CHECKPOINTS

    studio = Studio([DEFAULT_CHECKPOINTS, *args.checkpoints])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pictures = {
        f"{args.model}_samples.jpg": contact_sheet(studio, args.model, "const"),
        f"{args.model}_samples_noise_off.jpg": contact_sheet(studio, args.model, "none"),
        f"{args.model}_sliders.jpg": slider_rows(studio, args.model, args.set, args.seed),
    }
    for name, image in pictures.items():
        enlarged = image.convert("RGB").resize((image.width * ENLARGE, image.height * ENLARGE))
        enlarged.save(out / name, quality=90, optimize=True)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()

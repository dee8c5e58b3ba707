"""What the continuous codes of a digits InfoGAN vary: for each continuous code, samples drawn as
in training (random c1, z and other codes) are rendered with that code at -1 and at +1, and the
script reports the share whose digit the judge reads the same at both ends, and how the ink
moves between them: its slant (degrees, positive leaning right), width and height (standard
deviations of the ink along x and y, in pixels) and amount (the mean ink per image, a stroke
thickness). Means over the samples, with the spread across them.

    python benchmarks/infogan_codes.py [--model digits32-infogan] [--checkpoints DIR] [--n 1000]
                                       [--seed 0] [--judge checkpoints/judge-digits32.safetensors]

The categorical code's match with the digit classes is `ganstudio eval`'s (1,000 samples per
value); this script answers the model card's other question, what c2 and c3 do.
"""

from __future__ import annotations

import argparse
import json

import torch

from _kit import ROOT, add_model_arguments, machine, open_studio, setup
from ganstudio.editing.conditions import ConditionSpec
from ganstudio.latents import z_from_seeds
from ganstudio.metrics.features import build_extractor


def ink_shape(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Slant, width, height and amount of the ink of grey digits in [-1, 1] (white ink on black)."""
    ink = ((images.mean(1) + 1) / 2).clamp(0, 1)  # [B, H, W]
    h, w = ink.shape[1:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=ink.dtype), torch.arange(w, dtype=ink.dtype), indexing="ij")
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    mx, my = (ink * xs).sum((1, 2)) / mass, (ink * ys).sum((1, 2)) / mass
    dx, dy = xs - mx[:, None, None], ys - my[:, None, None]
    vxx, vyy = (ink * dx * dx).sum((1, 2)) / mass, (ink * dy * dy).sum((1, 2)) / mass
    vxy = (ink * dx * dy).sum((1, 2)) / mass
    # a right-leaning stroke has x growing as y (downwards) shrinks: the shear x = -s * y, s = -vxy / vyy
    slant = torch.rad2deg(torch.atan(-vxy / vyy.clamp_min(1e-6)))
    return {"slant_deg": slant, "width_px": vxx.sqrt(), "height_px": vyy.sqrt(), "ink": ink.mean((1, 2))}


@torch.inference_mode()
def sweep(G, spec: ConditionSpec, judge, code: str, n: int, seed: int) -> dict:
    index = spec.code_names.index(code)
    column = sum(spec.categorical) + index - len(spec.categorical)
    seeds = list(range(seed, seed + n))
    device = next(G.parameters()).device
    z, c = z_from_seeds(seeds, G.z_dim).to(device), spec.random_vectors(seeds).to(device)
    ends = []
    for value in (-1.0, 1.0):
        c_end = c.clone()
        c_end[:, column] = value
        images = G.synthesis(G.mapping(z, c=c_end), noise_mode="const").float().clamp(-1, 1)
        ends.append((judge(images)[1].argmax(1).cpu(), ink_shape(images.cpu())))
    (digit_lo, shape_lo), (digit_hi, shape_hi) = ends
    result = {"same_digit": float((digit_lo == digit_hi).float().mean())}
    for key in shape_lo:
        change = shape_hi[key] - shape_lo[key]
        result[key] = {"mean_change": float(change.mean()), "spread": float(change.std()),
                       "at_-1": float(shape_lo[key].mean()), "at_+1": float(shape_hi[key].mean())}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_arguments(parser)
    parser.set_defaults(model="digits32-infogan")
    parser.add_argument("--judge", default=str(ROOT / "checkpoints" / "judge-digits32.safetensors"))
    parser.add_argument("--n", type=int, default=1000, help="samples per code")
    parser.add_argument("--seed", type=int, default=0, help="the first sample's seed")
    args = parser.parse_args()
    setup(args)
    studio, name = open_studio(args)
    G, spec = studio.generator(name), studio.condition_spec(name)
    if spec is None or spec.kind != "codes" or not spec.continuous:
        raise SystemExit(f"{name} has no continuous InfoGAN codes")
    judge = build_extractor("judge", args.judge, studio.device)
    report = {code: sweep(G, spec, judge, code, args.n, args.seed)
              for code in spec.code_names[len(spec.categorical):]}
    print(machine())
    print(json.dumps({"model": name, "n": args.n, "seed": args.seed, "codes": report}, indent=1))
    for code, r in report.items():
        moves = "; ".join(f"{k} {v['at_-1']:.2f} -> {v['at_+1']:.2f} (change {v['mean_change']:+.2f} "
                          f"+- {v['spread']:.2f})" for k, v in r.items() if isinstance(v, dict))
        print(f"{code} from -1 to +1: same digit {r['same_digit']:.3f}; {moves}")


if __name__ == "__main__":
    main()

"""How fast each inversion method reaches a good reconstruction of photos it never saw, and how
faithful the reconstruction is when it stops.

    python benchmarks/inversion_speed.py [--model synthfaces64] [--checkpoints DIR] [--images 16]
                                         [--steps 500] [--psnr 25] [--methods 1 2 3] [--space w+]
                                         [--judge checkpoints/judge-synthfaces64.safetensors]

Held-out images: SynthFaces faces of stream --seed (default 1000; the shipped models were
trained and labelled on streams 0-5, see checkpoints/train_shipped.sh), rendered at the
model's resolution (at least 32 px, then resized). For every method of
ganstudio.editing.inversion (1: optimise from w_avg, 2: the encoder alone, 3: the encoder,
then optimise) and every image, the clock runs from the start of `invert` (encoder pass
included) until PSNR >= --psnr dB or the run ends (--steps, or the early stop); the run then
goes on to its end, and the final reconstruction is kept. Reports per method the median
seconds to the target, how many images reached it, the median steps to it, the median PSNR at
the end, and, with a judge (the one trained on the data set by default), the share of (image,
attribute) pairs whose verdict is the same on the input and the final reconstruction: an
inversion that drops the eyes or the glasses scores PSNR but not this. Each image that missed
the target is listed with its final PSNR and steps.
Methods 2 and 3 need the model's encoder (role E); the loss is the app's (pixel only by
default; --perceptual W adds the D-feature term when the model has a discriminator).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _kit import add_model_arguments, competing_load, machine, open_studio, setup


def held_out_images(seed: int, count: int, resolution: int):
    from ganstudio.data.synthfaces import render_face
    from ganstudio.imaging import from_pil

    return [from_pil(render_face(seed, i, max(32, resolution)).image, resolution) for i in range(count)]


def invert_timed(G, target, settings, E, D, psnr_target: float) -> dict:
    """Run one inversion to its end: seconds and steps to the target PSNR (to the end if it
    never gets there), the final PSNR and the final image."""
    from ganstudio.editing.inversion import invert

    start = time.perf_counter()
    reached_at = None
    for step in invert(G, target, settings, E=E, D=D):
        if reached_at is None and step.psnr >= psnr_target:
            reached_at = (time.perf_counter() - start, step.step)
    seconds, steps = reached_at or (time.perf_counter() - start, step.step)
    return {"seconds": seconds, "steps": steps, "reached": reached_at is not None, "psnr": step.psnr,
            "final_steps": step.step, "image": step.image}


def verdict_agreement(judge, targets, images) -> float:
    """Share of (image, attribute) pairs the judge reads alike on input and reconstruction."""
    import torch

    _, before = judge(torch.stack(targets))
    _, after = judge(torch.stack(images).clamp(-1, 1))
    return float(((before > 0.5) == (after > 0.5)).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--images", type=int, default=16, help="held-out images per method")
    parser.add_argument("--seed", type=int, default=1000, help="SynthFaces stream of the held-out images")
    parser.add_argument("--steps", type=int, default=500, help="most optimisation steps per image")
    parser.add_argument("--psnr", type=float, default=25.0, help="target PSNR in dB")
    parser.add_argument("--methods", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--space", default="w+", choices=["z", "w", "w+"])
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--perceptual", type=float, default=0.0,
                        help="weight of the D-feature perceptual term (the app's default 0: off; e.g. 0.1 adds it)")
    parser.add_argument("--judge", help="attribute judge for the verdict agreement (default: the data set's judge "
                        "among the checkpoint folders, if any)")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON object")
    args = parser.parse_args()
    setup(args)

    import torch

    studio, model = open_studio(args)
    G, E, D = studio.generator(model), studio.catalogue.network(model, "E"), studio.catalogue.network(model, "D")
    targets = [t.to(studio.device) for t in held_out_images(args.seed, args.images, G.resolution)]
    print(machine())
    print(f"model {model} ({G.resolution} px, encoder {'yes' if E is not None else 'no'}, discriminator "
          f"{'yes' if D is not None else 'no'}) on {studio.device}, torch threads {torch.get_num_threads()}; "
          f"{len(targets)} held-out SynthFaces (stream {args.seed}), space {args.space}, target {args.psnr} dB, "
          f"at most {args.steps} steps; {args.compete} competing busy processes")
    judge = open_judge(args, studio, model)
    print(f"| method | images | reached {args.psnr:g} dB | median s to it | median steps to it | median final PSNR dB "
          f"| verdicts kept |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    results = {}
    with competing_load(args.compete):
        for method in args.methods:
            row = measure_method(method, args, G, E, D, targets, judge)
            if row is not None:
                results[method] = row
    for method, row in results.items():
        for miss in row["missed"]:
            print(f"method {method} missed image {miss['image']}: {miss['psnr']} dB after {miss['steps']} steps")
    if args.json:
        print(json.dumps({"model": model, "device": str(studio.device), "psnr_target": args.psnr,
                          "steps": args.steps, "space": args.space, "seed": args.seed, "methods": results}))


def measure_method(method: int, args, G, E, D, targets, judge) -> dict | None:
    """One method over every held-out image, printed as a table row; None if it cannot run."""
    from ganstudio.editing.inversion import METHODS, InversionSettings

    name = f"{method}: {METHODS[method]}"
    if method != 1 and E is None:
        print(f"| {name} | - | - | - | - | needs an encoder (role E); this model has none | - |")
        return None
    settings = InversionSettings(method=method, space=args.space, steps=args.steps, lr=args.lr,
                                 lambda_perceptual=args.perceptual if D is not None else 0.0)
    invert_timed(G, targets[0], settings, E, D, args.psnr)  # warm-up (allocations, first kernels)
    runs = [invert_timed(G, t, settings, E, D, args.psnr) for t in targets]
    row = {"images": len(runs), "reached": sum(r["reached"] for r in runs),
           "median_s": round(statistics.median(r["seconds"] for r in runs), 3),
           "median_steps": statistics.median(r["steps"] for r in runs),
           "median_psnr": round(statistics.median(r["psnr"] for r in runs), 2),
           "verdicts_kept": None if judge is None else
           round(verdict_agreement(judge, targets, [r["image"] for r in runs]), 4),
           "missed": [{"image": i, "psnr": round(r["psnr"], 2), "steps": r["final_steps"]}
                      for i, r in enumerate(runs) if not r["reached"]]}
    kept = "-" if row["verdicts_kept"] is None else f"{row['verdicts_kept']:.3f}"
    print(f"| {name} | {row['images']} | {row['reached']} | {row['median_s']} | {row['median_steps']} | "
          f"{row['median_psnr']} | {kept} |")
    return row


def open_judge(args, studio, model):
    """The judge extractor named by --judge, else the data set's judge in the checkpoint folders."""
    from ganstudio.metrics.evaluate import find_judge
    from ganstudio.metrics.features import JudgeExtractor

    if args.judge:
        return JudgeExtractor(args.judge, studio.device)
    dataset = studio.catalogue.entry(model).info.dataset
    return JudgeExtractor(find_judge(dataset, args.checkpoints), studio.device) if dataset else None


if __name__ == "__main__":
    main()

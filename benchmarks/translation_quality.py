"""Translation models judged on held-out faces: per target, success and preservation; cycle PSNR; time per image.

    python benchmarks/translation_quality.py [--models glasses64-cyclegan synthfaces64-stargan] [--n 500]
        [--seed 1000] [--out DIR]

For each model, `ganstudio.metrics.evaluate` (what `ganstudio eval` runs) on --n real images
of the data set its header names, drawn from SynthFaces stream --seed instead of the training
stream (held out), refereed by the judge trained on that data set. A translation succeeds when
the judge sees the target attribute as asked (added, or removed for CycleGAN's B → A); the
others are preserved when the judge's reading of them does not flip. Cycle PSNR: each
translation translated back, against the input. Time: wall ms per translated image, batched,
on this machine. A StarGAN's own classifier (D) is read beside the judge: the share of its
translations it sees as done, and its accuracy on the real inputs. Prints the machine and
Markdown tables; --out keeps each model's report.md, metrics.json and contact sheet.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _kit import machine

DEFAULT_MODELS = ["glasses64-cyclegan", "synthfaces64-stargan"]


def rows(section: dict) -> list[str]:
    """One Markdown row per target: add n / success, remove n / success, preserved, goal met."""
    out = []
    for attributes in section["methods"].values():
        for name, numbers in attributes.items():
            add, remove, pooled = numbers["add"], numbers["remove"], numbers["all"]
            met = section["best"].get(name, {}).get("met", False)
            out.append(f"| {name} | {add['n']} | {_rate(add['success'])} | {remove['n']} | "
                       f"{_rate(remove['success'])} | {_rate(pooled['success'])} | {_rate(pooled['preserved'])} | "
                       f"{'yes' if met else 'no'} |")
    return out


def _rate(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="translation models (names or paths)")
    parser.add_argument("--n", type=int, default=500, help="real images per model (per domain for CycleGAN)")
    parser.add_argument("--seed", type=int, default=1000, help="SynthFaces stream of the held-out images")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--checkpoints", action="append", default=[], help="another folder of models")
    parser.add_argument("--out", help="keep each model's report here (default: a temporary folder)")
    args = parser.parse_args()

    from ganstudio.data import on_stream
    from ganstudio.metrics.edits import render_critic
    from ganstudio.metrics.evaluate import evaluate
    from ganstudio.options import open_model

    out = Path(args.out or tempfile.mkdtemp(prefix="ganstudio-translation-"))
    print(machine())
    summary = []
    for model in args.models:
        catalogue, name = open_model(model, args.checkpoints)
        data = on_stream(catalogue.entry(name).info.dataset, args.seed)
        result = evaluate(model, out / Path(model).stem, data=data, n=args.n, device=args.device,
                          checkpoint_dirs=args.checkpoints)
        section = result["translation"]
        cycle = section["cycle"]
        print(f"\n{model} ({section['kind']}; {section['n']} held-out images of {data}; judge "
              f"{Path(result['features']['path']).name})\n")
        print("| target | add: n | add: success | remove: n | remove: success | success | preserved | goal met |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        print("\n".join(rows(section) + render_critic(section)))
        summary.append(f"| {model} | {section['goal']['attributes_met']} of {section['goal']['attributes']} | "
                       f"{cycle['cycle_psnr_db']} dB | {cycle['ms_per_image']} ms |")
    print("\n| model | targets meeting 90 % / 90 % | cycle PSNR | time per image |\n| --- | --- | --- | --- |")
    print("\n".join(summary))
    print(f"\nreports: {out}")


if __name__ == "__main__":
    main()

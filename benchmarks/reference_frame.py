"""ganstudio's StyleGAN2 generator against the reference implementation on the same weights:
rosinality/stylegan2-pytorch's Generator, the implementation `ganstudio import stylegan2-pt`
reads, run on its pure-PyTorch CPU paths. A full frame each, timed side by side, p50 / p95.

    python benchmarks/reference_frame.py --rosinality PATH [--sizes 64 256 1024] [--frames 5]
                                         [--threads N] [--json]

PATH is a checkout of github.com/rosinality/stylegan2-pytorch; ganstudio ships none of its code.
Its `op` package builds CUDA extensions on import: here the build is skipped (a stub stands in
for `torch.utils.cpp_extension.load` while `op` imports), which leaves its own CPU functions
(`upfirdn2d_native` and the PyTorch leaky ReLU), the reference's "pure-PyTorch op".

Each size is the config-f layout (style 512, 8 mapping layers, channel multiplier 2: the
FFHQ-1024 config at 1024) with the reference's own random initialisation. Its `g_ema` state dict
is converted as the importer does (`convert_stylegan2_state`), both draw the same w with the
stored noise maps, the images are compared (max abs difference), then the frames alternate
between the two implementations so both see the same load. A frame is synthesis from w+ to a
[-1, 1] image, what an edit costs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from unittest import mock

from _kit import machine, setup, summary


def reference_generator_class(checkout: Path):
    """rosinality's `model.Generator`, imported from `checkout` without building its extensions."""
    if not (checkout / "model.py").is_file() or not (checkout / "op").is_dir():
        sys.exit(f"--rosinality {checkout}: not a stylegan2-pytorch checkout (model.py and op/ expected)")
    sys.path.insert(0, str(checkout))
    with mock.patch("torch.utils.cpp_extension.load", lambda *a, **k: None):
        model = importlib.import_module("model")
    return model.Generator


def pair(Generator, size: int):
    """The reference generator (random weights, eval) and ganstudio's conversion of it."""
    import torch

    from ganstudio.importers import convert_stylegan2_state

    torch.manual_seed(0)
    theirs = Generator(size, 512, 8, channel_multiplier=2).eval()
    with torch.no_grad():
        latent_avg = theirs.style(torch.randn(4096, 512)).mean(0)
    ours = convert_stylegan2_state(theirs.state_dict(), size, 2, latent_avg).eval()
    return theirs, ours


def frames(theirs, ours, ws, n: int, warmup: int) -> tuple[list[float], list[float], float]:
    """Alternating frame times (theirs, ours) after `warmup` pairs, and the max abs difference."""
    import torch

    times_theirs, times_ours = [], []
    with torch.inference_mode():
        for i in range(n + warmup):
            start = time.perf_counter()
            a, _ = theirs([ws], input_is_latent=True, randomize_noise=False)
            middle = time.perf_counter()
            b = ours.synthesis(ws, noise_mode="const")
            end = time.perf_counter()
            if i >= warmup:
                times_theirs.append(middle - start)
                times_ours.append(end - middle)
    return times_theirs, times_ours, float((a - b).abs().max())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rosinality", type=Path, required=True, help="a checkout of rosinality/stylegan2-pytorch")
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    p.add_argument("--frames", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--json", action="store_true")
    from ganstudio.threads import add_threads_argument

    add_threads_argument(p)
    args = p.parse_args()
    setup(args)
    import torch

    Generator = reference_generator_class(args.rosinality.resolve())
    rows = []
    for size in args.sizes:
        theirs, ours = pair(Generator, size)
        with torch.inference_mode():
            ws = ours.mapping(torch.randn(1, 512, generator=torch.Generator().manual_seed(0)))
        t_theirs, t_ours, diff = frames(theirs, ours, ws, args.frames, args.warmup)
        a, b = summary(t_theirs), summary(t_ours)
        rows.append({"size": size, "reference": a, "ganstudio": b, "max_abs_diff": diff,
                     "ratio_p50": b["p50_ms"] / a["p50_ms"]})
    print(machine())
    print(f"torch threads {torch.get_num_threads()}, {args.frames} frames each after {args.warmup} warm-up\n")
    print("| size (config-f) | reference p50 / p95 ms | ganstudio p50 / p95 ms | ganstudio / reference | max abs diff |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['size']} px | {r['reference']['p50_ms']:.0f} / {r['reference']['p95_ms']:.0f} | "
              f"{r['ganstudio']['p50_ms']:.0f} / {r['ganstudio']['p95_ms']:.0f} | {r['ratio_p50']:.2f} | "
              f"{r['max_abs_diff']:.1e} |")
    if args.json:
        print(json.dumps({"rows": rows, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()

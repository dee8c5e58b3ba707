"""Frame times of a large StyleGAN2 generator: the full frame, and the previews a dragged slider
shows (the skip architecture's image at a lower level), p50 / p95, server side.

    python benchmarks/large_model_frame.py [--sizes 256 1024] [--previews 64 128 256] [--frames 20]
                                           [--threads N] [--compete N] [--json]

Each size is the StyleGAN2 config-f layout at that resolution (channel_base 32768, at most 512
channels, 8-layer mapping, z and w 512: the FFHQ-1024 config at 1024) with random weights: the
architecture, not the weights, sets the time. A frame is what an edit costs once w+ is known:
synthesis and the conversion to a picture (`to_pil`), after --warmup frames.

Prints the machine, a Markdown table and (with --json) one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from _kit import add_compete_argument, competing_load, machine, setup, summary

CONFIG_F = dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=32768, channel_max=512)


def build(size: int):
    import torch

    from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator

    torch.manual_seed(0)
    return StyleGANGenerator(StyleGANConfig(resolution=size, **CONFIG_F)).eval()


def time_frames(G, ws, resolution: int | None, frames: int, warmup: int) -> list[float]:
    import torch

    from ganstudio.imaging import to_pil

    times = []
    with torch.inference_mode():
        for i in range(frames + warmup):
            start = time.perf_counter()
            to_pil(G.synthesis(ws, resolution=resolution)[0])
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--previews", type=int, nargs="+", default=[64, 128, 256])
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", action="store_true")
    from ganstudio.threads import add_threads_argument

    add_threads_argument(p)
    add_compete_argument(p)
    args = p.parse_args()
    setup(args)
    import torch

    rows = []
    with competing_load(args.compete):
        for size in args.sizes:
            G = build(size)
            with torch.inference_mode():
                ws = G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(0)))
            for resolution in [r for r in args.previews if r < size] + [size]:
                stats = summary(time_frames(G, ws, resolution, args.frames, args.warmup))
                rows.append({"model": size, "frame": resolution, "parameters_m": round(
                    sum(q.numel() for q in G.parameters()) / 1e6, 1), **stats})
    print(machine())
    print(f"torch threads {torch.get_num_threads()}, competing processes {args.compete}\n")
    print("| model (config-f) | frame | parameters | p50 ms | p95 ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        kind = "full" if r["frame"] == r["model"] else "preview"
        print(f"| {r['model']} px | {r['frame']} px ({kind}) | {r['parameters_m']} M | {r['p50_ms']:.0f} | "
              f"{r['p95_ms']:.0f} |")
    if args.json:
        print(json.dumps({"rows": rows, "threads": torch.get_num_threads(), "compete": args.compete}))


if __name__ == "__main__":
    main()

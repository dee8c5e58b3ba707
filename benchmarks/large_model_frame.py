"""Frame times of a large StyleGAN2 generator in the studio: a dragged slider's preview and the
full frame, server side, p50 / p95.

    python benchmarks/large_model_frame.py [--sizes 256 1024] [--frames 20] [--device cpu|cuda]
                                           [--threads N] [--compete N] [--json]

Each size is the StyleGAN2 config-f layout at that resolution (channel_base 32768, at most 512
channels, 8-layer mapping, z and w 512: the FFHQ-1024 config at 1024) with random weights: the
architecture, not the weights, sets the time. The model is saved and opened by a `Studio` as a
user's would be, and a frame is what the Edit tab asks of it: `Studio.edit` along SeFa0 (w+ from
the recipe, the edit, synthesis, the conversion to a picture), the slider's value changing every
frame. "preview" is what a dragged slider shows (ganstudio.previews: the coarse levels drawn
afresh, the fine detail of the face's last full frame), "full" what its release draws;
"JPEG" is the encoding of a preview frame for the browser (ui.tabs.edit), timed apart. On a GPU
(`--device cuda`) a frame includes its copy back to the CPU (`to_pil`), so it is timed to the end.

Prints the machine, a Markdown table and (with --json) one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _kit import add_compete_argument, competing_load, machine, setup, summary

CONFIG_F = dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=32768, channel_max=512)


def save_model(folder: Path, size: int) -> str:
    import torch

    from ganstudio import checkpoint
    from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator

    torch.manual_seed(0)
    name = f"config-f-{size}"
    checkpoint.save(folder / f"{name}.safetensors", {"G_ema": StyleGANGenerator(StyleGANConfig(resolution=size,
                                                                                               **CONFIG_F)).eval()})
    return name


def time_frames(studio, name: str, preview: bool, frames: int, warmup: int) -> tuple[list[float], list]:
    base = studio.seed_recipe(name, 0)
    times, images = [], []
    for i in range(frames + warmup):
        alpha = 2.0 * ((i % 9) - 4) / 4  # -2 .. 2, a new value every frame
        start = time.perf_counter()
        images.append(studio.edit(base, "sefa", {"SeFa0": alpha}, preview=preview).image)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times, images[warmup:]


def time_jpeg(images) -> list[float]:
    from ganstudio.imaging import jpeg_bytes

    times = []
    for image in images:
        start = time.perf_counter()
        jpeg_bytes(image)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--full-frames", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", default="cpu", help="where the studio runs the model (cpu, cuda, auto)")
    p.add_argument("--json", action="store_true")
    from ganstudio.threads import add_threads_argument

    add_threads_argument(p)
    add_compete_argument(p)
    args = p.parse_args()
    setup(args)
    import torch

    from ganstudio.studio import Studio

    rows = []
    with tempfile.TemporaryDirectory() as folder, competing_load(args.compete):
        names = {size: save_model(Path(folder), size) for size in args.sizes}
        studio = Studio(folder, device=args.device)
        for size, name in names.items():
            studio.directions(name)  # SeFa, computed on opening, not part of a frame
            full, _ = time_frames(studio, name, False, args.full_frames, 1)
            preview, images = time_frames(studio, name, True, args.frames, args.warmup)
            rows.append({"model": size, "preview_level": studio.preview_resolution(name),
                         "full": summary(full), "preview": summary(preview), "jpeg": summary(time_jpeg(images))})
    print(machine())
    print(f"device {studio.device}, torch threads {torch.get_num_threads()}, competing processes {args.compete}\n")
    print("| model (config-f) | preview: levels drawn afresh | preview p50 / p95 ms | its JPEG p50 ms | "
          "full frame p50 / p95 ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['model']} px | up to {r['preview_level']} px | {r['preview']['p50_ms']:.0f} / "
              f"{r['preview']['p95_ms']:.0f} | {r['jpeg']['p50_ms']:.1f} | {r['full']['p50_ms']:.0f} / "
              f"{r['full']['p95_ms']:.0f} |")
    if args.json:
        print(json.dumps({"rows": rows, "device": str(studio.device), "threads": torch.get_num_threads(),
                          "compete": args.compete}))


if __name__ == "__main__":
    main()

"""Training throughput: images per second of the Trainer, per recipe / arch / resolution,
next to the same networks trained by a deliberately plain loop (fp32, no channels_last,
no compile, no EMA, no w_avg tracking, no style mixing, no non-finite checks, adversarial
terms only). The difference is what the Trainer's machinery costs or gains on this machine.

    python benchmarks/train_throughput.py                       # tiny archs, and stylegan/dcgan if registered
    python benchmarks/train_throughput.py --rows gan:stylegan:64 gan:dcgan:64 --batch 32 --steps 20
    python benchmarks/train_throughput.py --compile             # add torch.compile to the Trainer rows

img/s counts real images shown to the discriminator per second (k discriminator steps per
step, each on a fresh batch), measured after warm-up steps, on random in-memory data so
that data loading is not what is measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

from ganstudio.registry import ARCHS  # noqa: E402
from ganstudio.training import Trainer  # noqa: E402
from ganstudio.training.train_config import TrainConfig  # noqa: E402
from ganstudio.registry import RECIPES  # noqa: E402
from ganstudio.training.recipes import describe_dataset  # noqa: E402


class RandomImages(Dataset):
    """In-memory random images with one-hot labels (10 classes)."""

    def __init__(self, resolution: int, n: int = 512):
        gen = torch.Generator().manual_seed(0)
        self.images = torch.rand(n, 3, resolution, resolution, generator=gen) * 2 - 1
        self.labels = F.one_hot(torch.arange(n) % 10, 10).float()
        self.resolution, self.label_names, self.label_kind = resolution, [f"c{i}" for i in range(10)], "class"

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.labels[i]


def default_rows() -> list[str]:
    rows = [f"{r}:tiny:{res}" for res in (16, 32) for r in ("gan", "cgan", "acgan", "infogan")]
    for arch in ("dcgan", "stylegan"):
        if arch in ARCHS:
            rows += [f"gan:{arch}:32", f"gan:{arch}:64"]
    return rows


def best_rate(step, images_per_step: int, steps: int, warmup: int, repeats: int, device: torch.device) -> float:
    """Images per second of the fastest of `repeats` timed runs (the least disturbed by other load)."""
    for _ in range(warmup):
        step()
    rates = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(device)
        rates.append(steps * images_per_step / (time.perf_counter() - start))
    return max(rates)


def plain_step(trainer: Trainer, dataset: Dataset):
    """One step of fresh copies of the Trainer's networks, trained the textbook way."""
    config, device = trainer.config, trainer.device
    recipe = RECIPES.get(config.recipe)(config, describe_dataset(dataset, "random"))
    nets = recipe.networks()
    G, D = nets["G"].to(device).train(), nets["D"].to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=config.g_lr, betas=tuple(config.betas))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.d_lr, betas=tuple(config.betas))
    loader = DataLoader(dataset, batch_size=config.batch, shuffle=True, drop_last=True)
    g_cond = G.c_dim > 0
    d_cond = getattr(D, "c_dim", 0) > 0

    def batches():
        while True:
            for images, labels in loader:
                yield images.to(device), labels.to(device)

    def codes(labels):
        # InfoGAN-style generators take codes of their own size; labelled ones take the labels.
        return labels if labels.shape[1] == G.c_dim else torch.rand(labels.shape[0], G.c_dim, device=device)

    data = batches()

    def step():
        for _ in range(config.d_steps):
            real, labels = next(data)
            c = codes(labels) if g_cond else None
            z = torch.randn(real.shape[0], G.z_dim, device=device)
            with torch.no_grad():
                fake = G(z, c) if g_cond else G(z)
            d_real = D(real, labels) if d_cond else D(real)
            d_fake = D(fake, c) if d_cond else D(fake)
            loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        z = torch.randn(config.batch, G.z_dim, device=device)
        fake = G(z, c) if g_cond else G(z)
        loss_g = F.softplus(-(D(fake, c) if d_cond else D(fake))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", nargs="+", help="recipe:arch:resolution entries (default: see the docstring)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row; the fastest counts")
    parser.add_argument("--loss", default="nonsaturating")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", action="store_true", help="torch.compile the Trainer's networks")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="more TrainConfig fields")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from ganstudio.training.train_config import merge, parse_set

    print(f"# {platform.node()} | {platform.processor() or platform.machine()} | {os.cpu_count()} CPUs | "
          f"torch {torch.__version__} | threads {torch.get_num_threads()} | "
          f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}")
    print(f"# batch {args.batch}, best of {args.repeats} x {args.steps} timed steps after {args.warmup} warm-up "
          f"steps, loss {args.loss}")
    header = ("recipe", "arch", "res", "G params", "D params", "amp", "ch_last", "compile",
              "trainer img/s", "plain img/s", "trainer/plain")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in args.rows or default_rows():
        recipe, arch, res = row.split(":")
        dataset = RandomImages(int(res))
        config = TrainConfig(recipe=recipe, arch=arch, data=f"random:{res}", loss=args.loss, batch=args.batch,
                             workers=0, device=args.device, compile=args.compile, kimg=1e9, info_cat=(10,))
        config = merge(config, parse_set(args.set))
        trainer = Trainer(config, dataset, out=None, progress=False)
        c = trainer.config
        per_step = c.d_steps * c.batch
        timing = (per_step, args.steps, args.warmup, args.repeats, trainer.device)
        fast = best_rate(trainer.step, *timing)
        plain = best_rate(plain_step(trainer, dataset), *timing)
        params = [sum(p.numel() for p in trainer.nets[r].parameters()) for r in ("G", "D")]
        print(f"| {recipe} | {arch} | {res} | {params[0]:,} | {params[1]:,} | {c.amp} | {c.channels_last} | "
              f"{c.compile} | {fast:,.0f} | {plain:,.0f} | {fast / plain:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

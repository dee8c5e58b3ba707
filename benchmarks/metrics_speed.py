"""How long the distribution metrics take on 10,000 feature vectors per set.

    python benchmarks/metrics_speed.py [--n 10000] [--dims 2048 128] [--kid-subsets 100]

Target (issue 8): Fréchet distance + KID on 10,000 features in <= 5 s on a 2-core CPU,
for Inception-sized (2048-d) or judge-sized (128-d) features. Prints one line per setting,
and the load average: multi-threaded BLAS on a busy 2-core machine is several times slower,
so only timings taken at a low load mean anything.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def features(n: int, d: int, seed: int) -> np.ndarray:
    """Correlated, non-negative features (like pooled ReLU activations), float32."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
    return np.abs(rng.normal(size=(n, d)).astype(np.float32) @ mix)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2048, 128])
    parser.add_argument("--kid-subsets", type=int, default=100)
    parser.add_argument("--kid-subset-size", type=int, default=1000)
    parser.add_argument("--prdc", action="store_true", help="also time precision/recall/density/coverage")
    args = parser.parse_args()

    import torch

    from ganstudio.metrics import feature_stats, frechet_distance_from_stats, kid, prdc

    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
          f"torch threads {torch.get_num_threads()}, numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}")
    for d in args.dims:
        a, b = features(args.n, d, 0), features(args.n, d, 1)
        (sa, sb), t_stats = timed(lambda: (feature_stats(a), feature_stats(b)))
        fd, t_fd = timed(lambda: frechet_distance_from_stats(sa, sb))
        k, t_kid = timed(lambda: kid(a, b, subsets=args.kid_subsets, subset_size=args.kid_subset_size))
        total = t_stats + t_fd + t_kid
        print(f"n={args.n} d={d}: FD {fd:.4f} in {t_stats + t_fd:.2f} s (stats {t_stats:.2f} s, distance {t_fd:.2f} s); "
              f"KID {k.mean:.5f}±{k.std:.5f} ({k.subsets}x{k.subset_size}) in {t_kid:.2f} s; "
              f"FD+KID {total:.2f} s {'<=' if total <= 5 else '>'} 5 s")
        if args.prdc:
            r, t_prdc = timed(lambda: prdc(a, b, k=5))
            print(f"n={args.n} d={d}: precision {r.precision:.3f} recall {r.recall:.3f} in {t_prdc:.2f} s")


if __name__ == "__main__":
    main()

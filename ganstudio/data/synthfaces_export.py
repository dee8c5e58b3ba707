"""Write SynthFaces to disk in CelebA's layout, so the folder loader that serves users' real
data is exercised by exactly the same files: DIR/images/000000.png ..., DIR/list_attr.txt
(count line, header, one row of +-1 per image) and DIR/factors.csv (continuous factors)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import UserError
from ..checkpoint import atomic_write_bytes
from .labels import write_celeba_attributes
from .synthfaces import ATTRIBUTES, FACTORS, attributes_vector, check_resolution, draw_face, sample_face


class ExportError(UserError):
    """The output folder cannot be used (already holds a data set)."""


def export_synthfaces(out: str | Path, n: int, resolution: int = 64, seed: int = 0, overwrite: bool = False,
                      progress: bool = True) -> Path:
    """Render faces 0..n-1 of stream `seed`. Each PNG is renamed into place when complete and the
    attribute file is written last (atomically), so its presence means the set is whole."""
    out = Path(out)
    images = out / "images"
    attr_path = out / "list_attr.txt"
    if n < 1:
        raise ExportError(f"--n must be at least 1, got {n}")
    check_resolution(resolution)
    if not overwrite and (attr_path.exists() or (images.is_dir() and any(images.iterdir()))):
        raise ExportError(f"{out} already holds a data set; pass --overwrite to replace it")
    images.mkdir(parents=True, exist_ok=True)
    names, rows, factor_rows = [], [], []
    for index in tqdm(range(n), desc="synthfaces", unit="img", disable=not progress):
        spec = sample_face(seed, index)
        name = f"{index:06d}.png"
        tmp = images / f".{name}.tmp"
        draw_face(spec, resolution).save(tmp, format="PNG")
        os.replace(tmp, images / name)
        names.append(name)
        rows.append(attributes_vector(spec.attributes))
        factor_rows.append(",".join([name] + [f"{spec.factors[f]:.6f}" for f in FACTORS]))
    atomic_write_bytes(out / "factors.csv", ("\n".join([",".join(["file", *FACTORS]), *factor_rows]) + "\n").encode())
    atomic_write_bytes(attr_path, write_celeba_attributes(list(ATTRIBUTES), names, np.stack(rows)))
    return out

"""Direction files from other tools, read as a ganstudio direction set for one generator.

* InterFaceGAN boundaries: one `.npy` per attribute holding the unit normal of a linear
  boundary, shape [1, dim] or [dim], in z or w (its file name usually says which:
  `stylegan_ffhq_smile_w_boundary.npy`).
* Component files, e.g. SeFa's eigenvectors or any PCA: one `.npy` of shape [K, dim].
* GANSpace dumps: an `.npz` with `lat_comp` [K, 1, dim] (or [K, dim]) and, when present,
  `lat_stdev` [K], the standard deviation of the codes along each component.

Files are read with `allow_pickle=False`: an object array (which would run code on load) is
refused. The vectors are rescaled to the set's convention (see directions.py): alpha = 1
moves by one standard deviation of the generator's own codes along the direction (GANSpace's
`lat_stdev` is used as given, since it was measured on the model it came from).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .codes import sampled_ws
from .directions import DirectionError, DirectionSet

SPACE_IN_NAME = re.compile(r"(?:^|_)([zw])(?:_|$)")
SCALE_SAMPLES = 2000


def read_vectors(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """(names, vectors [K, dim], standard deviations [K] or None) of one foreign direction file."""
    path = Path(path)
    if not path.is_file():
        raise DirectionError(f"{path}: no such file")
    with path.open("rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY" and not magic.startswith(b"PK\x03\x04"):
        raise DirectionError(f"{path}: not a NumPy .npy/.npz file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DirectionError(f"{path}: holds Python objects (a pickle); only plain number arrays are read") from None
        raise DirectionError(f"{path}: not a NumPy .npy/.npz file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise DirectionError(f"{path}: not a NumPy .npy/.npz file ({exc})") from None
    stdev = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if "lat_comp" not in loaded.files:
                raise DirectionError(f"{path}: an .npz needs GANSpace's 'lat_comp' array; it has "
                                     f"{', '.join(loaded.files) or 'none'}")
            vectors = loaded["lat_comp"]
            stdev = loaded["lat_stdev"].reshape(-1) if "lat_stdev" in loaded.files else None
        vectors = vectors.reshape(vectors.shape[0], -1)
        names = [f"PC{i}" for i in range(len(vectors))]
    else:
        vectors = loaded.reshape(1, -1) if loaded.ndim == 1 else loaded.reshape(loaded.shape[0], -1)
        names = [boundary_name(path)] if len(vectors) == 1 else [f"{path.stem}{i}" for i in range(len(vectors))]
    if not np.issubdtype(vectors.dtype, np.number) or not np.isfinite(vectors).all():
        raise DirectionError(f"{path}: the vectors must be finite numbers")
    if stdev is not None and len(stdev) != len(vectors):
        raise DirectionError(f"{path}: {len(stdev)} values in lat_stdev for {len(vectors)} components")
    return names, vectors.astype(np.float64), stdev


def boundary_name(path: Path) -> str:
    """The attribute an InterFaceGAN boundary file names: `stylegan_ffhq_smile_w_boundary` -> `smile`
    (the last word before the space and `boundary`)."""
    words = [w for w in path.stem.split("_") if w and w not in ("boundary", "z", "w")]
    return words[-1] if words else path.stem


def space_from_names(paths: Sequence[Path]) -> str | None:
    """'z' or 'w' when every file name says the same one (`..._w_boundary.npy`), else None."""
    found = set()
    for path in paths:
        match = SPACE_IN_NAME.search(path.stem)
        found.add(match.group(1) if match else None)
    return found.pop() if len(found) == 1 else None


def import_directions(paths: Sequence[str | Path], G, generator_hash: str, method: str, space: str | None = None,
                      names: Sequence[str] | None = None, seed: int = 0, device="cpu") -> DirectionSet:
    """A direction set for `G` from foreign files (all in one space), each vector scaled to one
    standard deviation of G's codes along it; `names` replaces the names read from the files."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise DirectionError("name at least one direction file")
    space = space or space_from_names(paths)
    if space not in ("z", "w"):
        raise DirectionError("say which latent space the directions live in (z or w); the file names do not")
    read = [read_vectors(p) for p in paths]
    dim = G.z_dim if space == "z" else G.w_dim
    for path, (_, vectors, _) in zip(paths, read):
        if vectors.shape[1] != dim:
            raise DirectionError(f"{path}: vectors of length {vectors.shape[1]}, but this generator's {space} has {dim}")
    all_names = [n for found, _, _ in read for n in found]
    if names:
        if len(names) != len(all_names):
            raise DirectionError(f"{len(names)} names given for {len(all_names)} directions")
        all_names = list(names)
    if len(set(all_names)) != len(all_names):
        raise DirectionError(f"two directions share a name ({', '.join(all_names)}); pass names")
    vectors = torch.as_tensor(np.concatenate([v for _, v, _ in read]), dtype=torch.float32)
    units = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    given = [s if s is not None else np.full(len(v), np.nan) for _, v, s in read]
    scale = torch.as_tensor(np.concatenate(given), dtype=torch.float32)
    missing = torch.isnan(scale)
    if missing.any():  # sampling G's codes only for the directions that came without a scale
        scale[missing] = _code_spread(G, space, units[missing], seed, device)
    source = "imported from " + ", ".join(p.name for p in paths)
    return DirectionSet(method, space, all_names, units * scale[:, None], generator_hash, source)


def _code_spread(G, space: str, units: torch.Tensor, seed: int, device) -> torch.Tensor:
    """Standard deviation of G's codes along each unit direction (z ~ N(0, I) gives 1)."""
    if space == "z":
        return torch.ones(len(units))
    with torch.no_grad():
        codes = sampled_ws(G, SCALE_SAMPLES, seed=seed, device=device)
    return (codes @ units.T).std(0)

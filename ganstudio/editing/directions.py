"""Latent directions: where to move a code to change one attribute.

Methods (the DIRECTIONS registry), each `fn(codes, labels, label_names, G=None, **opts) -> (names, vectors)`:

* `mean_diff` — the seed's attribute vector: mean code of images with the attribute minus
  mean code of images without (codes from the encoder, En(x)).
* `svm`, `logreg` — InterFaceGAN: the normal of a linear boundary fitted on codes and labels.
* `units` — a semi-supervised model's own axes: the w unit its training tied to each attribute.
* `pca` — GANSpace: principal directions of w (unsupervised).
* `sefa` — closed-form factorisation of the style-modulation weights (unsupervised).
* `condition` — an attribute-conditional generator's own sliders: what switching one attribute
  of its condition c does to w, averaged over faces (codes: their z; labels: their c).

`assemble` builds a set from other sets' directions, one per name, each scaled by a strength:
`ganstudio directions pick` uses it to gather, per attribute, the method and strength an
evaluation measured best. Each direction's origin is kept in the file's header.

Scale convention, so one slider range suits every method: a supervised direction moves
by the distance between the class means along it when alpha = 1; an unsupervised one by one
standard deviation of the codes along it; a condition direction by switching the attribute.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import torch

from .. import __version__
from ..errors import UserError
from ..checkpoint import CheckpointError, _read_header, atomic_write_bytes
from ..domains import hair_colour_groups
from ..registry import DIRECTIONS
from .conditions import switched

DIRECTIONS_FORMAT = "ganstudio-directions/1"
DIRECTIONS_SUFFIX = ".directions.safetensors"


class DirectionError(UserError):
    """Directions that cannot be computed or used; the message says why."""


@dataclass
class DirectionSet:
    """Named directions from one method, in one latent space, for one generator."""

    method: str
    space: str  # "z" or "w"
    names: list[str]
    vectors: torch.Tensor  # [K, dim]
    generator_hash: str
    source: str = ""  # what the directions were computed from, for the file's header
    origins: dict[str, dict] = field(default_factory=dict)  # per name, where an assembled direction came from

    def __post_init__(self):
        if self.vectors.dim() != 2 or self.vectors.shape[0] != len(self.names):
            raise DirectionError(f"{self.method}: {len(self.names)} names but vectors of shape {tuple(self.vectors.shape)}")
        for name, origin in self.origins.items():
            if name not in self.names or not isinstance(origin, dict) or not isinstance(origin.get("method"), str) \
                    or not isinstance(origin.get("alpha"), (int, float)):
                raise DirectionError(f"{self.method}: origin of '{name}' must name a direction of the set, with a "
                                     f"method and an alpha; got {origin!r}")

    def vector(self, name: str) -> torch.Tensor:
        try:
            return self.vectors[self.names.index(name)]
        except ValueError:
            raise DirectionError(
                f"no {self.method} direction '{name}'; known: {', '.join(self.names)}"
            ) from None

    def origin_note(self, name: str) -> str:
        """Where an assembled direction came from and what it measured, in a few words ("" if computed)."""
        origin = self.origins.get(name)
        if not origin:
            return ""
        note = f"{origin['method']} × {origin['alpha']:g}"
        success, preserved = origin.get("success"), origin.get("preserved")
        if isinstance(success, (int, float)) and isinstance(preserved, (int, float)):
            note += f" · measured: {success:.0%} changed, {preserved:.0%} of the rest kept"
        return note

    def conditional(self, name: str, keep: Iterable[str]) -> torch.Tensor:
        """The direction for `name` with every `keep` attribute's direction projected out, scaled
        back to the plain direction's length: attribute directions are strongly correlated, and
        the bare projection would shrink the slider's reach many times over."""
        keep = [k for k in keep if k != name]
        d = self.vector(name)
        if not keep or not d.any():
            return d
        free = orthogonalize(d, torch.stack([self.vector(k) for k in keep]))
        if float(free.norm()) <= 1e-6 * float(d.norm()):
            raise DirectionError(f"'{name}' lies in the span of the directions kept fixed ({', '.join(keep)}); "
                                 "keep fewer of them")
        return free * (d.norm() / free.norm())

    # ----- files --------------------------------------------------------------------------
    def header(self) -> dict[str, str]:
        return {
            "format": DIRECTIONS_FORMAT,
            "method": self.method,
            "space": self.space,
            "names": json.dumps(self.names),
            "generator_hash": self.generator_hash,
            **({"source": self.source} if self.source else {}),
            **({"origins": json.dumps(self.origins)} if self.origins else {}),
            "ganstudio_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def save(self, path: str | os.PathLike) -> Path:
        from safetensors.torch import save

        path = Path(path)
        atomic_write_bytes(path, save({"vectors": self.vectors.float().contiguous()}, metadata=self.header()))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, generator_hash: str | None = None) -> "DirectionSet":
        """Load a direction file; refuse it when it was computed for another generator."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(path)
        try:
            meta = _read_header(path).get("__metadata__") or {}
            if meta.get("format") != DIRECTIONS_FORMAT:
                raise DirectionError(f"{path}: not a ganstudio direction file")
            tensors = load_file(str(path))
            result = cls(meta["method"], meta["space"], json.loads(meta["names"]), tensors["vectors"],
                         meta["generator_hash"], meta.get("source", ""), json.loads(meta.get("origins", "{}")))
        except DirectionError:
            raise
        except CheckpointError as exc:
            raise DirectionError(str(exc)) from None
        except (SafetensorError, KeyError, ValueError) as exc:
            raise DirectionError(f"{path}: malformed direction file ({exc})") from None
        if generator_hash is not None and result.generator_hash != generator_hash:
            raise DirectionError(
                f"{path}: computed for generator {result.generator_hash}, not this one ({generator_hash}); "
                "recompute with `ganstudio directions compute`"
            )
        return result


def describe_file(path: str | os.PathLike) -> dict:
    """A direction file's header with its JSON fields decoded, and the vectors' shape (`ganstudio info`)."""
    ds = DirectionSet.load(path)
    meta = _read_header(Path(path)).get("__metadata__") or {}
    return {**meta, "names": ds.names, **({"origins": ds.origins} if ds.origins else {}),
            "shape": list(ds.vectors.shape)}


def assemble(method: str, picks: Mapping[str, tuple[DirectionSet, float, dict]], source: str = "") -> DirectionSet:
    """A set whose direction `name` is `alpha` times that name's direction in the picked set, so
    its slider at 1 is the picked strength; `picks` maps name -> (set, alpha, origin notes)."""
    if not picks:
        raise DirectionError(f"{method}: nothing picked")
    sets = [ds for ds, _, _ in picks.values()]
    for attribute in ("space", "generator_hash"):
        values = {getattr(ds, attribute) for ds in sets}
        if len(values) > 1:
            raise DirectionError(f"{method}: the picked sets differ in {attribute} ({', '.join(sorted(values))})")
    vectors = torch.stack([ds.vector(name) * float(alpha) for name, (ds, alpha, _) in picks.items()])
    origins = {name: {"method": ds.method, "alpha": float(alpha), **notes}
               for name, (ds, alpha, notes) in picks.items()}
    return DirectionSet(method, sets[0].space, list(picks), vectors, sets[0].generator_hash, source, origins)


def orthogonalize(direction: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
    """Remove from `direction` its component in the span of any number of condition directions."""
    basis, _ = torch.linalg.qr(conditions.double().T)  # [dim, M], orthonormal columns
    d = direction.double()
    return (d - basis @ (basis.T @ d)).to(direction.dtype)


def _binary_labels(labels: np.ndarray, names: list[str]) -> None:
    if labels.ndim != 2 or labels.shape[1] != len(names):
        raise DirectionError(f"labels must be [N, {len(names)}], got {labels.shape}")


def _both_classes(y: np.ndarray, name: str) -> None:
    pos = int(y.sum())
    if pos == 0 or pos == len(y):
        raise DirectionError(f"attribute '{name}' has {'no' if pos == 0 else 'only'} positive examples among "
                             f"{len(y)}; a direction needs both, so leave it out or label more (or better) images")


@DIRECTIONS.register("mean_diff", supervised=True)
def mean_diff(codes: np.ndarray, labels: np.ndarray, label_names: list[str], G=None, **_) -> tuple[list[str], np.ndarray]:
    """z_attr = mean En(x) over images with the attribute - mean over images without."""
    _binary_labels(labels, label_names)
    vectors = []
    for k, name in enumerate(label_names):
        y = labels[:, k] > 0.5
        _both_classes(y, name)
        vectors.append(codes[y].mean(0) - codes[~y].mean(0))
    return list(label_names), np.stack(vectors)


def _linear_boundary(model_factory, codes, labels, label_names):
    _binary_labels(labels, label_names)
    # Fit on standardised codes, then step along the normal *in that space* mapped back (times
    # std). The raw-space normal (divided by std) piles onto dimensions the codes barely use, so
    # edits along it hardly move the generator (measured: ~0 judge success on synthfaces64).
    mean, std = codes.mean(0), codes.std(0) + 1e-8
    x = (codes - mean) / std
    vectors = []
    for k, name in enumerate(label_names):
        y = labels[:, k] > 0.5
        _both_classes(y, name)
        model = model_factory().fit(x, y)
        normal = model.coef_.ravel() * std
        normal /= np.linalg.norm(normal) + 1e-12
        gap = float((codes[y].mean(0) - codes[~y].mean(0)) @ normal)
        vectors.append(normal * gap)
    return list(label_names), np.stack(vectors)


@DIRECTIONS.register("svm", supervised=True)
def svm(codes, labels, label_names, G=None, C: float = 1.0, **_):
    """InterFaceGAN: the normal of a linear SVM separating codes with/without the attribute."""
    from sklearn.svm import LinearSVC

    return _linear_boundary(lambda: LinearSVC(C=C, class_weight="balanced", max_iter=5000), codes, labels, label_names)


@DIRECTIONS.register("logreg", supervised=True)
def logreg(codes, labels, label_names, G=None, C: float = 1.0, **_):
    """The normal of a logistic-regression boundary (probabilistic cousin of svm)."""
    from sklearn.linear_model import LogisticRegression

    return _linear_boundary(
        lambda: LogisticRegression(C=C, class_weight="balanced", max_iter=2000), codes, labels, label_names
    )


@DIRECTIONS.register("units", supervised=True)
def units(codes, labels, label_names, G=None, units: list[str] | None = None, **_):
    """A semi-supervised model's own axes (`aegan` with labels): the w unit tied to each attribute
    (the header's `supervised_units`), moved by the gap between the class means along it."""
    if not units:
        raise DirectionError("units needs a model whose w units are tied to labels (trained by `aegan` with "
                             "ae_labels); this one has none")
    _binary_labels(labels, label_names)
    vectors = []
    for k, name in enumerate(label_names):
        if name not in units:
            raise DirectionError(f"no w unit is tied to '{name}'; the model's units are {', '.join(units)}")
        y = labels[:, k] > 0.5
        _both_classes(y, name)
        i = units.index(name)
        vector = np.zeros(codes.shape[1])
        vector[i] = codes[y, i].mean() - codes[~y, i].mean()
        vectors.append(vector)
    return list(label_names), np.stack(vectors)


@DIRECTIONS.register("pca", supervised=False)
def pca(codes, labels=None, label_names=None, G=None, n_components: int = 10, **_):
    """GANSpace: principal directions of the codes, scaled by their standard deviation."""
    from sklearn.decomposition import PCA

    n = min(n_components, codes.shape[1], codes.shape[0])
    fitted = PCA(n_components=n, random_state=0).fit(codes)
    vectors = fitted.components_ * np.sqrt(fitted.explained_variance_)[:, None]
    return [f"PC{i}" for i in range(n)], vectors


@DIRECTIONS.register("sefa", supervised=False)
def sefa(codes=None, labels=None, label_names=None, G=None, n_components: int = 10, layers=None, **_):
    """SeFa: top eigenvectors of A^T A, A the style-modulation weights (no data needed).

    Scaled by the standard deviation of the codes along each eigenvector when codes are given.
    """
    if G is None or not hasattr(G, "style_affines"):
        raise DirectionError("sefa needs a style-based generator (one with style_affines())")
    affines = G.style_affines()
    chosen = affines if layers is None else affines[layers[0]:layers[1]]
    A = torch.cat([a.detach().double().cpu() for a in chosen])
    A = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)
    eigvals, eigvecs = torch.linalg.eigh(A.T @ A)
    order = torch.argsort(eigvals, descending=True)[: min(n_components, A.shape[1])]
    vectors = eigvecs[:, order].T.numpy()
    if codes is not None:
        vectors = vectors * (codes @ vectors.T).std(0)[:, None]
    return [f"SeFa{i}" for i in range(len(order))], vectors


@DIRECTIONS.register("condition", supervised=False, conditional=True)
def condition(codes, labels, label_names, G=None, **_):
    """Per attribute, mean of mapping(z, c with it on) - mapping(z, c with it off) over the faces
    (z in `codes`, c in `labels`): as a w direction the switch works on every face the studio
    holds, inverted photos included, and on a slider's whole range. A hair colour is switched on
    from each face's own colour (faces that have it already are left out), as StarGAN's targets."""
    if G is None or not getattr(G, "c_dim", 0) or labels is None or labels.shape[1] != G.c_dim:
        raise DirectionError("condition needs a generator told attributes (trained by cgan or acgan on "
                             "attribute labels) and one condition per face")
    groups = [[label_names.index(m) for m in group] for group in hair_colour_groups(label_names)]
    device = next(itertools.chain(G.parameters(), G.buffers()), torch.empty(0)).device
    z = torch.as_tensor(codes, dtype=torch.float32, device=device)
    c = torch.as_tensor(labels, dtype=torch.float32, device=device)
    with torch.inference_mode():
        vectors = []
        for k, name in enumerate(label_names):
            on, off = switched(c, k, True, groups), switched(c, k, False)
            faces = torch.ones(len(c), dtype=torch.bool, device=device)
            if any(k in group for group in groups):  # from each face's own colour, not from none
                off, faces = c, c[:, k] < 0.5
            if not faces.any():
                raise DirectionError(f"attribute '{name}': every face already has it; draw more faces")
            moved = G.mapping(z[faces], c=on[faces])[:, 0] - G.mapping(z[faces], c=off[faces])[:, 0]
            vectors.append(moved.double().mean(0).cpu().numpy())
    return list(label_names), np.stack(vectors)


def compute(
    method: str,
    codes: torch.Tensor | np.ndarray | None,
    labels: torch.Tensor | np.ndarray | None,
    label_names: list[str] | None,
    space: str,
    generator_hash: str,
    G=None,
    **opts,
) -> DirectionSet:
    """Run a DIRECTIONS method and wrap the result as a DirectionSet."""
    fn = DIRECTIONS.get(method)
    names, vectors = fn(_as_numpy(codes), _as_numpy(labels), list(label_names or []), G=G, **opts)
    return DirectionSet(method, space, list(names), torch.as_tensor(np.asarray(vectors), dtype=torch.float32), generator_hash)


def _as_numpy(values: torch.Tensor | np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    if torch.is_tensor(values):
        return values.detach().double().cpu().numpy()
    return np.asarray(values, dtype=np.float64)

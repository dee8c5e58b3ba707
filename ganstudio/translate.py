"""Apply a trained translation model to images, headless: CycleGAN (A <-> B) and StarGAN
(any mix of target attributes). The CLI and the Translate tab call these.

StarGAN's generator takes the full target label vector, so the input's own labels are
needed to keep the attributes the user did not name. When they are not given they are
estimated with the auxiliary classifier of the model's discriminator (role `D`):
positive logit = attribute present, largest logit within an exclusive group = the one
member present (the same reading the classification loss trains for).

Images go in as PIL (centre-cropped and resized to the model's resolution) or as tensors
in [-1, 1] at that resolution ([3, R, R] or [B, 3, R, R]); results come back in the same
form, at the model's resolution.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch
from PIL import Image
from torch import nn

from . import checkpoint
from .checkpoint import Checkpoint, CheckpointInfo
from .domains import DomainError, Groups, apply_request, decode_labels, group_indices, parse_request
from .errors import UserError
from .imaging import from_pil, make_grid, to_pil
from .models.translation import KINDS, TRANSLATION_KEY

ImageLike = Image.Image | torch.Tensor


class TranslateError(UserError):
    """A model or request translate cannot serve; the message names the model and the problem."""


@dataclass(frozen=True)
class Translator:
    """A loaded translation model: its kind, domain names, exclusive groups and networks."""

    kind: str  # "cyclegan" or "stargan"
    domains: tuple[str, ...]  # CycleGAN: (name of A, name of B); StarGAN: attribute names
    groups: Groups  # StarGAN exclusive groups as column indices
    networks: Mapping[str, nn.Module]
    source: str  # the file it came from, for messages

    @property
    def generator(self) -> nn.Module:
        return self.networks["G_AB" if self.kind == "cyclegan" else "G"]

    @property
    def resolution(self) -> int:
        return self.generator.resolution

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device


@dataclass(frozen=True)
class DomainGrid:
    """One input translated into every domain: captioned images and the tiled figure."""

    images: list[tuple[str, Image.Image]]  # ("input", x) first
    grid: Image.Image


ModelLike = str | os.PathLike | Checkpoint | Translator


def translation_spec(info: CheckpointInfo) -> tuple[str, tuple[str, ...], Groups]:
    """Kind, domain names and exclusive groups from a header alone (no weights loaded)."""
    spec = info.meta.get(TRANSLATION_KEY)
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        raise TranslateError(
            f"{info.path}: not a translation model (its header has no valid '{TRANSLATION_KEY}' field; "
            f"arch {info.arch}, roles {', '.join(info.roles)})"
        )
    kind = spec["kind"]
    domains = tuple(info.labels)
    if kind == "cyclegan":
        if not domains:
            domains = ("A", "B")
        if len(domains) != 2:
            raise TranslateError(
                f"{info.path}: a CycleGAN model needs two domain names, its labels are {list(domains)}"
            )
        return kind, domains, ()
    try:
        groups = group_indices(domains, spec.get("exclusive_groups") or [])
    except DomainError as exc:
        raise TranslateError(f"{info.path}: {exc}") from None
    return kind, domains, groups


def _check_roles(kind: str, info: CheckpointInfo, present: Mapping[str, object]) -> list[str]:
    """The roles translation uses: the generators (required), and StarGAN's D (its
    classifier) when `present` has it."""
    required = ["G_AB", "G_BA"] if kind == "cyclegan" else ["G"]
    missing = [r for r in required if r not in present]
    if missing:
        raise TranslateError(
            f"{info.path}: a {kind} model needs roles {', '.join(required)}; it has {', '.join(present)}"
        )
    return required + (["D"] if kind == "stargan" and "D" in present else [])


def load_translator(model: ModelLike, device: str | torch.device = "cpu") -> Translator:
    """A Translator from a checkpoint path, a loaded Checkpoint (e.g. from Catalogue.load) or itself.

    From a path only the networks translation uses are loaded (not CycleGAN's discriminators).
    """
    if isinstance(model, Translator):
        return model
    info = model.info if isinstance(model, Checkpoint) else checkpoint.read_info(model)
    kind, domains, groups = translation_spec(info)
    if isinstance(model, Checkpoint):
        roles = _check_roles(kind, info, model.networks)
        networks = model.networks
    else:
        roles = _check_roles(kind, info, info.networks)
        networks = checkpoint.load(model, roles=roles, device=device).networks
    nets = {r: networks[r].eval() for r in roles}
    if kind == "stargan" and nets["G"].c_dim != len(domains):
        raise TranslateError(
            f"{info.path}: generator takes {nets['G'].c_dim} labels but the header names {len(domains)} domains"
        )
    return Translator(kind, domains, groups, nets, str(info.path))


def _as_batch(tr: Translator, image: ImageLike) -> tuple[torch.Tensor, str]:
    """The input as [B, 3, R, R] on the model's device, and how to give results back."""
    if isinstance(image, Image.Image):
        return from_pil(image, tr.resolution)[None].to(tr.device), "pil"
    if not isinstance(image, torch.Tensor):
        raise TranslateError(f"image must be a PIL image or a tensor, got {type(image).__name__}")
    form = "single" if image.dim() == 3 else "batch"
    x = image[None] if form == "single" else image
    r = tr.resolution
    if x.dim() != 4 or tuple(x.shape[1:]) != (3, r, r):
        raise TranslateError(
            f"{tr.source}: image tensor must be [3, {r}, {r}] or [B, 3, {r}, {r}], got {list(image.shape)}"
        )
    return x.to(tr.device, torch.float32), form


def _give_back(y: torch.Tensor, form: str) -> ImageLike:
    return to_pil(y[0]) if form == "pil" else (y[0] if form == "single" else y)


def _cyclegan_role(tr: Translator, to: str | Sequence[str]) -> str:
    if not isinstance(to, str) and len(to) == 1:
        to = to[0]
    name = str(to).strip()
    if name in ("A", "a") or name == tr.domains[0]:
        return "G_BA"
    if name in ("B", "b") or name == tr.domains[1]:
        return "G_AB"
    known = "A, B" if tr.domains == ("A", "B") else f"A ({tr.domains[0]}), B ({tr.domains[1]})"
    raise TranslateError(f"{tr.source}: unknown domain '{to}'; known: {known}")


def _given_labels(tr: Translator, labels: str | Sequence[str] | Sequence[float] | torch.Tensor, n: int) -> torch.Tensor:
    """Labels the caller states for the input: names that are present, or a 0/1 vector."""
    if isinstance(labels, str) or (isinstance(labels, Sequence) and all(isinstance(v, str) for v in labels)):
        names = labels.split(",") if isinstance(labels, str) else list(labels)
        vector = torch.zeros(len(tr.domains))
        for name in (s.strip() for s in names):
            if not name:
                continue
            if name not in tr.domains:
                raise TranslateError(f"{tr.source}: labels: unknown attribute '{name}'; known: {', '.join(tr.domains)}")
            vector[tr.domains.index(name)] = 1.0
    else:
        vector = torch.as_tensor(labels, dtype=torch.float32)
    if vector.shape[-1:] != (len(tr.domains),) or vector.dim() > 2 or (vector.dim() == 2 and len(vector) not in (1, n)):
        raise TranslateError(
            f"{tr.source}: labels need {len(tr.domains)} values ({', '.join(tr.domains)}), one row or one per image"
        )
    return vector.expand(n, -1).to(tr.device)


@torch.inference_mode()
def classify(tr: Translator, x: torch.Tensor) -> torch.Tensor:
    """[B, K] 0/1: the domains the StarGAN discriminator's classifier sees in a batch in [-1, 1]."""
    D = tr.networks.get("D")
    if D is None:
        raise TranslateError(
            f"{tr.source}: this StarGAN model has no discriminator to estimate the input's labels; "
            f"give them (names of the attributes present, from {', '.join(tr.domains)})"
        )
    return decode_labels(D.heads(x)["class_logits"], tr.groups)


def _source_labels(tr: Translator, x: torch.Tensor, labels) -> torch.Tensor:
    return classify(tr, x) if labels is None else _given_labels(tr, labels, x.shape[0])


def estimate_labels(model: ModelLike, image: ImageLike) -> list[str]:
    """The attributes the StarGAN model's classifier sees in one image (names)."""
    tr = load_translator(model)
    if tr.kind != "stargan":
        raise TranslateError(f"{tr.source}: label estimation needs a StarGAN model, this is {tr.kind}")
    x, _ = _as_batch(tr, image)
    vector = _source_labels(tr, x[:1], None)[0]
    return [name for name, v in zip(tr.domains, vector.tolist()) if v > 0.5]


@torch.inference_mode()
def _maps(tr: Translator, x: torch.Tensor, to: str | Sequence[str], labels) -> tuple[Callable, Callable]:
    """The translation this request asks for, and the way back (the cycle both recipes train with)."""
    if tr.kind == "cyclegan":
        if labels is not None:
            raise TranslateError(f"{tr.source}: labels apply to StarGAN models only; this is a CycleGAN model")
        role = _cyclegan_role(tr, to)
        return tr.networks[role], tr.networks["G_BA" if role == "G_AB" else "G_AB"]
    source = _source_labels(tr, x, labels)
    try:
        target = apply_request(source, tr.domains, tr.groups, parse_request(to, tr.domains))
    except DomainError as exc:
        raise TranslateError(f"{tr.source}: {exc}") from None
    G = tr.networks["G"]
    return (lambda images: G(images, target)), (lambda images: G(images, source))


def translate(
    model: ModelLike,
    image: ImageLike,
    to: str | Sequence[str],
    labels: str | Sequence[str] | Sequence[float] | torch.Tensor | None = None,
) -> ImageLike:
    """Translate `image` with a CycleGAN or StarGAN model.

    CycleGAN: `to` is "B" (apply G_AB) or "A" (apply G_BA), or a domain's name.
    StarGAN: `to` names target attributes, as a list or comma string; "Name=0" clears an
    independent one; naming a member of an exclusive group selects it and clears the rest.
    Attributes not named keep the input's labels: `labels` (names present, or a 0/1 vector)
    or, when None, those the discriminator's classifier estimates.
    """
    tr = load_translator(model)
    x, form = _as_batch(tr, image)
    forward, _ = _maps(tr, x, to, labels)
    return _give_back(forward(x), form)


def translate_cycle(model: ModelLike, image: ImageLike, to: str | Sequence[str],
                    labels: str | Sequence[str] | Sequence[float] | torch.Tensor | None = None
                    ) -> tuple[ImageLike, ImageLike]:
    """The translation of `image` (as `translate`) and its translation back: CycleGAN
    G_BA(G_AB(x)), StarGAN G(G(x, target), source labels). How close the way back comes to
    x is the cycle-reconstruction quality."""
    tr = load_translator(model)
    x, form = _as_batch(tr, image)
    forward, back = _maps(tr, x, to, labels)
    y = forward(x)
    return _give_back(y, form), _give_back(back(y), form)


def _sweep(tr: Translator, source: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """StarGAN figure columns: each group member selected in turn, each independent attribute flipped."""
    in_group = {i for g in tr.groups for i in g}
    columns = []
    for i, name in enumerate(tr.domains):
        if i in in_group:
            request, caption = {name: 1.0}, name
        else:
            present = bool(source[0, i] > 0.5)
            request, caption = {name: 0.0 if present else 1.0}, f"{'-' if present else '+'}{name}"
        columns.append((caption, apply_request(source, tr.domains, tr.groups, request)))
    return columns


@torch.inference_mode()
def translate_all_domains(
    model: ModelLike,
    image: ImageLike,
    labels: str | Sequence[str] | Sequence[float] | torch.Tensor | None = None,
) -> DomainGrid:
    """One image translated into every domain, as in the StarGAN figure.

    CycleGAN: input, to A, to B. StarGAN: input, then one column per attribute: group
    members selected in turn, independent attributes flipped ("+Smiling" / "-Smiling").
    """
    tr = load_translator(model)
    x, _ = _as_batch(tr, image)
    if x.shape[0] != 1:
        raise TranslateError("translate_all_domains takes one image")
    images = [("input", to_pil(x[0]))]
    if tr.kind == "cyclegan":
        if labels is not None:
            raise TranslateError(f"{tr.source}: labels apply to StarGAN models only; this is a CycleGAN model")
        for name, role in zip(tr.domains, ("G_BA", "G_AB")):
            images.append((name, to_pil(tr.networks[role](x)[0])))
    else:
        source = _source_labels(tr, x, labels)
        images += [(caption, to_pil(tr.networks["G"](x, target)[0])) for caption, target in _sweep(tr, source)]
    return DomainGrid(images, make_grid([img for _, img in images], columns=len(images),
                                        captions=[caption for caption, _ in images]))

"""Domain labels for multi-domain translation (StarGAN).

A label vector has one entry per attribute name. Some attributes form an exclusive
group (the hair colours: exactly one is set); the rest are independent on/off flags.
Training (classification loss, target sampling) and translation (reading a classifier,
applying a user's "Blond_Hair,Smiling=0" request) share these rules, so they live here,
below both.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .errors import UserError

Groups = tuple[tuple[int, ...], ...]


class DomainError(UserError):
    """A request or group definition that does not fit the model's attributes."""


def group_indices(names: Sequence[str], groups: Sequence[Sequence[str]]) -> Groups:
    """Exclusive groups given by attribute names, as column indices; validated."""
    position = {name: i for i, name in enumerate(names)}
    seen: set[str] = set()
    result = []
    for group in groups:
        if len(group) < 2:
            raise DomainError(f"exclusive group {list(group)} needs at least two attributes")
        for name in group:
            if name not in position:
                raise DomainError(f"exclusive group names unknown attribute '{name}'; known: {', '.join(names)}")
            if name in seen:
                raise DomainError(f"attribute '{name}' is in more than one exclusive group")
            seen.add(name)
        result.append(tuple(position[name] for name in group))
    return tuple(result)


def hair_colour_groups(names: Sequence[str]) -> list[list[str]]:
    """StarGAN's convention (and how SynthFaces draws its labels): the hair colours, every
    name ending in "_Hair" except Long_Hair/Short_Hair, form one exclusive group when there
    are at least two of them."""
    hair = [n for n in names if n.endswith("_Hair") and n not in ("Long_Hair", "Short_Hair")]
    return [hair] if len(hair) >= 2 else []


def decode_labels(class_logits: torch.Tensor, groups: Groups = ()) -> torch.Tensor:
    """0/1 labels from classifier logits [B, n]: a positive logit sets an independent
    attribute; within an exclusive group the largest logit wins (one member set)."""
    labels = (class_logits > 0).to(class_logits.dtype)
    for group in groups:
        cols = list(group)
        winner = class_logits[:, cols].argmax(dim=1)
        labels[:, cols] = torch.nn.functional.one_hot(winner, len(cols)).to(labels.dtype)
    return labels


def parse_request(to: str | Sequence[str], names: Sequence[str]) -> dict[str, float]:
    """'Blond_Hair,Smiling=0' (or a list of such items) -> {attribute: 0.0 or 1.0}.

    A bare name means "set it"; `=0` clears an independent attribute.
    """
    items = to.split(",") if isinstance(to, str) else list(to)
    request: dict[str, float] = {}
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if name not in names:
            raise DomainError(f"unknown attribute '{name}'; known: {', '.join(names)}")
        if sep and value not in ("0", "1"):
            raise DomainError(f"'{item}': the value after '=' must be 0 or 1")
        wanted = float(value) if sep else 1.0
        if request.get(name, wanted) != wanted:
            raise DomainError(f"{name} is asked to be both set and cleared; pick one")
        request[name] = wanted
    if not request:
        raise DomainError(f"name at least one target attribute; known: {', '.join(names)}")
    return request


def request_choices(names: Sequence[str], groups: Groups) -> list[tuple[str, str]]:
    """(label, request item) for every target a StarGAN offers: each attribute can be set,
    and one outside the exclusive groups can be cleared ("no Smiling" -> "Smiling=0")."""
    grouped = {i for group in groups for i in group}
    choices = []
    for i, name in enumerate(names):
        choices.append((name, name))
        if i not in grouped:
            choices.append((f"no {name}", f"{name}=0"))
    return choices


def apply_request(
    labels: torch.Tensor, names: Sequence[str], groups: Groups, request: dict[str, float]
) -> torch.Tensor:
    """Target labels [B, n]: `labels` with the requested attributes set or cleared;
    setting a group member clears the rest of its group."""
    target = labels.clone()
    group_of = {i: g for g in groups for i in g}
    chosen: dict[tuple[int, ...], str] = {}
    for name, value in request.items():
        i = list(names).index(name)
        group = group_of.get(i)
        if group is None:
            target[:, i] = value
            continue
        members = ", ".join(names[j] for j in group)
        if value == 0.0:
            raise DomainError(
                f"'{name}=0': {name} is one of the exclusive group ({members}), which always has exactly one "
                "member set; name the one you want instead"
            )
        if group in chosen:
            raise DomainError(f"'{chosen[group]}' and '{name}' are both in the exclusive group ({members}); pick one")
        chosen[group] = name
        target[:, list(group)] = 0.0
        target[:, i] = 1.0
    return target

"""Frozen dataclass configs that travel as JSON (in checkpoint headers and run folders)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping, TypeVar

from .errors import UserError

C = TypeVar("C")


class ConfigError(UserError):
    """A config that does not fit its dataclass (unknown or missing keys, wrong types)."""


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
    """Build `cls` from a dict, refusing unknown keys so typos never pass silently."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{cls.__name__} config must be a JSON object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} keys: {', '.join(unknown)}; known: {', '.join(fields)}")
    values = {}
    for name, value in data.items():
        default = fields[name].default
        # JSON has no tuples: restore them where the dataclass default is one.
        if isinstance(value, list) and isinstance(default, tuple):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{cls.__name__}: {exc}") from None


def replace(config: C, **changes: Any) -> C:
    """A copy of `config` with some fields changed (validated like from_dict)."""
    return from_dict(type(config), {**to_dict(config), **changes})

"""Data sets by name: one spec string picks any data set for every training recipe.

Spec grammar: ``name[:arg][?key=value&key=value]``, for example ``synthfaces:64?n=20000&seed=1``,
``digits:32``, ``folder:/path?resolution=64&flip=1``, ``celeba:/path?attrs=Smiling,Eyeglasses``,
``unpaired:/path``, ``split:synthfaces:64?attr=Eyeglasses``, ``toy:grid``. The name is looked up
in the DATASETS registry; each factory takes ``(arg, options)`` and must consume every option
(an unknown key is an error, never silently ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..errors import UserError
from ..registry import DATASETS


class DataSpecError(UserError):
    """A data set spec or option that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class DataSpec:
    name: str
    arg: str | None
    options: dict[str, str]

    def __str__(self) -> str:
        text = self.name + (f":{self.arg}" if self.arg is not None else "")
        if self.options:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.options.items())
        return text


def data_set_name(spec: str | None) -> str:
    """The data set a spec names, without its argument and options: "synthfaces" for
    "synthfaces:64?n=5000"; "" for none. Models and judges match on it."""
    return (spec or "").split("?", 1)[0].split(":", 1)[0]


def on_stream(spec: str, stream: int) -> str:
    """The same spec drawing from seeded stream `stream` (`seed=` replaced or added), e.g. to
    measure on images a model never saw. Data sets without streams refuse the option when opened."""
    head, _, query = spec.partition("?")
    pairs = [p for p in query.split("&") if p and not p.startswith("seed=")]
    return f"{head}?{'&'.join(pairs + [f'seed={stream}'])}"


def parse_spec(spec: str) -> DataSpec:
    """Split ``name[:arg][?k=v&...]``; the arg may itself contain ':' (paths, nested specs)."""
    if not isinstance(spec, str) or not spec.strip():
        raise DataSpecError("empty data set spec; expected name[:arg][?key=value&...], e.g. synthfaces:64")
    head, _, query = spec.strip().partition("?")
    name, sep, arg = head.partition(":")
    if not name:
        raise DataSpecError(f"data set spec {spec!r} has no name")
    options: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise DataSpecError(f"data set spec {spec!r}: option {part!r} is not key=value")
        if key in options:
            raise DataSpecError(f"data set spec {spec!r}: option {key!r} given twice")
        options[unquote(key)] = unquote(value)
    return DataSpec(name, arg if sep else None, options)


class Options:
    """Typed access to a spec's options; `done()` refuses any option nobody asked for."""

    def __init__(self, dataset: str, values: dict[str, Any]):
        self.dataset = dataset
        self._values = dict(values)
        self._used: set[str] = set()

    def _raw(self, key: str):
        self._used.add(key)
        return self._values.get(key)

    def _fail(self, key: str, value, kind: str):
        raise DataSpecError(f"{self.dataset}: option {key}={value!r} is not {kind}")

    def int(self, key: str, default: int | None = None, low: int | None = None, high: int | None = None) -> int | None:
        value = self._raw(key)
        if value is None:
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            self._fail(key, value, "an integer")
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = (f"in the range {low}..{high}" if low is not None and high is not None
                      else f"at least {low}" if low is not None else f"at most {high}")
            self._fail(key, value, bounds)
        return number

    def float(self, key: str, default: float | None = None) -> float | None:
        value = self._raw(key)
        if value is None:
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            self._fail(key, value, "a number")

    def bool(self, key: str, default: bool | None = False) -> bool | None:
        value = self._raw(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        self._fail(key, value, "a boolean (1/0, true/false)")

    def str(self, key: str, default: str | None = None) -> str | None:
        value = self._raw(key)
        return default if value is None else str(value)

    def list(self, key: str) -> list[str] | None:
        value = self._raw(key)
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value]
        return [v.strip() for v in str(value).split(",") if v.strip()]

    def used(self, key: str) -> bool:
        return key in self._used

    def rest(self) -> dict[str, Any]:
        """Options not consumed so far (for wrappers that pass them on), marked as used."""
        left = {k: v for k, v in self._values.items() if k not in self._used}
        self._used.update(left)
        return left

    def done(self) -> None:
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            raise DataSpecError(f"{self.dataset}: unknown option(s) {', '.join(unknown)}; "
                                f"known: {', '.join(sorted(self._used))}")


def open_dataset(spec: str, **overrides: Any):
    """The torch Dataset named by `spec`; keyword overrides replace spec options
    (``open_dataset("synthfaces:64", n=100)``)."""
    parsed = parse_spec(spec)
    factory = DATASETS.get(parsed.name)
    options = Options(parsed.name, {**parsed.options, **overrides})
    dataset = factory(parsed.arg, options)
    # attrs selects labels, so only a labelled data set takes it; a wrapper (split:) may have used it already
    if getattr(dataset, "label_kind", "none") != "none" and not options.used("attrs"):
        attrs = options.list("attrs")
        if attrs is not None:
            try:
                dataset = SelectLabels(dataset, attrs)
            except ValueError as exc:
                raise DataSpecError(f"{parsed.name}: {exc}") from None
    options.done()
    dataset.spec = str(DataSpec(parsed.name, parsed.arg, {**parsed.options, **{k: str(v) for k, v in overrides.items()}}))
    return dataset


# Importing the modules registers their data sets.
from . import digits, folders, synthfaces, toy2d, wrappers  # noqa: E402,F401
from .wrappers import SelectLabels  # noqa: E402

__all__ = ["DataSpec", "DataSpecError", "Options", "open_dataset", "parse_spec"]

"""What a conditional generator is told besides z: a class, a set of attributes, or InfoGAN codes.

A checkpoint's header says which (the recipe that trained it and its label names); the studio
turns a short text a person can type ("7", "Smiling, Eyeglasses", "c1=3, c2=0.5") into the
vector c the generator takes, and every image without such a text gets one derived from its
seed, so a seed alone still names one image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..domains import hair_colour_groups
from ..errors import UserError


class ConditionError(UserError):
    """A condition text that does not fit the model; the message lists what it accepts."""


@dataclass(frozen=True)
class ConditionSpec:
    """kind "class" (one of `names`), "attributes" (any subset of `names`) or "codes"
    (InfoGAN: `categorical` one-hot codes c1.., then `continuous` codes in [-1, 1]). `prior`:
    how often each attribute was on in the training data (the header's label_frequencies), so
    that a seed alone draws a face like the data's, not one with every attribute off."""

    kind: str
    names: tuple[str, ...] = ()
    categorical: tuple[int, ...] = ()
    continuous: int = 0
    prior: tuple[float, ...] = ()

    @classmethod
    def of(cls, G: Any, meta: dict[str, Any], labels: list[str] | tuple[str, ...]) -> "ConditionSpec | None":
        """The spec of generator G from its checkpoint header; None for unconditional generators."""
        c_dim = int(getattr(G, "c_dim", 0) or 0)
        if not c_dim:
            return None
        if "infogan" in (meta.get("recipe"), meta.get("generator_recipe")):  # trained, or an encoder trained for it
            spec = cls("codes", categorical=tuple(int(k) for k in meta.get("info_cat") or ()),
                       continuous=int(meta.get("info_cont") or 0))
        else:
            kind = "attributes" if meta.get("label_kind") == "attributes" else "class"
            names = tuple(labels) if len(labels) == c_dim else tuple(str(i) for i in range(c_dim))
            spec = cls(kind, names=names, prior=_prior(meta.get("label_frequencies"), names) if kind == "attributes" else ())
        if spec.dim != c_dim:
            raise ConditionError(f"the header describes {spec.dim} condition values but the generator takes {c_dim}")
        return spec

    @property
    def dim(self) -> int:
        return len(self.names) + sum(self.categorical) + self.continuous

    @property
    def code_names(self) -> list[str]:
        """InfoGAN code names as in the paper: c1.. categorical first, then the continuous ones."""
        return [f"c{i + 1}" for i in range(len(self.categorical) + self.continuous)]

    def help(self) -> str:
        if self.kind == "class":
            return f"one of: {', '.join(self.names)}"
        if self.kind == "attributes":
            return f"attributes to switch on, comma-separated, from: {', '.join(self.names)} (empty: none)"
        parts = [f"{n}=0..{k - 1}" for n, k in zip(self.code_names, self.categorical)]
        parts += [f"{n}=-1..1" for n in self.code_names[len(self.categorical):]]
        return "codes like " + ", ".join(parts)

    # ----- text <-> values ----------------------------------------------------------------
    def for_seed(self, seed: int) -> str:
        """The condition an image made from `seed` alone gets: classes (and the first
        categorical code) cycle with the seed; attributes drawn from the prior (all off without
        one); continuous codes 0."""
        if self.kind == "class":
            return self.names[seed % len(self.names)]
        if self.kind == "attributes":
            return self.text(dict(zip(self.names, self._drawn_attributes(seed).tolist()))) if self.prior else ""
        return self.text(self._codes_of({}) | ({"c1": seed % self.categorical[0]} if self.categorical else {}))

    def parse(self, text: str) -> dict[str, float]:
        """Values by name (class/attribute names, or c1..); a clear error naming what is wrong."""
        text = (text or "").strip()
        if self.kind == "class":
            if text not in self.names:
                raise ConditionError(f"condition '{text}': {self.help()}")
            return {text: 1.0}
        items = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        if self.kind == "attributes":
            unknown = [a for a in items if a not in self.names]
            if unknown:
                raise ConditionError(f"condition: unknown attribute(s) {', '.join(unknown)}; {self.help()}")
            return {a: 1.0 for a in items}
        values: dict[str, float] = {}
        for item in items:
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in self.code_names:
                raise ConditionError(f"condition '{item}': {self.help()}")
            try:
                values[name] = float(value)
            except ValueError:
                raise ConditionError(f"condition '{item}': '{value.strip()}' is not a number") from None
        return self._codes_of(values)

    def _codes_of(self, values: dict[str, float]) -> dict[str, float]:
        """Every code with a value (categoricals 0, continuous 0 unless given), range-checked."""
        out = {}
        for i, name in enumerate(self.code_names):
            v = float(values.get(name, 0.0))
            if i < len(self.categorical):
                k = self.categorical[i]
                if v != int(v) or not 0 <= v < k:
                    raise ConditionError(f"condition: {name} is categorical, a whole number from 0 to {k - 1}; got {v:g}")
            out[name] = v
        return out

    def text(self, values: dict[str, float]) -> str:
        """The canonical text for parsed values (what recipes store)."""
        if self.kind == "codes":
            return ", ".join(f"{n}={values[n]:g}" for n in self.code_names)
        return ", ".join(n for n in self.names if values.get(n))

    def vector(self, text: str) -> torch.Tensor:
        """c [dim] for a condition text: one-hot/multi-hot labels, or one-hot categoricals + continuous."""
        values = self.parse(text)
        if self.kind != "codes":
            return torch.tensor([values.get(n, 0.0) for n in self.names])
        parts = [torch.nn.functional.one_hot(torch.tensor(int(values[n])), k).float()
                 for n, k in zip(self.code_names, self.categorical)]
        parts.append(torch.tensor([values[n] for n in self.code_names[len(self.categorical):]]))
        return torch.cat(parts)

    def vectors(self, texts: list[str]) -> torch.Tensor:
        return torch.stack([self.vector(t) for t in texts])

    def random_vectors(self, seeds: list[int]) -> torch.Tensor:
        """c drawn as in training, one per seed (the same on every machine): InfoGAN codes
        uniform (categories, and [-1, 1]); a class uniform; each attribute on with odds 1/2."""
        rows = []
        for seed in seeds:
            gen = torch.Generator().manual_seed(int(seed))
            if self.kind == "codes":
                parts = [torch.nn.functional.one_hot(torch.randint(0, k, (), generator=gen), k).float()
                         for k in self.categorical]
                rows.append(torch.cat(parts + [torch.rand(self.continuous, generator=gen) * 2 - 1]))
            elif self.kind == "class":
                rows.append(torch.nn.functional.one_hot(torch.randint(0, len(self.names), (), generator=gen),
                                                        len(self.names)).float())
            else:
                rows.append(self._drawn_attributes(seed))
        return torch.stack(rows)

    def mean_vector(self) -> torch.Tensor:
        """The mean condition over seeds: each attribute's odds, a class's 1/k, each categorical
        code's 1/k and continuous codes 0."""
        if self.kind == "attributes":
            return self._odds()
        if self.kind == "class":
            return torch.full((len(self.names),), 1 / len(self.names))
        parts = [torch.full((k,), 1 / k) for k in self.categorical] + [torch.zeros(self.continuous)]
        return torch.cat(parts)

    def seed_vectors(self, seeds: list[int]) -> torch.Tensor:
        """c [len(seeds), dim] of images made from seeds alone, as the studio makes them."""
        return self.vectors([self.for_seed(int(s)) for s in seeds])

    def _odds(self) -> torch.Tensor:
        """How often each attribute is on: the prior, or 1/2 each without one."""
        return torch.tensor(self.prior or [0.5] * len(self.names))

    def _drawn_attributes(self, seed: int) -> torch.Tensor:
        """0/1 attributes for `seed`: each on as often as the prior says (odds 1/2 without one);
        of an exclusive group (the hair colours) at most one, picked by the members' frequencies."""
        gen = torch.Generator().manual_seed(int(seed))
        odds = self._odds()
        drawn = (torch.rand(len(self.names), generator=gen) < odds).float()
        u = float(torch.rand((), generator=gen))
        for group in hair_colour_groups(self.names) if self.prior else ():
            columns = [self.names.index(name) for name in group]
            edges = odds[columns].cumsum(0)
            drawn[columns] = 0.0
            picked = int((edges <= u * max(1.0, float(edges[-1]))).sum())
            if picked < len(columns):
                drawn[columns[picked]] = 1.0
        return drawn


def _prior(frequencies: Any, names: tuple[str, ...]) -> tuple[float, ...]:
    """Per-name frequencies from a header's {name: frequency}; () when absent or not for these names."""
    if not isinstance(frequencies, dict) or set(frequencies) != set(names):
        return ()
    try:
        values = tuple(min(1.0, max(0.0, float(frequencies[name]))) for name in names)
    except (TypeError, ValueError):
        return ()
    return values


def switched(c: torch.Tensor, column: int, on: bool, groups: Sequence[Sequence[int]] = ()) -> torch.Tensor:
    """Conditions c [B, dim] with attribute `column` switched on or off; switching on a member
    of an exclusive group (the hair colours, as StarGAN's targets) turns the rest of it off."""
    out = c.clone()
    for group in groups:
        if on and column in group:
            out[:, list(group)] = 0.0
    out[:, column] = float(on)
    return out

"""Apply edits to latent codes: G(En(x) + sum_i alpha_i * d_i), per layer range in w+."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import UserError

class EditError(UserError):
    pass


@dataclass(frozen=True)
class ResolvedEdit:
    """An edit with its direction vector looked up: alpha * vector added to `rows` in `space`."""

    vector: torch.Tensor
    space: str  # "z" or "w"
    alpha: float
    rows: slice


def apply_edits(
    G,
    ws: torch.Tensor,
    edits: list[ResolvedEdit],
    z: torch.Tensor | None = None,
    psi: float = 1.0,
    cutoff: int | None = None,
    c: torch.Tensor | None = None,
) -> torch.Tensor:
    """The edited w+ code.

    w-space edits add alpha * d to their rows of ws. z-space edits move z before the mapping
    network, then take only their rows from the mapped result — so a z direction can also be
    limited to a layer range. z edits need the z the code came from (and a conditional
    generator's condition c).
    """
    out = ws.clone()
    z_edits = [e for e in edits if e.space == "z" and e.alpha != 0]
    if z_edits:
        if z is None:
            raise EditError("z-space directions need a code in z (a seed, or an inversion in z)")
        # Rows touched by the same set of z edits share one mapping call.
        groups: dict[tuple[int, ...], list[int]] = {}
        for row in range(ws.shape[1]):
            key = tuple(i for i, e in enumerate(z_edits) if e.rows.start <= row < e.rows.stop)
            if key:
                groups.setdefault(key, []).append(row)
        for key, rows in groups.items():
            moved = z + sum(z_edits[i].alpha * z_edits[i].vector.to(z) for i in key)
            out[:, rows] = G.mapping(moved, psi=psi, cutoff=cutoff, c=c)[:, rows]
    for e in edits:
        if e.space == "w" and e.alpha != 0:
            out[:, e.rows] += e.alpha * e.vector.to(out)
    return out

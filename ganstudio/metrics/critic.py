"""A StarGAN's own classifier as a second opinion on its translations.

The generator is trained to make its discriminator's classifier (D) see the target domain.
When the judge says a change failed, D's verdict on the same image tells why: if D is not
convinced either, G's changes are too weak for the loss it trains on (raise the
classification weight, train longer); if D is convinced and the judge is not, D's classifier
is too easy to please, which its accuracy on the real inputs shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import torch

from ..translate import Translator, classify


@dataclass
class CriticTally:
    """D's correct readings of the real inputs per domain, and per request how many of the
    translations D sees as done."""

    domains: tuple[str, ...]
    correct: torch.Tensor | None = None  # [K] counts; None until labelled inputs are seen
    inputs: int = 0
    done: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # request: [hits, n]

    def add_inputs(self, tr: Translator, images: torch.Tensor, labels: torch.Tensor) -> None:
        hits = (classify(tr, images).cpu() > 0.5) == (labels.cpu() > 0.5)
        self.correct = hits.sum(0) + (0 if self.correct is None else self.correct)
        self.inputs += len(images)

    def add_translations(self, tr: Translator, images: torch.Tensor, name: str, want: bool, request: str) -> None:
        seen = classify(tr, images.clamp(-1, 1))[:, self.domains.index(name)].cpu() > 0.5  # as a PNG holds it
        tally = self.done[request]
        tally[0], tally[1] = tally[0] + int((seen == want).sum()), tally[1] + len(images)

    def to_json(self) -> dict:
        accuracy = None if self.correct is None else {
            name: round(float(c) / self.inputs, 4) for name, c in zip(self.domains, self.correct)}
        return {"inputs": self.inputs, "accuracy_on_inputs": accuracy,
                "translations_done": {request: {"n": n, "done": round(hits / n, 4) if n else None}
                                      for request, (hits, n) in self.done.items()}}

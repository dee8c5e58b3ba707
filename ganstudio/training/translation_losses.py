"""What the `cyclegan` and `stargan` recipes compute: loss terms as pure functions of
networks and tensors, the CycleGAN history pool, StarGAN target-label sampling and the
constant-then-linear learning-rate schedule. The generic loop only has to call them.

Every `*_terms` function returns a dict of scalar tensors with the total under "loss"
(the shape the trainer logs and backpropagates).

Domain classification (StarGAN), a choice worth stating: StarGAN's reference code uses
a sigmoid/BCE per attribute for CelebA, hair colours included, and enforces "exactly one
hair colour" only when building target labels. Here each exclusive group gets a softmax
cross-entropy over its members instead (independent attributes keep BCE): the classifier
then models "exactly one" itself, so reading it back by argmax (`domains.decode_labels`,
used by `translate` to estimate an input's labels) matches how it was trained, and the
generator is pushed towards the requested colour and away from the others in one term.
Rows whose group is not exactly one-hot (no listed hair colour, or a labelling error)
carry no signal for that group. Target labels always have exactly one member per group.
"""

from __future__ import annotations

import random
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..domains import Groups
from .losses import gradient_penalty

# ----- adversarial terms on patch maps ------------------------------------------------------


def lsgan_d(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """Least-squares D loss over every patch: real -> 1, fake -> 0, halved as in CycleGAN."""
    return 0.5 * (((real_out - 1) ** 2).mean() + (fake_out**2).mean())


def lsgan_g(fake_out: torch.Tensor) -> torch.Tensor:
    """Least-squares G loss over every patch: push fakes towards 1."""
    return ((fake_out - 1) ** 2).mean()


class PatchAdversarial(NamedTuple):
    """A GAN loss on patch-score maps: d(real_out, fake_out) and g(fake_out)."""

    d: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]


LSGAN = PatchAdversarial(lsgan_d, lsgan_g)


# ----- reconstruction terms -----------------------------------------------------------------


def cycle_loss(
    real_a: torch.Tensor, rec_a: torch.Tensor, real_b: torch.Tensor, rec_b: torch.Tensor, weight: float = 10.0
) -> torch.Tensor:
    """Cycle consistency, both ways: weight * (|F(G(a)) - a|_1 + |G(F(b)) - b|_1), means over pixels."""
    return weight * (F.l1_loss(rec_a, real_a) + F.l1_loss(rec_b, real_b))


def identity_loss(
    real_a: torch.Tensor, same_a: torch.Tensor, real_b: torch.Tensor, same_b: torch.Tensor, weight: float = 5.0
) -> torch.Tensor:
    """Identity: a generator fed an image already in its output domain should leave it alone,
    same_a = G_BA(a) ~ a and same_b = G_AB(b) ~ b. CycleGAN weighs it 0.5 * lambda = 5."""
    return weight * (F.l1_loss(same_a, real_a) + F.l1_loss(same_b, real_b))


def reconstruction_loss(real: torch.Tensor, rec: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """StarGAN's weight * |G(G(x, c), c_orig) - x|_1 (mean over pixels)."""
    return weight * F.l1_loss(rec, real)


def domain_classification_loss(class_logits: torch.Tensor, labels: torch.Tensor, groups: Groups = ()) -> torch.Tensor:
    """BCE per independent attribute plus CE per exclusive group, summed over attributes and
    groups, averaged over the batch (StarGAN's scale). See the module docstring for why."""
    in_group = {i for g in groups for i in g}
    free = [i for i in range(labels.shape[1]) if i not in in_group]
    per_row = class_logits.new_zeros(class_logits.shape[0])
    if free:
        per_row = per_row + F.binary_cross_entropy_with_logits(
            class_logits[:, free], labels[:, free].to(class_logits), reduction="none"
        ).sum(1)
    for group in groups:
        cols = list(group)
        members = labels[:, cols] > 0.5
        one_hot = members.sum(1) == 1
        ce = F.cross_entropy(class_logits[:, cols], members.to(torch.int64).argmax(1), reduction="none")
        per_row = per_row + torch.where(one_hot, ce, torch.zeros_like(ce))
    return per_row.mean()


# ----- StarGAN target labels ------------------------------------------------------------------


def sample_target_labels(
    labels: torch.Tensor, groups: Groups = (), generator: torch.Generator | None = None
) -> torch.Tensor:
    """Target domains for a batch: the batch's own labels shuffled (as StarGAN does, so targets
    follow the data's attribute mix), then every exclusive group made exactly one-hot: a row
    with none or several members set gets one member drawn uniformly."""
    perm = torch.randperm(labels.shape[0], generator=generator).to(labels.device)
    target = labels[perm].clone()
    for group in groups:
        cols = list(group)
        block = target[:, cols]
        bad = (block > 0.5).sum(1) != 1
        n_bad = int(bad.sum())
        if n_bad:
            pick = torch.randint(len(cols), (n_bad,), generator=generator).to(labels.device)
            block[bad] = F.one_hot(pick, len(cols)).to(block)
            target[:, cols] = block
    return target


# ----- CycleGAN history of generated images --------------------------------------------------


class ImagePool:
    """CycleGAN's buffer of the last `size` generated images (Shrivastava et al.).

    Until full it stores and returns the new images. Then each new image, with p = 0.5,
    replaces a random stored one and the stored one is returned instead; otherwise the new
    image is returned. D thus also sees older generator outputs, which damps oscillation.
    """

    def __init__(self, size: int = 50, seed: int | None = None):
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: list[torch.Tensor] = []
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self._rng.random() < 0.5:
                i = self._rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The stored images and the draw state, so a resumed run continues the same history."""
        version, internal, _ = self._rng.getstate()  # the third item is only used by random.gauss
        state = {"rng": torch.tensor([version, *internal], dtype=torch.int64)}
        if self.images:
            state["images"] = torch.stack(self.images).cpu()
        return state

    def load_state_tensors(self, state: dict[str, torch.Tensor], device: torch.device | str = "cpu") -> None:
        self.images = list(state["images"].to(device).unbind(0)) if "images" in state else []
        values = [int(v) for v in state["rng"].tolist()]
        self._rng.setstate((values[0], tuple(values[1:]), None))


# ----- learning-rate schedule ----------------------------------------------------------------


def linear_decay(n_constant: int, n_decay: int) -> Callable[[int], float]:
    """A LambdaLR factor: 1 for the first `n_constant` steps (or epochs), then linear down to
    0 at n_constant + n_decay (CycleGAN: 100 + 100 epochs).
    Use: `torch.optim.lr_scheduler.LambdaLR(opt, linear_decay(n_constant, n_decay))`."""
    if n_constant < 0 or n_decay < 0:
        raise ValueError(f"n_constant and n_decay must be >= 0, got {n_constant} and {n_decay}")
    total = n_constant + n_decay

    def factor(step: int) -> float:
        if step < n_constant:
            return 1.0
        return max(0.0, (total - step) / n_decay) if n_decay else 1.0

    return factor


# ----- whole phases ---------------------------------------------------------------------------


def cyclegan_generator_terms(
    G_AB: nn.Module,
    G_BA: nn.Module,
    D_A: nn.Module,
    D_B: nn.Module,
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    lambda_cyc: float = 10.0,
    lambda_idt: float = 0.5,
    adversarial: PatchAdversarial = LSGAN,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The generators' step. Returns (terms, fakes); `fakes` ("fake_a", "fake_b", detached)
    go through the two ImagePools into `cyclegan_discriminator_terms`."""
    fake_b, fake_a = G_AB(real_a), G_BA(real_b)
    terms = {
        "adv_ab": adversarial.g(D_B.patches(fake_b)),
        "adv_ba": adversarial.g(D_A.patches(fake_a)),
        "cycle": cycle_loss(real_a, G_BA(fake_b), real_b, G_AB(fake_a), weight=lambda_cyc),
    }
    if lambda_idt > 0:
        terms["identity"] = identity_loss(real_a, G_BA(real_a), real_b, G_AB(real_b), weight=lambda_idt * lambda_cyc)
    terms["loss"] = sum(terms.values())
    return terms, {"fake_a": fake_a.detach(), "fake_b": fake_b.detach()}


def cyclegan_discriminator_terms(
    D_A: nn.Module,
    D_B: nn.Module,
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    fake_a: torch.Tensor,
    fake_b: torch.Tensor,
    adversarial: PatchAdversarial = LSGAN,
) -> dict[str, torch.Tensor]:
    """Both discriminators' step, on fakes drawn from the history pools."""
    d_a = adversarial.d(D_A.patches(real_a), D_A.patches(fake_a.detach()))
    d_b = adversarial.d(D_B.patches(real_b), D_B.patches(fake_b.detach()))
    return {"d_a": d_a, "d_b": d_b, "loss": d_a + d_b}


def identity(images: torch.Tensor) -> torch.Tensor:
    """The images themselves: no augmentation, or a score map standing in for a D's output."""
    return images


def stargan_discriminator_terms(
    G: nn.Module,
    D: nn.Module,
    real: torch.Tensor,
    labels: torch.Tensor,
    target: torch.Tensor,
    groups: Groups = (),
    lambda_cls: float = 1.0,
    lambda_gp: float = 10.0,
    augment: Callable[[torch.Tensor], torch.Tensor] = identity,
) -> dict[str, torch.Tensor]:
    """The critic's step (run n_critic = 5 times per generator step): Wasserstein terms,
    gradient penalty, and domain classification of the real images by their true labels.
    `augment` is what D sees of every image (DiffAugment), real and translated alike."""
    seen = augment(real)
    out = D.heads(seen)
    with torch.no_grad():
        fake = augment(G(real, target))
    terms = {
        "adv_real": -out["logits"].mean(),
        "adv_fake": D(fake).mean(),
        "cls": lambda_cls * domain_classification_loss(out["class_logits"], labels, groups),
        "gp": lambda_gp * gradient_penalty(D, seen, fake)["loss"],
    }
    terms["loss"] = sum(terms.values())
    return terms


def stargan_generator_terms(
    G: nn.Module,
    D: nn.Module,
    real: torch.Tensor,
    labels: torch.Tensor,
    target: torch.Tensor,
    groups: Groups = (),
    lambda_cls: float = 1.0,
    lambda_rec: float = 10.0,
    augment: Callable[[torch.Tensor], torch.Tensor] = identity,
) -> dict[str, torch.Tensor]:
    """The generator's step: fool the critic, be classified as `target` (both as D sees the
    translation, through `augment`), and map back to the input given its original labels."""
    fake = G(real, target)
    out = D.heads(augment(fake))
    terms = {
        "adv": -out["logits"].mean(),
        "cls": lambda_cls * domain_classification_loss(out["class_logits"], target, groups),
        "rec": reconstruction_loss(real, G(fake, labels), weight=lambda_rec),
    }
    terms["loss"] = sum(terms.values())
    return terms

"""The GAN objective family and the regularisers that ride on it.

An *objective* is one adversarial game, registered in `LOSSES` by the name `--loss` takes.
It is a pair of functions of the models and a batch: `d_loss(batch)` and `g_loss(batch)`,
each returning a dict of named scalar tensors with "loss" (the one to minimise) plus
whatever is worth logging. `batch` is a `GanBatch`: the discriminator, real and generated
images and their conditions; discriminator outputs are computed once per batch and shared
by every term that needs them (adversarial, ACGAN class, InfoGAN Q). Swapping an objective
never touches the training loop: the loop only calls these two functions and the optional
`after_d_update` hook (WGAN weight clipping).

Logits are the raw discriminator outputs l; D(x) = sigmoid(l) where a probability is meant,
so log D = -softplus(-l) and log(1 - D) = -softplus(l), computed stably.

Regularisers (`r1_penalty`, `gradient_penalty`, `info_loss`, `class_loss`) are plain
functions returning the same kind of dict; recipes add them with weights from the config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import torch
import torch.nn.functional as F

from ..registry import LOSSES

Losses = dict[str, torch.Tensor]


def discriminate(D: Callable, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Every output D has for x: `heads()` for multi-head discriminators, else just logits."""
    heads = getattr(D, "heads", None)
    if heads is not None:
        return heads(x) if c is None else heads(x, c)
    return {"logits": D(x) if c is None else D(x, c)}


def features(D: Callable, outputs: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Penultimate features of x: from the shared outputs when D reports them, else D.features."""
    return outputs["features"] if "features" in outputs else D.features(x)


@dataclass
class GanBatch:
    """What an objective sees. `real` may be None in a phase that needs no real images."""

    D: Callable
    fake: torch.Tensor
    real: torch.Tensor | None = None
    c_real: torch.Tensor | None = None
    c_fake: torch.Tensor | None = None
    _outputs: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict, repr=False)

    def d_real(self) -> dict[str, torch.Tensor]:
        if self.real is None:
            raise ValueError("this objective needs real images in the generator phase")
        if "real" not in self._outputs:
            self._outputs["real"] = discriminate(self.D, self.real, self.c_real)
        return self._outputs["real"]

    def d_fake(self) -> dict[str, torch.Tensor]:
        if "fake" not in self._outputs:
            self._outputs["fake"] = discriminate(self.D, self.fake, self.c_fake)
        return self._outputs["fake"]

    def real_logits(self) -> torch.Tensor:
        return self.d_real()["logits"].float()

    def fake_logits(self) -> torch.Tensor:
        return self.d_fake()["logits"].float()


class Objective:
    """One adversarial game. Subclasses set `defaults`: training settings the method
    prescribes (optimizer, learning rate, betas, d_steps) that a run uses unless told otherwise;
    `probability`: D's output is a logit of D(x) (pictures show sigmoid(logit) on a fixed 0..1
    scale); `scores_only`: the game is its two losses on D's scores and nothing else (no
    clipping, gradient penalty or features), so it applies to a PatchGAN's map of patch scores
    as to one score."""

    defaults: ClassVar[dict[str, Any]] = {}
    probability: ClassVar[bool] = False
    scores_only: ClassVar[bool] = True

    def d_loss(self, batch: GanBatch) -> Losses:
        raise NotImplementedError

    def g_loss(self, batch: GanBatch) -> Losses:
        raise NotImplementedError

    def after_d_update(self, D: torch.nn.Module) -> None:
        """Called after every discriminator optimiser step (the place for weight clipping)."""


def _logit_stats(real: torch.Tensor | None, fake: torch.Tensor) -> Losses:
    stats = {"fake": fake.detach().mean()}
    if real is not None:
        stats["real"] = real.detach().mean()
    return stats


class _CrossEntropyD(Objective):
    """The discriminator half of Goodfellow's game: maximise log D(x) + log(1 - D(G(z)))."""

    probability = True

    def d_loss(self, batch: GanBatch) -> Losses:
        real, fake = batch.real_logits(), batch.fake_logits()
        loss = F.softplus(-real).mean() + F.softplus(fake).mean()
        return {"loss": loss, **_logit_stats(real, fake)}


@LOSSES.register("minimax")
class Minimax(_CrossEntropyD):
    """Algorithm 1 as written: G descends log(1 - D(G(z))). Saturates when D wins early."""

    def g_loss(self, batch: GanBatch) -> Losses:
        fake = batch.fake_logits()
        return {"loss": -F.softplus(fake).mean(), **_logit_stats(None, fake)}


@LOSSES.register("nonsaturating")
class NonSaturating(_CrossEntropyD):
    """G maximises log D(G(z)) instead: same fixed point, strong gradients when D wins."""

    def g_loss(self, batch: GanBatch) -> Losses:
        fake = batch.fake_logits()
        return {"loss": F.softplus(-fake).mean(), **_logit_stats(None, fake)}


class _Wasserstein(Objective):
    """The critic maximises E[f(x)] - E[f(G(z))]; G maximises E[f(G(z))]. Its Lipschitz
    constraint (clipping, a gradient penalty) needs the critic itself, not only its scores."""

    scores_only = False

    def d_loss(self, batch: GanBatch) -> Losses:
        real, fake = batch.real_logits(), batch.fake_logits()
        distance = real.mean() - fake.mean()
        return {"loss": -distance, "wdist": distance.detach(), **_logit_stats(real, fake)}

    def g_loss(self, batch: GanBatch) -> Losses:
        fake = batch.fake_logits()
        return {"loss": -fake.mean(), **_logit_stats(None, fake)}


@LOSSES.register("wgan")
class WGAN(_Wasserstein):
    """WGAN with weight clipping, as in the seeds: RMSProp, lr 5e-5, c = 0.01, n_critic = 5."""

    defaults = {"optimizer": "rmsprop", "lr": 5e-5, "d_steps": 5}

    def __init__(self, clip: float = 0.01):
        if clip <= 0:
            raise ValueError(f"wgan: clip must be positive, got {clip}")
        self.clip = clip

    @torch.no_grad()
    def after_d_update(self, D: torch.nn.Module) -> None:
        for p in D.parameters():
            p.clamp_(-self.clip, self.clip)


@LOSSES.register("wgan-gp")
class WGANGP(_Wasserstein):
    """WGAN with a gradient penalty lambda * E[(||grad f(x_hat)|| - 1)^2] on real/fake interpolates."""

    defaults = {"optimizer": "adam", "lr": 1e-4, "betas": (0.0, 0.9), "d_steps": 5}

    def __init__(self, gp_lambda: float = 10.0):
        self.gp_lambda = gp_lambda

    def d_loss(self, batch: GanBatch) -> Losses:
        losses = super().d_loss(batch)
        gp = gradient_penalty(batch.D, batch.real, batch.fake, batch.c_real)["loss"]
        losses["gp"] = gp.detach()
        losses["loss"] = losses["loss"] + self.gp_lambda * gp
        return losses


@LOSSES.register("lsgan")
class LSGAN(Objective):
    """Least squares (a=0 for fakes, b=1 for reals, G targets c=1)."""

    def d_loss(self, batch: GanBatch) -> Losses:
        real, fake = batch.real_logits(), batch.fake_logits()
        loss = 0.5 * ((real - 1).square().mean() + fake.square().mean())
        return {"loss": loss, **_logit_stats(real, fake)}

    def g_loss(self, batch: GanBatch) -> Losses:
        fake = batch.fake_logits()
        return {"loss": 0.5 * (fake - 1).square().mean(), **_logit_stats(None, fake)}


@LOSSES.register("hinge")
class Hinge(Objective):
    """D: E[relu(1 - l(x))] + E[relu(1 + l(G(z)))]; G: -E[l(G(z))]."""

    def d_loss(self, batch: GanBatch) -> Losses:
        real, fake = batch.real_logits(), batch.fake_logits()
        loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        return {"loss": loss, **_logit_stats(real, fake)}

    def g_loss(self, batch: GanBatch) -> Losses:
        fake = batch.fake_logits()
        return {"loss": -fake.mean(), **_logit_stats(None, fake)}


@LOSSES.register("feature-matching")
class FeatureMatching(_CrossEntropyD):
    """Salimans et al.: G matches the mean of D's penultimate features on real data,
    ||E h(x) - E h(G(z))||^2, instead of maximising D's output; D trains as usual."""

    scores_only = False

    def g_loss(self, batch: GanBatch) -> Losses:
        with torch.no_grad():
            real_h = features(batch.D, batch.d_real(), batch.real).float().mean(0)
        fake_h = features(batch.D, batch.d_fake(), batch.fake).float().mean(0)
        loss = (real_h - fake_h).square().sum()
        return {"loss": loss, "fm": loss.detach()}


# ----- regularisers ---------------------------------------------------------------------------

def _input_gradients(D: Callable, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """d(score)/d(input) per decision of D, with a graph so the penalty itself can be
    differentiated: per sample, or per pack of samples for a packing D (PacGAN), whose input
    is the pack.

    A patch critic's score is the mean of its patch map (what its loss averages), so the
    penalty constrains the function the loss uses. (StarGAN's reference code differentiates
    the sum of the map: the same at a 1x1 map, larger by the number of patches otherwise.)
    """
    with torch.autocast(x.device.type, enabled=False):
        x = x.detach().float().requires_grad_(True)
        logits = (D(x) if c is None else D(x, c)).float()  # logits only: no class or Q heads
        decisions = len(logits)
        (grad,) = torch.autograd.grad(logits.reshape(decisions, -1).mean(1).sum(), x, create_graph=True)
    return grad.reshape(decisions, -1)


def gradient_penalty(D: Callable, real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor | None = None) -> Losses:
    """E[(||grad D(x_hat)||_2 - 1)^2] with x_hat uniformly between paired real and fake samples."""
    eps = torch.rand([real.shape[0]] + [1] * (real.dim() - 1), device=real.device)
    x_hat = eps * real.detach().float() + (1 - eps) * fake.detach().float()
    norm = _input_gradients(D, x_hat, c).norm(2, dim=1)
    loss = (norm - 1).square().mean()
    return {"loss": loss, "grad_norm": norm.detach().mean()}


def r1_penalty(D: Callable, real: torch.Tensor, c: torch.Tensor | None = None) -> Losses:
    """R1 (Mescheder et al.): E[||grad D(x)||^2] on real data. Recipes weight it by gamma / 2
    and, when lazy (every N steps), by N so its average strength does not depend on N."""
    loss = _input_gradients(D, real, c).square().sum(1).mean()
    return {"loss": loss}


def class_loss(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> Losses:
    """ACGAN's class term: cross-entropy on one-hot class labels, or per-attribute
    binary cross-entropy on multi-hot attribute labels."""
    logits, labels = logits.float(), labels.float()
    if kind == "class":
        target = labels.argmax(1)
        loss = F.cross_entropy(logits, target)
        acc = (logits.argmax(1) == target).float().mean()
    elif kind == "attributes":
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        acc = ((logits > 0).float() == (labels > 0.5).float()).float().mean()
    else:
        raise ValueError(f"class_loss: label kind must be 'class' or 'attributes', got '{kind}'")
    return {"loss": loss, "acc": acc.detach()}


def info_loss(
    outputs: dict[str, torch.Tensor],
    cat_codes: torch.Tensor | None,
    cont_codes: torch.Tensor | None,
    cat_sizes: tuple[int, ...] = (),
    learn_std: bool = False,
    cont_weight: float = 1.0,
) -> Losses:
    """InfoGAN's variational lower bound on I(c; G(z, c)), as a loss to minimise:
    cross-entropy of each categorical code (indices [B, n_cat]) under the Q head's logits,
    plus the Gaussian negative log-likelihood of the continuous codes [B, n_cont] under
    Q's predicted mean and, with `learn_std`, its log-variance. The default keeps the
    variance at 1, as the original InfoGAN code does: a learned variance lets D shrink it
    until G's term (scaled by 1/variance) drowns the adversarial one, and G stops learning.
    `cont_weight` scales the continuous part: at 1 on a small data set the continuous codes
    learn to pick the class, and the categorical code shares it with them."""
    total = torch.zeros((), device=next(iter(outputs.values())).device)
    out: Losses = {}
    if cat_sizes:
        logits = outputs["q_cat_logits"].float()
        ce = sum(
            F.cross_entropy(part, cat_codes[:, i]) for i, part in enumerate(logits.split(list(cat_sizes), dim=1))
        )
        out["cat"] = ce.detach()
        total = total + ce
    if cont_codes is not None and cont_codes.shape[1]:
        mean = outputs["q_cont_mean"].float()
        logvar = outputs["q_cont_logvar"].float() if learn_std else torch.zeros_like(mean)
        nll = 0.5 * ((cont_codes - mean).square() * torch.exp(-logvar) + logvar + math.log(2 * math.pi))
        nll = nll.sum(1).mean()
        out["cont"] = nll.detach()
        total = total + cont_weight * nll
    out["loss"] = total
    return out


def cluster_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, eps: float = 1e-8) -> Losses:
    """Invariant information clustering (Ji et al., 2019) as a loss to minimise: minus the mutual
    information between the cluster a classifier gives an image (logits_a) and the one it gives a
    second view of it (logits_b). Lowest when both views land in the same cluster and every cluster
    is used equally."""
    joint = (logits_a.float().softmax(1).unsqueeze(2) * logits_b.float().softmax(1).unsqueeze(1)).mean(0)
    joint = ((joint + joint.t()) / 2).clamp_min(eps)
    marginal_a, marginal_b = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    mutual_information = (joint * (joint.log() - marginal_a.log() - marginal_b.log())).sum()
    return {"loss": -mutual_information}

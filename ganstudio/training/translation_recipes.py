"""The `cyclegan` and `stargan` recipes: unpaired image-to-image translation, trained by the
same loop as every GAN. The loss terms themselves are in translation_losses.py; this module
wires them into phases, keeps CycleGAN's history pools and learning-rate decay, and writes
the header fields `ganstudio.translate` reads.

    ganstudio train cyclegan --data "split:synthfaces:64?attr=Eyeglasses&n=20000"
    ganstudio train cyclegan --data unpaired:/data/horse2zebra?resolution=128
    ganstudio train stargan --data "synthfaces:64?attrs=Black_Hair,Blond_Hair,Brown_Hair,Smiling,Eyeglasses"

Recipe weights go in loss_args: cyclegan `lambda_cyc` (10), `lambda_idt` (0.5, a fraction of
lambda_cyc), `pool_size` (50), `decay_start` (0.5: the learning rate is constant for that
fraction of the run, then falls linearly to 0); stargan `lambda_cls` (1), `lambda_rec` (10),
`lambda_gp` (10).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..config_io import ConfigError
from ..domains import DomainError, group_indices, hair_colour_groups
from ..models.translation import CYCLEGAN_ROLES, STARGAN_ROLES, translation_meta
from ..registry import LOSSES
from .losses import GanBatch
from ..registry import RECIPES
from .recipes import DataInfo, Phase, Recipe, StepContext, build_arch
from .translation_losses import (
    LSGAN, ImagePool, PatchAdversarial, cyclegan_discriminator_terms, cyclegan_generator_terms, identity,
    linear_decay, sample_target_labels, stargan_discriminator_terms, stargan_generator_terms,
)

GRID_INPUTS = 4  # CycleGAN sample grid: this many fixed inputs per domain


def _weights(config, defaults: dict[str, float], recipe: str) -> dict[str, float]:
    unknown = set(config.loss_args) - set(defaults)
    if unknown:
        raise ConfigError(f"{recipe} loss_args: unknown {', '.join(sorted(unknown))}; known: {', '.join(defaults)}")
    return {**defaults, **config.loss_args}


def patch_adversarial(name: str) -> PatchAdversarial:
    """The adversarial game on patch-score maps. LSGAN is CycleGAN's exact form (D halved,
    G not); any other score-only objective in LOSSES is applied to every patch."""
    if name == "lsgan":
        return LSGAN
    if not LOSSES.get(name).scores_only:
        usable = ", ".join(n for n in LOSSES.names() if LOSSES.get(n).scores_only)
        raise ConfigError(f"cyclegan: loss '{name}' is not available on patch scores; use one of {usable}")
    objective = LOSSES.get(name)()

    def d(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return objective.d_loss(GanBatch(identity, fake_out.flatten(1), real=real_out.flatten(1)))["loss"]

    def g(fake_out: torch.Tensor) -> torch.Tensor:
        return objective.g_loss(GanBatch(identity, fake_out.flatten(1)))["loss"]

    return PatchAdversarial(d, g)


def _resolution(config, data: DataInfo, recipe: str) -> int:
    res = config.resolution or data.resolution
    if not res:
        raise ConfigError(f"{recipe}: the data set does not say its image size; pass --resolution")
    return res


@RECIPES.register("cyclegan")
class CycleGanRecipe(Recipe):
    """CycleGAN (Zhu et al.): G_AB, G_BA, PatchGAN D_A, D_B; adversarial + cycle + identity
    terms; discriminators see fakes through 50-image history pools."""

    name = "cyclegan"
    default_arch: ClassVar[str] = "cyclegan_resnet"
    default_loss: ClassVar[str] = "lsgan"
    ema: ClassVar[dict[str, str]] = {}
    export_roles: ClassVar[tuple[str, ...]] = CYCLEGAN_ROLES
    augments: ClassVar[bool] = False

    def __init__(self, config, data: DataInfo):
        super().__init__(config, data)
        if len(data.domain_names) != 2:
            raise ConfigError(f"cyclegan needs unpaired two-domain data (unpaired:/path with trainA/ trainB/, or "
                              f"split:SPEC?attr=NAME); '{data.name}' is not")
        self.weights = _weights(config, {"lambda_cyc": 10.0, "lambda_idt": 0.5, "pool_size": 50,
                                         "decay_start": 0.5}, self.name)
        if config.lr_decay:
            raise ConfigError("cyclegan schedules its lr with loss_args.decay_start (the fraction of the run "
                              "at constant lr); drop lr_decay")
        if not 0.0 <= self.weights["decay_start"] <= 1.0:
            raise ConfigError(f"cyclegan: loss_args.decay_start is a fraction of the run, got "
                              f"{self.weights['decay_start']}")
        self.adversarial = patch_adversarial(config.loss)
        size = int(self.weights["pool_size"])
        self.pools = {"a": ImagePool(size, seed=config.seed), "b": ImagePool(size, seed=config.seed + 1)}
        total = int(config.kimg * 1000)
        constant = int(total * self.weights["decay_start"])
        self._decay = linear_decay(constant, total - constant)
        self.fixed: tuple[torch.Tensor, torch.Tensor] | None = None  # grid inputs, the first batch's

    def networks(self) -> dict[str, nn.Module]:
        c = self.config
        res = _resolution(c, self.data, self.name)
        d_arch = c.d_arch or "patchgan"
        make_g = lambda: build_arch(c.arch, c.G, {}, {"resolution": res}, self.name)  # noqa: E731
        make_d = lambda: build_arch(d_arch, c.D, {}, {"resolution": res}, self.name)  # noqa: E731
        return {"G_AB": make_g(), "G_BA": make_g(), "D_A": make_d(), "D_B": make_d()}

    def phases(self) -> list[Phase]:
        c = self.config
        return [Phase("G", ("G_AB", "G_BA"), self.g_step, lr=c.g_lr),
                Phase("D", ("D_A", "D_B"), self.d_step, lr=c.d_lr, fresh_data=False)]

    def g_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> dict[str, torch.Tensor]:
        real_a, real_b = batch[0], batch[1]
        if self.fixed is None:
            self.fixed = (real_a[:GRID_INPUTS].detach().clone(), real_b[:GRID_INPUTS].detach().clone())
        terms, fakes = cyclegan_generator_terms(
            nets["G_AB"], nets["G_BA"], nets["D_A"], nets["D_B"], real_a, real_b,
            lambda_cyc=self.weights["lambda_cyc"], lambda_idt=self.weights["lambda_idt"], adversarial=self.adversarial,
        )
        self._fakes = fakes
        return {k: v if k == "loss" else v.detach() for k, v in terms.items()}

    def d_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> dict[str, torch.Tensor]:
        fake_a = self.pools["a"].query(self._fakes["fake_a"])
        fake_b = self.pools["b"].query(self._fakes["fake_b"])
        terms = cyclegan_discriminator_terms(nets["D_A"], nets["D_B"], batch[0], batch[1], fake_a, fake_b,
                                             adversarial=self.adversarial)
        return {k: v if k == "loss" else v.detach() for k, v in terms.items()}

    def lr_factor(self, nimg: int) -> float:
        return self._decay(nimg)

    @torch.no_grad()
    def grid(self, nets: dict[str, nn.Module], seeds: list[int]) -> torch.Tensor:
        """Rows: inputs from A, their translation to B, inputs from B, their translation to A."""
        if self.fixed is None:  # a snapshot before the first step
            return torch.zeros(0)
        a, b = self.fixed
        return torch.cat([a, nets["G_AB"](a), b, nets["G_BA"](b)]).float()

    def reals(self, batch: Any) -> torch.Tensor:
        return torch.cat([batch[0][: len(batch[0]) // 2], batch[1][: len(batch[1]) // 2]])

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {f"pool_{side}.{k}": v for side, pool in self.pools.items() for k, v in pool.state_tensors().items()}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        for side, pool in self.pools.items():
            prefix = f"pool_{side}."
            pool.load_state_tensors({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})

    def labels(self) -> tuple[str, ...]:
        return self.data.domain_names

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "loss": self.config.loss, **translation_meta("cyclegan")}


@RECIPES.register("stargan")
class StarGanRecipe(Recipe):
    """StarGAN (Choi et al.): one G(x, c) for every domain of a labelled set, a critic with
    a domain classifier; WGAN-GP (n_critic 5), classification and reconstruction terms."""

    name = "stargan"
    default_arch: ClassVar[str] = "stargan_generator"
    default_loss: ClassVar[str] = "wgan-gp"
    ema: ClassVar[dict[str, str]] = {}
    export_roles: ClassVar[tuple[str, ...]] = STARGAN_ROLES

    def __init__(self, config, data: DataInfo):
        super().__init__(config, data)
        if data.label_kind != "attributes" or data.num_labels < 2:
            raise ConfigError(f"stargan needs a data set with at least two attribute labels (e.g. "
                              f"synthfaces:64?attrs=Black_Hair,Blond_Hair,Smiling); '{data.name}' has "
                              f"{data.label_kind} labels")
        if config.loss != "wgan-gp":
            raise ConfigError(f"stargan trains with wgan-gp, as in the paper (got --loss {config.loss})")
        self.weights = _weights(config, {"lambda_cls": 1.0, "lambda_rec": 10.0, "lambda_gp": 10.0}, self.name)
        names = data.label_names
        if config.exclusive_groups is None:  # StarGAN's convention: the hair colours are one-of
            group_names = hair_colour_groups(names)
        else:
            group_names = [list(g) for g in config.exclusive_groups]
        try:
            self.groups = group_indices(names, group_names)
        except DomainError as exc:
            raise ConfigError(f"exclusive_groups: {exc}") from None
        self.group_names = group_names
        self.fixed: tuple[torch.Tensor, torch.Tensor] | None = None

    def networks(self) -> dict[str, nn.Module]:
        c = self.config
        res = _resolution(c, self.data, self.name)
        n = self.data.num_labels
        G = build_arch(c.arch, c.G, {"c_dim": n}, {"resolution": res}, self.name)
        depth = min(6, max(1, res.bit_length() - 1))  # 6 stride-2 convs as in the paper; fewer below 64 px
        D = build_arch(c.d_arch or "stargan_discriminator", c.D, {"c_dim": n},
                       {"resolution": res, "n_layers": depth}, self.name)
        return {"G": G, "D": D}

    def phases(self) -> list[Phase]:
        c = self.config
        return [Phase("D", ("D",), self.d_step, lr=c.d_lr, repeat=c.d_steps),
                Phase("G", ("G",), self.g_step, lr=c.g_lr, fresh_data=False)]

    def _unpack(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        real, labels = batch[0], batch[1].float()
        if self.fixed is None:
            k = 1 + self.data.num_labels
            index = torch.arange(k, device=real.device) % real.shape[0]
            self.fixed = (real[index].detach().clone(), labels[index].clone())
        return real, labels

    def d_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> dict[str, torch.Tensor]:
        real, labels = self._unpack(batch)
        w = self.weights
        terms = stargan_discriminator_terms(nets["G"], nets["D"], real, labels,
                                            sample_target_labels(labels, self.groups), self.groups,
                                            lambda_cls=w["lambda_cls"], lambda_gp=w["lambda_gp"], augment=self.augment)
        return {k: v if k == "loss" else v.detach() for k, v in terms.items()}

    def g_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> dict[str, torch.Tensor]:
        real, labels = self._unpack(batch)
        w = self.weights
        terms = stargan_generator_terms(nets["G"], nets["D"], real, labels,
                                        sample_target_labels(labels, self.groups), self.groups,
                                        lambda_cls=w["lambda_cls"], lambda_rec=w["lambda_rec"], augment=self.augment)
        return {k: v if k == "loss" else v.detach() for k, v in terms.items()}

    def _flip(self, labels: torch.Tensor, i: int) -> torch.Tensor:
        """Labels with attribute i set (a group member: the rest of its group cleared) or,
        for an independent attribute, toggled."""
        target = labels.clone()
        group = next((g for g in self.groups if i in g), None)
        if group is None:
            target[:, i] = 1 - target[:, i]
        else:
            target[:, list(group)] = 0
            target[:, i] = 1
        return target

    @torch.no_grad()
    def grid(self, nets: dict[str, nn.Module], seeds: list[int]) -> torch.Tensor:
        """One row per fixed input: the input, then its translation towards each attribute in turn."""
        if self.fixed is None:
            return torch.zeros(0)
        x, labels = self.fixed
        columns = [x] + [nets["G"](x, self._flip(labels, i)) for i in range(self.data.num_labels)]
        return torch.stack(columns, dim=1).flatten(0, 1).float()

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "loss": self.config.loss, **translation_meta("stargan", self.group_names)}

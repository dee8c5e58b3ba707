"""Recipes: what a model family trains, separate from how the loop runs.

A recipe builds the networks from the run config, and describes training as a list of
*phases*. A phase names the networks it updates (they get their own optimiser), how many
times it repeats per training step (k discriminator steps per generator step), whether
each repeat draws a fresh data batch, and a function `run(nets, batch, ctx) -> losses`
whose "loss" the loop back-propagates. The loop (loop.py) owns everything else: devices,
mixed precision, gradient averaging across processes, skipping non-finite steps, EMA
copies, snapshots, logs. A recipe never calls backward() or an optimiser.

Adding a recipe (e.g. an encoder, CycleGAN, StarGAN or a toy 2-D GAN):

    @RECIPES.register("cyclegan")
    class CycleGanRecipe(Recipe):
        ema = {}                                      # no EMA twins, or {"G_AB_ema": "G_AB"}
        export_roles = ("G_AB", "G_BA", "D_A", "D_B")  # what `ganstudio export` writes, in order

        def networks(self):                           # role -> ConfigModule (registered in ARCHS)
            return {"G_AB": ..., "G_BA": ..., "D_A": ..., "D_B": ...}

        def phases(self):
            c = self.config
            return [Phase("G", ("G_AB", "G_BA"), self.g_step, lr=c.g_lr),
                    Phase("D", ("D_A", "D_B"), self.d_step, lr=c.d_lr, fresh_data=False)]

        def g_step(self, nets, batch, ctx):           # batch: the collated data set items, on device
            a, b = batch
            ...
            return {"loss": adv + 10 * cycle, "cycle": cycle.detach()}

        def grid(self, nets, seeds): ...              # images for samples/ (fixed seeds or fixed inputs)
        def reals(self, batch): ...                   # training images for samples/reals.png
        def lr_factor(self, nimg): ...                # optional: a learning-rate schedule
        def state_tensors(self): ...                  # optional: state to snapshot (history pool), and
        def load_state_tensors(self, tensors): ...    # ... how to restore it on resume

Only the networks in a phase's `roles` receive gradients in that phase; the others are
frozen for it, so a phase may run any network forward freely.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from .. import models  # noqa: F401  (importing the package fills ARCHS)
from ..config_io import ConfigError
from ..errors import UserError
from ..latents import z_from_seeds
from ..registry import ARCHS, LOSSES, RECIPES
from .augment import diff_augment, parse_policy, random_affine, random_stroke
from .feature_net import load_feature_net
from .train_config import TrainConfig
from .losses import GanBatch, Losses, class_loss, cluster_loss, discriminate, info_loss, r1_penalty




@dataclass(frozen=True)
class DataInfo:
    """What a recipe needs to know about the training data."""

    name: str
    resolution: int | None
    label_names: tuple[str, ...] = ()
    label_kind: str = "none"  # none | class | attributes
    domain_names: tuple[str, ...] = ()  # unpaired two-domain data: the names of A and B
    factor_names: tuple[str, ...] = ()  # continuous ground-truth factors, when items carry them third

    @property
    def num_labels(self) -> int:
        return len(self.label_names)


def describe_dataset(dataset: Any, name: str) -> DataInfo:
    """Read the data contract's attributes (resolution, label_names, label_kind); a data set
    without them is described from its first item."""
    resolution = getattr(dataset, "resolution", None)
    names = tuple(getattr(dataset, "label_names", ()) or ())
    kind = getattr(dataset, "label_kind", None)
    if resolution is None or kind is None:
        item = dataset[0]
        image, labels = (item[0], item[1] if len(item) > 1 else None) if isinstance(item, (tuple, list)) \
            else (item, None)
        if resolution is None and image.dim() == 3:
            resolution = int(image.shape[-1])
        if kind is None:
            if labels is None or labels.numel() == 0:
                kind = "none"
            else:
                one_hot = bool(((labels == 0) | (labels == 1)).all()) and float(labels.sum()) == 1.0
                kind = "class" if one_hot else "attributes"
            if kind != "none" and not names:
                names = tuple(f"label{i}" for i in range(labels.numel()))
    return DataInfo(name, resolution, names, kind, tuple(getattr(dataset, "domain_names", ()) or ()),
                    tuple(getattr(dataset, "factor_names", ()) or ()))


@dataclass
class StepContext:
    step: int  # training steps completed before this one
    phase_step: int  # updates this phase made before this one (lazy regularisers count these)
    reduce_mean: Callable[[torch.Tensor], torch.Tensor]  # mean over processes (identity when alone)


@dataclass
class Phase:
    name: str  # also the optimiser's name and the prefix of its stats ("D/loss")
    roles: tuple[str, ...]  # networks this phase updates
    run: Callable[[dict[str, nn.Module], Any, StepContext], Losses]
    lr: float
    repeat: int = 1
    fresh_data: bool = True  # False: reuse the batch the previous phase drew
    after_update: Callable[[dict[str, nn.Module]], None] | None = None
    role_lr: dict[str, float] = dataclasses.field(default_factory=dict)  # roles that learn at another lr


def build_arch(name: str, user: dict, required: dict, optional: dict, recipe: str) -> nn.Module:
    """An arch from its registry name: the user's config keys, plus what the recipe needs
    (`required`, an error if the arch has no such option) and what fits (`optional`)."""
    cls = ARCHS.get(name)
    if ARCHS.traits(name).get("trainable") is False:
        raise ConfigError(f"arch '{name}' renders imported networks only and cannot be trained")
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    config = {k: v for k, v in optional.items() if k in fields and v is not None}
    config.update(user)
    for key, value in required.items():
        if key not in fields:
            raise ConfigError(f"recipe '{recipe}' needs arch '{name}' to have a '{key}' option, and it has none")
        if key in user and user[key] != value:
            raise ConfigError(f"recipe '{recipe}' sets {name}.{key}={value}; remove the conflicting --set")
        config[key] = value
    try:
        return cls.from_config(config)
    except (TypeError, ValueError) as exc:  # the arch's own check of its options
        raise ConfigError(f"arch '{name}': {exc}") from None


class Recipe:
    """Base class; see the module docstring for how to write one."""

    name: ClassVar[str] = ""
    default_arch: ClassVar[str | None] = None  # the arch `--arch` means when not given
    default_loss: ClassVar[str | None] = None  # likewise for `--loss`
    ema: ClassVar[dict[str, str]] = {"G_ema": "G"}  # EMA twin role -> the role it follows
    export_roles: ClassVar[tuple[str, ...]] = ("G_ema", "D")
    augments: ClassVar[bool] = True  # False: the recipe has no use for `augment` and refuses it

    def __init__(self, config: TrainConfig, data: DataInfo):
        self.config, self.data = config, data
        try:
            self.policy = parse_policy(config.augment)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.policy and not self.augments:
            raise ConfigError(f"recipe '{self.name}' does not use differentiable augmentation; "
                              f"drop augment={config.augment}")

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """What D sees of real and generated images alike: the config's DiffAugment policy."""
        return diff_augment(images, self.policy)

    def networks(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def grid(self, nets: dict[str, nn.Module], seeds: list[int]) -> torch.Tensor:
        """Images [N, 3, R, R] in [-1, 1] for the sample grid (EMA twins are in `nets`)."""
        raise NotImplementedError

    def reals(self, batch: Any) -> torch.Tensor:
        return batch[0] if isinstance(batch, (tuple, list)) else batch

    def lr_factor(self, nimg: int) -> float:
        """Learning-rate multiplier after `nimg` real images: 1, then over the last `lr_decay` of the
        run (its kimg) linearly down to 0, which lets samples settle on what they approach (the
        toy mixtures' modes sharpen from 84 % to 95 % high-quality samples with it, docs/lab.md)."""
        decay = self.config.lr_decay
        total = self.config.kimg * 1000
        start = total * (1 - decay)
        return 1.0 if not decay or nimg <= start else max(0.0, (total - nimg) / (total - start))

    def start_weights(self, nets: dict[str, nn.Module]) -> None:
        """Weights a new run starts from other than random ones (e.g. a frozen feature network); a
        resumed run takes everything from its snapshot and does not call this."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """State the recipe keeps between steps (e.g. CycleGAN's history pool), saved in snapshots."""
        return {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what state_tensors() returned (on the CPU; move it where it belongs)."""

    def labels(self) -> tuple[str, ...]:
        return self.data.label_names

    def inherited_training(self) -> dict[str, dict]:
        """Exported roles this recipe does not train but takes, frozen, from an earlier model:
        role -> that network's own training length ({"step", "kimg"})."""
        return {}

    def meta(self) -> dict[str, Any]:
        """Extra header fields for exported checkpoints."""
        return {"recipe": self.name, "label_kind": self.data.label_kind}


@dataclass
class Inputs:
    """What a generator is fed for one batch, and what the recipe checks the result against."""

    z: torch.Tensor
    c: torch.Tensor | None = None  # generator condition
    d_c: torch.Tensor | None = None  # condition the discriminator sees with these fakes
    target: Any = None  # recipe-specific: class labels (ACGAN), codes (InfoGAN)
    ws: torch.Tensor | None = None  # filled in the generator phase: the (style-mixed) ws ...
    fake: torch.Tensor | None = None  # ... and the images made from them, before augmentation


@RECIPES.register("gan")
class GanRecipe(Recipe):
    """Unconditional GAN: any generator and discriminator arch, any objective in LOSSES."""

    name = "gan"

    def __init__(self, config: TrainConfig, data: DataInfo):
        super().__init__(config, data)
        try:
            self.objective = LOSSES.get(config.loss)(**config.loss_args)
        except TypeError as exc:
            raise ConfigError(f"loss_args for '{config.loss}': {exc}") from None
        arch = ARCHS.get(config.arch)  # an unknown arch is reported as such, listing the known ones
        self.d_arch = config.d_arch or arch.discriminator
        if self.d_arch is None:
            raise ConfigError(f"no default discriminator for arch '{config.arch}'; pass --set d_arch=NAME")
        if ARCHS.traits(self.d_arch).get("needs_feature_net") and not config.d_features:
            raise ConfigError(f"discriminator '{self.d_arch}' judges in a frozen feature network: train one with "
                              "`ganstudio features train` and pass --set d_features=PATH")

    # ----- what varies between the GAN recipes ---------------------------------------------------
    def g_c_dim(self) -> int:
        return 0

    def d_required(self) -> dict[str, Any]:
        return {}

    def d_optional(self) -> dict[str, Any]:
        """D options set when the arch has them (and the user did not)."""
        return {}

    def sample_inputs(self, G: nn.Module, labels: torch.Tensor | None, n: int, device: torch.device) -> Inputs:
        return Inputs(z=torch.randn(n, G.z_dim, device=device))

    def real_condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return None

    def d_terms(self, batch: GanBatch, labels: torch.Tensor | None, inputs: Inputs, losses: Losses) -> None:
        """Add recipe-specific discriminator terms to `losses` in place."""

    def g_terms(self, batch: GanBatch, inputs: Inputs, losses: Losses) -> None:
        """Add recipe-specific generator terms to `losses` in place."""

    def grid_condition(self, n: int, device: torch.device) -> torch.Tensor | None:
        return None

    # ----- the shared machinery -------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        c = self.config
        res = c.resolution or self.data.resolution
        c_dim = self.g_c_dim()
        G = build_arch(c.arch, c.G, {"c_dim": c_dim} if c_dim else {}, {"resolution": res}, self.name)
        D = build_arch(self.d_arch, c.D, self.d_required(), {"resolution": res, **self.d_optional()}, self.name)
        return {"G": G, "D": D}

    def start_weights(self, nets: dict[str, nn.Module]) -> None:
        """A projected discriminator's frozen feature network, from `d_features`."""
        path, D = self.config.d_features, nets["D"]
        if not path:
            return
        if not hasattr(D, "use_feature_net"):
            raise ConfigError(f"d_features is for a discriminator that judges in a feature network "
                              f"(projected_d); '{self.d_arch}' does not")
        try:
            D.use_feature_net(load_feature_net(path))
        except (UserError, ValueError) as exc:
            raise ConfigError(f"d_features {path}: {exc}") from None

    def phases(self) -> list[Phase]:
        c = self.config
        return [
            Phase("D", ("D",), self.d_step, lr=c.d_lr, repeat=c.d_steps,
                  after_update=lambda nets: self.objective.after_d_update(nets["D"])),
            Phase("G", ("G",), self.g_step, lr=c.g_lr, fresh_data=False),
        ]

    def unpack(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(batch, (tuple, list)):
            labels = batch[1] if len(batch) > 1 and batch[1].numel() else None
            return batch[0], labels
        return batch, None

    def mixed_ws(self, G: nn.Module, inputs: Inputs, ctx: StepContext | None = None) -> torch.Tensor:
        """ws for G(z, c), style-mixed with probability `style_mixing`; with `ctx` (the generator
        phase) also track w_avg."""
        cond = {} if inputs.c is None else {"c": inputs.c}
        ws = G.mapping(inputs.z, **cond)
        if ctx is not None and self.config.w_avg_beta < 1 and hasattr(G, "w_avg"):
            with torch.no_grad():
                mean = ctx.reduce_mean(ws[:, 0].detach().float().mean(0))
                new = mean.lerp(G.w_avg.float(), self.config.w_avg_beta)
                G.w_avg.copy_(torch.where(torch.isfinite(new), new, G.w_avg))  # a non-finite w never poisons it
        if self.config.style_mixing > 0 and ws.shape[1] > 1 and float(torch.rand(())) < self.config.style_mixing:
            cutoff = int(torch.randint(1, ws.shape[1], ()))
            other = G.mapping(torch.randn_like(inputs.z), **cond)
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return ws

    def generate(self, G: nn.Module, inputs: Inputs, ctx: StepContext | None = None) -> torch.Tensor:
        """G(z, c) with style mixing and random noise, as in `mixed_ws`."""
        # Fresh noise every step, as StyleGAN trains: a fixed noise map would be one more learned
        # template the generator could paint features from, and they would vanish without it.
        return G.synthesis(self.mixed_ws(G, inputs, ctx), noise_mode="random")

    def d_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> Losses:
        G, D = nets["G"], nets["D"]
        real, labels = self.unpack(batch)
        inputs = self.sample_inputs(G, labels, real.shape[0], real.device)
        with torch.no_grad():
            fake = self.generate(G, inputs)
        gb = GanBatch(D, self.augment(fake), real=self.augment(real),
                      c_real=self.real_condition(labels), c_fake=inputs.d_c)
        losses = self.objective.d_loss(gb)
        self.d_terms(gb, labels, inputs, losses)
        c = self.config
        if c.r1_gamma > 0 and ctx.phase_step % c.r1_interval == 0:
            add_term(losses, "r1", r1_penalty(D, gb.real, gb.c_real), c.r1_gamma / 2 * c.r1_interval)
        return losses

    def g_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> Losses:
        return self.g_adversarial(nets, batch, ctx)[0]

    def g_adversarial(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> tuple[Losses, Inputs]:
        """The generator's adversarial loss and the recipe's `g_terms` on fresh fakes; the returned
        inputs hold what was generated (`ws`, `fake`) for recipes that add terms of their own."""
        G, D = nets["G"], nets["D"]
        real, labels = self.unpack(batch)
        inputs = self.sample_inputs(G, labels, real.shape[0], real.device)
        inputs.ws = self.mixed_ws(G, inputs, ctx)
        inputs.fake = G.synthesis(inputs.ws, noise_mode="random")
        gb = GanBatch(D, self.augment(inputs.fake), real=self.augment(real),
                      c_real=self.real_condition(labels), c_fake=inputs.d_c)
        losses = self.objective.g_loss(gb)
        self.g_terms(gb, inputs, losses)
        return losses, inputs

    @torch.no_grad()
    def grid(self, nets: dict[str, nn.Module], seeds: list[int]) -> torch.Tensor:
        G = nets["G_ema"]
        device = G.w_avg.device if hasattr(G, "w_avg") else next(G.parameters()).device
        z = z_from_seeds(seeds, G.z_dim).to(device)
        c = self.grid_condition(len(seeds), device)
        ws = G.mapping(z) if c is None else G.mapping(z, c=c)
        return G.synthesis(ws).float()

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "loss": self.config.loss}


def add_term(losses: Losses, name: str, term: Losses, weight: float = 1.0) -> None:
    """losses["loss"] += weight * term["loss"]; the term and its details are logged under `name`."""
    losses["loss"] = losses["loss"] + weight * term["loss"]
    losses[name] = term["loss"].detach()
    for key, value in term.items():
        if key != "loss":
            losses[f"{name}_{key}"] = value.detach()


def _grid_labels(data: DataInfo, n: int, device: torch.device) -> torch.Tensor:
    """Grid conditions: classes in turn, or for attributes the bit patterns of 0, 1, 2, ..."""
    k = data.num_labels
    index = torch.arange(n, device=device)
    if data.label_kind == "class":
        return torch.nn.functional.one_hot(index % k, k).float()
    return ((index.unsqueeze(1) >> torch.arange(k, device=device)) & 1).float()


class _LabelledRecipe(GanRecipe):
    """A GAN whose generator is conditioned on the data set's labels. It counts the labels it
    trains on, so that its checkpoints carry how often each attribute is on (the studio draws a
    seed's condition from that)."""

    def __init__(self, config: TrainConfig, data: DataInfo):
        super().__init__(config, data)
        if data.label_kind == "none" or not data.num_labels:
            raise ConfigError(f"recipe '{self.name}' needs a labelled data set; '{data.name}' has no labels")
        self.label_counts = torch.zeros(data.num_labels + 1, dtype=torch.float64)  # per label, then images

    def g_c_dim(self) -> int:
        return self.data.num_labels

    def sample_inputs(self, G: nn.Module, labels: torch.Tensor | None, n: int, device: torch.device) -> Inputs:
        # Fakes are conditioned on the labels of the real batch, so they follow the data's label mix.
        z = torch.randn(n, G.z_dim, device=device)
        c = labels.float()
        self.label_counts = self.label_counts.to(c.device)  # counted where the labels are: no sync per step
        self.label_counts[:-1] += c.detach().sum(0)
        self.label_counts[-1] += len(c)
        return Inputs(z=z, c=c, d_c=self.real_condition(c), target=c)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"label_counts": self.label_counts.cpu().clone()}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        if "label_counts" in tensors:  # runs from before the count start counting on resume
            self.label_counts = tensors["label_counts"].double().clone()

    def meta(self) -> dict[str, Any]:
        counts = self.label_counts.cpu()
        seen = float(counts[-1])
        if self.data.label_kind != "attributes" or not seen:
            return super().meta()
        frequencies = (counts[:-1] / seen).tolist()
        return {**super().meta(), "label_frequencies": {name: round(f, 4) for name, f in
                                                          zip(self.data.label_names, frequencies)}}

    def grid_condition(self, n: int, device: torch.device) -> torch.Tensor:
        return _grid_labels(self.data, n, device)


@RECIPES.register("cgan")
class ConditionalGanRecipe(_LabelledRecipe):
    """Conditional GAN (Mirza & Osindero): G(z, c) and D(x, c) both see the labels. With
    `cgan_class_weight`, D also has a class head learnt on real images only and G is asked to
    make its fakes read as c there (StarGAN's classification term): the projection alone lets G
    take an attribute from z and ignore c, so long as the attribute's share matches the data."""

    name = "cgan"

    def d_required(self) -> dict[str, Any]:
        weight = self.config.cgan_class_weight
        return {"c_dim": self.data.num_labels, **({"n_classes": self.data.num_labels} if weight > 0 else {})}

    def d_optional(self) -> dict[str, Any]:
        return {"conditioning": "projection"}

    def d_terms(self, batch: GanBatch, labels: torch.Tensor | None, inputs: Inputs, losses: Losses) -> None:
        if self.config.cgan_class_weight > 0:
            add_term(losses, "cls_real", class_loss(batch.d_real()["class_logits"], labels, self.data.label_kind),
                     self.config.cgan_class_weight)

    def g_terms(self, batch: GanBatch, inputs: Inputs, losses: Losses) -> None:
        if self.config.cgan_class_weight > 0:
            add_term(losses, "cls", class_loss(batch.d_fake()["class_logits"], inputs.target, self.data.label_kind),
                     self.config.cgan_class_weight)

    def real_condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return None if labels is None else labels.float()


@RECIPES.register("acgan")
class ACGanRecipe(_LabelledRecipe):
    """ACGAN (Odena et al.): G(z, c); D sees only images and also predicts their class. D
    minimises the class loss on reals and fakes, G the class loss on its fakes."""

    name = "acgan"

    def d_required(self) -> dict[str, Any]:
        return {"n_classes": self.data.num_labels}

    def d_terms(self, batch: GanBatch, labels: torch.Tensor | None, inputs: Inputs, losses: Losses) -> None:
        kind, w = self.data.label_kind, self.config.ac_weight
        add_term(losses, "cls_real", class_loss(batch.d_real()["class_logits"], labels, kind), w)
        add_term(losses, "cls_fake", class_loss(batch.d_fake()["class_logits"], inputs.target, kind), w)

    def g_terms(self, batch: GanBatch, inputs: Inputs, losses: Losses) -> None:
        term = class_loss(batch.d_fake()["class_logits"], inputs.target, self.data.label_kind)
        add_term(losses, "cls", term, self.config.ac_weight)


@RECIPES.register("infogan")
class InfoGanRecipe(GanRecipe):
    """InfoGAN (Chen et al.): G(z, c) with latent codes c (categorical and uniform continuous)
    and a Q head on D that recovers them; both players minimise lambda * (Q's code
    reconstruction loss), a lower bound on the mutual information I(c; G(z, c))."""

    name = "infogan"

    def g_c_dim(self) -> int:
        return sum(self.config.info_cat) + self.config.info_cont

    def d_required(self) -> dict[str, Any]:
        return {"q_categorical": tuple(self.config.info_cat), "q_continuous": self.config.info_cont}

    def _codes(self, cat: torch.Tensor, cont: torch.Tensor) -> torch.Tensor:
        parts = [torch.nn.functional.one_hot(cat[:, i], k).float() for i, k in enumerate(self.config.info_cat)]
        return torch.cat(parts + [cont], dim=1)

    def sample_inputs(self, G: nn.Module, labels: torch.Tensor | None, n: int, device: torch.device) -> Inputs:
        cat = torch.stack([torch.randint(0, k, (n,), device=device) for k in self.config.info_cat], 1) \
            if self.config.info_cat else torch.zeros(n, 0, dtype=torch.long, device=device)
        cont = torch.rand(n, self.config.info_cont, device=device) * 2 - 1
        z = torch.randn(n, G.z_dim, device=device)
        return Inputs(z=z, c=self._codes(cat, cont), target=(cat, cont))

    def _info(self, batch: GanBatch, inputs: Inputs) -> Losses:
        cat, cont = inputs.target
        outputs = batch.d_fake()
        if self.config.info_invariant and self.config.info_cat:
            turned = discriminate(batch.D, self._copy(batch.fake), batch.c_fake)
            outputs = {**outputs, "q_cat_logits": turned["q_cat_logits"]}
        return info_loss(outputs, cat, cont, tuple(self.config.info_cat), self.config.info_learn_std,
                         self.config.info_cont_weight)

    def _copy(self, images: torch.Tensor) -> torch.Tensor:
        """The second view Q reads c1 from: turned, zoomed and shifted, and with info_stroke drawn with a
        thicker or thinner pen, so neither pose nor pen can carry the code (only the shape)."""
        copy = random_affine(images)
        return random_stroke(copy) if self.config.info_stroke else copy

    def d_terms(self, batch: GanBatch, labels: torch.Tensor | None, inputs: Inputs, losses: Losses) -> None:
        add_term(losses, "info", self._info(batch, inputs), self.config.info_lambda)
        if self.config.info_cluster > 0 and self.config.info_cat:
            add_term(losses, "cluster", self._cluster(batch), self.config.info_cluster)

    def _cluster(self, batch: GanBatch) -> Losses:
        """Q's first categorical code on real images: each read the same as a turned copy, and every
        value used equally, so Q's values split the data into its natural classes, which the info
        term then makes G draw one per value."""
        k = self.config.info_cat[0]
        copy = discriminate(batch.D, self._copy(batch.real), batch.c_real)
        return cluster_loss(batch.d_real()["q_cat_logits"][:, :k], copy["q_cat_logits"][:, :k])

    def g_terms(self, batch: GanBatch, inputs: Inputs, losses: Losses) -> None:
        add_term(losses, "info", self._info(batch, inputs), self.config.info_lambda)

    def grid_condition(self, n: int, device: torch.device) -> torch.Tensor:
        """Rows of the grid walk the first categorical code; continuous codes stay at 0."""
        index = torch.arange(n, device=device)
        cat = torch.stack([index % k if i == 0 else torch.zeros_like(index)
                           for i, k in enumerate(self.config.info_cat)], 1) \
            if self.config.info_cat else torch.zeros(n, 0, dtype=torch.long, device=device)
        return self._codes(cat, torch.zeros(n, self.config.info_cont, device=device))

    def labels(self) -> tuple[str, ...]:
        return ()

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "info_cat": list(self.config.info_cat), "info_cont": self.config.info_cont}

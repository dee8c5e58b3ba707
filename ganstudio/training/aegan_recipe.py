"""The `aegan` recipe: a GAN trained together with an encoder E: image -> w+ (autoencoding GAN).

The adversarial game is the `gan` recipe's, unchanged. On top of it, every `ae_interval`
generator steps (lazily, scaled by the interval, as lazy R1 is), G and E share three terms:

* reconstruction of real images, |G(E(x)) - x|, L1 over a 4-level image pyramid: every real
  face must be reachable from some w, which pulls G towards the faces it would otherwise drop
  (recall) and gives it a dense, per-pixel signal instead of D's single verdict;
* latent reconstruction on G's own samples, |E(G(w)) - w|^2 (style-mixed w+): what G draws
  must carry its w, so the features come from w and not from the noise inputs, and E
  learns to invert G where the studio's sliders and inversion work;
* optionally (`ae_labels` > 0, on labelled data) supervised units, as in semi-supervised
  StyleGAN (Nie et al., 2020): w unit i is tied to label i (the attribute labels, then the
  continuous ground-truth factors where the data set has them) by maximising their
  correlation over the batch. Correlation fixes neither scale nor offset, so a unit is free
  to take whatever range G needs; what it may not do is carry anything but its label. With the
  latent reconstruction above, G must then draw unit i's label from unit i alone, which is
  what a slider (and DCI / MIG) asks of a code. The header's `supervised_units` names them.
* optionally (`ae_edit` > 0, with `ae_labels`) the slider term: a step of `ae_edit_step`
  standard deviations along w unit i, towards the other side of label i, must flip label i and
  no other in the eyes of `ae_labeller`, a frozen attribute classifier trained on real images
  (`ganstudio judge train`; not the judge that referees the edits afterwards). The supervised
  units alone let G and E agree on a code the eye does not see (E reads unit i back from a
  faint texture); a classifier outside the pair asks G to draw the label the way real faces
  show it. The hair colours form one group: switching to one must switch the others off.
* optionally (`ae_prior` > 0) the mapping's w matched to E's codes of real images, unit by
  unit (mean and spread over the batch; E's side held fixed), as ALAE ties its latent
  distributions: nothing else makes G's w land on an attribute's side as often as real faces
  do, and without it a unit's spread can grow to several times that of the real codes. A
  style mapping learns at `mapping_lr_mul` (0.01) of the lr, so it moves slowly whatever the
  weight (Adam's steps do not grow with it; the face model's card has the measurement).

It is Larsen et al.'s VAE-GAN (the lecture notes' "VAE-GAN") without the KL term, with the
cycle of ALICE (Li et al., 2017) in both directions. The judge never enters training.
E has plain layers, so it learns at `e_lr` (default g_lr / 5). The export holds G_ema, D and E,
the complete unit the studio serves (sample, edit, invert).

    ganstudio train aegan --data synthfaces:64 --set amp=bf16 G.noise_max_res=16
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ..config_io import ConfigError
from ..domains import hair_colour_groups
from ..models.encoder import Encoder, EncoderConfig
from .losses import Losses
from ..registry import RECIPES
from .recipes import DataInfo, GanRecipe, Phase, StepContext, add_term
from .train_config import TrainConfig

PYRAMID_LEVELS = 4  # 64, 32, 16 and 8 px for a 64 px model
EDIT_SAMPLES = 8  # samples of each batch that the slider term edits (one unit each)


def pyramid_l1(image: torch.Tensor, target: torch.Tensor, levels: int = PYRAMID_LEVELS) -> torch.Tensor:
    """Mean absolute difference at full size and at each 2x average-pooled size, summed: the
    coarse levels weigh the layout of a face as much as the finest weighs its edges."""
    total = (image - target).abs().mean()
    for _ in range(levels - 1):
        if image.shape[-1] < 2:
            break
        image, target = F.avg_pool2d(image, 2), F.avg_pool2d(target, 2)
        total = total + (image - target).abs().mean()
    return total


@RECIPES.register("aegan")
class AutoencodingGanRecipe(GanRecipe):
    name = "aegan"
    export_roles: ClassVar[tuple[str, ...]] = ("G_ema", "D", "E")

    def __init__(self, config: TrainConfig, data: DataInfo):
        super().__init__(config, data)
        if data.resolution is None:
            raise ConfigError(f"recipe 'aegan' trains on images; '{data.name}' has none")
        if config.ae_labels > 0 and data.label_kind != "attributes" and not data.factor_names:
            raise ConfigError(f"ae_labels needs a data set with attribute labels or factors; '{data.name}' has "
                              f"{data.label_kind if data.label_kind != 'none' else 'none'}")
        self.units = (self.supervised_names() if config.ae_labels > 0 else ())
        if config.ae_edit > 0 and not (self.units and config.ae_labeller):
            raise ConfigError("ae_edit (the slider term) needs ae_labels > 0 (units tied to the labels) and "
                              "ae_labeller (a classifier checkpoint from `ganstudio judge train`)")
        self._labeller: nn.Module | None = None

    def supervised_names(self) -> tuple[str, ...]:
        """What w units 0, 1, ... are tied to: the attribute labels, then the factors."""
        return (self.data.label_names if self.data.label_kind == "attributes" else ()) + self.data.factor_names

    def networks(self) -> dict[str, nn.Module]:
        nets = super().networks()
        G = nets["G"]
        if len(self.units) > G.w_dim:
            raise ConfigError(f"ae_labels ties {len(self.units)} labels to w units, but w has {G.w_dim}; "
                              f"raise G.w_dim (and G.z_dim)")
        options = {"resolution": G.resolution, "code_dim": G.w_dim, "num_ws": G.num_ws, "space": "w+",
                   **self.config.E}
        try:
            nets["E"] = Encoder(EncoderConfig(**options))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"encoder options (--set E.*): {exc}") from None
        return nets

    def phases(self) -> list[Phase]:
        d_phase, g_phase = super().phases()
        c = self.config
        g_phase.roles = ("G", "E")
        g_phase.role_lr = {"E": c.e_lr if c.e_lr is not None else c.g_lr / 5}
        return [d_phase, g_phase]

    def g_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> Losses:
        losses, inputs = self.g_adversarial(nets, batch, ctx)
        c = self.config
        if ctx.phase_step % c.ae_interval:
            return losses
        G, E = nets["G"], nets["E"]
        real = self.reals(batch)
        codes = E(real)
        if c.ae_pixel > 0:
            recon = G.synthesis(codes, noise_mode="random")
            add_term(losses, "ae_pixel", {"loss": pyramid_l1(recon.float(), real.float())}, c.ae_pixel * c.ae_interval)
        if c.ae_latent > 0:
            latent = F.mse_loss(E(inputs.fake).float(), inputs.ws.detach().float())
            add_term(losses, "ae_latent", {"loss": latent}, c.ae_latent * c.ae_interval)
        if self.units:
            targets = self.label_targets(batch)
            term = 1 - batch_correlation(codes.mean(1)[:, : targets.shape[1]].float(), targets)
            add_term(losses, "ae_labels", {"loss": term}, c.ae_labels * c.ae_interval)
        if c.ae_prior > 0:  # row 0 of w+ is the first z's w whether or not the styles were mixed
            prior = moment_gap(inputs.ws[:, 0].float(), codes.mean(1).detach().float())
            add_term(losses, "ae_prior", {"loss": prior}, c.ae_prior * c.ae_interval)
        if c.ae_edit > 0:
            term = self.slider_term(G, inputs.ws.detach(), ctx.step)
            add_term(losses, "ae_edit", {"loss": term}, c.ae_edit * c.ae_interval)
        return losses

    def labeller(self, device: torch.device) -> nn.Module:
        """The frozen classifier of the slider term, loaded once; its labels must be the units'."""
        if self._labeller is None:
            from ..metrics.judge import JudgeError, load_judge

            try:
                model, names = load_judge(self.config.ae_labeller, device)
            except JudgeError as exc:
                raise ConfigError(f"ae_labeller: {exc}") from None
            attributes = [n for n in self.units if n in names]
            if list(self.units[: len(attributes)]) != attributes or not attributes:
                raise ConfigError(f"ae_labeller {self.config.ae_labeller} decides {names}; the units are "
                                  f"{list(self.units)}")
            self._labeller = model.eval().requires_grad_(False)
        return self._labeller

    def slider_term(self, G: nn.Module, ws: torch.Tensor, step: int) -> torch.Tensor:
        """Binary cross-entropy of the labeller's verdicts on EDIT_SAMPLES samples, each pushed
        along one unit (unit i for sample i, cycling with the step): the unit's label towards its
        other side, every other label (outside its exclusive group) towards its verdict before."""
        labeller = self.labeller(ws.device)
        n = min(len(ws), EDIT_SAMPLES)
        ws = ws[:n]
        names = list(self.units[: labeller.head.out_features])
        k = (torch.arange(n, device=ws.device) + step * n) % len(names)
        with torch.no_grad():
            before = labeller(G.synthesis(ws, noise_mode="const").float())  # [n, K] logits
        side = (before.gather(1, k[:, None]) > 0).float()  # 1: the label is on; the step turns it off
        spread = ws[:, 0, : len(names)].std(0).clamp_min(1e-3) if n > 1 else ws.new_ones(len(names))
        step_size = self.config.ae_edit_step * spread[k] * (1 - 2 * side[:, 0])
        pushed = ws.clone()
        pushed[torch.arange(n), :, k] += step_size[:, None]
        after = labeller(G.synthesis(pushed, noise_mode="const").float())
        keep = torch.ones(n, len(names), device=ws.device)
        for group in hair_colour_groups(names):
            members = torch.tensor([names.index(g) for g in group], device=ws.device)
            in_group = torch.isin(k, members)
            keep[in_group.nonzero()[:, 0][:, None], members[None]] = 0
        keep[torch.arange(n), k] = 0
        target = torch.sigmoid(before)
        target[torch.arange(n), k] = 1 - side[:, 0]
        weight = keep.clone()
        weight[torch.arange(n), k] = keep.shape[1] - 1  # the named label weighs as much as all the others
        bce = F.binary_cross_entropy_with_logits(after, target, reduction="none")
        return (bce * weight).sum() / weight.sum()

    def label_targets(self, batch: Any) -> torch.Tensor:
        """[B, units]: the batch's attribute labels and factors, in `supervised_names` order."""
        parts = []
        if self.data.label_kind == "attributes":
            parts.append(batch[1])
        if self.data.factor_names:
            parts.append(batch[2])
        return torch.cat([p.float() for p in parts], dim=1)

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "supervised_units": list(self.units)}


def moment_gap(codes: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean over units of the squared differences of the batch means and standard deviations:
    zero when every unit of `codes` is spread as that unit of `reference` is."""
    mean_gap = (codes.mean(0) - reference.mean(0)).square()
    std_gap = (codes.std(0) - reference.std(0)).square()
    return (mean_gap + std_gap).mean()


def batch_correlation(codes: torch.Tensor, targets: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Mean Pearson correlation of codes[:, i] with targets[:, i] over the batch, over the columns
    whose target varies in this batch (a rare attribute may be absent from one)."""
    c = codes - codes.mean(0)
    t = targets - targets.mean(0)
    t_norm = t.norm(dim=0)
    varies = t_norm > eps
    if not bool(varies.any()):
        return codes.sum() * 0  # nothing to correlate with; keep the graph
    corr = (c * t).sum(0) / (c.norm(dim=0) * t_norm + eps)
    return corr[varies].mean()

"""The `aegan` recipe: a GAN trained together with an encoder E: image -> w+ (autoencoding GAN).

The adversarial game is the `gan` recipe's, unchanged. On top of it, every `ae_interval`
generator steps (lazily, scaled by the interval, as lazy R1 is), G and E share three terms:

* reconstruction of real images, |G(E(x)) - x|, L1 over a 4-level image pyramid: every real
  face must be reachable from some w, which pulls G towards the faces it would otherwise drop
  (recall) and gives it a dense, per-pixel signal instead of D's single verdict;
* latent reconstruction on G's own samples, |E(G(w)) - w|^2 (style-mixed w+): what G draws
  must carry its w, so the features come from w and not from the noise inputs, and E
  learns to invert G where the studio's sliders and inversion work;
* optionally (`ae_labels` > 0, on data sets with attribute labels) a linear attribute head on
  E's code, trained with the labels of the real faces, so the attributes are linear in w:
  each row of the head is then a direction the Edit tab can use.

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

from ..config import ConfigError
from ..models.encoder import Encoder, EncoderConfig
from .losses import Losses
from .recipes import RECIPES, DataInfo, GanRecipe, Phase, StepContext, add_term
from .config import TrainConfig

PYRAMID_LEVELS = 4  # 64, 32, 16 and 8 px for a 64 px model


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
        if config.ae_labels > 0 and data.label_kind != "attributes":
            raise ConfigError(f"ae_labels needs a data set with attribute labels; '{data.name}' has "
                              f"{data.label_kind if data.label_kind != 'none' else 'none'}")

    def networks(self) -> dict[str, nn.Module]:
        nets = super().networks()
        G = nets["G"]
        options = {"resolution": G.resolution, "code_dim": G.w_dim, "num_ws": G.num_ws, "space": "w+",
                   "attributes": self.data.num_labels if self.config.ae_labels > 0 else 0, **self.config.E}
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
        real, labels = self.unpack(batch)
        codes = E(real)
        if c.ae_pixel > 0:
            recon = G.synthesis(codes, noise_mode="random")
            add_term(losses, "ae_pixel", {"loss": pyramid_l1(recon.float(), real.float())}, c.ae_pixel * c.ae_interval)
        if c.ae_latent > 0:
            latent = F.mse_loss(E(inputs.fake).float(), inputs.ws.detach().float())
            add_term(losses, "ae_latent", {"loss": latent}, c.ae_latent * c.ae_interval)
        if c.ae_labels > 0 and labels is not None:
            logits = E.attribute_logits(codes).float()
            term = F.binary_cross_entropy_with_logits(logits, labels.float())
            add_term(losses, "ae_labels", {"loss": term}, c.ae_labels * c.ae_interval)
        return losses

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "ae_labels": self.config.ae_labels > 0}

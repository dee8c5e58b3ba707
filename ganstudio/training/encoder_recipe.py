"""The `encoder` recipe: learn E: image -> w+ against a frozen, already trained generator.

Two terms, as in the seed's "Intelligent Photo Editing" and its successors:

* latent regression on generated pairs: ||E(G(w)) - w||^2, with style-mixed w+ so every row
  is exercised;
* reconstruction of real images: pixel MSE + a perceptual term on the model's own
  discriminator features (no downloaded networks), ||G(E(x)) - x||. A generator that came
  without its discriminator (an imported G_ema) gets an L1 over an image pyramid instead.

The frozen G_ema and D (when there is one) travel with E in snapshots and in the export, so
the exported file is the complete model unit the studio serves (generate, invert, edit). A
conditional generator is told conditions drawn as the studio draws a seed's, and its labels and
condition fields travel into the export too.

    ganstudio train encoder --generator checkpoints/faces.safetensors --data synthfaces:64
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .. import checkpoint
from ..config_io import ConfigError
from ..editing.conditions import ConditionSpec
from ..latents import z_from_seeds
from ..models.encoder import Encoder, EncoderConfig
from ..registry import RECIPES
from .aegan_recipe import pyramid_l1
from .recipes import Phase, Recipe, StepContext

DEFAULT_WEIGHTS = {"latent": 1.0, "pixel": 1.0, "perceptual": 0.5}
CONDITION_FIELDS = ("label_kind", "label_frequencies", "info_cat", "info_cont")  # what ConditionSpec.of reads


@RECIPES.register("encoder")
class EncoderRecipe(Recipe):
    name = "encoder"
    default_arch: ClassVar[str] = "encoder"
    ema: ClassVar[dict[str, str]] = {}
    export_roles: ClassVar[tuple[str, ...]] = ("G_ema", "D", "E")
    augments: ClassVar[bool] = False

    def __init__(self, config, data):
        super().__init__(config, data)
        if not config.generator:
            raise ConfigError("the encoder recipe needs --generator MODEL (a checkpoint with G_ema or G, and "
                              "preferably D)")
        unknown = set(config.loss_args) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ConfigError(f"encoder loss_args: unknown {', '.join(sorted(unknown))}; known: "
                              f"{', '.join(DEFAULT_WEIGHTS)}")
        self.weights = {**DEFAULT_WEIGHTS, **config.loss_args}

    def networks(self) -> dict[str, nn.Module]:
        try:
            source = checkpoint.load(self.config.generator)
        except checkpoint.CheckpointError as exc:
            raise ConfigError(f"--generator: {exc}") from None
        G = source.networks.get("G_ema") or source.networks.get("G")
        D = source.networks.get("D")
        if G is None or not hasattr(G, "num_ws"):
            raise ConfigError(f"--generator {self.config.generator}: needs a style generator (G_ema or G)")
        if D is None:  # the perceptual term falls back to a pyramid L1; the export has no D either
            self.export_roles = ("G_ema", "E")
        if self.data.resolution and self.data.resolution != G.resolution:
            raise ConfigError(f"--generator makes {G.resolution} px images but the data is {self.data.resolution} px")
        options = {"resolution": G.resolution, "code_dim": G.w_dim, "num_ws": G.num_ws, "space": "w+",
                   **self.config.G}
        try:
            E = Encoder(EncoderConfig(**options))
        except TypeError as exc:
            raise ConfigError(f"encoder options (--set G.*): {exc}") from None
        with torch.no_grad():
            E.center.copy_(G.w_avg)
        self.source_meta = {"generator": str(self.config.generator), "generator_dataset": source.info.dataset or ""}
        self.spec = ConditionSpec.of(G, source.info.meta, source.info.labels)
        if self.spec is not None:
            self.source_meta.update({k: source.info.meta[k] for k in CONDITION_FIELDS if k in source.info.meta})
            self.source_meta["generator_recipe"] = source.info.meta.get("recipe")
            self.source_labels = tuple(source.info.labels)
        frozen = {"G_ema": "G_ema" if "G_ema" in source.networks else "G", **({"D": "D"} if D is not None else {})}
        self.source_training = {role: source.info.networks[theirs].trained
                                or {"step": source.info.step, "kimg": source.info.kimg}
                                for role, theirs in frozen.items()}
        return {"G_ema": G.requires_grad_(False), "E": E, **({"D": D.requires_grad_(False)} if D is not None else {})}

    def phases(self) -> list[Phase]:
        return [Phase("E", ("E",), self.step, lr=self.config.g_lr)]

    def _conditions(self, seeds: list[int], device: torch.device) -> torch.Tensor | None:
        return None if self.spec is None else self.spec.seed_vectors(seeds).to(device)

    def _generated_pairs(self, G: nn.Module, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            seeds = torch.randint(0, 2**31 - 1, (2, n)).tolist() if self.spec is not None else [[], []]
            ws = G.mapping(torch.randn(n, G.z_dim, device=device), c=self._conditions(seeds[0], device))
            other = G.mapping(torch.randn(n, G.z_dim, device=device), c=self._conditions(seeds[1], device))
            cutoff = torch.randint(1, G.num_ws + 1, (n, 1, 1), device=device)
            rows = torch.arange(G.num_ws, device=device).view(1, -1, 1)
            ws = torch.where(rows < cutoff, ws, other)  # style-mixed w+, one cutoff per sample
            return G.synthesis(ws), ws

    def step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext) -> dict[str, torch.Tensor]:
        G, D, E = nets["G_ema"], nets.get("D"), nets["E"]
        real = self.reals(batch)
        fake, ws = self._generated_pairs(G, real.shape[0], real.device)
        latent = F.mse_loss(E(fake), ws)
        recon = G.synthesis(E(real))
        pixel = F.mse_loss(recon, real)
        if D is None:
            perceptual = pyramid_l1(recon, real)
        else:
            with torch.no_grad():
                target_features = D.features(real)
            perceptual = F.mse_loss(D.features(recon), target_features)
        w = self.weights
        loss = w["latent"] * latent + w["pixel"] * pixel + w["perceptual"] * perceptual
        return {"loss": loss, "latent": latent.detach(), "pixel": pixel.detach(), "perceptual": perceptual.detach()}

    @torch.no_grad()
    def grid(self, nets: dict[str, nn.Module], seeds: list[int]) -> torch.Tensor:
        """Top half: generated faces; bottom half: G(E(face)), their reconstructions."""
        G, E = nets["G_ema"], nets["E"]
        half = seeds[: max(1, len(seeds) // 2)]
        z = z_from_seeds(half, G.z_dim).to(G.w_avg.device)
        originals = G.synthesis(G.mapping(z, c=self._conditions(half, z.device)))
        return torch.cat([originals, G.synthesis(E(originals))]).float()

    def inherited_training(self) -> dict[str, dict]:
        # the frozen G_ema and D were trained before, by another run (read from --generator)
        return self.source_training

    def labels(self) -> tuple[str, ...]:
        return self.source_labels if self.spec is not None else super().labels()

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), **self.source_meta}

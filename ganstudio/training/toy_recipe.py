"""The `toy` recipe: an unconditional GAN on 2-D points (the lecture's ring, grid, moons and
spiral, or points from a CSV file), with any objective in LOSSES.

It is the `gan` recipe with the point networks (`mlp2d`, `mlp2d_d`) by default and no EMA
twin (the toy figures show the generator itself, cycling and collapsing included); its
"sample grid" is a picture: D's output as a heat map, real points grey, samples red and the
gradient each sample receives. The playground (ganstudio.lab) trains with this recipe too.

    ganstudio train toy --data toy:ring --loss wgan-gp --kimg 500 --batch 256 --set G.width=256
    ganstudio eval --model runs/00000-toyring-mlp2d/... --data toy:ring
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..config_io import ConfigError
from ..registry import LOSSES
from ..registry import RECIPES
from .recipes import DataInfo, GanRecipe, StepContext
from .train_config import TrainConfig

PLOT_SAMPLES = 1000  # samples in a run's pictures (fixed z, so pictures of a run line up)
PLOT_REALS = 2000  # the most recent real points kept for the pictures


@RECIPES.register("toy")
class ToyRecipe(GanRecipe):
    name = "toy"
    default_arch: ClassVar[str] = "mlp2d"
    ema: ClassVar[dict[str, str]] = {}
    export_roles: ClassVar[tuple[str, ...]] = ("G", "D")
    augments: ClassVar[bool] = False  # 2-D points, not images

    def __init__(self, config: TrainConfig, data: DataInfo):
        if data.resolution is not None:
            raise ConfigError(f"the toy recipe trains on 2-D points (toy:ring, toy:grid, toy:moons, toy:spiral "
                              f"or toy:/path/points.csv), not on {data.resolution} px images")
        pack = int(config.D.get("pack", 1))
        if config.batch % pack:
            raise ConfigError(f"--batch {config.batch} is not a multiple of D.pack={pack}: the packing "
                              f"discriminator judges the batch in packs of {pack} samples")
        super().__init__(config, data)
        self.seen = torch.zeros(0, 2)
        self.view = None

    def d_step(self, nets: dict[str, nn.Module], batch: Any, ctx: StepContext):
        real, _ = self.unpack(batch)
        self.seen = torch.cat([real.detach().float(), self.seen.to(real.device)])[:PLOT_REALS]
        return super().d_step(nets, batch, ctx)

    def plot_inputs(self, G: nn.Module, n: int = PLOT_SAMPLES) -> torch.Tensor:
        device = next(G.parameters()).device
        return torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(0)).to(device)

    def meta(self) -> dict[str, Any]:
        """What the playground needs to continue a shipped or exported model where it stopped."""
        c = self.config
        return {**super().meta(), "toy": {"loss": c.loss, "loss_args": dict(c.loss_args), "d_steps": c.d_steps,
                                          "g_lr": c.g_lr, "d_lr": c.d_lr, "optimizer": c.optimizer,
                                          "batch": c.batch, "seed": c.seed, "lr_decay": c.lr_decay,
                                          "r1_gamma": c.r1_gamma or 0.0}}

    @torch.no_grad()
    def grid(self, nets: dict[str, nn.Module], seeds: list[int]) -> torch.Tensor:
        """The run's picture as one image [1, 3, S, S] (the seeds are not used: points need many)."""
        from ..imaging import from_pil
        from ..plots import View
        from .toy_pictures import render_frame

        G, D = nets["G"], nets["D"]
        fake = G(self.plot_inputs(G)).float()
        real = self.seen if len(self.seen) else fake[:0]
        if self.view is None and len(real):
            self.view = View.around(real.cpu().numpy())
        view = self.view or View.around(fake.cpu().numpy())
        image = render_frame(D, self.objective, real, fake, view,
                             probability=LOSSES.get(self.config.loss).probability)
        return from_pil(image).unsqueeze(0)

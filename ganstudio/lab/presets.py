"""The lab's presets by name: settings that show one of the lecture's figures (mode collapse,
a remedy) within a few thousand steps. Plain data, no torch, so the command line lists them
(`ganstudio train toy --preset NAME`) before anything heavy is imported; the Playground offers
the same ones. Measured with benchmarks/lab_presets.py (numbers in docs/lab.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .toy import ToySettings


@dataclass(frozen=True)
class Preset:
    options: dict[str, Any]  # ToySettings fields
    steps: int  # how long the figure takes to appear
    about: str

    @property
    def settings(self) -> "ToySettings":
        from .toy import ToySettings

        return ToySettings(**self.options, run_steps=self.steps)

    def train_changes(self) -> dict[str, Any]:
        """The config fields of the `ganstudio train toy` run this preset describes."""
        return self.settings.validate().train_changes(self.steps)


# The original GAN with balanced learning rates, which fall linearly to 0 over the second half
# of the run: what the literature's ring and grid figures take on 3x128 MLPs (docs/lab.md)
SETTLING = dict(loss="nonsaturating", d_steps=1, g_lr=1e-3, d_lr=1e-3, g_width=128, g_depth=3, d_width=128,
                d_depth=3, lr_decay=0.5, seed=0)

PRESETS: dict[str, Preset] = {
    "mode collapse": Preset(
        dict(target="ring", loss="nonsaturating", d_steps=1, g_lr=1e-4, d_lr=1e-3, batch=256,
             g_width=128, g_depth=3, d_width=128, d_depth=3, seed=0),
        steps=2000,
        about="The original (non-saturating) GAN on the ring of 8 Gaussians, with D learning ten times "
              "faster than G: D's gradients pull every sample onto the nearest one or two modes, which "
              "it then learns to reject, while the other modes stay empty. Most samples are high "
              "quality, yet only 1-2 of the 8 modes are covered.",
    ),
    "covers all modes": Preset(
        dict(target="ring", loss="wgan-gp", d_steps=5, g_lr=1e-4, d_lr=1e-4, batch=256,
             g_width=128, g_depth=3, d_width=128, d_depth=3, seed=0),
        steps=3000,
        about="WGAN-GP as its paper trains it (5 critic steps per generator step, lr 1e-4, Adam "
              "betas (0, 0.9), gradient penalty 10): the critic's gradients spread the samples over "
              "the whole ring, so every mode is reached (has high-quality samples) within about 1500 "
              "steps. Samples also remain spread between the modes, so the strict coverage (a fair "
              "share per mode) is lower: 3-6 of 8 after 3000 steps.",
    ),
    "grid: all 25 modes": Preset(
        dict(SETTLING, target="grid", batch=256, r1_gamma=0.1),
        steps=15000,
        about="The original GAN with balanced learning rates (1e-3 for G and D, batch 256, 3x128 MLPs) on "
              "the 5x5 grid, the learning rates falling linearly to 0 over the second half of the run: "
              "the samples spread over every mode while the lr is high and settle onto them as it falls. "
              "Without the decay, samples stay scattered between the modes. With R1 (gamma 0.1, a penalty on "
              "D's gradient at real points) every seed of 10 keeps all 25 modes; without it, 4 seeds of 10 "
              "leave 1-4 modes empty.",
    ),
    "grid: plain GAN": Preset(
        dict(SETTLING, target="grid", batch=256, g_lr=2e-4),
        steps=15000,
        about="'grid: all 25 modes' without R1 and with G learning five times slower than D (2e-4 against "
              "1e-3): D keeps rejecting what G has just drawn, G's samples pile onto the modes D last accepted, "
              "and about a third of the grid stays empty: the collapse PacGAN's Table 1 reports for a plain GAN "
              "(17.3 of 25 modes). docs/lab.md has it over 10 seeds.",
    ),
    "ring: plain GAN": Preset(
        dict(SETTLING, target="ring", batch=512),
        steps=15000,
        about="The same recipe on the ring of 8, batch 512: sharp samples, but on some seeds a mode empties "
              "or the modes' shares come out uneven (2 of 10 seeds). Compare with 'ring: PacGAN', which "
              "differs only in D (docs/lab.md has both over 10 seeds).",
    ),
    "ring: PacGAN": Preset(
        dict(SETTLING, target="ring", batch=512, pack=2),
        steps=15000,
        about="'ring: plain GAN' with PacGAN's packing (D judges two samples at once): a generator that "
              "drops a mode is caught by the lack of variety within its packs, so every mode keeps its share.",
    ),
}

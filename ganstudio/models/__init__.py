"""Network architectures. Importing this package registers every arch in ARCHS.

Generators: `stylegan`, `dcgan`, `tiny`, and `stylegan3` (renders imported StyleGAN3 networks
only). Discriminators: `stylegan_d` (residual, any generator), `dcgan_d`, and `projected_d`
(judges images in the space of a frozen `feature_net`). For 2-D points: `mlp2d` and `mlp2d_d`.
A generator arch's usual discriminator is the same name with `_d`.
"""

from . import (  # noqa: F401
    dcgan, discriminator, encoder, feature_net, judge, mlp2d, projected_discriminator, stylegan, stylegan3, tiny,
    translation,
)

"""Network architectures. Importing this package registers every arch in ARCHS.

Generators: `stylegan`, `dcgan`, `tiny`, and `stylegan3` (renders imported StyleGAN3 networks
only). Discriminators: `stylegan_d` (residual, any generator), `dcgan_d`. For 2-D points:
`mlp2d` and `mlp2d_d`. A generator arch's usual discriminator is the same name with `_d`.
"""

from . import dcgan, discriminator, encoder, judge, mlp2d, stylegan, stylegan3, tiny, translation  # noqa: F401

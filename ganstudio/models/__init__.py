"""Network architectures. Importing this package registers every arch in ARCHS.

Generators: `stylegan`, `dcgan`, `tiny`. Discriminators: `stylegan_d` (residual, any generator),
`dcgan_d`. A generator arch's usual discriminator is the same name with `_d`.
"""

from . import dcgan, discriminator, encoder, judge, stylegan, tiny, translation  # noqa: F401

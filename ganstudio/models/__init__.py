"""Network architectures. Importing this package registers every arch in ARCHS."""

from . import discriminator, stylegan, tiny  # noqa: F401

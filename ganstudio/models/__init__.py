"""Network architectures. Importing this package registers every arch in ARCHS."""

from . import stylegan, tiny  # noqa: F401

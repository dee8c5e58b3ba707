"""Network architectures. Importing this package registers every arch in ARCHS."""

from . import encoder, tiny, translation  # noqa: F401

"""Network architectures. Importing this package registers every arch in ARCHS."""

from . import judge, tiny  # noqa: F401

"""Network architectures. Importing this package registers every arch in ARCHS."""

from . import tiny  # noqa: F401
from . import translation  # noqa: F401

"""The one thing every registered network shares: a config dataclass it is built from."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from torch import nn

from ..config import from_dict


class ConfigModule(nn.Module):
    """An nn.Module built from a frozen config dataclass, so checkpoints can rebuild it."""

    Config: ClassVar[type]

    def __init__(self, config: Any):
        super().__init__()
        if not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} needs a {self.Config.__name__}, got {type(config).__name__}")
        self.config = config

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> "ConfigModule":
        return cls(from_dict(cls.Config, data))

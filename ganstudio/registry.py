"""Small decorator registries: the one place a name on a command line or in a
checkpoint header is turned into code. No filename conventions, no class paths."""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """An unknown or duplicate name; the message lists what is known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """Names to plug-ins. A plug-in registers with the traits callers ask about (e.g. a direction
    method's `supervised=True`), so no list elsewhere has to be kept in step with the registry."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._traits: dict[str, dict[str, Any]] = {}

    def register(self, name: str, **traits: Any) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise RegistryError(f"{self.kind} '{name}' is already registered")
            self._items[name] = obj
            self._traits[name] = dict(traits)
            return obj

        return decorate

    def traits(self, name: str) -> dict[str, Any]:
        self.get(name)  # an unknown name is reported as such
        return dict(self._traits[name])

    def having(self, **wanted: Any) -> list[str]:
        """The names whose traits have these values, sorted."""
        return [n for n in self.names() if all(self._traits[n].get(k) == v for k, v in wanted.items())]

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise RegistryError(f"unknown {self.kind} '{name}'; known: {known}") from None

    def name_of(self, obj: object) -> str:
        for name, item in self._items.items():
            if item is obj:
                return name
        raise RegistryError(f"{obj!r} is not a registered {self.kind}")

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


ARCHS: Registry[type] = Registry("arch")
RECIPES: Registry[type] = Registry("recipe")
LOSSES: Registry[Callable] = Registry("loss")
DATASETS: Registry[Callable] = Registry("dataset")
DIRECTIONS: Registry[Callable] = Registry("direction method")

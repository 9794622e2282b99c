"""Registries of image methods (uncertainty, saliency) and the checking of their parameters.

A registry is a plain dict of entries by name with register / get / available and an overwrite guard. Each entry
carries its ImageMethodInfo (label, one-line description, paper, parameters with ranges, direction, cost) from which
the UI builds its controls and explanations, and the function that computes it.
"""
from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from backend.errors import UserInputError
from backend.schemas.image import ImageMethodInfo


class HasInfo(Protocol):
    """An entry of a method registry."""

    @property
    def info(self) -> ImageMethodInfo: ...


Entry = TypeVar("Entry", bound=HasInfo)


class MethodRegistry(Generic[Entry]):
    """Entries by name, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, entry: Entry, *, overwrite: bool = False) -> None:
        """Add an entry; refuses to replace an existing name unless overwrite=True."""
        name = entry.info.name
        if name in self._entries and not overwrite:
            raise ValueError(f"{self.kind} method {name!r} is already registered; pass overwrite=True to replace it")
        self._entries[name] = entry

    def get(self, name: str) -> Entry:
        """The entry, or UserInputError naming the methods there are."""
        try:
            return self._entries[name]
        except KeyError:
            raise UserInputError(f"unknown {self.kind} method {name!r}; choose from "
                                 f"{', '.join(self._entries)}") from None

    def available(self, family: str | None = None) -> list[str]:
        """Names of the methods that work on a network family ("cnn", "vit", "other"); all when None."""
        return [name for name, entry in self._entries.items()
                if family is None or entry.info.needs in ("any", family)]


def resolve_params(info: ImageMethodInfo, given: dict[str, float]) -> dict[str, float]:
    """Every parameter of the method: the given values checked against their ranges, defaults for the rest.

    Integer parameters must be whole numbers. Raises UserInputError naming the parameter and its range.
    """
    known = {p.name: p for p in info.parameters}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise UserInputError(f"{info.label} has no parameter {', '.join(unknown)}; its parameters are "
                             f"{', '.join(known) or 'none'}")
    values = {}
    for name, spec in known.items():
        value = float(given.get(name, spec.default))
        if not spec.minimum <= value <= spec.maximum:
            raise UserInputError(f"{info.label}: {spec.label} must be between {spec.minimum:g} and "
                                 f"{spec.maximum:g}, got {value:g}")
        if spec.kind == "int" and value != int(value):
            raise UserInputError(f"{info.label}: {spec.label} must be a whole number, got {value:g}")
        values[name] = value
    return values

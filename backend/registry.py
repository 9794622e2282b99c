"""One registry for every table of named entries: methods, targets, summaries, models.

A registry keeps entries in registration order, refuses to replace a name by accident, and answers an unknown
name with one error that names the choices, so every page, route and command reports it the same way.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Callable, Generic, Iterable, Iterator, Optional, Sequence, TypeVar

from backend.errors import UserInputError

T = TypeVar("T")


class UnknownNameError(UserInputError):
    """A name no entry of a registry has; the message names the choices there are."""

    def __init__(self, noun: str, name: str, choices: Sequence[str], hint: str = "choose one of") -> None:
        self.noun, self.name, self.choices = noun, name, list(choices)
        listed = ", ".join(self.choices) or "none are registered"
        super().__init__(f"unknown {noun} {name!r}; {hint}: {listed}")


class Registry(Generic[T]):
    """Entries of type T by name (register / get / available) with an overwrite guard.

    noun: what an entry is, in the error for an unknown name ("sequence method", "model").
    key: the entry's name (default: its `name` attribute).
    reserved: names no entry may take (e.g. "all", which selects every entry).
    hint: the words before the list of choices in the error.
    """

    def __init__(self, noun: str, *, key: Callable[[T], str] = attrgetter("name"), reserved: Iterable[str] = (),
                 hint: str = "choose one of") -> None:
        self.noun, self._key, self._reserved, self._hint = noun, key, frozenset(reserved), hint
        self._entries: dict[str, T] = {}

    def register(self, entry: T, *, overwrite: bool = False) -> T:
        """Add an entry and return it; ValueError for a reserved name, or a taken one unless overwrite=True."""
        name = self._key(entry)
        if name in self._reserved:
            raise ValueError(f"{name!r} is reserved; a {self.noun} cannot take it")
        if name in self._entries and not overwrite:
            raise ValueError(f"{self.noun} {name!r} is already registered; pass overwrite=True to replace it")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (no error when there is none)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry called name, or UnknownNameError naming the registered ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.noun, name, list(self._entries), self._hint) from None

    def entries(self, keep: Optional[Callable[[T], bool]] = None) -> list[T]:
        """Entries in registration order, only those `keep` accepts when given."""
        return [entry for entry in self._entries.values() if keep is None or keep(entry)]

    def available(self, keep: Optional[Callable[[T], bool]] = None) -> list[str]:
        """Names of the entries, in registration order, only those `keep` accepts when given."""
        return [self._key(entry) for entry in self.entries(keep)]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

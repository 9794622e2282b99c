"""One kind of method parameter: an integer or a real number in a range, or one of named choices.

Each method table declares its settings as Parameters; `check_parameters` fills in defaults and refuses what is
out of range with a message naming the setting and what is allowed; `info()` is what the UI builds a control from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional, Sequence, Union

from backend.errors import UserInputError
from backend.schemas.common import ParameterInfo

ParameterKind = Literal["int", "float", "choice"]
ParameterValue = Union[int, float, str]


@dataclass(frozen=True)
class Parameter:
    """A setting of a method.

    kind "int" / "float": a number in [minimum, maximum] (inclusive), shown with `step`;
    kind "choice": one of `choices` ({value: explanation}).
    """

    name: str
    label: str
    help: str
    kind: ParameterKind
    default: ParameterValue
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None
    choices: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")
        if self.kind != "choice" and (self.minimum is None or self.maximum is None or self.minimum > self.maximum):
            raise ValueError(f"numeric parameter {self.name!r} needs minimum <= maximum")
        self.check(self.default)

    def check(self, value: object, owner: str = "") -> ParameterValue:
        """The value as this parameter's type if it is allowed, else UserInputError saying what is."""
        where = f"{owner}: " if owner else ""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise UserInputError(f"{where}{self.name} must be one of {', '.join(self.choices)}, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or (self.kind == "int" and value != int(value)) or not self.minimum <= value <= self.maximum:
            noun = "a whole number" if self.kind == "int" else "a number"
            raise UserInputError(f"{where}{self.name} must be {noun} from {self.minimum:g} to {self.maximum:g}, "
                                 f"got {value!r}")
        return int(value) if self.kind == "int" else float(value)

    def info(self) -> ParameterInfo:
        """The public view the UI builds a control from."""
        return ParameterInfo(name=self.name, label=self.label, kind=self.kind, default=self.default, help=self.help,
                             minimum=self.minimum, maximum=self.maximum, step=self.step, choices=dict(self.choices))


def check_parameters(parameters: Sequence[Parameter], given: Mapping[str, object],
                     owner: str = "") -> dict[str, ParameterValue]:
    """Every parameter's value: the given ones checked, defaults for the rest; UserInputError for a name the
    method does not have (naming the ones it has) or a value out of range."""
    known = {p.name: p for p in parameters}
    unknown = sorted(set(given) - set(known))
    if unknown:
        where = f"{owner} has" if owner else "there is"
        raise UserInputError(f"{where} no parameter {', '.join(unknown)}; its parameters are "
                             f"{', '.join(known) or 'none'}")
    return {name: p.check(given.get(name, p.default), owner) for name, p in known.items()}

"""What every image method's registry entry says: names, paper, cost, direction, the network family it needs and
its Parameters, from which the UI builds its controls (`info()`) and a request's values are checked (`check()`).

The two tables are Registry[...] of entries built on ImageMethod: backend.image.uncertainty.UNCERTAINTY_METHODS
(entries add `run`) and backend.image.saliency.SALIENCY_METHODS (entries add `compute`). `works_on(family)`
keeps the entries a network family can run, e.g. `SALIENCY_METHODS.available(keep=works_on("vit"))`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Mapping

from backend.parameters import Parameter, check_parameters
from backend.schemas.image import ImageMethodInfo


@dataclass(frozen=True, kw_only=True)
class ImageMethod:
    """The metadata of an image method. higher_is: how to read a larger value; signed: saliency values can be
    negative (evidence against the target); needs: the kind of network it works on; cost: passes per image."""

    name: str
    label: str
    description: str
    paper: str
    higher_is: Literal["uncertain", "confident", "relevant"]
    cost: str
    parameters: tuple[Parameter, ...] = ()
    signed: bool = False
    needs: Literal["any", "cnn", "vit"] = "any"

    def info(self) -> ImageMethodInfo:
        """The public view the UI builds its controls and explanations from."""
        return ImageMethodInfo(name=self.name, label=self.label, description=self.description, paper=self.paper,
                               cost=self.cost, parameters=[p.info() for p in self.parameters],
                               higher_is=self.higher_is, signed=self.signed, needs=self.needs)

    def check(self, given: Mapping[str, float]) -> dict[str, float]:
        """Every parameter's value as a float: the given ones checked against their ranges (int parameters must
        be whole numbers), defaults for the rest; UserInputError naming the parameter and its range."""
        return {name: float(value) for name, value in check_parameters(self.parameters, given, self.label).items()}


def works_on(family: str) -> Callable[[ImageMethod], bool]:
    """A registry filter: whether a method runs on a network family ("cnn", "vit", "other")."""
    return lambda method: method.needs in ("any", family)

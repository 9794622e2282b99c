"""Per-token measures a heatmap can be coloured by: how to read each, its colour range, its direction.

Colours always mean the same thing: pale = confident, deep red = uncertain, whatever the measure's direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backend.schemas import Alternative, TokenScore

UNCERTAIN_SCALE = [[0.0, "#f7f7f2"], [0.35, "#fdd49e"], [0.7, "#fc8d59"], [1.0, "#d7301f"]]
CONFIDENT_SCALE = [[1.0 - stop, colour] for stop, colour in reversed(UNCERTAIN_SCALE)]


@dataclass(frozen=True)
class Measure:
    """A per-token number with its colour range (values beyond are clipped) and how to read it."""

    key: str
    label: str
    unit: str
    higher_is: str  # "uncertain" or "confident"
    cmin: float
    cmax: float
    explanation: str
    value: Callable[[TokenScore], float]

    @property
    def colorscale(self) -> list:
        """Plotly colour scale that runs pale -> red as the token gets less certain."""
        return UNCERTAIN_SCALE if self.higher_is == "uncertain" else CONFIDENT_SCALE

    @property
    def legend(self) -> str:
        """One line for under the figure: what the colour shows and which way is good."""
        good = "low" if self.higher_is == "uncertain" else "high"
        unit = f" ({self.unit})" if self.unit else ""
        return (f"{self.label}{unit}: {self.explanation} Pale = confident, red = uncertain; {good} is good. "
                f"Colours span {self.cmin:g} to {self.cmax:g}; values beyond are clipped.")


MEASURES: dict[str, Measure] = {
    m.key: m for m in (
        Measure("prob", "Probability", "", "confident", 0.0, 1.0,
                "the model's probability for the token it produced.", lambda t: t.prob),
        Measure("entropy", "Entropy", "nats", "uncertain", 0.0, 4.0,
                "spread of the next-token distribution; 0 = one option, ln 2 = two equal options.",
                lambda t: t.entropy),
        Measure("surprisal", "Surprisal", "nats", "uncertain", 0.0, 6.0,
                "-ln p of the produced token; how surprised the model is by it.", lambda t: -t.logprob),
        Measure("rank", "Rank", "", "uncertain", 1.0, 10.0,
                "position of the produced token in the model's ranking; 1 = its first choice.",
                lambda t: float(t.rank if t.rank is not None else len(t.top_k) + 1)),
        Measure("margin", "Top-2 margin", "", "confident", 0.0, 1.0,
                "p(first choice) - p(second choice); near 0 = a coin toss between two tokens.",
                lambda t: t.margin),
    )
}


def rank_label(token: TokenScore) -> str:
    """The token's rank as shown: "3", or "> 20" when a served model gave only its top 20 and the token is not
    among them (rank None)."""
    return str(token.rank) if token.rank is not None else f"> {len(token.top_k)}"


def entropy_label(token: TokenScore) -> str:
    """The token's entropy in nats as shown: "0.412", or "0.9 (0.3-1.5)" with the bounds of a served model's
    estimate (entropy_bounds [lower, upper], exact when they are equal)."""
    bounds = token.entropy_bounds
    if bounds is None or bounds[1] - bounds[0] < 5e-4:
        return f"{token.entropy:.3f}"
    return f"{token.entropy:.2f} ({bounds[0]:.2f}-{bounds[1]:.2f})"


def is_token(alternative: Alternative, token: TokenScore) -> bool:
    """Whether a top-k alternative is the produced token: by id, or by text where the server gave no ids."""
    if token.id is not None and alternative.id is not None:
        return alternative.id == token.id
    return alternative.text == token.text


def colour_position(measure: Measure, value: float) -> float:
    """Where a value sits on the heatmap's one colour scale (UNCERTAIN_SCALE): 0 = pale (confident), 1 = deep red
    (uncertain); the measure's range maps linearly, values beyond are clipped, confident-is-high measures are
    turned around. One scale for every measure lets a browser-side switch restyle the colours alone."""
    share = min(1.0, max(0.0, (value - measure.cmin) / (measure.cmax - measure.cmin)))
    return share if measure.higher_is == "uncertain" else 1.0 - share


def colorbar_ticks(measure: Measure) -> tuple[list[float], list[str]]:
    """(positions on the colour scale, labels in the measure's units) at its minimum, middle and maximum."""
    values = [measure.cmin, (measure.cmin + measure.cmax) / 2, measure.cmax]
    return [colour_position(measure, v) for v in values], [f"{v:g}" for v in values]


def colorbar_title(measure: Measure) -> str:
    """The colour bar's title: the label, with the unit in brackets when it has one."""
    return measure.label + (f" ({measure.unit})" if measure.unit else "")

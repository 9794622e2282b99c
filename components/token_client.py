"""A text analysis's answer view in the browser (components.client_view): the "Colour by" switch restyles the
heatmaps' colours and redraws the legend, and a click on a token outlines it, marks it on the curve and draws its
detail (numbers, where it came from, its alternatives, a branch button per other one), with no rerun.

Everything shown is computed here, in Python, from the same functions as the server-drawn views
(components.measures, components.token_detail); the browser only swaps it in. The one way back to the server is
a branch button ("Continue from here with ..."), a model call.
"""
from __future__ import annotations

from html import escape
from typing import Optional, Sequence

from backend.schemas import Alternative, TokenScore
from components.client_view import (Update, click_control, panel, radio_control, render_client_view, restyle)
from components.measures import MEASURES, colorbar_ticks, colorbar_title, colour_position, entropy_label, rank_label
from components.token_detail import bar_rows, branch_choices, origin_note

DEFAULT_MEASURE = "prob"
PICK_HINT = "Click a token in the heatmap to see the alternatives the model weighed."
CONTINUE = "continue_from"
ENTROPY_HELP = "spread of the distribution; lower = more confident"
ESTIMATE_HELP = (". A served model gives only its top-k, so this is an estimate: the midpoint of bounds that are "
                 "provably valid (each unseen token is at most as likely as the k-th)")


def caption_html(text: str) -> str:
    """A caption paragraph of plain text."""
    return f'<p class="uq-caption">{escape(text)}</p>'


def measure_states(heatmaps: dict[str, Sequence[TokenScore]], legend_panel: str) -> dict[str, list[Update]]:
    """{measure key: updates}: each heatmap (chart key -> its tokens) recoloured by the measure (the colour
    positions, colour bar ticks and title token_heatmap_figure would draw) and the legend panel's caption."""
    states = {}
    for name, spec in MEASURES.items():
        tickvals, ticktext = colorbar_ticks(spec)
        updates = [restyle(chart, {"marker.color": [[colour_position(spec, spec.value(t)) for t in tokens]],
                                   "marker.colorbar.tickvals": [tickvals], "marker.colorbar.ticktext": [ticktext],
                                   "marker.colorbar.title.text": [colorbar_title(spec)]}, [0])
                   for chart, tokens in heatmaps.items()]
        states[name] = updates + [panel(legend_panel, caption_html(spec.legend))]
    return states


def detail_item(token: TokenScore, *, mode: str, do_sample: bool, branches: bool) -> dict:
    """What the browser's token_detail renderer draws for one token: heading, metrics (label, value, help),
    origin note, alternative bars (label, probability, is the token) and, with branches, one button per other
    alternative whose value names the token's position and the alternative's rank."""
    entropy_help = ENTROPY_HELP + (ESTIMATE_HELP if token.entropy_bounds is not None else "")
    return {
        "heading": f"{token.text!r} at position {token.position}" + (" (special token)" if token.special else ""),
        "metrics": [["Probability", f"{token.prob:.3f}", "p of this token; higher = more confident"],
                    ["Entropy (nats)", entropy_label(token), entropy_help],
                    ["Rank", rank_label(token), "1 = the model's first choice"]],
        "note": origin_note(token, mode=mode, do_sample=do_sample),
        "bars": [[label, prob, chosen] for label, prob, chosen in bar_rows(token)],
        "branches": [{"label": f"Continue from here with {a.text!r} (p = {a.prob:.3f})",
                      "value": {"position": token.position, "rank": rank}}
                     for rank, a in branch_choices(token)] if branches else [],
    }


def branch_alternative(tokens: Sequence[TokenScore], value: object) -> Optional[tuple[int, Alternative]]:
    """(index into tokens, alternative) that a branch button's value ({"position", "rank"}) names, or None when
    it names none."""
    if not isinstance(value, dict):
        return None
    index = next((i for i, t in enumerate(tokens) if t.position == value.get("position")), None)
    rank = value.get("rank")
    if index is None or not isinstance(rank, int) or not 1 <= rank <= len(tokens[index].top_k):
        return None
    return index, tokens[index].top_k[rank - 1]


def render_measure_switch(key: str, heatmaps: dict[str, Sequence[TokenScore]]) -> None:
    """The "Colour by" radio and the legend under it, for the heatmaps (chart key -> tokens) drawn at
    DEFAULT_MEASURE with client_side=True."""
    legend = f"uq-{key}-legend"
    render_client_view(
        f"{key}_measure_view",
        controls=[radio_control("measure", "Colour by", [(k, m.label) for k, m in MEASURES.items()],
                                "what the heatmaps' colours show; switching redraws in the browser")],
        panels=[(legend, caption_html(MEASURES[DEFAULT_MEASURE].legend))],
        states={"measure": measure_states(heatmaps, legend)}, initial={"measure": DEFAULT_MEASURE})


def render_token_picker(key: str, tokens: Sequence[TokenScore], *, heatmap_key: str, curve_key: str, mode: str,
                        do_sample: bool, branches: bool, picked: Optional[int] = None
                        ) -> Optional[tuple[int, Alternative]]:
    """The detail panel of the token clicked in the heatmap (chart key heatmap_key), the pick also marked on
    the curve (chart key curve_key); picked: the index drawn picked at first (a branch's forced token). Returns
    (token index, alternative) of the branch button pressed in this run, if any."""
    detail = f"uq-{key}-detail"
    items = [detail_item(t, mode=mode, do_sample=do_sample, branches=branches) for t in tokens]
    sent = render_client_view(
        f"{key}_detail_view",
        controls=[click_control(heatmap_key, trace=0, renderer="token_detail", panel_id=detail, items=items,
                                vline_keys=[curve_key],
                                picked=picked if picked is not None and 0 <= picked < len(tokens) else None)],
        panels=[(detail, f'<div class="uq-info">{escape(PICK_HINT)}</div>')],
        triggers=(CONTINUE,) if branches else ())
    return branch_alternative(tokens, sent.get(CONTINUE)) if branches else None

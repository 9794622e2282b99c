"""The Branches panel: the tree of one prompt's answers (the first one and every "Continue from here" branch),
each with where it left its parent, its answer and its sequence probability; picking one shows it."""
from __future__ import annotations

import math

import streamlit as st

from backend.schemas.branches import BranchNode, BranchTree, fork_label, node_analysis, sequence_logprob, walk
from components.text_analysis_view import render_text_analysis
from components.text_safety import markdown_literal

INDENT = "\u2003\u2003"  # two em spaces per level: kept in a label, where plain spaces collapse
ANSWER_CHARS = 48


def probability_words(logprob: float) -> str:
    """p(answer) from its log-probability (nats), readable at any size: "p(answer) = 3.1e-04 (log p = -8.08)"."""
    value = f"= {math.exp(logprob):.2g}" if logprob > -690 else "< 1e-300"
    return f"p(answer) {value} (log p = {logprob:.2f} nats)"


def branch_label(branch: BranchNode, depth: int) -> str:
    """One line of the tree: indented by depth, the branch's number, where it left its parent, the start of its
    answer and its sequence probability."""
    answer = branch.analysis.generated_text.strip().replace("\n", " ")
    answer = answer if len(answer) <= ANSWER_CHARS else answer[:ANSWER_CHARS - 1] + "…"
    arrow = "↳ " if depth else ""
    return (f"{INDENT * max(0, depth - 1)}{arrow}Branch {branch.id} · {fork_label(branch)} · “{answer}” · "
            f"{probability_words(sequence_logprob(branch.analysis))}")


def branch_caption(branch: BranchNode) -> str:
    """Which of the branch's tokens are forced and which generated, in words ("" for the root)."""
    fork = branch.fork
    if fork is None:
        return ""
    forced = sum(t.forced for t in branch.analysis.tokens)
    generated = len(branch.analysis.tokens) - forced
    return (f"Branch {branch.id}: its first {forced} token{'s' if forced != 1 else ''} are forced ({fork.position} "
            f"kept from branch {branch.parent}, then {fork.text!r} in place of {fork.parent_text!r}, to which the "
            f"model gave p = {fork.prob:.3f}); the {generated} after them were generated.")


def tree_labels(tree: BranchTree) -> dict[int, str]:
    """Each node's id with its line, in walking order (each node followed by its branches)."""
    return {branch.id: branch_label(branch, depth) for branch, depth in walk(tree)}


def render_branch_tree(tree: BranchTree, *, key: str, shown: int = 0) -> int:
    """The tree as a radio list (widget key f"{key}_branch"); returns the id of the branch to show. The id shown
    last is kept in f"{key}_branch_shown" (not a widget key, so it outlives a visit to another page) and is what
    the radio starts from when it has no state of its own (`shown` before anything was shown)."""
    labels = tree_labels(tree)
    last = st.session_state.get(f"{key}_branch_shown", shown)
    st.markdown(f"**Branches** ({len(labels)}): pick one to see its heatmap and tokens; forced tokens are kept from "
                f"the answer it branched from or chosen by you.")
    chosen = st.radio("Branches", list(labels), index=list(labels).index(last if last in labels else 0),
                      format_func=lambda i: markdown_literal(labels[i]), key=f"{key}_branch",
                      label_visibility="collapsed")
    st.session_state[f"{key}_branch_shown"] = chosen
    caption = branch_caption(tree.nodes[chosen])
    if caption:
        st.caption(markdown_literal(caption))
    return chosen


def render_saved_branches(tree: BranchTree, *, key: str) -> None:
    """A saved tree as the Text page drew it: the prompt, the Branches list, and the chosen branch's whole view."""
    st.markdown(f"**Prompt**: {markdown_literal(tree.nodes[0].analysis.prompt)}")
    shown = render_branch_tree(tree, key=key, shown=0)
    render_text_analysis(node_analysis(tree, shown), key=key)

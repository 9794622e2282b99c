"""The Text page's branches: the tree of the current prompt kept in session state, "Continue from here" made into
a branch (its own analysis, through the same cached client call), and a branch opened on the Sequence or
Attention page (its whole answer passed there as the answer to score)."""
from __future__ import annotations

from typing import Callable, Optional

import streamlit as st

from app.long_work import run_page_request
from app.page_state import TEXT, key
from app.services import analyze_text
from backend.errors import UserInputError
from backend.schemas import Alternative, TextAnalysis, TextRequest
from backend.schemas.branches import (BranchNode, BranchTree, add_branch, branch_request, fork_at, new_tree, node,
                                      node_analysis)
from components.branch_tree import render_branch_tree
from components.errors import show_error

TREE = key(TEXT, "branches")  # the BranchTree of the current prompt
TREE_ROOT = key(TEXT, "branches_root")  # JSON of the request of its root (the form's request)
PENDING = key(TEXT, "branch_pending")  # (parent id, answer token index, alternative as a dict) to branch at
BRANCH_RADIO = key(TEXT, "branch")  # the Branches radio (components.branch_tree)
SHOWN = key(TEXT, "branch_shown")  # the id of the branch shown (what the radio starts from)
SELECTED = key(TEXT, "selected")  # the selected answer token of the shown analysis
SEQUENCE_PAGE, ATTENTION_PAGE = "sequence_page.py", "attention_page.py"


def show(branch_id: int) -> None:
    """Show that branch next: the radio forgets its own choice and starts from this one."""
    st.session_state[SHOWN] = branch_id
    st.session_state.pop(BRANCH_RADIO, None)


def current_tree(request_json: str, analysis: TextAnalysis) -> BranchTree:
    """The tree whose root is this request's analysis (a new one, showing the root, when the request changed)."""
    if st.session_state.get(TREE_ROOT) != request_json or TREE not in st.session_state:
        st.session_state[TREE] = new_tree(TextRequest.model_validate_json(request_json), analysis)
        st.session_state[TREE_ROOT] = request_json
        show(0)
        st.session_state.pop(PENDING, None)
    return st.session_state[TREE]


def ask_branch(parent_id: int, position: int, alternative: Alternative) -> None:
    """A "Continue from here" callback: remember the fork; the page's next run makes the branch."""
    st.session_state[PENDING] = (parent_id, position, alternative.model_dump())


def grow(tree: BranchTree, run: Callable[[str, str], Optional[TextAnalysis]]) -> BranchTree:
    """The tree with the pending branch made (its request run by run(request_json, PENDING), which shows progress
    and errors) and shown with its forced token selected; unchanged when nothing is pending or it failed."""
    pending = st.session_state.get(PENDING)
    if not pending:
        return tree
    parent_id, position, alternative = pending
    try:
        parent = node(tree, parent_id)
        fork = fork_at(parent, position, Alternative(**alternative))
        request = branch_request(parent, fork)
    except ValueError as exc:  # UserInputError, or a request that does not validate
        show_error(exc)
        st.session_state.pop(PENDING, None)
        return tree
    analysis = run(request.model_dump_json(), PENDING)
    st.session_state.pop(PENDING, None)
    if analysis is None:
        return tree
    try:
        tree, child = add_branch(tree, parent_id, fork, request, analysis)
    except UserInputError as exc:
        show_error(exc)
        return tree
    st.session_state.update({TREE: tree, SELECTED: position})
    show(child)
    return tree


def open_request(branch: BranchNode) -> TextRequest:
    """The branch as a request to score: its prompt and settings, its whole answer as the given answer."""
    return branch.request.model_copy(update=dict(answer=branch.analysis.generated_text or " ", prefix=None,
                                                 prefix_ids=None))


def open_on_sequence(branch: BranchNode) -> None:
    """Fill the Sequence page's form with the branch's prompt, model and answer, and go there."""
    st.session_state.update({key("seq", "prompt"): branch.request.prompt,
                             key("seq", "answer"): branch.analysis.generated_text,
                             key("seq", "model"): branch.request.model})
    st.switch_page(SEQUENCE_PAGE)


def open_on_attention(branch: BranchNode) -> None:
    """Run the branch's answer on the Attention & saliency page (its form filled, its request set), and go there."""
    request = open_request(branch)
    st.session_state.update({key("attn", "request"): request.model_dump_json(), key("attn", "prompt"): request.prompt,
                             key("attn", "answer"): request.answer, key("attn", "selected"): None})
    st.switch_page(ATTENTION_PAGE)


def render_open_buttons(branch: BranchNode, *, can_attend: bool) -> None:
    """ "Open on Sequence page" and "Open on Attention page" for the shown branch (the latter only for a model
    in UQ Lens's process: a served model gives no attention)."""
    left, right, _ = st.columns([1, 1, 2])
    if left.button("Open on Sequence page", key=f"{TEXT}_open_sequence",
                   help="the sequence-level scores of this branch's whole answer (given as the answer to score)"):
        open_on_sequence(branch)
    if right.button("Open on Attention page", key=f"{TEXT}_open_attention", disabled=not can_attend,
                    help="where the model looked for this branch's whole answer (given as the answer to score)"
                    if can_attend else "a served model gives no attention: only models in UQ Lens's process do"):
        open_on_attention(branch)


def run_branch(request_json: str, request_key: str) -> Optional[TextAnalysis]:
    """A branch's analysis through the page's cached client call, with progress, Stop and a clear message on
    failure (app.long_work.run_page_request under its own key, apart from the page's own request)."""
    return run_page_request(lambda: analyze_text(request_json), key=f"{TEXT}_branches", request_json=request_json,
                            request_key=request_key)


def render_branches(request_json: str, analysis: TextAnalysis) -> tuple[BranchTree, BranchNode]:
    """The tree of this request (with a pending branch made first), its Branches panel once it has branches,
    and the branch to show."""
    tree = grow(current_tree(request_json, analysis), run_branch)
    if len(tree.nodes) == 1:
        return tree, tree.nodes[0]
    return tree, node(tree, render_branch_tree(tree, key=TEXT, shown=st.session_state.get(SHOWN, 0)))


def shown_analysis(request_json: str, analysis: TextAnalysis) -> TextAnalysis:
    """The analysis of the branch shown last when this request's tree has branches (for the presenter view),
    else the request's own."""
    tree = st.session_state.get(TREE)
    if st.session_state.get(TREE_ROOT) != request_json or tree is None:
        return analysis
    shown = st.session_state.get(SHOWN, 0)
    return node_analysis(tree, shown) if 0 <= shown < len(tree.nodes) else analysis

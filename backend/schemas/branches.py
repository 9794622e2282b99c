"""Branches of one prompt's answer: "what if the model had picked this other token here?".

A BranchTree holds the first analysis (the root) and every branch made from it: a branch keeps its parent's answer
up to a step, forces one of the alternatives the parent's analysis listed there, and generates the rest (a
TextRequest with prefix_ids). The functions below are pure (no model): they build a branch's request, add its
analysis to the tree and walk the tree, so the Text page, the Saved page and tests share them. Probabilities are
those of the analyses, at their request's temperature; log-probabilities in nats.
"""
from __future__ import annotations

import math
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from backend.errors import UserInputError
from backend.schemas.text import MAX_NEW_TOKENS, Alternative, TextAnalysis, TextRequest

MAX_BRANCHES = 64  # nodes in one tree, the root included


class Fork(BaseModel):
    """Where a branch left its parent: the answer token index, the parent's token there and the alternative
    forced instead, with the probability the parent's analysis gave that alternative."""

    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=0, description="index in the parent's answer tokens of the replaced token")
    parent_text: str = Field(description="the token the parent's answer had at that index")
    text: str = Field(description="the forced alternative's text")
    id: Optional[int] = Field(description="the forced alternative's token id (None on a server without ids)")
    prob: float = Field(ge=0.0, le=1.0, description="the probability the parent's analysis gave the alternative")


class BranchNode(BaseModel):
    """One answer of the tree: its request, its analysis and (for all but the root) where it left its parent."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=0, description="0 for the root; then in the order the branches were made")
    parent: Optional[int] = Field(None, ge=0, description="the parent node's id; None for the root")
    fork: Optional[Fork] = None
    request: TextRequest
    analysis: TextAnalysis


class BranchTree(BaseModel):
    """The branches of one prompt: nodes[0] is the root, every other node names an earlier node as parent."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[BranchNode] = Field(min_length=1, max_length=MAX_BRANCHES)


def new_tree(request: TextRequest, analysis: TextAnalysis) -> BranchTree:
    """A tree holding only the root: the analysis the user made first."""
    return BranchTree(nodes=[BranchNode(id=0, request=request, analysis=analysis)])


def node(tree: BranchTree, node_id: int) -> BranchNode:
    """The node with that id; UserInputError when the tree has none."""
    if not 0 <= node_id < len(tree.nodes):
        raise UserInputError(f"the tree has no branch {node_id}; it has branches 0 to {len(tree.nodes) - 1}")
    return tree.nodes[node_id]


def sequence_logprob(analysis: TextAnalysis) -> float:
    """log p(answer | prompt) in nats: the sum of the answer tokens' log-probabilities (forced ones included)."""
    return math.fsum(t.logprob for t in analysis.tokens)


def answer_budget(request: TextRequest, analysis: TextAnalysis) -> int:
    """The answer length (tokens) a node could reach: its forced prefix plus its max_new_tokens (for a scored
    answer, the longer of its length and max_new_tokens)."""
    if request.answer is not None:
        return max(len(analysis.tokens), request.max_new_tokens)
    return len(request.prefix_ids or [t for t in analysis.tokens if t.forced]) + request.max_new_tokens


def fork_at(parent: BranchNode, position: int, alternative: Alternative) -> Fork:
    """The Fork of a branch forcing `alternative` at answer token `position` of the parent; UserInputError when
    the position is outside the answer, the alternative is not one the parent listed there, or it is the token
    the parent already has (that branch is the parent itself)."""
    tokens = parent.analysis.tokens
    if not 0 <= position < len(tokens):
        raise UserInputError(f"answer token {position} does not exist: the answer has {len(tokens)} tokens")
    listed = [a for a in tokens[position].top_k if (a.id, a.text) == (alternative.id, alternative.text)]
    if not listed:
        raise UserInputError(f"{alternative.text!r} is not among the alternatives listed at answer token "
                             f"{position}; pick one of {[a.text for a in tokens[position].top_k]}")
    chosen = tokens[position]
    if (chosen.id == alternative.id if None not in (chosen.id, alternative.id) else chosen.text == alternative.text):
        raise UserInputError(f"{alternative.text!r} is the token the answer already has at answer token {position}; "
                             f"pick another alternative")
    return Fork(position=position, parent_text=chosen.text, text=alternative.text, id=alternative.id,
                prob=listed[0].prob)


def branch_request(parent: BranchNode, fork: Fork) -> TextRequest:
    """The request of the branch: the parent's prompt and settings, the parent's answer ids up to the fork plus
    the alternative's id as prefix_ids (exact: nothing re-tokenised), and what is left of the parent's answer
    budget as max_new_tokens (at least 1). Without token ids (a server that names tokens only by text) the
    prefix is the same tokens' text. Validated: a ValueError names what does not fit (e.g. a prefix beyond
    MAX_PREFIX_IDS)."""
    kept = parent.analysis.tokens[:fork.position]
    budget = min(MAX_NEW_TOKENS, max(1, answer_budget(parent.request, parent.analysis) - fork.position - 1))
    settings = dict(answer=None, prefix=None, prefix_ids=None, max_new_tokens=budget)
    if fork.id is not None and all(t.id is not None for t in kept):
        settings["prefix_ids"] = [t.id for t in kept] + [fork.id]
    else:
        settings["prefix"] = "".join(t.text for t in kept) + fork.text
    return TextRequest.model_validate({**parent.request.model_dump(), **settings})


def find_branch(tree: BranchTree, parent_id: int, fork: Fork) -> Optional[BranchNode]:
    """The branch already made from that parent at that fork (same position and alternative), or None."""
    for candidate in tree.nodes:
        if candidate.parent == parent_id and candidate.fork is not None and (
                candidate.fork.position, candidate.fork.id, candidate.fork.text) == (fork.position, fork.id, fork.text):
            return candidate
    return None


def add_branch(tree: BranchTree, parent_id: int, fork: Fork, request: TextRequest,
               analysis: TextAnalysis) -> tuple[BranchTree, int]:
    """A new tree with the branch added under parent_id (a copy: the given tree is not changed; the branch's
    prompt tokens are left to the root, see node_analysis), and the new node's id; an existing branch at the same fork is returned instead of a second copy. UserInputError when
    the tree already holds MAX_BRANCHES nodes."""
    node(tree, parent_id)
    existing = find_branch(tree, parent_id, fork)
    if existing is not None:
        return tree, existing.id
    if len(tree.nodes) >= MAX_BRANCHES:
        raise UserInputError(f"this tree already holds {MAX_BRANCHES} branches, the most one tree keeps; save it, "
                             f"then start again from a new analysis")
    child = BranchNode(id=len(tree.nodes), parent=parent_id, fork=fork, request=request,
                       analysis=analysis.model_copy(update={"prompt_tokens": []}))
    return BranchTree(nodes=[*tree.nodes, child]), child.id


def node_analysis(tree: BranchTree, node_id: int) -> TextAnalysis:
    """The node's analysis whole: a branch keeps no prompt tokens of its own (they are the root's: the same
    prompt read by the same model, kept once so that a saved tree stays small), so the root's are put back."""
    found = node(tree, node_id).analysis
    return found if found.prompt_tokens else found.model_copy(update={"prompt_tokens":
                                                                      tree.nodes[0].analysis.prompt_tokens})


def walk(tree: BranchTree) -> list[tuple[BranchNode, int]]:
    """Every node with its depth (root 0), depth first: each node followed by its branches, those in the order
    of their fork position, then of creation."""
    children: dict[int, list[BranchNode]] = {}
    for child in tree.nodes[1:]:
        children.setdefault(child.parent, []).append(child)
    order: list[tuple[BranchNode, int]] = []
    stack = [(tree.nodes[0], 0)]
    while stack:
        current, depth = stack.pop()
        order.append((current, depth))
        below = sorted(children.get(current.id, []), key=lambda c: (c.fork.position, c.id))
        stack.extend((c, depth + 1) for c in reversed(below))
    return order


def fork_label(branch: BranchNode) -> str:
    """Where the branch left its parent, in words: "at token 5: 'Paris' → 'Lyon' (p=0.120)" (token counted from
    1); "the first answer" for the root."""
    if branch.fork is None:
        return "the first answer"
    fork = branch.fork
    return f"at token {fork.position + 1}: {fork.parent_text!r} → {fork.text!r} (p={fork.prob:.3f})"

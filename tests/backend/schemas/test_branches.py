"""The branch tree's pure functions on hand-made analyses: a branch's request (prefix ids, settings, budget), its
fork (the parent's listed probability), adding, finding and walking, the sequence probability and the labels."""
from __future__ import annotations

import math

import pytest

from backend.errors import UserInputError
from backend.schemas import Alternative, TextAnalysis, TextRequest, TokenScore
from backend.schemas.branches import (MAX_BRANCHES, BranchTree, add_branch, branch_request, fork_at, fork_label,
                                      new_tree, node, node_analysis, sequence_logprob, walk)

REQUEST = TextRequest(prompt="Capital of France?", max_new_tokens=6, temperature=0.7, top_k=3)


def token(i: int, text: str, tid: int, prob: float, alternatives: list[tuple[str, int, float]],
          forced: bool = False) -> TokenScore:
    return TokenScore(position=10 + i, text=text, id=tid, prob=prob, logprob=math.log(prob), entropy=0.5, rank=1,
                      margin=0.1, top_k=[Alternative(text=t, id=a, prob=p) for t, a, p in alternatives],
                      forced=forced)


def analysis(tokens: list[TokenScore]) -> TextAnalysis:
    return TextAnalysis(model="m", prompt=REQUEST.prompt, model_input="x", chat_template=True, mode="generate",
                        generated_text="".join(t.text for t in tokens), stop_reason="max_new_tokens",
                        temperature=0.7, do_sample=False, top_p=1.0, seed=0, max_new_tokens=6, device="cpu",
                        ids=list(range(10)) + [t.id for t in tokens], answer_start=10, tokens=tokens,
                        prompt_tokens=[], summaries=[], seconds=0.1)


ROOT = analysis([token(0, "It", 5, 0.6, [("It", 5, 0.6), ("Paris", 7, 0.3)]),
                 token(1, " is", 6, 0.9, [(" is", 6, 0.9), ("'s", 8, 0.05)]),
                 token(2, " Paris", 9, 0.8, [(" Paris", 9, 0.8), (" Lyon", 11, 0.12), (" Nice", 12, 0.02)])])


def child_analysis(prefix: list[int]) -> TextAnalysis:
    tokens = [token(i, f"t{t}", t, 0.5, [(f"t{t}", t, 0.5)], forced=True) for i, t in enumerate(prefix)]
    return analysis(tokens + [token(len(prefix), ".", 13, 0.9, [(".", 13, 0.9), ("!", 20, 0.04)])])


def test_a_branch_keeps_the_answer_up_to_the_fork_and_forces_the_alternative():
    tree = new_tree(REQUEST, ROOT)
    fork = fork_at(tree.nodes[0], 2, Alternative(text=" Lyon", id=11, prob=0.12))
    assert (fork.position, fork.parent_text, fork.text, fork.id, fork.prob) == (2, " Paris", " Lyon", 11, 0.12)
    child = branch_request(tree.nodes[0], fork)
    assert child.prefix_ids == [5, 6, 11] and child.prefix is None and child.answer is None
    assert (child.prompt, child.temperature, child.top_k, child.model) == (REQUEST.prompt, 0.7, 3, REQUEST.model)
    assert child.max_new_tokens == 6 - 3  # what is left of the parent's 6-token budget after 3 kept tokens


def test_the_budget_of_a_branch_of_a_branch_counts_its_parent_prefix():
    tree = new_tree(REQUEST, ROOT)
    fork = fork_at(tree.nodes[0], 0, Alternative(text="Paris", id=7, prob=0.3))
    request = branch_request(tree.nodes[0], fork)
    tree, first = add_branch(tree, 0, fork, request, child_analysis([7]))
    assert request.max_new_tokens == 5
    grandchild = branch_request(node(tree, first), fork_at(node(tree, first), 1, Alternative(text="!", id=20,
                                                                                              prob=0.04)))
    assert grandchild.prefix_ids == [7, 20]
    assert grandchild.max_new_tokens == 6 - 2


def test_the_fork_takes_the_probability_the_parent_listed():
    fork = fork_at(new_tree(REQUEST, ROOT).nodes[0], 2, Alternative(text=" Nice", id=12, prob=0.99))
    assert fork.prob == 0.02


@pytest.mark.parametrize("position, alternative, words", [
    (3, Alternative(text=" Lyon", id=11, prob=0.1), "does not exist"),
    (2, Alternative(text=" Rome", id=99, prob=0.1), "not among the alternatives"),
    (2, Alternative(text=" Paris", id=9, prob=0.8), "already has"),
])
def test_impossible_forks_are_refused(position, alternative, words):
    with pytest.raises(UserInputError, match=words):
        fork_at(new_tree(REQUEST, ROOT).nodes[0], position, alternative)


def test_without_token_ids_the_prefix_is_the_kept_text():
    tokens = [t.model_copy(update={"id": None, "top_k": [a.model_copy(update={"id": None}) for a in t.top_k]})
              for t in ROOT.tokens]
    parent = new_tree(REQUEST, ROOT.model_copy(update={"tokens": tokens})).nodes[0]
    request = branch_request(parent, fork_at(parent, 2, Alternative(text=" Lyon", id=None, prob=0.12)))
    assert (request.prefix, request.prefix_ids) == ("It is Lyon", None)


def test_adding_walking_and_finding_branches():
    tree = new_tree(REQUEST, ROOT)
    late = fork_at(tree.nodes[0], 2, Alternative(text=" Lyon", id=11, prob=0.12))
    tree, late_id = add_branch(tree, 0, late, branch_request(tree.nodes[0], late), child_analysis([5, 6, 11]))
    early = fork_at(tree.nodes[0], 0, Alternative(text="Paris", id=7, prob=0.3))
    tree, early_id = add_branch(tree, 0, early, branch_request(tree.nodes[0], early), child_analysis([7]))
    deep = fork_at(node(tree, late_id), 3, Alternative(text="!", id=20, prob=0.04))
    tree, deep_id = add_branch(tree, late_id, deep, branch_request(node(tree, late_id), deep),
                               child_analysis([5, 6, 11, 20]))
    assert [(n.id, depth) for n, depth in walk(tree)] == [(0, 0), (early_id, 1), (late_id, 1), (deep_id, 2)]
    assert node(tree, deep_id).request.prefix_ids == [5, 6, 11, 20]
    again, same = add_branch(tree, 0, late, branch_request(tree.nodes[0], late), child_analysis([5, 6, 11]))
    assert (same, len(again.nodes)) == (late_id, 4)
    assert BranchTree.model_validate_json(tree.model_dump_json()) == tree
    with pytest.raises(UserInputError, match="no branch 7"):
        node(tree, 7)


def test_a_tree_holds_at_most_max_branches():
    tree = new_tree(REQUEST, ROOT)
    tree = BranchTree(nodes=[tree.nodes[0]] + [tree.nodes[0].model_copy(update={"id": i, "parent": 0})
                                               for i in range(1, MAX_BRANCHES)])
    fork = fork_at(tree.nodes[0], 2, Alternative(text=" Lyon", id=11, prob=0.12))
    with pytest.raises(UserInputError, match=f"{MAX_BRANCHES} branches"):
        add_branch(tree, 0, fork, branch_request(tree.nodes[0], fork), child_analysis([5, 6, 11]))


def test_sequence_probability_and_labels():
    assert sequence_logprob(ROOT) == pytest.approx(math.log(0.6 * 0.9 * 0.8), abs=1e-12)
    tree = new_tree(REQUEST, ROOT)
    fork = fork_at(tree.nodes[0], 2, Alternative(text=" Lyon", id=11, prob=0.12))
    tree, child = add_branch(tree, 0, fork, branch_request(tree.nodes[0], fork), child_analysis([5, 6, 11]))
    assert fork_label(tree.nodes[0]) == "the first answer"
    assert fork_label(node(tree, child)) == "at token 3: ' Paris' → ' Lyon' (p=0.120)"


def test_a_branch_keeps_no_prompt_tokens_of_its_own_and_gets_the_roots_back():
    root = ROOT.model_copy(update={"prompt_tokens": [token(0, "Capital", 3, 0.1, [("Capital", 3, 0.1)])]})
    tree = new_tree(REQUEST, root)
    fork = fork_at(tree.nodes[0], 2, Alternative(text=" Lyon", id=11, prob=0.12))
    branch = child_analysis([5, 6, 11]).model_copy(update={"prompt_tokens": root.prompt_tokens})
    tree, child = add_branch(tree, 0, fork, branch_request(tree.nodes[0], fork), branch)
    assert node(tree, child).analysis.prompt_tokens == []
    assert node_analysis(tree, child) == branch
    assert node_analysis(tree, 0) == root

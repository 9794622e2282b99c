"""The Branches panel's labels and captions, and the token detail's branch choices, on hand-made analyses."""
from __future__ import annotations

import math

from backend.schemas import Alternative
from backend.schemas.branches import add_branch, branch_request, fork_at, new_tree
from components.branch_tree import branch_caption, branch_label, probability_words, tree_labels
from components.text_analysis_view import analysis_caption
from components.token_detail import branch_choices, origin_note
from tests.backend.schemas.test_branches import REQUEST, ROOT, child_analysis


def tree_with_a_branch():
    tree = new_tree(REQUEST, ROOT)
    fork = fork_at(tree.nodes[0], 2, Alternative(text=" Lyon", id=11, prob=0.12))
    return add_branch(tree, 0, fork, branch_request(tree.nodes[0], fork), child_analysis([5, 6, 11]))[0]


def test_probability_words_read_at_any_size():
    assert probability_words(math.log(0.059)) == "p(answer) = 0.059 (log p = -2.83 nats)"
    assert probability_words(-800.0) == "p(answer) < 1e-300 (log p = -800.00 nats)"


def test_labels_are_indented_by_depth_and_say_where_each_branch_left():
    tree = tree_with_a_branch()
    labels = tree_labels(tree)
    assert labels[0].startswith("Branch 0 · the first answer · “It is Paris” · p(answer) = 0.43")
    assert labels[1].startswith("↳ Branch 1 · at token 3: ' Paris' → ' Lyon' (p=0.120) · “t5t6t11.”")
    deeper = branch_label(tree.nodes[1].model_copy(update={"id": 2, "parent": 1}), 2)
    assert deeper.startswith("\u2003\u2003↳ Branch 2")


def test_the_caption_counts_forced_and_generated_tokens():
    tree = tree_with_a_branch()
    assert branch_caption(tree.nodes[0]) == ""
    assert branch_caption(tree.nodes[1]) == ("Branch 1: its first 3 tokens are forced (2 kept from branch 0, then "
                                             "' Lyon' in place of ' Paris', to which the model gave p = 0.120); the 1 "
                                             "after them were generated.")


def test_every_alternative_but_the_chosen_token_can_be_forced():
    token = ROOT.tokens[2]
    assert [(rank, a.text) for rank, a in branch_choices(token)] == [(2, " Lyon"), (3, " Nice")]


def test_a_forced_token_says_so_in_its_origin_note():
    forced = ROOT.tokens[2].model_copy(update={"forced": True, "rank": 2})
    assert origin_note(forced, mode="generate", do_sample=False).startswith("Forced, not chosen by the model")
    assert "greedy decoding picked it" not in origin_note(forced, mode="generate", do_sample=False)


def test_the_caption_of_a_branch_counts_its_forced_tokens():
    tree = tree_with_a_branch()
    assert "4 tokens generated (max new tokens), the first 3 forced · greedy" in analysis_caption(
        tree.nodes[1].analysis)
    assert "forced" not in analysis_caption(ROOT)

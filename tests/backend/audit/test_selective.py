"""Answer-or-abstain in an audit: every method of a finished audit gets its decision, at the request's alpha and
delta, without changing the audit id; overrides count as labels; the split names the items."""
from __future__ import annotations

import numpy as np

from backend.audit import runner
from backend.audit.selective import item_noun, method_decision, split_positions
from backend.audit.store import AuditStore
from backend.decisions.selective import selective_decision
from backend.schemas.audit import AuditItem, AuditMethodInfo, AuditRequest


def scores_csv(tmp_path, n: int = 300):
    """n rows: p ~ U(0, 1), right with probability min(1, 1.5 p), and q = 1 - p plus a small offset (seeded)."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, n)
    right = rng.uniform(0, 1, n) < 1.5 * p  # right whenever p > 2/3, so a threshold passes
    lines = ["id,correct,p,q"] + [f"r{i},{int(c)},{s:.6f},{1 - s + 0.01 * (i % 3):.6f}"
                                  for i, (c, s) in enumerate(zip(right, p))]
    path = tmp_path / "scores.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, p, right


def test_every_method_gets_a_decision_and_alpha_does_not_change_the_audit(tmp_path):
    path, p, right = scores_csv(tmp_path)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    result = runner.run_audit(AuditRequest(dataset=str(path), methods=["p", "q"], seed=2), None, store)
    assert set(result.selective) == {"p", "q"}
    decision = result.selective["p"]
    stored = [float(f"{s:.6f}") for s in p]  # as the CSV holds them
    reference = selective_decision(stored, right.astype(int), "confident", 0.1, 0.1, method="p", seed=2,
                                   item_indices=range(300), noun="items")
    assert decision == reference
    assert decision.refused is None and decision.guarantee.startswith("On new items like these, at most 10 %")
    stricter = runner.run_audit(AuditRequest(dataset=str(path), methods=["p", "q"], seed=2, alpha=0.2, delta=0.05,
                                             calibration_fraction=0.6), None, store)
    assert stricter.audit_id == result.audit_id and stricter.items == result.items
    assert stricter.selective["p"].alpha == 0.2 and stricter.selective["p"].n_calibration == 180


def test_an_override_counts_as_the_label(tmp_path):
    items = [AuditItem(index=10 + i, id=str(i), question="q", answers=["a"], answer="a", correct=i % 2 == 0,
                       grading="alias", scores={"m": float(i)}) for i in range(6)]
    info = AuditMethodInfo(name="m", label="m", description="", paper="", higher_is="confident",
                           is_probability=False, source="given", cost="")
    before = method_decision(info, items, alpha=0.5, delta=0.5, seed=0, calibration_fraction=0.5)
    items = [item.model_copy(update={"override": True}) for item in items]
    after = method_decision(info, items, alpha=0.5, delta=0.5, seed=0, calibration_fraction=0.5)
    assert "one class" not in (before.refused or "")  # right and wrong items: the labels are the gradings
    assert after.refused.startswith("every one of the 6 items is right (one class only)")
    assert set(before.calibration_indices) | set(before.held_out_indices) == set(range(10, 16))
    calibration, held_out = split_positions(before, items)
    assert [items[i].index for i in calibration] == before.calibration_indices
    assert [items[i].index for i in held_out] == before.held_out_indices


def test_the_guarantee_names_what_the_items_are():
    def items(grading):
        return [AuditItem(index=0, id="0", question="q", answers=[], answer="", correct=True, grading=grading,
                          scores={})]
    assert item_noun(items("label")) == "images" and item_noun(items("given")) == "items"
    assert item_noun(items("alias")) == "questions" and item_noun(items("embedding") + items("alias")) == "questions"

"""What relative confidence will cost an audit, before it runs: its comparisons counted exactly (the seeded pairing
is known up front) and seconds from one question's comparisons timed on the audit's own model.

The timing is the real work of one question (its prompts asked once, untimed warm-up excluded), so it includes the
chat template, the prompt's prefill and, for a served model, the round trips. In-process questions are asked one
after another (seconds = items x seconds_per_item); a served model has request.concurrency questions in flight,
which its engine batches, so the seconds are divided by the items in flight (errs low when the engine cannot answer
that many at the speed of one).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional

from backend.audit.runner import check_models, plan_audit
from backend.decisions.relative_asking import asker_for, pair_prompts
from backend.decisions.relative_confidence import METHOD, ORDERS, partner_indices
from backend.errors import UserInputError
from backend.schemas.audit import AuditRequest
from backend.schemas.relative_confidence import RelativeConfidenceCost

if TYPE_CHECKING:
    from backend.audit.store import AuditStore
    from backend.engine import Engine


def count_passes(indices: list[int], total: int, seed: int) -> tuple[int, int]:
    """(comparisons, asking passes) of the questions at these indices among `total`: each asks its partners
    (partner_indices), every pair in both orders."""
    comparisons = sum(len(partner_indices(index, total, seed)) for index in indices)
    return comparisons, ORDERS * comparisons


def time_one_item(engine: Engine, request: AuditRequest, questions: list[str], total: int) -> float:
    """Seconds of question 0's comparisons on the request's model (asked once untimed to warm up, then timed),
    under its pool lock when it is in the process."""
    prompts = pair_prompts(questions, 0, partner_indices(0, total, request.seed))
    with engine.pool.using("text", request.model) as lm:
        ask = asker_for(lm)
        ask(prompts)
        started = time.perf_counter()
        ask(prompts)
        return time.perf_counter() - started


def estimate_relative_cost(request: AuditRequest, engine: Engine,
                           store: Optional[AuditStore] = None) -> RelativeConfidenceCost:
    """The cost of the audit's comparisons not yet kept (every item's when no store is given). UserInputError
    when the request does not ask for relative confidence, or the data or model cannot give it (as the audit
    would refuse)."""
    if METHOD not in request.methods:
        raise UserInputError(f"the audit does not ask for {METHOD}; add it to the methods to estimate its cost")
    plan = plan_audit(request)
    check_models(engine, request, plan)
    done = store.finished_indices(plan.audit_id) if store is not None else set()
    pending = [index for index in range(plan.total) if index not in done]
    comparisons, passes = count_passes(pending, plan.total, request.seed)
    per_item = time_one_item(engine, request, [q.question for q in plan.dataset.qa], plan.total) if pending else 0.0
    served = engine.pool.is_served(request.model)
    in_flight = max(1, min(request.concurrency, len(pending))) if served else 1
    how = (f"one question's {ORDERS * len(partner_indices(0, plan.total, request.seed))} asking passes timed on "
           f"{request.model}; " + (f"served: {in_flight} questions in flight, the engine batching them" if served
                                   else "in-process: one question after another"))
    return RelativeConfidenceCost(audit_id=plan.audit_id, model=request.model, items=len(pending),
                                  comparisons=comparisons, passes=passes, seconds_per_item=per_item,
                                  seconds=len(pending) * per_item / in_flight, note=how)


def format_cost(cost: RelativeConfidenceCost) -> str:
    """One line for a terminal or a page: what the comparisons still to compute will cost."""
    return (f"{METHOD}: {cost.items} questions x {cost.comparisons / max(cost.items, 1):.1f} pairs x {ORDERS} orders "
            f"= {cost.passes} asking passes, about {cost.seconds:.0f} s ({cost.note})")

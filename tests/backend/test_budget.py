"""The per-request budget: checkpoints, Stop, the deadline, claimed work and progress."""
from __future__ import annotations

import threading
import time

import pytest

from backend.budget import (Budget, DeadlineExceeded, Progress, WorkCancelled, checkpoint, claim, current_budget,
                            run_under, working_under)
from backend.errors import BackendUnavailableError, UserInputError


def test_without_a_budget_checkpoints_and_claims_cost_nothing():
    assert current_budget() is None
    checkpoint()
    checkpoint("tokens", 3, 10)
    claim(10**9, 10**9, "anything")


def test_a_cancelled_budget_stops_at_the_next_checkpoint_and_says_why():
    budget = Budget()
    with working_under(budget):
        checkpoint()
        budget.cancel("the client disconnected")
        with pytest.raises(WorkCancelled, match="the client disconnected"):
            checkpoint("tokens", 4, 10)
    assert current_budget() is None


def test_the_stop_message_says_how_far_the_work_got():
    budget = Budget()
    budget.report("tokens", 37, 256)
    budget.cancel("Stop pressed")
    with pytest.raises(WorkCancelled, match="37 of 256 tokens"):
        budget.check()


def test_past_its_deadline_a_budget_raises_a_503_kind_of_error_naming_the_setting():
    budget = Budget(deadline_s=0.01)
    time.sleep(0.02)
    with pytest.raises(DeadlineExceeded, match="UQLENS_REQUEST_DEADLINE_S") as raised:
        budget.check()
    assert isinstance(raised.value, BackendUnavailableError)


def test_claims_add_up_and_the_one_that_passes_the_cap_is_refused_before_the_work():
    budget = Budget(max_token_passes=1000)
    budget.claim(100, 2, "scoring")
    budget.claim(200, 4, "samples")
    assert budget.claimed == 1000
    with pytest.raises(UserInputError, match=r"1 pass over 1 tokens .* at most 1,000"):
        budget.claim(1, 1, "one more")
    assert budget.claimed == 1000


def test_progress_reaches_the_sink_with_fraction_and_time_left():
    seen: list[Progress] = []
    budget = Budget(on_progress=seen.append)
    with working_under(budget):
        checkpoint("prompt", 256, 1024)
    assert [(p.stage, p.done, p.total) for p in seen] == [("prompt", 256, 1024)]
    assert seen[0].fraction == 0.25
    assert seen[0].seconds_left == pytest.approx(seen[0].elapsed_s * 3)
    assert Progress("tokens", 0, 10, 1.0).seconds_left is None


def test_a_worker_thread_sees_only_the_budget_it_was_given():
    budget = Budget()
    seen = {}

    def work():
        seen["budget"] = current_budget()

    with working_under(Budget()):
        thread = threading.Thread(target=run_under, args=(budget, work))
        thread.start()
        thread.join()
    assert seen["budget"] is budget

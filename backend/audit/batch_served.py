"""Greedy answers to audit questions through a serving engine, with a bounded number of requests in flight.

Each question is one chat request, exactly as backend.served.text_analysis.analyze_served_text makes it (greedy,
the request's seed and max_new_tokens, the top-20 log-probabilities), so an audited item has the same token numbers
as the Text page on the same question: each token's log-probability is the server's own (exact), its entropy the
midpoint of provably valid bounds from the top-20 (an estimate; the bounds are kept beside it). The engine's
answer has no end-of-sequence token (an in-process answer counts its EOS token among its tokens).

bounded_map runs the per-item work on a thread pool with at most `concurrency` items started and not finished,
and hands each result back as soon as it finishes, so the runner keeps finished items in small groups and an engine
that goes away mid-audit loses only the requests in flight.
"""
from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, Iterator, Optional, TypeVar

from backend.audit.batch_text import AnsweredQuestion
from backend.served.calls import generate, user_messages
from backend.served.evidence import MAX_TOP_LOGPROBS
from backend.served.model import ServedTextModel

Item = TypeVar("Item")
Result = TypeVar("Result")
StopCheck = Callable[[], bool]
_END = object()


def answer_question(lm: ServedTextModel, question: str, max_new_tokens: int, seed: int) -> AnsweredQuestion:
    """The engine's greedy answer to one question (one /v1/chat/completions request) with its tokens'
    log-probabilities (nats, exact), entropies (nats, the midpoint of entropy_bounds) and entropy_bounds
    ([lower, upper] per token). Errors are http.py's: BackendUnavailableError / BackendBusyError naming the
    server, UserInputError for what a person must change."""
    generation = generate(lm.client, user_messages(question), max_tokens=max_new_tokens, temperature=0.0,
                          top_p=1.0, seed=seed, top_logprobs=MAX_TOP_LOGPROBS)
    sample = generation.samples[0]
    return AnsweredQuestion(answer=sample.text.strip(), answer_ids=list(sample.token_ids or ()),
                            logprobs=[t.logprob for t in sample.tokens],
                            entropies=[t.entropy.estimate for t in sample.tokens],
                            entropy_bounds=[t.entropy_bounds for t in sample.tokens])


def bounded_map(work: Callable[[Item], Result], items: Iterable[Item], concurrency: int,
                should_stop: Optional[StopCheck] = None) -> Iterator[Result]:
    """work(item) for each item on `concurrency` threads, yielded as each finishes (in finishing order).

    No more than `concurrency` items are started and unfinished at once, and none is started once should_stop()
    answers True or a work item has failed. After a failure the items in flight are still waited for and their
    results yielded (only what was in flight when the engine went away is lost), then the first failure is raised.
    Closing the iterator early waits for the items in flight and drops them."""
    queue = iter(items)
    running: set[Future] = set()
    failure: Optional[BaseException] = None
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="uqlens-served") as pool:
        while True:
            while failure is None and len(running) < concurrency and not (should_stop and should_stop()):
                item = next(queue, _END)
                if item is _END:
                    break
                running.add(pool.submit(work, item))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                error = future.exception()
                if error is None:
                    yield future.result()
                elif failure is None:
                    failure = error
    if failure is not None:
        raise failure

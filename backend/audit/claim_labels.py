"""A dataset row's given response and its claims labelled right or wrong (question audits graded per claim).

JSONL row fields (besides "question" and, optionally, "answers"):
- "response": the answer to grade, scored as given (the model does not generate one): each token's probability
  and entropy are the model's on that text, teacher-forced after the question.
- "claims": the response's claims, each {"text": a piece of the response, "correct": true / false (or 1 / 0;
  "label" is read the same)}, in the response's order. With claims, "answers" may be left out: the response is
  right when every claim is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from backend.claims.split import given_claims
from backend.errors import UserInputError
from backend.schemas.sequence import MAX_CLAIMS

MAX_RESPONSE_CHARS = 20_000  # about 4,000 tokens: twice the longest answer the claim views are checked on
TRUE_LABELS = (True, 1, "1", "true", "True")
FALSE_LABELS = (False, 0, "0", "false", "False")


@dataclass(frozen=True)
class ClaimLabel:
    """One labelled claim: its text (a piece of the response) and whether it is right."""

    text: str
    correct: bool


def response_of(row: dict[str, Any]) -> Optional[str]:
    """The row's given response, stripped; None when the row has none (the model then answers)."""
    response = row.get("response")
    if response is None:
        return None
    if not isinstance(response, str) or not response.strip():
        raise UserInputError("'response' must be a non-empty string (the answer to grade), or left out")
    if len(response) > MAX_RESPONSE_CHARS:
        raise UserInputError(f"the response has {len(response):,} characters; at most {MAX_RESPONSE_CHARS:,} can be "
                             f"graded")
    return response.strip()


def _label(claim: Any, number: int) -> ClaimLabel:
    if not isinstance(claim, dict) or not isinstance(claim.get("text"), str) or not claim["text"].strip():
        raise UserInputError(f"claim {number} must be an object with a non-empty 'text' and 'correct' (true/false)")
    raw = claim.get("correct", claim.get("label"))
    if raw not in TRUE_LABELS and raw not in FALSE_LABELS:
        raise UserInputError(f"claim {number}: 'correct' must be true or false (or 1 / 0), not {raw!r}")
    return ClaimLabel(text=claim["text"].strip(), correct=raw in TRUE_LABELS)


def claim_labels(row: dict[str, Any], response: Optional[str]) -> tuple[ClaimLabel, ...]:
    """The row's labelled claims, each found in the response in order (given_claims' rule); () when the row has
    none. UserInputError when claims come without a response, are not a list, or one is not in the response."""
    raw = row.get("claims")
    if raw is None:
        return ()
    if response is None:
        raise UserInputError("'claims' need the 'response' they are pieces of")
    if not isinstance(raw, list) or not raw:
        raise UserInputError("'claims' must be a non-empty list of {\"text\": ..., \"correct\": true/false}")
    if len(raw) > MAX_CLAIMS:
        raise UserInputError(f"{len(raw)} claims; at most {MAX_CLAIMS} can be graded in one response")
    labels = tuple(_label(claim, number) for number, claim in enumerate(raw, 1))
    given_claims(response, [label.text for label in labels], noun="response")
    return labels

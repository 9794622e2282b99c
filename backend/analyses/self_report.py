"""Asking the model about its own answer.

- Verbalized confidence (Tian et al., "Just Ask for Calibration", EMNLP 2023; Xiong et al., "Can LLMs Express Their
  Uncertainty?", ICLR 2024): the model is asked for a number from 0 to 100 and the first number in its reply is
  read. A decimal number in [0, 1] (such as 0.8) is read as a probability, anything else as a percentage; a reply
  without a number in range is reported as a failure, never guessed.
- P(True) (Kadavath et al., "Language Models (Mostly) Know What They Know", 2022): the probability the model gives
  to "True" as the next token after asking whether the proposed answer is true. lm-polygraph reports
  -log p("True") from the same kind of prompt; here the reported value is p(True) / (p(True) + p(False)), with the
  raw probabilities kept in the details, since small models put much of their mass on other tokens.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(%?)")
TRUE_WORDS = ("True", " True", "true", " true")
FALSE_WORDS = ("False", " False", "false", " false")


@dataclass(frozen=True)
class ParsedConfidence:
    """The number read from a reply (in [0, 1]) or None, and how it was read or why it failed."""

    value: Optional[float]
    reading: str


def verbalized_prompt(question: str, answer: str) -> str:
    """The question put to the model after its answer."""
    return (f"Question: {question}\nProposed answer: {answer}\n"
            "How confident are you that the proposed answer is correct? "
            "Reply with one number from 0 to 100, where 100 means certainly correct.")


def p_true_prompt(question: str, answer: str) -> str:
    """Kadavath et al.'s self-evaluation question, asking for True or False."""
    return (f"Question: {question}\nProposed answer: {answer}\n"
            "Is the proposed answer true or false? Reply with one word, True or False.")


def parse_confidence(reply: str) -> ParsedConfidence:
    """The confidence in [0, 1] stated by reply's first number, or None with the reason."""
    match = NUMBER.search(reply)
    if match is None:
        return ParsedConfidence(None, "the reply contains no number")
    number, percent = float(match.group(1)), bool(match.group(2))
    if not percent and "." in match.group(1) and number <= 1.0:
        return ParsedConfidence(number, f"read {match.group(0).strip()!r} as a probability")
    if number > 100.0:
        return ParsedConfidence(None, f"the first number, {match.group(1)}, is above 100")
    return ParsedConfidence(number / 100.0, f"read {match.group(0).strip()!r} as a percentage")


def p_true_normalized(p_true: float, p_false: float) -> Optional[float]:
    """p(True) / (p(True) + p(False)); None when the model gives both words no probability."""
    total = p_true + p_false
    return p_true / total if total > 0 else None

"""Selective answering with a guarantee: the threshold Learn-Then-Test certifies for one method of an audit.

Scores and thresholds keep the method's own units; rates (alpha, coverage, error) are fractions in [0, 1].
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

DEFAULT_ALPHA = 0.1
DEFAULT_DELTA = 0.1
DEFAULT_CALIBRATION_FRACTION = 0.5
ALPHA_HELP = ("target error rate of the answers given (selective risk P(wrong | answered)), strictly between 0 and "
              "1: 0.1 = at most 10 % of the answers given are wrong")
DELTA_HELP = ("chance that the guarantee fails (over the draw of the calibration items), strictly between 0 and 1: "
              "0.1 = the guarantee holds with 90 % probability")
CALIBRATION_FRACTION_HELP = ("share of the items (seeded split) the threshold is chosen on, strictly between 0 and "
                             "1; the rest are held out to check it")


class SelectiveDecision(BaseModel):
    """Answer or abstain for one method: the certified threshold, what it does on both splits, the guarantee in
    words, what it assumes, or why no threshold can be given (refused)."""

    method: str
    higher_is: Literal["uncertain", "confident"]
    alpha: float = Field(description="target selective risk: the largest share of wrong answers among those given")
    delta: float = Field(description="allowed chance that the guarantee fails; it holds with probability 1 - delta")
    procedure: str = Field(description="how the threshold was chosen (test, p-value, multiple-testing correction)")
    assumption: str = Field(description="what the guarantee assumes about the items")
    seed: int = Field(description="seed of the calibration / held-out split (the audit's seed)")
    calibration_fraction: float
    calibration_indices: list[int] = Field(description="item indices (AuditItem.index) the threshold was chosen on")
    held_out_indices: list[int] = Field(description="item indices held out to check it")
    n_calibration: int
    n_held_out: int
    min_answered: int = Field(description="fewest answered calibration items with which any threshold can be "
                                          "certified: with zero wrong, (1 - alpha)^n <= delta needs n >= "
                                          "log(delta) / log(1 - alpha)")
    thresholds_tested: int = Field(0, description="candidate thresholds tested in the fixed sequence")
    threshold: Optional[float] = Field(None, description="answer when the score is at or past this value, in the "
                                                         "score's own units")
    answer_if: Optional[str] = Field(None, description="the rule in words, e.g. 'mean_logprob >= -0.42'")
    calibration_answered: int = 0
    calibration_errors: int = 0
    calibration_coverage: Optional[float] = Field(None, description="share of calibration items answered")
    calibration_p_value: Optional[float] = Field(None, description="exact binomial p-value of the chosen threshold: "
                                                                   "P(Binomial(answered, alpha) <= errors)")
    held_out_answered: int = 0
    held_out_errors: int = 0
    held_out_coverage: Optional[float] = Field(None, description="share of held-out items answered")
    held_out_error: Optional[float] = Field(None, description="share of the answered held-out items that are wrong "
                                                              "(None when none is answered)")
    guarantee: Optional[str] = Field(None, description="the guarantee in words, with the numbers")
    refused: Optional[str] = Field(None, description="why no threshold can be given, and what to change")

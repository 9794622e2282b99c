"""Label issues of a classifier audit: the items whose given label is likely wrong (Confident Learning), ranked.

Probabilities are over the dataset's classes (for an image audit, the model's mass on its other classes is
dropped and the rest renormalised: LabelIssue.other_mass says how much was dropped).
"""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field


class LabelIssue(BaseModel):
    """One item whose given label is likely wrong, with what the model thinks it is."""

    rank: int = Field(ge=1, description="1 = the most likely wrong label (lowest label quality)")
    index: int = Field(description="the item's AuditItem.index")
    id: str = Field(description="the item's id (digits: digit-N; images: its path in the dataset)")
    given_label: int = Field(description="the given label's class column")
    given_name: str
    given_prob: float = Field(ge=0.0, le=1.0, description="the model's probability of the given label (over the "
                                                          "dataset's classes)")
    predicted_label: int = Field(description="the dataset class the model finds most likely")
    predicted_name: str
    predicted_prob: float = Field(ge=0.0, le=1.0)
    quality: float = Field(description="label quality score in [0, 1] (self-confidence: the given label's "
                                       "probability); lower = more likely wrong")
    other_mass: Optional[float] = Field(None, description="image audits: the model's probability of its classes "
                                                          "outside the dataset, dropped before renormalising")
    model_answer: str = Field("", description="the model's own top class over all of its classes")
    probs: list[float] = Field(description="(K,) the probabilities over the dataset's classes that cleanlab saw")
    thumbnail: Optional[str] = Field(None, description="a small image of the item as a data: URL (PNG or JPEG), "
                                                       "for the first issues only")

    def top_classes(self, k: int) -> list[int]:
        """The k most likely dataset classes (column indices into probs), most likely first."""
        return sorted(range(len(self.probs)), key=lambda column: -self.probs[column])[:k]


class LabelIssueReport(BaseModel):
    """The ranked likely label issues of an audit, what was assumed, or why none could be found."""

    n_items: int = Field(description="items examined")
    n_classes: int = Field(0, description="K, the dataset's classes cleanlab saw")
    class_names: list[str] = Field(default_factory=list, description="(K,) name of each class column")
    issues: list[LabelIssue] = Field(default_factory=list, description="most likely wrong first")
    method: str = Field("", description="how the issues were found and ranked")
    assumptions: list[str] = Field(default_factory=list, description="what the result takes for granted")
    warnings: list[str] = Field(default_factory=list, description="caveats of this data (classes with few items)")
    refused: Optional[str] = Field(None, description="why no issue list could be made from this data, and what "
                                                     "to change; None when issues were looked for")

    def summary(self, top: int = 3) -> str:
        """One line for a terminal: how many likely label issues and the first `top`, or why none were looked for."""
        if self.refused:
            return f"label issues: not looked for ({self.refused})"
        first = "; ".join(f"{i.id} labelled {i.given_name!r}, model says {i.predicted_name!r} {i.predicted_prob:.2f}"
                          for i in self.issues[:top])
        return (f"{len(self.issues)} likely label issues among {self.n_items} items"
                + (f" (top: {first})" if first else ""))

"""POST /v1/text/compare on the real default engine: both sides and their cross-scores, a clear 422 for sides on
different prompts, and the same answer through HttpClient's typed method."""
from __future__ import annotations

from backend.schemas import TextRequest
from backend.schemas.compare import TextComparison, TextComparisonRequest

PROMPT = "Name a colour."


def test_the_route_answers_a_comparison(api):
    compared = TextComparisonRequest(first=TextRequest(prompt=PROMPT, max_new_tokens=4),
                                     second=TextRequest(prompt=PROMPT, max_new_tokens=4, temperature=2.0))
    response = api.post("/v1/text/compare", json=compared.model_dump(mode="json"))
    assert response.status_code == 200, response.text
    result = TextComparison.model_validate(response.json())
    assert result.second.analysis.temperature == 2.0 and result.first.scored_by_other.temperature == 2.0
    assert len(result.first.differences) == len(result.first.analysis.tokens)


def test_sides_on_different_prompts_get_a_422_saying_so(api):
    refused = api.post("/v1/text/compare", json={"first": {"prompt": "a"}, "second": {"prompt": "b"}})
    assert refused.status_code == 422 and "same prompt" in refused.text

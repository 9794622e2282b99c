"""The Sequence page's claim view under AppTest on the real default models: the answer shaded claim by claim, the
table of claims, and an edited split re-scored; and the pure builder of the shaded answer."""
from __future__ import annotations

import pytest

from backend.schemas.sequence import ClaimScore
from components.claim_view import claim_doubt, claim_html, claim_table, shade
from tests.app.test_sequence_page import open_page, submit

CLAIMS = [ClaimScore(text="A <b>.", start=0, end=6, token_start=0, token_end=2,
                     scores={"ccp": 0.25, "mean_token_entropy": 2.0}),
          ClaimScore(text="B.", start=7, end=9, token_start=2, token_end=3, scores={"ccp": 1.0,
                                                                                    "mean_token_entropy": 1.0})]


def test_the_builder_shades_each_claim_by_its_doubt_and_escapes_the_text():
    assert claim_doubt(CLAIMS, "ccp") == [0.75, 0.0]
    assert claim_doubt(CLAIMS, "mean_token_entropy") == [1.0, 0.5]  # divided by the answer's largest
    assert claim_doubt(CLAIMS, "luq_support") == [None, None]
    page = claim_html("A <b>. B.", CLAIMS, "ccp")
    assert "&lt;b&gt;" in page and "<b>" not in page
    assert page.count("<span") == 2 and f"background:{shade(0.75)}" in page and 'title="Claim-conditioned' in page
    assert shade(None) == "#e0e0e0" and shade(0.0) != shade(1.0)
    assert claim_table(CLAIMS)[0]["Claim-conditioned probability"] == 0.25


@pytest.mark.slow
def test_the_claims_tab_shades_the_answer_and_an_edited_split_is_rescored():
    at = open_page()
    at.pills(key="seq_methods_generation").set_value(["ccp"])
    at.pills(key="seq_methods_samples").set_value(["luq"])
    at.pills(key="seq_methods_ask").set_value([])
    at.slider(key="seq_samples").set_value(2)
    at.number_input(key="seq_max_new_tokens").set_value(24)
    at = submit(at.run(), "Name the capital of France and one fact about it.")
    assert not at.exception and not at.error
    assert at.selectbox(key="seq_claims_claim_score").value == "ccp"
    assert any("<span" in m.value and "background:" in m.value for m in at.markdown)
    table = next(df.value for df in at.dataframe if "Claim" in df.value.columns)
    assert "Claim-conditioned probability" in table.columns and "Samples supporting" in table.columns
    answer_claims = list(table["Claim"])
    words = " ".join(answer_claims).split()
    edited = [" ".join(words[:2]), " ".join(words[2:])]
    at.text_area(key="seq_claims_text").set_value("\n".join(edited))
    next(b for b in at.button if b.label == "Re-score claims").click()
    at = at.run()
    assert not at.exception and not at.error
    table = next(df.value for df in at.dataframe if "Claim" in df.value.columns)
    assert list(table["Claim"]) == edited
    assert any("The request's claims" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_saved_analysis_reopens_with_its_shaded_claims(engine, tmp_path):
    from backend.clients.local import LocalClient
    from backend.schemas import SequenceRequest, TextRequest
    from backend.store.repository import Store
    from tests.app.test_saved_kinds import reopen, saved
    client = LocalClient(engine=engine, store=Store(f"sqlite:///{tmp_path}/saved.sqlite"))
    result = client.analyze_sequence(SequenceRequest(
        text=TextRequest(prompt="What is the capital of France?", max_new_tokens=12), methods=["ccp"]))
    at = reopen(saved(client, "sequence", result.model_dump(mode="json"), "claims"))
    assert not at.exception
    assert at.selectbox(key="saved_view_claims_claim_score").value == "ccp"
    assert any("<span" in m.value and "background:" in m.value for m in at.markdown)
    assert any("Claim" in df.value.columns for df in at.dataframe)
    tokens = next(df.value for df in at.dataframe if "Token CCP" in df.value.columns)
    claim = result.claims[0]
    assert len(tokens) == claim.token_end - claim.token_start
    assert list(tokens["Token CCP"]) == pytest.approx(
        result.scores[0].details["token_ccp"][claim.token_start:claim.token_end], nan_ok=True)

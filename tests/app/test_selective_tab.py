"""The Calibration page's Answer or abstain tab on a finished audit of a scores CSV (no model): the certified
threshold with its held-out coverage and error, the guarantee, the assumption, the figure and the downloads; a
stricter alpha turns it into a refusal that says what to change."""
from __future__ import annotations

import numpy as np

from tests.app.test_calibration_page import audit_scores, open_page


def scores_file(n: int = 240) -> bytes:
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, n)
    right = rng.uniform(0, 1, n) < 1.5 * p  # right whenever p > 2/3: a threshold passes at alpha 0.1 and 0.2
    return ("id,correct,p\n" + "".join(f"r{i},{int(c)},{s:.4f}\n" for i, (c, s) in enumerate(zip(right, p)))).encode()


def test_the_tab_certifies_a_threshold_and_refuses_a_stricter_alpha():
    at = audit_scores(open_page(), "scores.csv", scores_file())
    assert not at.exception and not at.error
    assert "Answer or abstain" in [t.label for t in at.tabs]
    assert at.number_input(key="calib_selective_alpha").value == 0.1
    at.number_input(key="calib_selective_alpha").set_value(0.2).run()
    assert not at.exception
    guarantee = [s.value for s in at.success if s.value.startswith("On new items like these")]
    assert guarantee and "at most 20 % of the answers given will be wrong, with 90 % probability" in guarantee[0]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Answer when p"].startswith("≥ ") and labels["Held-out coverage"].endswith("%")
    assert any(i.value.startswith("**Assumption.** Exchangeable items") for i in at.info)
    assert any(c.value.startswith("How the threshold is chosen: Learn-Then-Test") for c in at.caption)
    buttons = [b.label for b in at.get("download_button")]
    assert "Decision as JSON" in buttons and "Split and answers as CSV" in buttons
    at.number_input(key="calib_selective_alpha").set_value(0.01).run()
    assert not at.exception
    assert any(w.value.startswith("No threshold for p: with 120 calibration items no threshold can be shown to keep "
                                  "the error under 1 % with 90 % confidence") for w in at.warning)

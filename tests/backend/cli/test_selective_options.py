"""`python -m backend audit --alpha --delta --calibration-fraction`: the options reach the request (not the audit
id), bad values are refused naming the option, the JSON has `selective` per method and the summary a line each."""
from __future__ import annotations

import json

import pytest

from backend.cli import build_parser, main
from backend.cli.audit import build_request


def test_the_options_reach_the_request_and_say_what_they_mean(capsys):
    args = build_parser().parse_args(["audit", "--alpha", "0.05", "--delta", "0.2", "--calibration-fraction", "0.7"])
    request = build_request(args)
    assert (request.alpha, request.delta, request.calibration_fraction) == (0.05, 0.2, 0.7)
    plain = build_request(build_parser().parse_args(["audit"]))
    assert (plain.alpha, plain.delta, plain.calibration_fraction) == (0.1, 0.1, 0.5)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["audit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "at most 10 % of the answers given are wrong" in text and "holds with 90 % probability" in text


@pytest.mark.parametrize("option, value", [("--alpha", "0"), ("--alpha", "1"), ("--delta", "1.5"),
                                           ("--calibration-fraction", "1"), ("--delta", "ten")])
def test_values_outside_0_and_1_are_refused_naming_the_option(option, value, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["audit", option, value])
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and ("strictly between 0 and 1" in err or "is not a number" in err)


def test_a_scores_audit_writes_selective_and_prints_a_line_per_method(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UQLENS_DATABASE_URL", f"sqlite:///{tmp_path}/audit.sqlite")
    path = tmp_path / "scores.csv"
    path.write_text("id,correct,p,backwards\n" + "".join(f"r{i},{int(i >= 40 or i % 3 == 0)},{i / 200:.3f},"
                                                        f"{1 - i / 200:.3f}\n" for i in range(200)))
    out = tmp_path / "out.json"
    status = main(["audit", "--dataset", str(path), "--methods", "p,backwards", "--alpha", "0.2", "--delta", "0.1",
                   "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    data = json.loads(out.read_text())
    assert set(data["selective"]) == {"p", "backwards"} and data["request"]["alpha"] == 0.2
    decision = data["selective"]["p"]
    assert decision["refused"] is None and decision["threshold"] is not None and decision["n_calibration"] == 100
    assert "answer or abstain: at most 0.2 wrong with probability 0.9" in printed
    assert f"answer if {decision['answer_if']}: held-out coverage {decision['held_out_coverage']:.3f}" in printed
    assert data["selective"]["backwards"]["refused"].startswith("no threshold can be shown to keep the error under "
                                                                "20 % with 90 % confidence")
    assert f"{'backwards':<24}refused: no threshold can be shown" in printed

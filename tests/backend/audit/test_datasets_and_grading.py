"""The bundled QA set, uploaded datasets (good and bad), and the grading of free-form answers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.audit.datasets import BUILTIN_QA_PATH, load_dataset, parse_csv, parse_jsonl
from backend.audit.grading import alias_match, grade, normalize_tokens
from backend.errors import UserInputError


def test_builtin_qa_has_200_graded_questions_from_easy_to_hard():
    dataset = load_dataset("builtin-qa")
    assert dataset.kind == "qa" and len(dataset) >= 200
    assert len({q.id for q in dataset.qa}) == len(dataset.qa)
    assert len({q.question for q in dataset.qa}) == len(dataset.qa)
    assert {q.difficulty for q in dataset.qa} == {"easy", "medium", "hard"}
    assert [q.difficulty for q in dataset.qa[:3]] == ["easy", "medium", "hard"]  # any prefix mixes levels
    assert all(q.answers and all(normalize_tokens(a) for a in q.answers) for q in dataset.qa)
    assert len(dataset.sha256) == 64 and dataset.sha256 == load_dataset(str(BUILTIN_QA_PATH)).sha256


def test_uploaded_jsonl_and_csv(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"prompt": "2+2?", "answer": "4|four"}) + "\n\n" +
                    json.dumps({"question": "Sky?", "answers": ["blue"], "id": "s"}) + "\n")
    dataset = load_dataset(str(path))
    assert [q.answers for q in dataset.qa] == [["4", "four"], ["blue"]] and dataset.qa[1].id == "s"
    qa, given, _ = parse_csv("question,answer\nCapital of Peru?,Lima\n")
    assert qa[0].answers == ["Lima"] and not given
    _, given, directions = parse_csv("id,correct,p_true,mean_entropy\na,1,0.9,0.2\nb,0,0.4,1.5\n")
    assert [g.correct for g in given] == [True, False] and given[1].scores == {"p_true": 0.4, "mean_entropy": 1.5}
    assert directions == {"p_true": "confident", "mean_entropy": "uncertain"}


@pytest.mark.parametrize("text, message", [
    ("", "no items"), ("{not json}\n", "line 1 is not valid JSON"), ('["a"]\n', "not a JSON object"),
    ('{"question": "q"}\n', "item 1: each item needs 'answers'"), ('{"question": " ", "answers": ["a"]}\n', "empty"),
    ('{"question": "q", "answers": [" "]}\n', "no accepted answer")])
def test_bad_jsonl_says_what_to_change(text, message):
    with pytest.raises(UserInputError, match=message):
        parse_jsonl(text)


@pytest.mark.parametrize("text, message", [
    ("", "header row"), ("a,b\n1,2\n", "needs 'question' and 'answer' columns"),
    ("correct,score\n2,0.5\n", "must be 0 or 1"), ("correct,score\n1,abc\n", "must hold a number"),
    ("correct\n1\n", "no score column")])
def test_bad_csv_says_what_to_change(text, message):
    with pytest.raises(UserInputError, match=message):
        parse_csv(text)


def test_bad_files(tmp_path):
    with pytest.raises(UserInputError, match="no dataset"):
        load_dataset(str(tmp_path / "missing.jsonl"))
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(UserInputError, match="use a .jsonl or .csv"):
        load_dataset(str(tmp_path / "x.txt"))
    with pytest.raises(UserInputError, match="not UTF-8"):
        load_dataset("up.csv", content=b"\xff\xfe\xfa")


def test_normalisation_hand_cases():
    assert normalize_tokens("The Café, São Paulo!") == ["cafe", "sao", "paulo"]
    assert normalize_tokens("About 300,000 km/s") == ["about", "300000", "km", "s"]
    assert normalize_tokens("twenty-four") == ["twenty", "four"]


@pytest.mark.parametrize("answer, aliases, expected", [
    ("The capital of France is Paris.", ["Paris"], True),
    ("It is paris", ["Paris"], True),
    ("Parisian cafés", ["Paris"], False),  # whole tokens only
    ("Gabriel García Márquez wrote it", ["Gabriel Garcia Marquez"], True),
    ("New York", ["New Delhi", "Delhi"], False),
    ("The answer is 8.", ["8", "eight"], True),
    ("It has eighteen", ["8", "eight"], False),
])
def test_alias_match(answer, aliases, expected):
    assert alias_match(answer, aliases) is expected


def test_embedding_fallback_uses_the_stated_threshold():
    vectors = {"Big Apple": [1.0, 0.0], "New York City": [0.9, np.sqrt(1 - 0.81)], "Lyon": [0.0, 1.0]}

    def embed(texts):
        return np.array([vectors[t] for t in texts])

    right = grade("Big Apple", ["New York City"], embed, threshold=0.8)
    assert (right.correct, right.grading) == (True, "embedding") and right.similarity == pytest.approx(0.9)
    assert not grade("Big Apple", ["New York City"], embed, threshold=0.95).correct
    assert grade("Lyon", ["New York City"], embed).similarity == pytest.approx(np.sqrt(0.19))
    assert grade("Big Apple", ["New York City"]).grading == "no_match"  # no embedder: alias match only

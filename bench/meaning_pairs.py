"""Build the labelled answer pairs of backend/datasets/meaning_pairs.jsonl from the bundled questions.

For every question of backend/datasets/builtin_qa.jsonl, answers are written in several wrappings of one entity: the
bare entity, "The answer is X.", a statement that repeats the question ("The capital of Australia is X."), the same
statement with words added after the entity ("..., also known as <alias>" / "..., as far as I know"), and a hedge
("I believe it is X."). Same-meaning pairs put two wrappings (or two aliases) of the accepted answer together;
different-meaning pairs put the accepted answer beside a wrong entity, the accepted answer of the most similar other
question (by shared words: Canberra vs. Stockholm for two capitals), in the same or another wrapping.

    python bench/meaning_pairs.py            # rewrites backend/datasets/meaning_pairs.jsonl (deterministic)
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "backend" / "datasets" / "builtin_qa.jsonl"
PAIRS = ROOT / "backend" / "datasets" / "meaning_pairs.jsonl"
STOP = {"what", "which", "who", "how", "is", "the", "of", "a", "an", "in", "was", "are", "does", "do", "to", "for",
        "that", "by", "on", "many", "name", "called", "has", "have", "first"}
PARTICIPLES = {"wrote": "written", "painted": "painted", "composed": "composed", "discovered": "discovered",
               "proposed": "proposed", "developed": "developed", "formulated": "formulated", "invented": "invented"}


def words(text: str) -> set[str]:
    """Lower-case content words of a question."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOP}


def statement(question: str, entity: str) -> str:
    """A sentence that repeats the question and asserts the entity, or 'The answer to that is X.' when no simple
    rewrite applies."""
    text = question.strip().rstrip("?")
    match = re.match(r"What is (the .+)$", text)
    if match and not re.search(r"\b(called|known|made|used)\b", match.group(1)):
        return f"{match.group(1)[0].upper()}{match.group(1)[1:]} is {entity}."
    match = re.match(r"Who (\w+) (.+)$", text)
    if match and match.group(1) in PARTICIPLES:
        return f"{match.group(2)[0].upper()}{match.group(2)[1:]} was {PARTICIPLES[match.group(1)]} by {entity}."
    return f"The answer to that is {entity}."


def wrappings(question: str, entity: str, alias: str) -> dict[str, str]:
    """The wrappings of one entity for one question (alias: another accepted name, or '' when there is none)."""
    stated = statement(question, entity)
    extra = f", also known as {alias}." if alias else ", as far as I know."
    return {"bare": f"{entity}.", "answer_is": f"The answer is {entity}.", "statement": stated,
            "statement_extra": stated[:-1] + extra, "hedge": f"I believe it is {entity}."}


def is_number(text: str) -> bool:
    """Whether an answer is written in digits."""
    return bool(re.fullmatch(r"[\d.,]+", text))


def distractor(index: int, questions: list[dict]) -> str:
    """The first accepted answer of another question: one of the same kind (number or not) sharing the most content
    words (ties: the nearest id), whose answers share no alias with this question's."""
    own = {a.lower() for a in questions[index]["answers"]}
    mine, numeric = words(questions[index]["question"]), is_number(questions[index]["answers"][0])
    best = max((is_number(q["answers"][0]) == numeric, len(mine & words(q["question"])), -abs(i - index), i)
               for i, q in enumerate(questions) if i != index and not own & {a.lower() for a in q["answers"]})
    return questions[best[3]]["answers"][0]


SAME = [("bare", "statement"), ("statement", "statement_extra"), ("answer_is", "hedge"), ("bare", "statement_extra")]
DIFFERENT = [("statement", "statement"), ("statement_extra", "statement"), ("bare", "bare"), ("answer_is", "hedge")]


def question_pairs(index: int, questions: list[dict]) -> list[dict]:
    """The labelled pairs of one question: SAME wrappings of its answer, DIFFERENT ones against the distractor, and
    two aliases of the answer in one wrapping when it has two."""
    question = questions[index]
    right, aliases = question["answers"][0], question["answers"][1:]
    alias = aliases[0] if aliases else ""
    ours, theirs = wrappings(question["question"], right, alias), wrappings(question["question"],
                                                                         distractor(index, questions), "")
    rows = [(ours[a], ours[b], True, f"same: {a} vs {b}") for a, b in SAME]
    rows += [(ours[a], theirs[b], False, f"different: {a} vs {b}") for a, b in DIFFERENT]
    if alias:
        rows.append((ours["statement"], statement(question["question"], alias), True, "same: two aliases"))
    return [{"question_id": question["id"], "question": question["question"], "a": a, "b": b, "same": same,
             "kind": kind} for a, b, same, kind in rows]


def build_pairs(questions: list[dict]) -> list[dict]:
    """Every question's labelled pairs, in question order."""
    return [row for index in range(len(questions)) for row in question_pairs(index, questions)]


def main() -> None:
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    rows = build_pairs(questions)
    PAIRS.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    print(f"{len(rows)} pairs ({sum(r['same'] for r in rows)} same meaning) -> {PAIRS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Grading free-form answers against accepted aliases, by the answer's claim rather than by any mention.

Rule, in order:
1. Claim match. The answer is cut into sentences (at . ! ? followed by a space or the end, and at line breaks; a
   period after a single letter or a common abbreviation, as in "A.A. Ramsey" or "Dr.", does not end one). Its claim
   is the first sentence that names an accepted answer, and the answer is right when
   - no earlier sentence says something of its own (words other than the question's and filler such as "Sure!"):
     the claim must be the first sentence that answers;
   - the accepted answer is not negated ("not", "never", "isn't" among the two words before it);
   - it is not offered beside an alternative ("Sydney or Canberra": "or" next to it);
   - no other entity follows the words that introduce it elsewhere in the answer ("written by George Orwell ...
     written by A.A. Ramsey": the two words before the accepted answer, when they end in a word that introduces it
     such as "is" (or that word alone for "by", "called", "named"), met again before something that is not an
     accepted answer nor a word of the question, contradict it).
   Names are compared after normalisation (SQuAD-style, Rajpurkar et al. 2016, plus digit grouping): Unicode NFKD
   with accents removed, lower case, thousands separators in numbers dropped ("300,000" -> "300000"), punctuation
   and hyphens turned into spaces, the articles a / an / the removed, whitespace collapsed; an alias matches when
   its tokens appear contiguously among the sentence's.
2. Embedding fallback: when no sentence names an accepted answer, the answer's first sentence is right when the
   cosine similarity between its sentence embedding and an alias's is at least the stated threshold (0.8 by
   default, all-MiniLM-L6-v2). It only runs when an embedder is given.
Every verdict keeps how it was graded ("alias", "embedding", "no_match"), a sentence saying why, and the best
similarity when one was computed; a person can override it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

ARTICLES = {"a", "an", "the"}
DIGIT_GROUP = re.compile(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)")
NON_WORD = re.compile(r"[^\w\s]|_")
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n+")
ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "jr", "sr", "vs", "etc", "mt", "ft", "approx", "ca"}
NEGATIONS = {"not", "never", "no", "isn", "wasn", "aren", "weren", "doesn", "didn", "nor", "neither"}
ALTERNATIVE = "or"
FRAME_WORDS = 2
INTRODUCERS = {"by", "is", "was", "are", "were", "called", "named", "be"}  # a frame ends with one of these
NAME_WINDOW = 5  # an accepted answer this close after the frame restates the claim ("by the composer, Ludwig van B.")
NAMING = {"by", "called", "named"}  # introducers specific enough to be the whole frame ("by George Orwell")
NEGATION_WINDOW = 2
FILLER = {"sure", "certainly", "great", "good", "question", "answer", "well", "okay", "ok", "yes", "hello", "hi",
          "here", "is", "s", "it", "that", "this", "let", "me", "think", "i", "m", "happy", "to", "help", "of",
          "course", "absolutely", "glad", "you", "asked", "can", "tell", "what", "so", "oh", "ah", "hmm", "be",
          "would", "will", "correct", "right", "interesting", "one", "thanks", "thank"}

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Verdict:
    """Whether an answer is right, how that was decided, why (one sentence), and the best embedding similarity when
    one was computed."""

    correct: bool
    grading: str  # "alias", "embedding", "no_match" or "claims"
    similarity: Optional[float] = None
    reason: str = ""


def normalize_tokens(text: str) -> list[str]:
    """The normalised tokens of a text (see the module docstring)."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    folded = DIGIT_GROUP.sub("", folded)
    tokens = NON_WORD.sub(" ", folded).split()
    return [t for t in tokens if t not in ARTICLES]


def contains_tokens(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """True when needle occurs as a contiguous run in haystack (an empty needle never matches)."""
    return bool(find_runs(haystack, needle))


def find_runs(haystack: Sequence[str], needle: Sequence[str]) -> list[int]:
    """Start positions where needle occurs as a contiguous run in haystack (none for an empty needle)."""
    size = len(needle)
    if size == 0:
        return []
    return [i for i in range(len(haystack) - size + 1) if list(haystack[i:i + size]) == list(needle)]


def alias_match(answer: str, aliases: Sequence[str]) -> bool:
    """Some alias's normalised tokens appear contiguously somewhere in the answer's (a mention, not a claim)."""
    tokens = normalize_tokens(answer)
    return any(contains_tokens(tokens, normalize_tokens(alias)) for alias in aliases)


def split_sentences(text: str) -> list[str]:
    """The text's sentences, stripped, empty ones dropped (see the module docstring for where one ends)."""
    sentences, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if match.group().startswith(".") and _ends_abbreviation(text[start:match.start()]):
            continue
        sentences.append(text[start:match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _ends_abbreviation(before: str) -> bool:
    """Whether the word before a period is a single letter (an initial) or a common abbreviation."""
    words = before.split()
    last = words[-1].lower().rsplit(".", 1)[-1] if words else ""
    return (len(last) == 1 and last.isalpha()) or last in ABBREVIATIONS


@dataclass(frozen=True)
class _Mention:
    """An accepted answer found at tokens [start, end) of sentence `sentence`."""

    sentence: int
    start: int
    end: int


def _mentions(sentences: list[list[str]], aliases: list[list[str]]) -> list[_Mention]:
    """Every alias occurrence, in reading order (the longest alias at a position first)."""
    found = [_Mention(s, i, i + len(alias)) for s, tokens in enumerate(sentences) for alias in aliases
             for i in find_runs(tokens, alias)]
    return sorted(found, key=lambda m: (m.sentence, m.start, -m.end))


def _starts_alias(tokens: list[str], position: int, aliases: list[list[str]]) -> bool:
    """Whether an alias begins at tokens[position]."""
    return any(list(tokens[position:position + len(alias)]) == alias for alias in aliases)


def _contradiction(sentences: list[list[str]], claim: _Mention, aliases: list[list[str]],
                   ignorable: set[str]) -> Optional[str]:
    """The words naming another entity after the claim's introducing words (the FRAME_WORDS before the accepted
    answer) anywhere in the answer, or None; a word of the question or filler there names no other entity."""
    tokens = sentences[claim.sentence]
    frame = tokens[max(0, claim.start - FRAME_WORDS):claim.start]
    if len(frame) < FRAME_WORDS or frame[-1] not in INTRODUCERS:
        return None
    frame = frame[-1:] if frame[-1] in NAMING else frame
    for other in sentences:
        for start in find_runs(other, frame):
            after = start + len(frame)
            named = any(_starts_alias(other, i, aliases) for i in range(after, after + NAME_WINDOW))
            if after < len(other) and other[after] not in ignorable and not named:
                return " ".join(other[start:after + 3])
    return None


def _claim_verdict(answer: str, aliases: Sequence[str], question: str) -> Optional[Verdict]:
    """Rule 1 when some sentence names an accepted answer; None when none does."""
    sentences = [normalize_tokens(s) for s in split_sentences(answer)]
    alias_tokens = [t for t in (normalize_tokens(a) for a in aliases) if t]
    found = _mentions(sentences, alias_tokens)
    if not found:
        return None
    claim = found[0]
    tokens, name = sentences[claim.sentence], " ".join(sentences[claim.sentence][claim.start:claim.end])
    ignorable = FILLER | set(normalize_tokens(question))
    for index in range(claim.sentence):
        if set(sentences[index]) - ignorable:
            return Verdict(False, "no_match", reason=f"the first sentence that answers names no accepted answer "
                                                     f"(\"{' '.join(sentences[index])}\"); \"{name}\" comes later")
    before = tokens[max(0, claim.start - NEGATION_WINDOW):claim.start]
    if NEGATIONS & set(before):
        return Verdict(False, "no_match", reason=f"\"{name}\" is negated (\"{' '.join(before)} {name}\")")
    beside = tokens[claim.start - 1:claim.start] + tokens[claim.end:claim.end + 1]
    if ALTERNATIVE in beside:
        return Verdict(False, "no_match", reason=f"\"{name}\" is offered with an alternative (\"or\")")
    contradiction = _contradiction(sentences, claim, alias_tokens, ignorable)
    if contradiction:
        return Verdict(False, "no_match", reason=f"\"{name}\" is contradicted by \"{contradiction}\"")
    return Verdict(True, "alias", reason=f"the answer's claim (sentence {claim.sentence + 1}) names \"{name}\"")


def cosine_to_aliases(answer_vector: np.ndarray, alias_vectors: np.ndarray) -> float:
    """Largest cosine similarity between one embedding (D,) and the aliases' (A, D)."""
    a = answer_vector / max(np.linalg.norm(answer_vector), 1e-12)
    b = alias_vectors / np.maximum(np.linalg.norm(alias_vectors, axis=1, keepdims=True), 1e-12)
    return float(np.max(b @ a))


def grade(answer: str, aliases: Sequence[str], embed: Optional[Embed] = None, threshold: float = 0.8,
          question: str = "") -> Verdict:
    """Grade one answer: its claim against the aliases, else the embedding fallback on its first sentence when
    `embed` is given, else wrong. `question` lets a first sentence that only repeats it count as filler."""
    claimed = _claim_verdict(answer, aliases, question)
    if claimed is not None:
        return claimed
    if embed is None or not answer.strip():
        return Verdict(False, "no_match", reason="no accepted answer is named" if answer.strip() else "empty answer")
    first = split_sentences(answer)[0]
    vectors = np.asarray(embed([first, *aliases]), dtype=np.float64)
    similarity = cosine_to_aliases(vectors[0], vectors[1:])
    verdict = "≥" if similarity >= threshold else "<"
    return Verdict(similarity >= threshold, "embedding" if similarity >= threshold else "no_match", similarity,
                   reason=f"no accepted answer is named; the first sentence's embedding similarity to the closest "
                          f"one is {similarity:.2f} {verdict} {threshold:g}")

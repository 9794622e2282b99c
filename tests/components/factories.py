"""Hand-made TokenScore objects for figure tests (no model needed)."""
from __future__ import annotations

import math

from backend.schemas import Alternative, TokenScore


def make_token(text: str, prob: float, *, position: int = 0, entropy: float = 1.0, rank: int = 1,
               token_id: int = 7) -> TokenScore:
    """A token with two alternatives: itself and one other."""
    return TokenScore(position=position, text=text, id=token_id, prob=prob, logprob=math.log(prob),
                      entropy=entropy, rank=rank, margin=abs(prob - (1 - prob)),
                      top_k=[Alternative(text=text, id=token_id, prob=prob),
                             Alternative(text="<other>", id=token_id + 1, prob=1 - prob)])


def make_tokens(texts: list[str]) -> list[TokenScore]:
    """Tokens with probabilities 0.9, 0.5, 0.1, 0.9, ... and entropies 0.2, 1.0, 2.5, ..."""
    probs, entropies = [0.9, 0.5, 0.1], [0.2, 1.0, 2.5]
    return [make_token(t, probs[i % 3], position=10 + i, entropy=entropies[i % 3], token_id=100 + i)
            for i, t in enumerate(texts)]

"""Hand-made attention and saliency results for figure tests (no model needed)."""
from __future__ import annotations

from backend.schemas.text_attention import AttentionMatrix, HeadGrid, InputToken
from backend.schemas.text_saliency import SaliencyRow, TextSaliency

# <|im_start|> user \n Hi  the re  ? \n | Hello  world
TEXTS = ["<s>", "user", "\n", "Hi", " the", "re", "?", "\n", "Hello", " world"]
KINDS = ["template", "template", "template", "prompt", "prompt", "prompt", "prompt", "template", "answer", "answer"]
WORDS = [0, 1, 2, 3, 4, 4, 4, 5, 6, 7]
ANSWER_START = 8


def make_tokens() -> list[InputToken]:
    return [InputToken(position=p, text=t, id=100 + p, special=p == 0, kind=k, word=w)
            for p, (t, k, w) in enumerate(zip(TEXTS, KINDS, WORDS))]


def make_saliency(signed: bool = True) -> TextSaliency:
    """Two explained answer tokens with scores -1, 2, -3, ... over the positions before them."""
    rows = [SaliencyRow(position=p, text=TEXTS[p], target_value=-0.5, scores=[(-1) ** (i + 1) * (i + 1) * 0.1
                                                                              for i in range(p)], scale=1.0)
            for p in (8, 9)]
    if not signed:
        rows = [row.model_copy(update={"scores": [abs(s) for s in row.scores]}) for row in rows]
    return TextSaliency(model="m", method="input_x_gradient", method_label="Input x gradient", signed=signed,
                        target="logprob", target_label="Log-probability of the token", target_higher_is="confident",
                        temperature=1.0, parameters={}, normalisation="none", normalisation_description="raw",
                        answer_start=ANSWER_START, tokens=make_tokens(), rows=rows, forward_sequences=1,
                        backward_passes=2, seconds=0.1)


def make_matrix(start: int = 0) -> AttentionMatrix:
    return AttentionMatrix(granularity="token", start=start, labels=["<s>", "a", "a"], positions=[start, start + 1,
                                                                                                  start + 2],
                           values=[[1, 0, 0], [0.9, 0.1, 0], [0.6, 0.3, 0.1]], normalisation="as computed")


def make_grid(layers: int = 3, heads: int = 2, size: int = 2) -> HeadGrid:
    """Tile (l, h) holds the values l + h + 1 and 2 (l + h + 1)."""
    return HeadGrid(size=size, values=[[[[float(l + h + 1), 2.0 * (l + h + 1)]] * size for h in range(heads)]
                                       for l in range(layers)], pooling="mean")

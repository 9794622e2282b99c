"""What the peer benchmarks run on: the registered model, loaded once and shared with the peers, and a fixed prompt
and answer whose length is set in tokens (score mode), so that every tool sees exactly the same token ids."""
from __future__ import annotations

import argparse
import copy
from typing import Any, Optional

import harness  # noqa: F401  (puts the project root on sys.path before backend is imported)
from backend.analyses.evidence import Evidence
from backend.engine import Engine
from backend.models.text_loader import LoadedTextModel
from backend.schemas import SequenceRequest, TextAnalysis, TextRequest
from backend.sequence.pipeline import GATHERERS, SequenceModels, SequenceRun, needed_evidence, selected_methods
from backend.text.generation import analyze_text

PROMPT = "Write a short story about a lighthouse keeper."
STORY = (
    " The keeper climbed the stairs every night to light the lamp for the ships. He had lived alone on the rock for"
    " eleven years, and he knew every sound the sea could make. One evening in late autumn, as the wind turned cold"
    " and the gulls went quiet, he found a green bottle wedged between two stones at the foot of the tower. Inside"
    " was a letter, folded many times and written in a careful hand. It was addressed to nobody in particular, only"
    " to whoever might find it. The writer said she was a girl on a fishing boat far to the north, and that her"
    " father had told her that every lighthouse has a keeper who reads the messages the sea brings in. She asked"
    " whether the keeper was lonely, whether he ever saw whales, and whether the light ever went out. He read the"
    " letter three times by the lamp. Then he took out paper of his own and began to answer every question, one by"
    " one, in the slow way of a man who has not written to anyone in a long time. He told her about the whales that"
    " passed in spring, about the storm that broke two windows, and about the night the light nearly failed. When he"
    " had finished, he sealed the letter in the same green bottle and waited for the tide to turn. In the morning he"
    " threw it as far as he could, and watched it drift north until he could not see it any more. Every night after"
    " that, when he lit the lamp, he wondered where the bottle had gone, and he kept the light a little brighter."
)


def load(args: argparse.Namespace) -> tuple[Engine, LoadedTextModel]:
    """The engine and the text model named by --model on --device (the same model object serves the peers)."""
    engine = Engine(device=args.device)
    return engine, engine.text_model(args.model)


def fixed_answer(lm: LoadedTextModel, n_tokens: int) -> str:
    """The first n_tokens tokens of STORY as text, checked to tokenise back to the same ids, alone and after the
    prompt (so a peer that tokenises prompt + answer as one string sees the same ids as UQ Lens)."""
    tokenizer = lm.tokenizer
    story_ids = tokenizer(STORY, add_special_tokens=False)["input_ids"]
    if n_tokens > len(story_ids):
        raise ValueError(f"the story has {len(story_ids)} tokens under {lm.spec.id}; ask for at most that many")
    answer = tokenizer.decode(story_ids[:n_tokens])
    alone = tokenizer(answer, add_special_tokens=False)["input_ids"]
    joined = tokenizer(PROMPT + answer)["input_ids"]
    if alone != story_ids[:n_tokens] or joined != tokenizer(PROMPT)["input_ids"] + alone:
        raise ValueError(f"{lm.spec.id}'s tokenizer does not split the {n_tokens}-token answer the same way alone "
                         f"and after the prompt; pick another --tokens")
    return answer


def scored_answer(engine: Engine, lm: LoadedTextModel, n_tokens: int) -> TextAnalysis:
    """UQ Lens's analysis of the fixed answer of n_tokens tokens after PROMPT, without the chat template (the ids
    the saliency and attention comparisons explain)."""
    return engine.analyze_text(score_request(lm, n_tokens))


def score_request(lm: LoadedTextModel, n_tokens: int) -> TextRequest:
    """The request that scores the fixed answer of n_tokens tokens (no chat template, no generation)."""
    return TextRequest(model=lm.spec.id, prompt=PROMPT, answer=fixed_answer(lm, n_tokens), chat_template=False)


def tokenizer_copy(lm: LoadedTextModel, unk_id: Optional[int] = None) -> Any:
    """A copy of the model's tokenizer for a peer, so that what the peer sets on it (padding side, ...) never
    reaches UQ Lens; with unk_id, its unknown token becomes that id (inseq builds its baseline from the unknown
    token: the padding id makes that baseline UQ Lens's all_pad one)."""
    tokenizer = copy.deepcopy(lm.tokenizer)
    if unk_id is not None:
        tokenizer.unk_token = tokenizer.convert_ids_to_tokens(unk_id)
    return tokenizer


def gathered(engine: Engine, request: SequenceRequest) -> tuple[TextAnalysis, Evidence]:
    """The analysed answer and the evidence Engine.analyze_sequence gathers for request, by the same code
    (analyze_text, then the gatherers), kept so that a peer can be fed exactly what UQ Lens scored."""
    meaning = engine.meaning_source(request)
    models = SequenceModels(lm=engine.text_model(request.text.model),
                            embedder=engine.embedding_model(request.embedding_model), nli=None, meaning=meaning)
    text = analyze_text(models.lm, request.text)
    evidence = Evidence(logprobs=[t.logprob for t in text.tokens], entropies=[t.entropy for t in text.tokens],
                        special=[t.special for t in text.tokens], vocab_size=int(models.lm.model.config.vocab_size))
    run = SequenceRun(models, request, text, evidence)
    for name in needed_evidence(selected_methods(request), meaning.kind):
        if name in GATHERERS:
            GATHERERS[name](run)
    return text, evidence

"""`python -m backend text`: token-level uncertainty of a generated or given answer."""
from __future__ import annotations

import argparse
import json

from backend.cli.attribution_options import add_attribution_arguments, attribution_json, attribution_results, \
    attribution_table
from backend.cli.sequence_options import (add_sequence_arguments, sequence_json, sequence_request,
                                           sequence_table)
from backend.schemas import DEFAULT_TEXT_MODEL, TextAnalysis, TextRequest
from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS

NAME = "text"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    text = commands.add_parser(NAME, help="token-level uncertainty of a generated or given answer")
    text.add_argument("prompt")
    text.add_argument("--model", default=DEFAULT_TEXT_MODEL, help="registered model id (see `models`)")
    text.add_argument("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS,
                      help="answer length in tokens (the Text and Sequence pages' default too)")
    text.add_argument("--answer", help="score this answer instead of generating one")
    text.add_argument("--prefix", help="continue an answer from this forced beginning (its tokens are marked "
                                       "forced; --max-new-tokens more are generated after it)")
    text.add_argument("--no-chat-template", dest="chat_template", action="store_false", default=None,
                      help="score the raw prompt, without the model's chat template")
    text.add_argument("--sample", dest="do_sample", action="store_true", help="sample instead of greedy decoding")
    text.add_argument("--temperature", type=float, default=1.0)
    text.add_argument("--top-p", type=float, default=1.0)
    text.add_argument("--seed", type=int, default=0)
    text.add_argument("--top-k", type=int, default=5, help="alternatives reported per token")
    text.add_argument("--json", action="store_true", help="print one JSON object")
    text.add_argument("--stream", action="store_true",
                      help="print the answer's tokens to stderr as they are generated (Ctrl-C ends generation early "
                           "and keeps what came); the table or JSON follows on stdout as usual")
    add_sequence_arguments(text)
    add_attribution_arguments(text)


def format_table(result: TextAnalysis) -> str:
    """A human-readable table of the answer's tokens."""
    lines = [f"model: {result.model}   stop: {result.stop_reason}   {result.seconds:.2f} s",
             f"answer: {result.generated_text}", "",
             f"{'pos':>5} {'token':<18} {'prob':>7} {'entropy':>8} {'rank':>5}  top alternatives"]
    for t in result.tokens:
        alts = ", ".join(f"{a.text!r} {a.prob:.2f}" for a in t.top_k[:3])
        rank = t.rank if t.rank is not None else f">{len(t.top_k)}"
        bounds = f"  entropy in [{t.entropy_bounds[0]:.3f}, {t.entropy_bounds[1]:.3f}]" if t.entropy_bounds else ""
        forced = "  (forced)" if t.forced else ""
        lines.append(f"{t.position:>5} {t.text!r:<18} {t.prob:>7.3f} {t.entropy:>8.3f} {rank:>5}  {alts}{bounds}"
                     f"{forced}")
    lines += [""] + [f"{s.label}: {s.value:.4f} (higher = more {s.higher_is})" for s in result.summaries]
    if result.exactness_note:
        lines += ["", result.exactness_note]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the `text` command; returns the exit status."""
    from transformers.utils import logging as hf_logging

    from backend.clients.local import LocalClient

    hf_logging.disable_progress_bar()

    request = TextRequest(model=args.model, prompt=args.prompt, answer=args.answer, prefix=args.prefix,
                          chat_template=args.chat_template,
                          max_new_tokens=args.max_new_tokens, do_sample=args.do_sample, temperature=args.temperature,
                          top_p=args.top_p, seed=args.seed, top_k=args.top_k)
    client = LocalClient()
    sequence = sequence_request(args, request)
    analysis = client.analyze_sequence(sequence) if sequence else None
    if analysis is None and args.stream:
        from backend.cli.live import stream_analysis

        result = stream_analysis(client, request)
    else:
        result = analysis.text if analysis else client.analyze_text(request)
    attention, saliency = attribution_results(client, args, result)
    if args.json:
        print(json.dumps({**result.model_dump(mode="json"), **(sequence_json(analysis) if analysis else {}),
                          **attribution_json(attention, saliency)}))
    else:
        print(format_table(result) + (sequence_table(analysis) if analysis else "")
              + attribution_table(attention, saliency))
    return 0

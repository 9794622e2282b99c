"""Peak memory and time of the largest request each route admits on the default models, in one process.

Each row runs once after a warm-up that pages the weights in; memory is the in-process peak (VmHWM after gc and
malloc_trim, see harness.MEMORY_DEFINITION) beyond what was resident before. The first row is the baseline the
others are compared with: a 2,048-token prompt read by one unchunked forward pass over the whole sequence with
float64 statistics over the full (T, V) logits, as UQ Lens did before its per-request budget.

    .venv/bin/python bench/bench_request_budget.py [--threads N] [--prompt-tokens 7936] [--new-tokens 256]
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import call  # noqa: E402
from backend.analyses.token_stats import token_stats  # noqa: E402
from backend.engine import Engine  # noqa: E402
from backend.schemas import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, TextRequest  # noqa: E402
from backend.schemas.image import ImageInput, ImageRequest  # noqa: E402
from backend.schemas.sequence import SequenceRequest  # noqa: E402
from backend.schemas.text_attention import TextAttentionRequest  # noqa: E402
from backend.text.generation import build_model_input  # noqa: E402

WORDS = "the quick brown fox jumps over the lazy dog near a quiet river while the evening light fades"


def prompt_of(lm, n_tokens: int) -> str:
    """A prompt whose chat-templated input is about n_tokens tokens."""
    words = WORDS.split()
    text = " ".join(words[i % len(words)] for i in range(n_tokens))
    while len(build_model_input(lm, text, None)[1]) > n_tokens:
        text = text.rsplit(" ", 8)[0]
    return text


def unchunked_baseline(engine: Engine, prompt: str) -> None:
    """The old path: one forward over the whole sequence, float64 statistics over all its (T, V) logits."""
    lm = engine.text_model(DEFAULT_TEXT_MODEL)
    _text, ids, _used = build_model_input(lm, prompt, None)
    with torch.inference_mode():
        tensor = torch.tensor([ids])
        logits = lm.model(input_ids=tensor, attention_mask=torch.ones_like(tensor)).logits[0, :-1]
        token_stats(logits.double(), tensor[0, 1:])


def big_png(side: int) -> bytes:
    """A PNG of side x side pixels that compresses small (blocks of noise), like a hostile upload."""
    tile = (np.random.default_rng(0).random((side // 100, side // 100, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(tile).resize((side, side), Image.NEAREST).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def rows(engine: Engine, args: argparse.Namespace) -> list[tuple[str, Callable[[], object]]]:
    """(label, run) of the baseline and of each route's largest admitted request."""
    lm = engine.text_model(DEFAULT_TEXT_MODEL)
    longest = prompt_of(lm, args.prompt_tokens)
    baseline_prompt = prompt_of(lm, 2048)
    sequence_prompt = prompt_of(lm, 1024)
    attention_ids = lm.tokenizer(prompt_of(lm, 990))["input_ids"][:990]
    png = big_png(6300)
    return [
        ("baseline: 2,048-token prompt, one unchunked pass", lambda: unchunked_baseline(engine, baseline_prompt)),
        ("text: 2,048-token prompt, 1 new token", lambda: engine.analyze_text(
            TextRequest(prompt=baseline_prompt, max_new_tokens=1))),
        (f"text: {args.prompt_tokens:,}-token prompt, {args.new_tokens} new tokens (largest)", lambda: engine.analyze_text(
            TextRequest(prompt=longest, max_new_tokens=args.new_tokens, do_sample=True, temperature=5.0))),
        ("sequence: 1,024-token prompt, 8 samples x 32 tokens", lambda: engine.analyze_sequence(SequenceRequest(
            text=TextRequest(prompt=sequence_prompt, max_new_tokens=32), methods=["semantic_entropy"], samples=8))),
        ("attention: 990 tokens (largest)", lambda: engine.text_attention(
            TextAttentionRequest(ids=attention_ids, answer_start=900))),
        ("image: 6,300 x 6,300 PNG upload (151 KiB)", lambda: engine.analyze_image(
            ImageRequest(model=DEFAULT_IMAGE_MODEL, image=ImageInput(data=png, filename="big.png")))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--prompt-tokens", type=int, default=7936)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench/bench_request_budget.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    engine = Engine(device="cpu")
    engine.analyze_text(TextRequest(prompt="warm up", max_new_tokens=2))
    engine.image_model(DEFAULT_IMAGE_MODEL)
    results = []
    for label, run in rows(engine, args):
        seconds, _output, peak = call(run, "cpu", memory=True)
        results.append({"request": label, "seconds": round(seconds, 1), "peak_mib": round(peak)})
        base = results[0]
        print(f"{label:<62} {seconds:7.1f} s {peak:8.0f} MiB   memory vs baseline {peak / base['peak_mib']:.2f}x",
              flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""uqlm's offline scorers and UQ Lens's evidence in uqlm's formats, for bench/bench_vs_uqlm.py and its worker
bench/uqlm_worker.py in .venv-uqlm (pure functions, and an import of uqlm's scorer modules that works without
LangChain). Only numpy at import, so that both venvs import it."""
from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import types
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

UQLM_MODULES = {"SingleLogprobsScorer": "uqlm.white_box.single_logprobs",
                "TopLogprobsScorer": "uqlm.white_box.top_logprobs",
                "MatchScorer": "uqlm.black_box.match", "CosineScorer": "uqlm.black_box.cosine"}
UQLM_PACKAGES = ("uqlm", "uqlm.white_box", "uqlm.black_box")


def import_uqlm() -> tuple[dict[str, Any], str]:
    """({class name: uqlm scorer class}, "") or ({}, why uqlm cannot run here).

    uqlm/__init__.py and uqlm/white_box/__init__.py import LangChain (for the scorers that call an LLM), which the
    offline scorers do not use: the three packages are registered as bare namespace modules over the installed
    folders, so that only the scorer modules themselves (numpy, scipy, rich, sentence-transformers) are imported."""
    spec = importlib.util.find_spec("uqlm")
    if spec is None or not spec.submodule_search_locations:
        return {}, ("uqlm is not installed here: `make uqlm-venv` builds .venv-uqlm with it (its own pins, numpy<2 "
                    "and transformers<5, conflict with the app's)")
    root = Path(list(spec.submodule_search_locations)[0])
    saved = {name: sys.modules.get(name) for name in UQLM_PACKAGES}
    try:
        for name in UQLM_PACKAGES:
            module = types.ModuleType(name)
            module.__path__ = [str(root.joinpath(*name.split(".")[1:]))]
            sys.modules[name] = module
        return {cls: getattr(importlib.import_module(mod), cls) for cls, mod in UQLM_MODULES.items()}, ""
    except Exception as exc:  # a peer may fail at import for any reason on this stack; the reason is reported
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        return {}, f"uqlm's scorer modules do not import here ({type(exc).__name__}: {exc})"


def uqlm_logprobs(logprobs: Sequence[float],
                  alternatives: Optional[Sequence[Sequence[float]]] = None) -> list[dict[str, Any]]:
    """One response's tokens in uqlm's (OpenAI-style) format: [{"logprob": nats}] for T tokens, with
    "top_logprobs": [{"logprob": nats}, ...] when alternatives (T lists of the top-k probabilities) are given."""
    if alternatives is not None and len(alternatives) != len(logprobs):
        raise ValueError(f"{len(logprobs)} tokens but {len(alternatives)} lists of alternatives: give one per token")
    tokens = [{"logprob": float(lp)} for lp in logprobs]
    for token, probs in zip(tokens, alternatives or []):
        token["top_logprobs"] = [{"logprob": math.log(p) if p > 0 else -math.inf} for p in probs]
    return tokens


def answer_sample_cosines(embeddings: np.ndarray) -> np.ndarray:
    """Cosine of the answer's embedding (row 0 of (K+1, d)) with each of the K samples' (rows 1..K): (K,) in [-1, 1]."""
    from backend.analyses.sample_scores import unit_rows  # the bench's side only: .venv-uqlm has no backend

    unit = unit_rows(embeddings)
    return unit[1:] @ unit[0]


def cosine_in_uqlm_convention(cosines: np.ndarray) -> float:
    """uqlm's CosineScorer value from the K cosines: the mean of 0.5 + cos / 2, in [0, 1]."""
    return float(np.mean(0.5 + np.asarray(cosines, dtype=np.float64) / 2))

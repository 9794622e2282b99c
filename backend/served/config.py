"""The spec of one served text model: where the engine is, what it calls the model, how to authenticate.

The API key is never part of the spec: `api_key_env` names an environment variable and the key is read from it
at call time (ServedModel.api_key), so it is never stored, logged, repr'd, saved or echoed in an error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, Optional

from backend.errors import UserInputError

Engine = Literal["vllm", "openai"]
ENGINES: tuple[str, ...] = ("vllm", "openai")


@dataclass(frozen=True)
class ServedModel:
    """One model behind an OpenAI-compatible server.

    location: the base URL, ending in /v1 (e.g. "http://127.0.0.1:8000/v1"); model: the served model name (what
    /v1/models lists); api_key_env: the NAME of the env var holding the key, or None for an open server.
    engine: "vllm" enables vLLM's extensions (token ids, prompt log-probabilities to score a given answer, the
    /tokenize endpoint); "openai" sends only the standard parameters. vocab_size: the number of tokens each
    next-token distribution ranges over (the model's logits width), needed for entropy bounds (no OpenAI-compatible endpoint reports it: it is the
    `vocab_size` of the model's config.json); None gives a clear error when token evidence is asked for.
    Time-outs in seconds; max_retries: extra attempts after a 429 / 503; backoff_s: the first wait, doubled per
    retry up to max_wait_s (a Retry-After header replaces it; a longer Retry-After is not waited for).
    """

    location: str
    model: str
    api_key_env: Optional[str] = None
    engine: Engine = "vllm"
    vocab_size: Optional[int] = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0
    max_retries: int = 4
    backoff_s: float = 0.5
    max_wait_s: float = 30.0

    def __post_init__(self) -> None:
        location = self.location.rstrip("/")
        if not location.startswith(("http://", "https://")) or not location.endswith("/v1"):
            raise UserInputError(f"served model location {self.location!r} must be an http(s) base URL ending in "
                                 f"/v1, e.g. http://127.0.0.1:8000/v1")
        object.__setattr__(self, "location", location)
        if not self.model:
            raise UserInputError("a served model needs the served model name (`model`, as /v1/models lists it)")
        if self.engine not in ENGINES:
            raise UserInputError(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        if self.api_key_env is not None and not self.api_key_env.replace("_", "").isalnum():
            raise UserInputError(f"api_key_env must be the NAME of an environment variable (letters, digits, _), "
                                 f"not {len(self.api_key_env)} characters of something else; never the key itself")
        if self.vocab_size is not None and self.vocab_size < 1:
            raise UserInputError(f"vocab_size must be a positive number of tokens, not {self.vocab_size}")
        if self.max_retries < 0 or self.backoff_s < 0 or self.connect_timeout_s <= 0 or self.read_timeout_s <= 0:
            raise UserInputError("time-outs must be positive and retries / backoff not negative")

    @property
    def server_root(self) -> str:
        """The base URL without /v1: where vLLM's own endpoints (/tokenize, /health) live."""
        return self.location[:-len("/v1")]

    @property
    def label(self) -> str:
        """How messages name this model: served name and server (never the key)."""
        return f"{self.model!r} at {self.location}"

    def api_key(self) -> Optional[str]:
        """The key from the environment, read now; None for an open server. Raises UserInputError naming the
        variable (never a value) when it is named but unset."""
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise UserInputError(f"served model {self.label} reads its API key from the environment variable "
                                 f"{self.api_key_env}, which is not set; export it before starting UQ Lens")
        return key

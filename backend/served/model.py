"""A served text model as the model pool holds it: its registry entry and the client of its engine, no weights.

Pipelines that need the model in UQ Lens's process (attention, saliency, hidden states, gradients) reach for its
network or tokenizer; here those raise the UserInputError that says so (the service answers 4xx, not 500).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from backend.errors import UserInputError
from backend.served.http import OpenAIClient


def needs_in_process(model_id: str, what: str = "this analysis") -> UserInputError:
    """The message for an analysis a served model cannot give."""
    return UserInputError(f"{what} needs a model loaded in UQ Lens's process; {model_id!r} is served by an engine, "
                          f"which returns only its answers and their top-k log-probabilities (token analysis works "
                          f"on it; pick an in-process model for attention, saliency and methods that need the full "
                          f"distribution)")


@dataclass
class ServedTextModel:
    """spec: the registry entry (ModelSpec with .served); client: the OpenAIClient of its engine."""

    spec: Any
    client: OpenAIClient

    @property
    def device(self) -> str:
        """Where it runs, as TextAnalysis.device reports it: the engine and its base URL."""
        return f"{self.spec.served.engine} at {self.spec.served.location}"

    def _refuse(self) -> NoReturn:
        raise needs_in_process(self.spec.id)

    @property
    def model(self) -> NoReturn:
        self._refuse()

    @property
    def tokenizer(self) -> NoReturn:
        self._refuse()

    @property
    def kept_attention(self) -> NoReturn:
        raise needs_in_process(self.spec.id, "attention")

    @property
    def max_length(self) -> NoReturn:
        self._refuse()

    @property
    def has_chat_template(self) -> bool:
        """The engine applies the model's chat template to every chat request."""
        return True


def load_served_text_model(spec: Any) -> ServedTextModel:
    """The served model of a registry entry with .served (no request is made until it is used)."""
    return ServedTextModel(spec=spec, client=OpenAIClient(spec.served))

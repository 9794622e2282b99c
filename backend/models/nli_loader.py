"""Loading natural-language-inference classifiers: a Hugging Face sequence-classification folder whose labels
include entailment and contradiction (such as a DeBERTa fine-tuned on MNLI). None ships by default; register one
with UQLENS_MODELS_FILE ({"id": "...", "kind": "nli", "location": "/path/to/folder"})."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from backend.models.registry import ModelSpec, resolve_location

NLI_BATCH = 32


def nli_label_indices(id2label: Mapping[int, str]) -> tuple[int, int]:
    """(entailment index, contradiction index) found by label name, or ValueError naming the labels there are."""
    by_name = {str(label).lower(): int(index) for index, label in id2label.items()}
    entail = [i for name, i in by_name.items() if name.startswith("entail")]
    contra = [i for name, i in by_name.items() if name.startswith("contradict")]
    if len(entail) != 1 or len(contra) != 1:
        raise ValueError(f"an NLI model needs one 'entailment' and one 'contradiction' label; this one has "
                         f"{sorted(map(str, id2label.values()))}")
    return entail[0], contra[0]


@dataclass
class LoadedNliModel:
    """An NLI classifier in eval mode on `device`, with the indices of its entailment and contradiction labels."""

    spec: ModelSpec
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: str
    entailment: int
    contradiction: int

    def probabilities(self, premises: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        """Label probabilities (N, labels) float64 that each premise entails / contradicts each hypothesis."""
        if len(premises) != len(hypotheses):
            raise ValueError(f"{len(premises)} premises but {len(hypotheses)} hypotheses")
        parts = [np.zeros((0, self.model.config.num_labels))]
        for start in range(0, len(premises), NLI_BATCH):
            batch = self.tokenizer(list(premises[start:start + NLI_BATCH]), list(hypotheses[start:start + NLI_BATCH]),
                                   padding=True, truncation=True, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                logits = self.model(**batch).logits
            parts.append(torch.softmax(logits.to(torch.float64), dim=-1).cpu().numpy())
        return np.concatenate(parts)


def load_nli_model(spec: ModelSpec, device: str) -> LoadedNliModel:
    """Load a registered NLI classifier from a local folder or hub id (safetensors, no remote code)."""
    location = resolve_location(spec.location)
    local = Path(location).is_dir()
    tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=local, trust_remote_code=False)
    model = AutoModelForSequenceClassification.from_pretrained(location, local_files_only=local,
                                                               trust_remote_code=False, use_safetensors=True)
    model.to(device).eval()
    entailment, contradiction = nli_label_indices(model.config.id2label)
    return LoadedNliModel(spec=spec, model=model, tokenizer=tokenizer, device=device, entailment=entailment,
                          contradiction=contradiction)

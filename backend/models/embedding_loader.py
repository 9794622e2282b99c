"""Loading sentence-embedding models (sentence-transformers folders, such as the embedded all-MiniLM-L6-v2)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sentence_transformers import SentenceTransformer

from backend.models.registry import ModelSpec, resolve_location

EMBEDDING_BATCH = 64


@dataclass
class LoadedEmbeddingModel:
    """A sentence encoder in eval mode on `device`."""

    spec: ModelSpec
    model: SentenceTransformer
    device: str

    @property
    def dimension(self) -> int:
        """Length of one embedding."""
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (N, d) float32 of N texts, as the model outputs them (all-MiniLM-L6-v2 normalises its own);
        texts longer than the model reads (256 word pieces for MiniLM) are cut there."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(list(texts), batch_size=EMBEDDING_BATCH, convert_to_numpy=True,
                                 show_progress_bar=False)


def load_embedding_model(spec: ModelSpec, device: str) -> LoadedEmbeddingModel:
    """Load a registered sentence-transformers model from its local folder (trust_remote_code is never set)."""
    location = resolve_location(spec.location)
    local = Path(location).is_dir()
    model = SentenceTransformer(location, device=device, local_files_only=local, trust_remote_code=False)
    model.eval()
    return LoadedEmbeddingModel(spec=spec, model=model, device=device)

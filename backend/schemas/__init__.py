"""The one data contract between the engine, the clients, the HTTP API and the components.

Importable without torch. One module per area; everything is re-exported here.
"""
from backend.schemas.common import (DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, ModelInfo,
                                    Score)
from backend.schemas.text import (MAX_NEW_TOKENS, MAX_PROMPT_CHARS, MAX_TOP_K, Alternative, TextAnalysis,
                                  TextRequest, TokenScore)

__all__ = ["DEFAULT_EMBEDDING_MODEL", "DEFAULT_IMAGE_MODEL", "DEFAULT_TEXT_MODEL", "MAX_NEW_TOKENS", "MAX_PROMPT_CHARS",
           "MAX_TOP_K", "Alternative", "ModelInfo", "Score", "TextAnalysis", "TextRequest", "TokenScore"]

"""Tiny random encoders saved as local folders, for fast tests of the embedding and NLI code paths.

They reuse the embedded all-MiniLM-L6-v2 tokenizer (a BERT word-piece vocabulary) so that no download is needed;
their weights are random and seeded, so their numbers mean nothing but are reproducible.
"""
from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

from backend.models.registry import build_registry, resolve_location
from backend.schemas import DEFAULT_EMBEDDING_MODEL

NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}


def minilm_tokenizer():
    """The word-piece tokenizer shipped with the default embedding model."""
    return AutoTokenizer.from_pretrained(resolve_location(build_registry().get(DEFAULT_EMBEDDING_MODEL).location))


def tiny_bert_config(vocab_size: int, **extra) -> BertConfig:
    return BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=128, **extra)


def save_tiny_encoder(folder: Path) -> Path:
    """A random 2-layer BERT (plain encoder); sentence-transformers adds mean pooling when it loads the folder."""
    tokenizer = minilm_tokenizer()
    torch.manual_seed(0)
    BertModel(tiny_bert_config(len(tokenizer))).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_nli(folder: Path, labels: dict[int, str] = NLI_LABELS) -> Path:
    """A random 2-layer BERT sequence classifier with entailment / neutral / contradiction labels."""
    tokenizer = minilm_tokenizer()
    torch.manual_seed(1)
    config = tiny_bert_config(len(tokenizer), num_labels=len(labels), id2label=labels,
                              label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder

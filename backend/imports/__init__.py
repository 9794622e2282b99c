"""Imported logs: responses that carry log-probabilities (OpenAI chat completions, vLLM / OpenAI completions, or a
JSONL of several), read strictly (JSON only, bounded in size) and shown and scored like a generated answer with no
language model loaded (backend.imports.analysis)."""

"""What one imported file may hold at most, so that reading and scoring it is bounded in time and memory."""
from __future__ import annotations

MAX_IMPORT_BYTES = 20_000_000  # the UTF-8 file; top-20 alternatives cost about 2 kB a token
MAX_RESPONSES = 2_000  # JSONL lines (or array items) with a response
MAX_CHOICES = 20  # choices in one response (n = K samples)
MAX_TOKENS_PER_CHOICE = 4_096
MAX_TOTAL_TOKENS = 200_000  # answer tokens over the whole file
MAX_ALTERNATIVES = 21  # per token: vLLM's completions list the chosen token beside the top-20
MAX_TEXT_CHARS = 100_000  # a prompt, a reference or an answer
DEFAULT_VOCAB_SIZE = 262_144  # at least any common model's vocabulary: the entropy bounds stay valid (see analysis)

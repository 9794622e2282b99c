"""Text models behind a serving engine (vLLM, or any OpenAI-compatible server), reached over HTTP.

- config: ServedModel, the spec of one served model (base URL, served name, the NAME of the env var holding its
  API key; the key itself is read at call time and never stored).
- http: OpenAIClient, the HTTP client (time-outs, retries with backoff on 429/503 honouring Retry-After, clear
  errors for an unreachable server, a wrong model name, a rate limit).
- evidence: token evidence from the engine's top-k log-probabilities (probability, rank or "beyond top-k",
  entropy bounds), for generated answers (K samples in one request) and for a given answer scored through
  vLLM's prompt log-probabilities.
- model: ServedTextModel, what the model pool holds for a served registry entry (its client, no weights; the
  parts only an in-process model has raise "needs a model loaded in UQ Lens's process").
- text_analysis: analyze_text on a served model (a TextAnalysis with entropy_bounds and what is exact).

These give the server's numbers: only the top-k of each position are known, so entropy is an interval
(backend.analyses.topk_entropy) and each number says whether it is exact.
"""

"""Text models in the process: generation with per-token statistics, prompt passes in chunks, token positions,
attention maps kept for the views, and token saliency (its methods and targets)."""

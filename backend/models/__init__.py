"""Models: the registry of ids (local and from UQLENS_MODELS_FILE), the loaders for each kind, the model pool
(each model loaded once, its lock, what it keeps between requests), the device choice and the offline preparation
of the embedded default models."""

"""Models: the registry of ids (local and from UQLENS_MODELS_FILE), the loaders for each kind, the device choice
and the offline preparation of the embedded default models."""

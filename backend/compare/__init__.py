"""Side-by-side comparison of two text models or settings on one prompt (schemas in backend.schemas.compare)."""

"""Reusable figures (pure builders, unit-tested) and their thin Streamlit renderers."""

"""Decisions from audit scores."""

"""Calibration and dataset audits: datasets, grading, batched runs kept in the database, metrics, report."""

"""Sequence-level uncertainty: the pipeline that gathers evidence (samples, self-assessment, meaning) once, the
method table built on it, and the cost of each method in passes and seconds."""

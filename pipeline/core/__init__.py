"""Shared machinery of every stage: config, readers, normalisation, writers, the runner."""

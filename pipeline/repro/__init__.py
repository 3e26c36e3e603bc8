"""Reproduction and privacy: dvc.yaml generation, DVC-tracked data, freeze/verify/purge, edition history,
pseudonyms. May import ``pipeline.contract``, ``schemas``, ``pipeline.io``, ``pipeline.assign``."""

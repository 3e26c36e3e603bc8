"""The stage contract: configuration (params.yaml, edition.yaml), paths, errors, atomic writes, the runner
that executes one stage's notebook and publishes its report. Imports nothing else from ``pipeline``."""

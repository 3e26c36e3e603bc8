"""stagesco: the reproducible pipeline of a yearly *stages collectifs* campaign.

Logic lives here and in ``schemas/``; notebooks under ``notebooks/`` only narrate and call it.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"

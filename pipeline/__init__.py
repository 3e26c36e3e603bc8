"""stagesco: the reproducible pipeline of a yearly *stages collectifs* campaign.

Logic lives here and in ``schemas/``; notebooks under ``notebooks/`` only narrate and call it. Packages,
each importing only those before it: ``contract`` (the stage contract), ``schemas`` (field metadata and
pandera schemas, a top-level package), ``io`` (file formats), ``assign`` (the solver), ``repro``
(reproduction and privacy), ``stages`` (one module per stage), ``cockpit`` (status and home page), ``session``
(the commission's live meeting page),
``demo`` (the synthetic editions), ``cli`` (the ``stagesco`` command). See ``tests/test_layers.py``.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"

"""stagesco: the reproducible pipeline of a yearly *stages collectifs* campaign.

Logic lives here and in ``schemas/``; notebooks under ``notebooks/`` only narrate and call it. Packages,
each importing only those before it: ``contract`` (the stage contract), ``schemas`` (field metadata and
pandera schemas, a top-level package), ``io`` (file formats), ``assign`` (the solver), ``repro``
(reproduction and privacy), ``stages`` (one module per stage), ``cockpit`` (status and home page), ``session``
(the commission's live meeting page),
``demo`` (the synthetic editions), ``cli`` (the ``stagesco`` command). See ``tests/test_layers.py``.
"""

import sys as _sys

# jsonschema (under nbformat, papermill and nbconvert) imports rfc3987_syntax when it is installed (voilà's
# jupyter_events brings it), and that package compiles 38 Lark grammars at import: 3 s of CPU in every
# stagesco command and every stage, for an IRI string format no notebook schema uses. jsonschema treats
# the package as optional (its ImportError is suppressed), so stagesco's processes go without it.
_sys.modules.setdefault("rfc3987_syntax", None)

__all__ = ["__version__"]
__version__ = "0.1.0"

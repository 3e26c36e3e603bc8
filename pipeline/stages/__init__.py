"""One module per stage (logic) and one per stage report (outputs and report fragments); their templates.
May import ``pipeline.contract``, ``schemas``, ``pipeline.io``, ``pipeline.assign``, ``pipeline.repro``."""

from pathlib import Path

STAGE_TEMPLATES = Path(__file__).with_name("templates")  # the catalogue page and the default convention

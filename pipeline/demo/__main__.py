"""``python -m pipeline.demo [root]``: rewrite the demo editions' generated input files (``demo``, ``demo-askoria``,
``demo-cnam``, ``demo-pole``)."""

from __future__ import annotations

import sys
from pathlib import Path

from . import cnam, pole
from .askoria import write_askoria
from .build import write_demo

if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    for path in [*write_demo(root), *write_askoria(root), *cnam.write(root), *pole.write(root)]:
        print(path)

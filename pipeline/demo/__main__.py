"""``python -m pipeline.demo [root]``: rewrite the demo edition's generated input files."""

from __future__ import annotations

import sys
from pathlib import Path

from .build import write_demo

if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    for path in write_demo(root):
        print(path)

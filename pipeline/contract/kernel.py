"""The Jupyter kernel stages run on: registered inside the project's venv (``--sys-prefix``), never
user-wide, so another clone cannot overwrite it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

KERNEL_NAME = "stagesco"


def kernel_dir() -> Path:
    return Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def expected_spec() -> dict:
    return {
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=ERROR"],
        "display_name": "stagesco",
        "language": "python",
        "metadata": {"debugger": False},
    }


def ensure_kernel() -> Path:
    """Write the kernelspec into this interpreter's prefix if it is missing or points elsewhere."""
    folder = kernel_dir()
    spec_file = folder / "kernel.json"
    spec = expected_spec()
    try:
        if json.loads(spec_file.read_text(encoding="utf-8")) == spec:
            return folder
    except (FileNotFoundError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return folder

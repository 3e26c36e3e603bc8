"""All paths derive from one project root: the folder holding ``dvc.yaml`` and ``params.yaml``."""

from __future__ import annotations

import os
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")  # the report template (nbconvert) and its CSS
REPORT_CSS = TEMPLATES / "report.css"
HOME_PAGE = "index.html"  # the edition's home page, outputs/<edition>/index.html (written by the cockpit)


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the current directory) with ``params.yaml``
    and ``dvc.yaml``; ``STAGESCO_ROOT`` overrides the search."""
    env = os.environ.get("STAGESCO_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").is_file() and (folder / "dvc.yaml").is_file():
            return folder
    from .errors import ConfigError

    raise ConfigError(
        "Dossier du projet stagesco introuvable",
        hint="Lancez la commande depuis le dossier du projet (celui qui contient params.yaml et dvc.yaml)",
    )


def inputs_dir(edition: str, root: Path | None = None) -> Path:
    return (root or project_root()) / "inputs" / edition


def outputs_dir(edition: str, root: Path | None = None) -> Path:
    return (root or project_root()) / "outputs" / edition


def state_dir(edition: str, root: Path | None = None) -> Path:
    """Git-ignored run records (executed notebooks, logs, staging): never a DVC out."""
    return (root or project_root()) / "state" / edition


def relative(path: Path, root: Path | None = None) -> str:
    """``path`` relative to the project root, POSIX style: what outputs may show."""
    root = root or project_root()
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name

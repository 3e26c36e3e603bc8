"""A real edition's data is versioned by DVC, never by git.

Every entry of ``inputs/<edition>/`` except ``edition.yaml`` and ``mapping.yaml`` (the exports, the filled
workbooks, the adjustments with their reasons, the follow-up folder ``suivi/`` and the pseudonym key) is
personal data: git ignores it (``inputs/<edition>/.gitignore`` ignores everything but the configuration
and the ``.dvc`` files), DVC tracks it (one ``.dvc`` file per entry, the follow-up folder as one entry)
and ``stagesco freeze`` pushes it to the DVC remote. The synthetic editions (``synthetic: true`` in
``params.yaml``: the demo) are plain git files.

The default remote is the local folder ``~/stagesco-depot-dvc`` (``.dvc/config``), created on first push;
``dvc remote modify stagesco url <url>`` points it to a shared drive, SSH or S3.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition, Params
from ..contract.errors import StagescoError

KEY_FILE = "cle_pseudonymes.txt"
CONFIG_FILES = (EDITION_FILE, MAPPING_FILE)
GIT_FILES = (*CONFIG_FILES, ".gitignore")
GITIGNORE = """\
# Données personnelles de l'édition : suivies par DVC (fichiers .dvc), jamais par git.
# Seuls la configuration, la correspondance des colonnes et les fichiers .dvc vont dans git.
/*
!/.gitignore
!/edition.yaml
!/mapping.yaml
!/*.dvc
"""
KEY_HEADER = "# Clé secrète des pseudonymes de l'édition {name} : suivie par DVC, jamais dans git, jamais diffusée.\n"


def is_synthetic(params: Params, name: str) -> bool:
    """A synthetic edition (the demo) is made of generated data, kept in git."""
    return bool((params.editions.get(name) or {}).get("synthetic", False))


def dvc(root: Path, *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run DVC with this interpreter, from ``root`` (that checkout's code on the path)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, text=True,
                            capture_output=capture)
    if check and result.returncode != 0:
        detail = ((result.stderr or "") + (result.stdout or "")).strip().splitlines()
        raise StagescoError(f"La commande « dvc {args[0]} » a échoué : {detail[-1] if detail else 'sans message'}",
                            hint="Relancez avec --debug, ou la même commande dvc avec -v pour les détails")
    return result


def dvc_file(path: Path) -> Path:
    return path.with_name(path.name + ".dvc")


def data_items(edition: Edition) -> list[Path]:
    """The edition's personal entries present in its folder (files and the follow-up folder), sorted."""
    if not edition.inputs.is_dir():
        return []
    return sorted(p for p in edition.inputs.iterdir()
                  if p.name not in GIT_FILES and p.suffix != ".dvc" and not p.name.startswith("."))


def untracked(edition: Edition) -> list[Path]:
    """Present entries without their ``.dvc`` file."""
    return [p for p in data_items(edition) if not dvc_file(p).exists()]


def dvc_files(edition: Edition) -> list[Path]:
    return sorted(edition.inputs.glob("*.dvc")) if edition.inputs.is_dir() else []


def track(edition: Edition) -> list[Path]:
    """``dvc add`` every personal entry of a real edition (new ones get a ``.dvc`` file, changed ones an
    updated one); nothing for a synthetic edition. Returns the entries tracked."""
    if is_synthetic(edition.params, edition.name):
        return []
    write_gitignore(edition.inputs)
    items = data_items(edition)
    if items:
        dvc(edition.root, "add", "--quiet", *[p.relative_to(edition.root).as_posix() for p in items])
    return items


def write_gitignore(folder: Path) -> None:
    path = folder / ".gitignore"
    if not path.exists() or path.read_text(encoding="utf-8") != GITIGNORE:
        path.write_text(GITIGNORE, encoding="utf-8")


def write_key(folder: Path, name: str) -> Path:
    """A new random secret (256 bits) for the edition's pseudonyms."""
    path = folder / KEY_FILE
    if path.exists():
        raise StagescoError(f"La clé des pseudonymes existe déjà ({KEY_FILE})", file=f"inputs/{name}/{KEY_FILE}",
                            hint="Une clé ne se remplace jamais : les pseudonymes déjà diffusés changeraient")
    path.write_text(KEY_HEADER.format(name=name) + secrets.token_hex(32) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def default_remote(root: Path) -> str:
    """The name of the DVC remote ``dvc push`` uses, or an empty string."""
    result = dvc(root, "remote", "default", check=False)
    return (result.stdout or "").strip() if result.returncode == 0 else ""


def remote_path(root: Path) -> Path | None:
    """The default remote's folder when it is a local directory (``~`` expanded), else None."""
    name = default_remote(root)
    if not name:
        return None
    listed = dvc(root, "remote", "list", check=False).stdout or ""
    for line in listed.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == name:
            url = parts[1]
            if "://" in url:
                return None
            path = Path(os.path.expanduser(url))
            return path if path.is_absolute() else (root / ".dvc" / path).resolve()
    return None


def cache_dir(root: Path) -> Path:
    return root / ".dvc" / "cache"


def object_path(base: Path, md5: str) -> Path:
    """Where DVC 3 stores the object of hash ``md5`` in a cache or a local remote."""
    return base / "files" / "md5" / md5[:2] / md5[2:]


def dir_entries(base: Path, md5: str) -> list[dict]:
    """The listing of a directory object (``<md5>.dir``): ``[{"md5": …, "relpath": …}, …]``."""
    try:
        return json.loads(object_path(base, md5).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []

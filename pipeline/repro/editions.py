"""Creating an edition from an earlier one: its config and mapping (and exports with ``with_data``).

A new edition is a real one: its folder git-ignores everything but its configuration (``.gitignore``),
it gets a random pseudonym key (``cle_pseudonymes.txt``) and every data entry present is tracked by DVC
(:mod:`pipeline.repro.dvcdata`). Only the synthetic editions of ``params.yaml`` are plain git files.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import dvcdata
from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition, Params
from ..contract.errors import ConfigError
from ..contract.paths import inputs_dir, project_root

README = "LISEZMOI.txt"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def new_edition(name: str, source: str, *, with_data: bool = False, root: Path | None = None) -> Path:
    root = root or project_root()
    params = Params.load(root)
    if not NAME.match(name):
        raise ConfigError(f"Nom d'édition invalide « {name} »",
                          hint="Utilisez des minuscules, chiffres, « - » ou « _ » (par exemple 2026)")
    if name in params.editions or inputs_dir(name, root).exists():
        raise ConfigError(f"L'édition « {name} » existe déjà", hint="Choisissez un autre nom")
    files = params.edition_files(source)
    src, dst = inputs_dir(source, root), inputs_dir(name, root)
    dst.mkdir(parents=True)
    for config in (EDITION_FILE, MAPPING_FILE):
        shutil.copy2(src / config, dst / config)
    if with_data:
        for file in files.values():
            if file == dvcdata.KEY_FILE:  # every edition gets its own key (below), never a copy
                continue
            if (src / file).is_dir():
                shutil.copytree(src / file, dst / file)
            elif (src / file).exists():
                shutil.copy2(src / file, dst / file)
    for key, text in (params.data.get("folder_readmes") or {}).items():
        folder = files.get(key)
        if folder and not (dst / folder).exists():
            (dst / folder).mkdir()
            (dst / folder / README).write_text(text, encoding="utf-8")
    dvcdata.write_gitignore(dst)
    dvcdata.write_key(dst, name)
    _add_to_params(root / "params.yaml", name, files)
    dvcdata.track(Edition.load(name, root))
    return dst


def _add_to_params(path: Path, name: str, files: dict[str, str]) -> None:
    """Add ``editions.<name>`` to params.yaml, keeping its comments and order (ruamel round-trip)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    data = yaml.load(path.read_text(encoding="utf-8"))
    data["editions"][name] = {"files": dict(files)}
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump(data, handle)

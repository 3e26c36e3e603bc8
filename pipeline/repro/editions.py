"""Creating an edition from an earlier one: its config and mapping (and exports with ``with_data``).

A new edition is a real one: its folder git-ignores everything but its configuration (``.gitignore``),
it gets a random pseudonym key (``cle_pseudonymes.txt``) and every data entry present is tracked by DVC
(:mod:`pipeline.repro.dvcdata`). Only the synthetic editions of ``params.yaml`` are plain git files.
"""

from __future__ import annotations

import re
import secrets
import shutil
from datetime import date
from pathlib import Path

from . import dvcdata
from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition, Params
from ..contract.errors import ConfigError
from ..contract.paths import inputs_dir, project_root
from ..io import fr

README = "LISEZMOI.txt"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def new_edition(name: str, source: str, *, with_data: bool = False, year: int | None = None,
                root: Path | None = None) -> tuple[Path, list[str]]:
    """Create ``inputs/<name>/`` from ``source``; with ``year``, move its calendar to that year (see
    :func:`roll_forward`). Returns the folder and what the analyst must still check, in French."""
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
    to_check = roll_forward(dst / EDITION_FILE, year) if year is not None else []
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
    return dst, to_check


def _shift(value: str, years: int) -> str:
    """``"2025-07-15 23:59"`` moved by ``years`` (29 February becomes the 28th), keeping its format."""
    day = date.fromisoformat(value[:10])
    try:
        moved = day.replace(year=day.year + years)
    except ValueError:
        moved = day.replace(year=day.year + years, day=28)
    return moved.isoformat() + value[10:]


def roll_forward(path: Path, year: int) -> list[str]:
    """Move an edition.yaml copied from an earlier edition to ``year``: every ``calendar`` date by the years
    between the two editions (the year of ``calendar.start``), the title's year, a new ``seed`` and a new
    ``assignment.seed`` drawn at random (written in the file, so the edition stays reproducible). Returns
    what the analyst must still check: dates that now fall on a weekend, texts still naming the old year."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    data = yaml.load(path.read_text(encoding="utf-8"))
    calendar = data.get("calendar") or {}
    if "start" not in calendar:
        raise ConfigError("Date de début absente (calendar.start) dans l'édition d'origine", file=EDITION_FILE,
                          hint="Ajoutez calendar.start à l'édition d'origine, ou créez l'édition sans --annee")
    old = date.fromisoformat(str(calendar["start"])[:10]).year
    years = year - old
    notes = []
    for key in list(calendar):
        text = str(calendar[key])
        calendar[key] = type(calendar[key])(_shift(text, years)) if isinstance(calendar[key], str) else _shift(text, years)
        day = date.fromisoformat(str(calendar[key])[:10])
        if day.weekday() >= 5:
            notes.append(f"calendar.{key} tombe un {fr.weekday(day)} ({day:%d/%m/%Y}) : choisissez un jour ouvré")
    title = str(data.get("title") or "")
    data["title"] = re.sub(rf"\b{old}\b", str(year), title) if re.search(rf"\b{old}\b", title) else f"{title} — {year}".strip(" —")
    rng = secrets.SystemRandom()
    data["seed"] = rng.randrange(10**7, 10**8)
    if isinstance(data.get("assignment"), dict):
        data["assignment"]["seed"] = rng.randrange(10**7, 10**8)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    stale = sorted({where for where, text in _texts(data) if re.search(rf"\b({old}|{old - 1})\b", text)
                    and not where.startswith("calendar.")})
    notes += [f"{where} cite encore l'année {old} ou {old - 1} : mettez ce texte à jour" for where in stale]
    notes.append(f"titre : « {data['title']} » ; tirages au sort : seed {data['seed']}"
                 + (f", assignment.seed {data['assignment']['seed']}" if isinstance(data.get("assignment"), dict) else ""))
    return notes


def _texts(data, where: str = ""):
    """``(dotted key, text)`` of every string of a YAML document."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _texts(value, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _texts(value, f"{where}[{i}]")
    elif isinstance(data, str):
        yield where, data


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

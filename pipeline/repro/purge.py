"""``stagesco purge <edition>``: delete an edition's personal data once its retention period is over.

The CNIL cycle: the data stays in the *active base* (the working copy) for ``active_months`` after the
edition's ``calendar.end``, then in *intermediate archive* (frozen in the DVC remote, not used) for
``archive_months``; after that it is deleted. Both durations are set under ``retention`` in
``params.yaml`` and may be overridden in the edition's ``edition.yaml``.

Purging removes the edition's data entries and their ``.dvc`` files, its pseudonym key (pseudonyms can no
longer be traced back), its outputs and run records (``outputs/``, ``state/``), every version of them in
the local DVC cache and in the remote when it is a local folder (objects another edition still uses are
kept), and the edition's entry in ``params.yaml``. It keeps ``edition.yaml``, ``mapping.yaml``, the
manifest (hashes), ``history/<edition>.json`` (aggregates: later reviews still work) and writes
``manifests/<edition>.purge.json``, a non-personal record of what was removed.
"""

from __future__ import annotations

import calendar
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from ..contract import atomic
from . import dvcdata, history
from ..contract.config import Edition
from ..contract.errors import ConfigError, StagescoError
from .freeze import MANIFEST_DIR, manifest_path
from ..contract.paths import state_dir
from ..contract.config import parse_yaml


@dataclass
class Schedule:
    end: date
    active_months: int
    archive_months: int

    @property
    def archive_from(self) -> date:
        return add_months(self.end, self.active_months)

    @property
    def delete_from(self) -> date:
        return add_months(self.end, self.active_months + self.archive_months)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(edition: Edition) -> Schedule:
    where = f"inputs/{edition.name}/edition.yaml"
    settings = {**(edition.params.data.get("retention") or {}), **(edition.config.get("retention") or {})}
    try:
        active, archive = int(settings["active_months"]), int(settings["archive_months"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError("Durées de conservation absentes ou illisibles (retention.active_months, "
                          "retention.archive_months)", file="params.yaml",
                          hint="Indiquez-les en mois, par exemple active_months: 12 et archive_months: 36")
    if active < 0 or archive < 0:
        raise ConfigError("Une durée de conservation ne peut pas être négative", file=where)
    return Schedule(end=edition.when("end").date(), active_months=active, archive_months=archive)


def _lock_entries(text: str, edition: str, keep: bool) -> list[dict]:
    """The stage entries of a ``dvc.lock`` text for (``keep=False``) or other than (``keep=True``) the edition."""
    try:
        stages = (parse_yaml(text) or {}).get("stages") or {}
    except yaml.YAMLError:
        return []
    return [entry for name, entry in stages.items() if name.endswith(f"@{edition}") != keep]


def _hashes(entries: list[dict], with_deps: bool) -> set[str]:
    found = set()
    for entry in entries:
        for kind in ("outs", "deps") if with_deps else ("outs",):
            for item in entry.get(kind) or []:
                if item.get("md5"):
                    found.add(item["md5"])
    return found


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout


def edition_hashes(root: Path, edition: str) -> set[str]:
    """Every DVC hash the edition's inputs and outputs ever had: the current files and every committed
    version of its ``.dvc`` files and of its ``dvc.lock`` entries."""
    found: set[str] = set()
    folder = root / "inputs" / edition
    for path in folder.glob("*.dvc"):
        found |= _hashes([parse_yaml(path.read_text(encoding="utf-8")) or {}], False)
    if (root / "dvc.lock").is_file():
        found |= _hashes(_lock_entries((root / "dvc.lock").read_text(encoding="utf-8"), edition, False), True)
    for commit in _git(root, "rev-list", "--all", "--", f"inputs/{edition}", "dvc.lock").split():
        for rel in _git(root, "ls-tree", "-r", "--name-only", commit, "--", f"inputs/{edition}").split("\n"):
            if rel.endswith(".dvc"):
                found |= _hashes([parse_yaml(_git(root, "show", f"{commit}:{rel}")) or {}], False)
        found |= _hashes(_lock_entries(_git(root, "show", f"{commit}:dvc.lock"), edition, False), True)
    return found


def other_hashes(root: Path, edition: str) -> set[str]:
    """The hashes the other editions use now (kept even if the purged edition shared them)."""
    found: set[str] = set()
    for path in (root / "inputs").glob("*/*.dvc"):
        if path.parent.name != edition:
            found |= _hashes([parse_yaml(path.read_text(encoding="utf-8")) or {}], False)
    if (root / "dvc.lock").is_file():
        found |= _hashes(_lock_entries((root / "dvc.lock").read_text(encoding="utf-8"), edition, True), True)
    return found


def remove_objects(bases: list[Path], hashes: set[str], keep: set[str]) -> dict[str, int]:
    """Delete the objects of ``hashes`` (a directory's listing and its files) from each cache/remote."""
    counts = {}
    for base in bases:
        removed = 0
        todo = set(hashes)
        keep_all = set(keep)
        for md5 in list(keep):
            if md5.endswith(".dir"):
                keep_all |= {e.get("md5", "") for e in dvcdata.dir_entries(base, md5)}
        for md5 in list(todo):
            if md5.endswith(".dir"):
                todo |= {e.get("md5", "") for e in dvcdata.dir_entries(base, md5)}
        for md5 in sorted(todo - keep_all):
            path = dvcdata.object_path(base, md5) if md5 else None
            if path and path.is_file():
                path.chmod(0o600)
                path.unlink()
                removed += 1
        counts[str(base)] = removed
    return counts


def _drop_from_params(root: Path, name: str) -> None:
    from ruamel.yaml import YAML

    loader = YAML()
    loader.preserve_quotes = True
    loader.width = 120
    path = root / "params.yaml"
    data = loader.load(path.read_text(encoding="utf-8"))
    if name in (data.get("editions") or {}):
        del data["editions"][name]
        with open(path, "w", encoding="utf-8") as handle:
            loader.dump(data, handle)


def purge(name: str, root: Path, *, today: date | None = None, force: bool = False, log=print) -> dict:
    """Remove the edition's personal data (see the module's docstring); return the purge record."""
    edition = Edition.load(name, root)
    today = today or date.today()
    plan = schedule(edition)
    synthetic = dvcdata.is_synthetic(edition.params, name)
    frozen = manifest_path(root, name).exists() and (history.history_dir(root) / f"{name}.json").exists()
    if not force:
        if synthetic:
            raise StagescoError(f"L'édition « {name} » est synthétique (params.yaml) : elle ne contient aucune donnée "
                                "personnelle", hint="Pour la supprimer quand même : --force")
        if today < plan.delete_from:
            raise StagescoError(
                f"Les données de l'édition « {name} » sont encore dans leur durée de conservation : fin de l'édition "
                f"le {plan.end:%d/%m/%Y}, base active jusqu'au {plan.archive_from:%d/%m/%Y} "
                f"({plan.active_months} mois), archive intermédiaire jusqu'au {plan.delete_from:%d/%m/%Y} "
                f"({plan.archive_months} mois) ; purge possible à partir du {plan.delete_from:%d/%m/%Y}",
                hint="Durées réglées sous retention dans params.yaml (ou edition.yaml) ; --force purge plus tôt")
        if not frozen:
            raise StagescoError(f"L'édition « {name} » n'a pas été figée : ses agrégats (history/{name}.json) et les "
                                "empreintes de ses fichiers (manifests/) seraient perdus",
                                hint=f"Figez-la d'abord : stagesco freeze {name} (ou --force pour purger sans)")
    hashes = edition_hashes(root, name)
    keep = other_hashes(root, name)
    removed: list[str] = []
    for path in dvcdata.data_items(edition) + dvcdata.dvc_files(edition):
        rel = path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        removed.append(rel)
    for path in (edition.outputs, state_dir(name, root)):
        if path.exists():
            shutil.rmtree(path)
            removed.append(path.relative_to(root).as_posix() + "/")
    bases = [dvcdata.cache_dir(root)]
    remote = dvcdata.remote_path(root)
    if remote and remote.is_dir():
        bases.append(remote)
    counts = remove_objects(bases, hashes, keep)
    _drop_from_params(root, name)
    record = {
        "edition": name,
        "retention": {"end": plan.end.isoformat(), "active_months": plan.active_months,
                      "archive_months": plan.archive_months, "delete_from": plan.delete_from.isoformat()},
        "forced": bool(force and (today < plan.delete_from or not frozen or synthetic)),
        "removed": sorted(removed),
        "dvc_objects_removed": {"cache": counts.get(str(bases[0]), 0),
                                "remote": counts.get(str(bases[1]), 0) if len(bases) > 1 else 0},
        "remote_is_local": bool(remote),
        "kept": sorted(p for p in (f"inputs/{name}/edition.yaml", f"inputs/{name}/mapping.yaml",
                                   f"{MANIFEST_DIR}/{name}.json", f"{history.HISTORY_DIR}/{name}.json")
                       if (root / p).exists()),
    }
    atomic.write_json(root / MANIFEST_DIR / f"{name}.purge.json", record)
    return record

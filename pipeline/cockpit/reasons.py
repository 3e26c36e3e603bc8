"""Why a stage must run again, in the analyst's words, from DVC's status and the last good run (dvc.lock).

DVC names every dependency that changed: for a stage never run, or after an upgrade, that is dozens of
code files. The analyst reads one line instead: « jamais exécutée », « les réglages ont changé :
eligibility.rules.hours.max 105 → 100 », « un fichier d'entrée a changé : candidatures_moodle.csv »,
« l'étape 30 a de nouveaux résultats », « stagesco a été mis à jour ». File lists stay for ``--debug``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..contract.config import Edition
from ..contract.config import parse_yaml
from ..io import fr

MAX_SETTINGS = 3  # changed settings named one by one; more are counted


def read_lock(root: Path) -> dict:
    """The stages of ``dvc.lock`` (``{}`` when there is none or it cannot be read)."""
    try:
        return (parse_yaml((root / "dvc.lock").read_text(encoding="utf-8")) or {}).get("stages") or {}
    except (OSError, yaml.YAMLError):
        return {}


def _leaves(value, prefix: str) -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, sub in value.items():
            out.update(_leaves(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    return {prefix: value}


def _shown(value) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def setting_changes(before: dict, now: dict) -> list[str]:
    """``key old → new`` for every leaf setting that differs (added and removed ones included)."""
    old, new = _leaves(before, ""), _leaves(now, "")
    return [f"{key} {_shown(old.get(key))} → {_shown(new.get(key))}"
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]


def _current(edition: Edition, file: str, key: str):
    if file == "params.yaml":
        data = edition.params.data
    else:
        data = edition.config
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def describe(edition: Edition, target: str, entries: list, lock: dict) -> str:
    """One line: why DVC wants ``target`` (``stage@edition``) to run again."""
    if target not in lock:
        return "jamais exécutée"
    locked = lock[target].get("params") or {}
    settings, inputs, upstream, code, history, outs = [], [], [], False, False, []
    inputs_dir = f"inputs/{edition.name}/"
    outputs_dir = f"outputs/{edition.name}/"
    numbers = {spec.folder: spec.number for spec in edition.params.stages.values()}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for kind, changes in entry.items():
            for path, what in (changes or {}).items():
                if isinstance(what, dict):  # a params file: the keys that changed
                    for key in sorted(what):
                        before = (locked.get(path) or {}).get(key)
                        now = _current(edition, path, key)
                        settings += setting_changes({key: before}, {key: now}) or [key]
                elif kind == "changed outs":
                    outs.append(Path(path).name)
                elif path.startswith(inputs_dir):
                    inputs.append(path[len(inputs_dir):])
                elif path.startswith(outputs_dir):
                    folder = path[len(outputs_dir):].split("/", 1)[0]
                    upstream.append(numbers.get(folder, 0))
                elif path.startswith("history/"):
                    history = True
                else:
                    code = True
    parts = []
    if settings:
        shown = "; ".join(settings[:MAX_SETTINGS])
        more = f" (et {fr.count(len(settings) - MAX_SETTINGS, 'autre')})" if len(settings) > MAX_SETTINGS else ""
        parts.append(f"les réglages ont changé : {shown}{more}")
    if inputs:
        label = "un fichier d'entrée a changé" if len(inputs) == 1 else "des fichiers d'entrée ont changé"
        parts.append(f"{label} : {', '.join(sorted(set(inputs)))}")
    for number in sorted(set(upstream)):
        parts.append(f"l'étape {number:02d} a de nouveaux résultats")
    if history:
        parts.append("les éditions antérieures comparées ont changé (history/)")
    if outs:
        parts.append(f"un résultat manque ou a été modifié hors de stagesco : {', '.join(sorted(set(outs)))}")
    if code:
        parts.append("stagesco a été mis à jour")
    return " ; ".join(parts)

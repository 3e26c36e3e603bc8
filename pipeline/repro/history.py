"""An edition's non-personal aggregates, kept in git for later editions' reviews.

When an edition is closed (``stagesco freeze``) its aggregates are written to ``history/<edition>.json``
at the repository root: raw counts only (no name, e-mail or identifier), so that the review of a later
edition can compare with it after the earlier edition's personal data is purged, without re-running it.

A record is::

    {"edition": "demo", "campaign": "demo", "title": "…", "start": "2025-12-01", "end": "2025-12-19",
     "indicators": {…}, "breakdowns": {…},  (the review stage's metrics)
     "stages": {"projects": {…metrics.json…}, "eligibility": {…}, …},
     "pole": {"indicators": {…}, "breakdowns": {…}, "partner_keys": […]}}  (a pôle's edition only)

``pole`` holds a pôle de stages' own bilan (stage 80, :mod:`pipeline.stages.review_pole`): its partners only as
short hashes of their folded names, so that a later edition tells new from returning partners without any
name in the record. A record without it (older, or another kind of campaign) stays readable.

Small-count suppression happens only in rendered pages, never here. An edition's review reads only the
records of editions of the same campaign (``campaign:`` of edition.yaml; a record without one belongs to
its edition's name without a trailing year) that started *before* it (:func:`earlier`), so freezing a
later edition never changes an earlier edition's review, and a campaign is never compared with another.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..contract import atomic
from ..contract.config import Edition, Params, campaign_of
from ..contract.errors import ConfigError

HISTORY_DIR = "history"
REVIEW_STAGE = "review"
REQUIRED = ("edition", "title", "start", "indicators")
POLE = "pole"  # a pôle's bilan (actions by kind, partners as hashed keys, places by sector, pupils placed by school)


def history_dir(root: Path) -> Path:
    return Path(root) / HISTORY_DIR


def start_of(edition: Edition) -> str:
    """The edition's first day (``calendar.start``) as ``YYYY-MM-DD``: what orders editions."""
    if not str((edition.config.get("calendar") or {}).get("start") or "").strip():
        raise ConfigError("Date de début absente (calendar.start)", file=f"inputs/{edition.name}/edition.yaml",
                          hint='Ajoutez par exemple start: "2026-12-01" sous calendar')
    return edition.when("start").strftime("%Y-%m-%d")  # a date it cannot read stops here, named


def _metrics(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def record(edition: Edition) -> dict:
    """The edition's aggregates, from the metrics its stages wrote (``outputs/<edition>/*/metrics.json``)."""
    stages = {}
    for name in [stage.name for stage in edition.stages]:
        metrics = _metrics(edition.outputs / name / "metrics.json")
        if metrics:
            stages[name] = metrics
    if REVIEW_STAGE not in stages:
        raise ConfigError(f"Bilan de l'édition « {edition.name} » absent (outputs/{edition.name}/review/metrics.json)",
                          hint=f"Exécutez d'abord toutes les étapes : stagesco run {edition.name}")
    calendar = edition.config.get("calendar") or {}
    out = {
        "edition": edition.name,
        "campaign": edition.campaign,
        "title": str(edition.config.get("title") or edition.name),
        "start": start_of(edition),
        "end": str(calendar.get("end") or "")[:10],
        "indicators": stages[REVIEW_STAGE].get("indicators", {}),
        "breakdowns": stages[REVIEW_STAGE].get("breakdowns", {}),
        "stages": stages,
    }
    if POLE in stages[REVIEW_STAGE]:  # a pôle's bilan; older records and other campaigns have none
        out[POLE] = stages[REVIEW_STAGE][POLE]
    return out


def write(edition: Edition) -> Path:
    """Write ``history/<edition>.json`` (stable JSON) and return its path."""
    path = history_dir(edition.params.root) / f"{edition.name}.json"
    atomic.write_json(path, record(edition))
    return path


def load(path: Path) -> dict:
    """One history record, checked: a damaged file is named with what to do."""
    where = f"{HISTORY_DIR}/{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Agrégats d'une édition passée illisibles : {exc}", file=where,
                          hint="Restaurez ce fichier depuis git (git checkout -- " + where + ")")
    missing = [key for key in REQUIRED if key not in (data if isinstance(data, dict) else {})]
    if missing:
        raise ConfigError(f"Agrégats d'une édition passée incomplets (clés absentes : {', '.join(missing)})",
                          file=where, hint="Restaurez ce fichier depuis git ou regénérez-le avec stagesco freeze")
    return data


def earlier_files(edition_name: str, params: Params) -> list[Path]:
    """The history files of the editions of ``edition_name``'s campaign that started before it (oldest first)."""
    edition = Edition.load(edition_name, params.root)
    start = start_of(edition)
    found = []
    for path in sorted(history_dir(params.root).glob("*.json")):
        data = load(path)
        same = campaign_of(str(data["edition"]), data.get("campaign")) == edition.campaign
        if same and data["edition"] != edition_name and str(data["start"]) < start:
            found.append((str(data["start"]), data["edition"], path))
    return [path for _, _, path in sorted(found)]


def earlier(edition: Edition) -> list[dict]:
    """The records of editions that started before ``edition`` (oldest first)."""
    return [load(path) for path in earlier_files(edition.name, edition.params)]

"""Stage 30 ``commission`` — Commission d'attribution: read back the filled decision workbook.

What would make the retained list wrong **blocks** the stage (every such problem is listed with its
row): an unknown, missing or repeated project, a decision still pending or empty, a value outside the
workbook's lists, a retained project without team sizes, tracks or trainer, min > max, a retained
non-eligible project without a motivation, a project not retained without a motivation. What only
deserves attention is a **warning** in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas.fields import field_meta

from ..contract.config import Edition
from ..contract.errors import StagescoError
from ..io.normalise import clean_text, fold, parse_datetime, parse_integer, parse_number
from ..io.readers import read_table
from ..io import fr
from ..io import tracks as track_words
from ..io.validation import row_key
from .eligibility import as_list
from .eligibility_report import DECISION_FACTS, DECISION_INPUTS
from .terms import DECIDED_TERMS

DECISION_KEY = "decisions"


class DecisionWorkbookError(StagescoError):
    """The filled decision workbook has blocking problems (listed one per line)."""


@dataclass
class CommissionResult:
    decisions: pd.DataFrame  # one row per project: facts and the commission's decision
    warnings: list[str] = field(default_factory=list)

    @property
    def retained(self) -> pd.DataFrame:
        return self.decisions[self.decisions["decision_code"] == "retained"].reset_index(drop=True)

    @property
    def metrics(self) -> dict:
        retained = self.retained
        return {
            "projects": len(self.decisions),
            "retained": len(retained),
            "not_retained": int((self.decisions["decision_code"] != "retained").sum()),
            "places_min": int(retained["decided_team_min"].sum()) if len(retained) else 0,
            "places_max": int(retained["decided_team_max"].sum()) if len(retained) else 0,
            "warnings": len(self.warnings),
        }


def header_labels() -> dict[str, str]:
    """Field → column label of the decision sheet (as :func:`eligibility_report.decision_sheets` writes it)."""
    labels = {name: field_meta(name).label for name in DECISION_FACTS + DECISION_INPUTS + DECIDED_TERMS}
    labels.update({"team_min": "Effectif minimum proposé", "team_max": "Effectif maximum proposé",
                   "tracks": "Filières proposées"})
    return labels


def read_decisions(path: Path, edition: Edition, eligibility: pd.DataFrame) -> CommissionResult:
    """Validate the filled workbook against the eligibility table; raise on blocking problems."""
    raw = read_table(path, limits=edition.params.data.get("limits"), display_name=path.name)
    by_label = {fold(label): name for name, label in header_labels().items()}
    columns = {by_label[fold(c)]: i for i, c in enumerate(raw.columns) if fold(c) in by_label}
    needed = ["project_code"] + DECISION_INPUTS
    absent = [header_labels()[n] for n in needed if n not in columns]
    if absent:
        raise DecisionWorkbookError("Colonnes absentes du classeur de décisions : " + ", ".join(f"« {a} »" for a in absent),
                                    file=path.name, hint="Repartez du classeur decisions_commission.xlsx généré par l'étape Éligibilité")
    vocab = edition.vocabulary
    decisions = {fold(v): k for k, v in vocab["decisions"].items()}
    tracks = edition.tracks
    trainers = {fold(t): t for t in edition.section("commission").get("trainers") or []}
    known = eligibility.set_index("project_code")
    errors: list[str] = []
    records, seen = [], {}

    def cell(row, name):
        return row[columns[name]] if name in columns else ""

    for row, line in zip(raw.rows, raw.row_numbers):
        code = cell(row, "project_code").strip()
        where, error = row_key(code, line, known.index, seen, "projet inconnu (absent du dossier d'éligibilité)")
        if error:
            errors.append(error)
            continue
        raw_decision = cell(row, "decision")
        decision = decisions.get(fold(raw_decision))
        if not raw_decision.strip():
            errors.append(f"{where} : décision non renseignée")
        elif decision is None:
            errors.append(f"{where} : décision « {raw_decision} » hors liste ({', '.join(vocab['decisions'].values())})")
        elif decision == "pending":
            errors.append(f"{where} : décision encore « {vocab['decisions']['pending']} »")
        low, why_low = parse_integer(cell(row, "decided_team_min"))
        high, why_high = parse_integer(cell(row, "decided_team_max"))
        for why in (why_low, why_high):
            if why:
                errors.append(f"{where} : effectif retenu {why}")
        raw_tracks = cell(row, "tracks_open")
        open_codes = track_words.parse(raw_tracks, tracks) if raw_tracks.strip() else []
        if open_codes is None:
            errors.append(f"{where} : filières « {raw_tracks} » hors de celles de la promotion "
                          f"({', '.join(track_words.choices(tracks))}, ou plusieurs séparées par « et »)")
        raw_trainer = cell(row, "trainer")
        trainer = trainers.get(fold(raw_trainer)) if raw_trainer.strip() else None
        if raw_trainer.strip() and trainer is None:
            errors.append(f"{where} : formateur « {raw_trainer} » absent de la liste des formateurs de l'édition")
        motivation, _ = clean_text(cell(row, "motivation"), multiline=True)
        status = known.loc[code, "status_code"]
        if decision == "retained":
            if low is None or high is None:
                errors.append(f"{where} : projet retenu sans effectif minimum et maximum")
            elif low > high:
                errors.append(f"{where} : effectif minimum {low} supérieur au maximum {high}")
            if not raw_tracks.strip():
                errors.append(f"{where} : projet retenu sans filières ouvertes")
            if not raw_trainer.strip():
                errors.append(f"{where} : projet retenu sans formateur référent")
            if status != "eligible" and not motivation:
                errors.append(f"{where} : projet {known.loc[code, 'eligibility_status']} retenu sans motivation")
        if decision == "not_retained" and not motivation:
            errors.append(f"{where} : projet non retenu sans motivation (elle est reprise dans le courriel au partenaire)")
        records.append({"project_code": code, "decision_code": decision, "decision": vocab["decisions"].get(decision, raw_decision),
                        "decided_team_min": low, "decided_team_max": high,
                        "tracks_open": open_codes or [],
                        "trainer": trainer, "motivation": motivation, "source_row": line,
                        **read_terms(lambda name, r=row: cell(r, name), columns, where, errors)})
    missing = [c for c in known.index if c not in seen]
    errors += [f"projet {c} absent du classeur (toutes les lignes du dossier doivent y figurer)" for c in missing]
    if errors:
        raise DecisionWorkbookError(
            f"Le classeur de décisions contient {fr.count(len(errors), 'problème bloquant', 'problèmes bloquants')}", problems=errors,
            file=path.name, hint="Corrigez le classeur, enregistrez-le au même endroit et relancez")
    table = pd.DataFrame(records)
    merged = eligibility.merge(table, on="project_code", how="right", suffixes=("", "_decision"))
    merged["source_row"] = merged["source_row_decision"]
    merged = merged.drop(columns=["source_row_decision"])
    merged["decided_team_min"] = merged["decided_team_min"].astype("Int64")
    merged["decided_team_max"] = merged["decided_team_max"].astype("Int64")
    return CommissionResult(decisions=merged, warnings=warnings(merged, edition))


def read_terms(cell, columns: dict, where: str, errors: list[str]) -> dict:
    """The commission's own terms for an offer (hours, start, end), from the optional columns of the workbook
    (``commission.decided_terms``); an empty cell keeps the offer's. Unreadable values are ``errors``."""
    out = {}
    for name in DECIDED_TERMS:
        if name not in columns:
            continue
        text = cell(name).strip()
        if field_meta(name).type == "datetime":
            value, why = parse_datetime(text, TERM_DATE_FORMATS) if text else (None, None)
            value = pd.Timestamp(value) if value is not None else pd.NaT
        else:
            value, why = parse_number(text) if text else (None, None)
        if why:
            errors.append(f"{where}, colonne « {field_meta(name).label} » : {why}")
        out[name] = value
    return out


TERM_DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]


def warnings(table: pd.DataFrame, edition: Edition) -> list[str]:
    """What deserves the commission's attention without making the retained list wrong."""
    out = []
    retained = table[table["decision_code"] == "retained"]
    for row in retained.itertuples():
        if row.status_code != "eligible":
            out.append(f"{row.project_code} ({row.title}) : projet {row.eligibility_status} retenu — motivation : {row.motivation}")
        if (row.decided_team_min, row.decided_team_max) != (row.team_min, row.team_max) and not pd.isna(row.team_min):
            out.append(f"{row.project_code} : effectif fixé à {row.decided_team_min}–{row.decided_team_max} "
                       f"(proposé : {row.team_min}–{row.team_max})")
        proposed = set(as_list(row.tracks))
        if proposed and not set(row.tracks_open) <= proposed:
            out.append(f"{row.project_code} : filières ouvertes ({', '.join(row.tracks_open)}) au-delà de celles proposées "
                       f"par le partenaire ({', '.join(sorted(proposed))})")
    limit = int(edition.section("commission").get("max_projects_per_trainer", 10**6))
    for trainer, count in retained["trainer"].value_counts().sort_index().items():
        if count > limit:
            out.append(f"{trainer} est formateur référent de {count} projets (au-delà de {limit})")
    return out + capacity_warnings(retained, edition)


def open_to(retained: pd.DataFrame, track: str) -> pd.DataFrame:
    """The retained projects open to ``track`` (a project open to several tracks is open to each)."""
    return retained[retained["tracks_open"].map(lambda t: track in list(t))]


def capacity_warnings(retained: pd.DataFrame, edition: Edition) -> list[str]:
    """Places (decided maximums) that fall short of the learners the edition expects (``commission.
    expected_learners``), per track and overall: found here, not at the assignment."""
    expected = {str(t): int(n) for t, n in (edition.section("commission").get("expected_learners") or {}).items()}
    out = []
    advice = ("retenez d'autres projets ou élargissez des effectifs, sinon des apprenants resteront sans stage "
              "(l'édition le permet : applications.allow_unplaced)"
              if (edition.config.get("applications") or {}).get("allow_unplaced") else
              "retenez d'autres projets ou élargissez des effectifs, sinon l'affectation sera impossible")
    for track in edition.tracks:
        if track not in expected:
            continue
        places = int(open_to(retained, track)["decided_team_max"].sum())
        if places < expected[track]:
            out.append(f"Filière {track} : {fr.count(places, 'place')} au plus dans les projets qui lui sont ouverts "
                       f"pour {fr.count(expected[track], 'apprenant attendu', 'apprenants attendus')} : {advice}")
    total, learners = int(retained["decided_team_max"].sum()), sum(expected.values())
    if expected and total < learners:
        out.append(f"{fr.count(total, 'place')} au plus dans les projets retenus pour "
                   f"{fr.count(learners, 'apprenant attendu', 'apprenants attendus')} : {advice}")
    return out


def ingest(edition: Edition, eligibility: pd.DataFrame) -> CommissionResult:
    return read_decisions(edition.input_path(DECISION_KEY), edition, eligibility)


def places_by_track(result: CommissionResult, edition: Edition) -> pd.DataFrame:
    """Places offered to each track against its expected learners (« offres disponibles par rapport au
    nombre d'apprenants »): a project open to both tracks counts for each."""
    expected = edition.section("commission").get("expected_learners") or {}
    rows = []
    for track, label in edition.labels("tracks").items():
        projects = open_to(result.retained, track)
        learners = int(expected.get(track, 0))
        places_max = int(projects["decided_team_max"].sum())
        rows.append({"track": label, "projects": len(projects), "places_min": int(projects["decided_team_min"].sum()),
                     "places_max": places_max, "learners": learners,
                     "ratio": round(places_max / learners, 2) if learners else None})
    return pd.DataFrame(rows)

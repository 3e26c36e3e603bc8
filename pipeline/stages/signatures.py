"""Stage 60's signatures: the tracking workbook of the conventions, written blank, read back and checked.

* :func:`tracking_sheets` is the tracking workbook ``suivi_conventions.xlsx``: one row per convention,
  one date column per signatory in the circuit's order (site qualifiant → établissement de formation →
  apprenants, the last column being the date the last learner signed); only the dates and a notes
  column can be edited.
* :func:`read_tracking` reads the filled workbook back: an unreadable date, an unknown, repeated or
  absent project **blocks** (all listed, with row and column); otherwise every convention gets its
  status — signatures **missing**, **late** (a signature later than ``calendar.start`` minus
  ``conventions.min_lead_days`` days) and signed **out of order** (a signatory before an earlier one of the
  circuit, or while an earlier one has not signed; the same day is in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import pandas as pd

from schemas.fields import field_meta

from ..contract.config import Edition
from ..contract.errors import StagescoError
from ..io import fr
from ..io.normalise import clean_text, fold, parse_datetime
from ..io.readers import read_table
from ..io.validation import row_key
from ..io.workbook import Sheet
from .conventions import (TRACKING_FACTS, TRACKING_LABELS, ConventionSettings, conventions_to_sign, deadline,
                          deadlines, learner_starts, settings)

TRACKING_KEY = "tracking"  # followup_files.tracking in params.yaml: the filled workbook in the follow-up folder
DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y",
                "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]

class TrackingWorkbookError(StagescoError):
    """The filled tracking workbook has blocking problems (listed one per line)."""


# --- the tracking workbook -------------------------------------------------------------------------------
def tracking_facts(conventions: pd.DataFrame) -> list[str]:
    """The fixed columns of the tracking workbook; a « Convention » column first when an offer has several
    sites (each host signs its own convention, so a project has one row per site)."""
    several = ("site_count" in conventions and bool((conventions["site_count"] > 1).any())) or "school" in conventions
    return (["convention"] if several else []) + TRACKING_FACTS


def tracking_labels(config: ConventionSettings | None = None) -> dict[str, str]:
    labels = {name: field_meta(name).label for name in TRACKING_FACTS if name != "learners"}
    documents = (config or ConventionSettings(hours=0)).signatories
    return {**labels, **TRACKING_LABELS, **{name: label for name, (label, _) in documents.items()}}


def tracking_sheets(projects: pd.DataFrame, assignment: pd.DataFrame, edition: Edition,
                    outcomes: pd.DataFrame | None = None) -> list[Sheet]:
    """The tracking workbook to fill: one row per convention, the dates of its documents (and notes)
    editable; with per-learner start dates (placements), each row's own deadline."""
    config = settings(edition)
    documents = config.signatories
    frame = conventions_to_sign(projects, assignment)
    if "school" in frame:  # a pôle: each school's convention names its own pupils
        counts = assignment.groupby(["project_code", "school"]).size()
        frame["learners"] = [int(counts[(code, school)]) for code, school in zip(frame["project_code"], frame["school"])]
    else:
        frame["learners"] = frame["project_code"].map(assignment["project_code"].value_counts()).astype(int)
    days = deadlines(edition, config, projects, assignment, outcomes)
    own = bool(learner_starts(edition, outcomes)) or len(set(days.values())) > 1
    frame = frame.assign(structure_name=frame["host_structure_name"], referent_name=frame["host_referent_name"])
    frame = frame.rename(columns={"convention_id": "convention"})
    facts = tracking_facts(frame) + (["deadline"] if own else [])
    if own:
        frame["deadline"] = frame["project_code"].map(days).map(fr.day)
    for name in [*documents, "notes"]:
        frame[name] = None
    frame = frame[facts + [*documents, "notes"]]
    order = " → ".join(label for _, label in documents.values())
    common = min(days.values()) if days else deadline(edition, config)
    when = (f"Chaque convention doit être entièrement signée au plus tard à la date de sa colonne « "
            f"{TRACKING_LABELS['deadline']} » ({fr.count(config.min_lead_days, 'jour')} avant le début de son stage)."
            if own else
            f"Toutes les signatures doivent être recueillies au plus tard le {fr.day(common)} "
            f"({fr.count(config.min_lead_days, 'jour')} avant le début du stage, le "
            f"{fr.day(common + timedelta(days=config.min_lead_days))}).")
    default = config.documents == ConventionSettings.documents
    guide = pd.DataFrame({"guide": [
        ("Saisissez dans chaque colonne « Signature … » la date à laquelle ce signataire a signé la convention "
         "(par exemple 15/11/2025) ; laissez la case vide tant qu'il n'a pas signé.") if default else
        ("Saisissez dans chaque colonne la date à laquelle la pièce a été obtenue ou signée (par exemple "
         "15/11/2025) ; laissez la case vide tant qu'elle ne l'est pas."),
        f"Ordre des signatures : {order}." if default else f"Ordre des pièces : {order}.",
        *(["Pour les apprenants, saisissez la date à laquelle le dernier apprenant de l'équipe a signé."] if default else []),
        when,
        f"Enregistrez le classeur dans le dossier inputs/{edition.name}/ sous le nom prévu dans params.yaml, "
        "puis relancez l'étape Conventions.",
    ]})
    return [
        Sheet("Suivi des conventions", frame, labels=tracking_labels(config), editable=[*documents, "notes"]),
        Sheet("Mode d'emploi", guide, labels={"guide": "Mode d'emploi"}),
    ]


# --- reading the filled workbook back ----------------------------------------------------------------------
@dataclass
class ConventionsResult:
    conventions: pd.DataFrame  # one row per convention: dates, status, flags, details
    deadline: date
    warnings: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict:
        c = self.conventions
        return {
            "conventions": len(c),
            "fully_signed": int((c["missing"].map(len) == 0).sum()),
            "missing": int((c["missing"].map(len) > 0).sum()),
            "signatures_missing": int(c["missing"].map(len).sum()),
            "late": int(c["late"].sum()),
            "signed_on_time": int(((c["missing"].map(len) == 0) & ~c["late"].astype(bool)).sum()),
            "out_of_order": int(c["out_of_order"].sum()),
        }

    @property
    def problems(self) -> pd.DataFrame:
        """The conventions that need the analyst: missing, late or out of order."""
        c = self.conventions
        return c[(c["missing"].map(len) > 0) | c["late"] | c["out_of_order"]].reset_index(drop=True)


def parse_signature_date(text: str) -> tuple[date | None, str | None]:
    """A date typed in the workbook (a real date cell reads as ``15/11/2025``) → date, or a French reason."""
    value, reason = parse_datetime(text, DATE_FORMATS)
    if reason:
        return None, f"« {text.strip()} » n'est pas une date lisible (attendu : jj/mm/aaaa, par exemple 15/11/2025)"
    return (value.date() if value else None), None


def signature_status(dates: Mapping[str, date | None], last_day: date,
                     config: ConventionSettings | None = None) -> dict:
    """Missing documents or signatories, lateness and order of one convention's dates (pure)."""
    config = config or ConventionSettings(hours=0)
    SIGNATORIES = config.signatories  # noqa: N806 (the circuit of this edition)
    names = list(SIGNATORIES)
    kinds = config.kinds
    missing = [SIGNATORIES[n][1] for n in names if dates.get(n) is None]
    missing_signatures = [SIGNATORIES[n][1] for n in names if dates.get(n) is None and kinds[n] == "signature"]
    missing_documents = [SIGNATORIES[n][1] for n in names if dates.get(n) is None and kinds[n] == "document"]
    present = [dates[n] for n in names if dates.get(n) is not None]
    last = max(present) if present else None
    late = last is not None and last > last_day
    disorder = []
    for j, later in enumerate(names):
        when = dates.get(later)
        if when is None:
            continue
        before = []
        for earlier in names[:j]:
            other = dates.get(earlier)
            if other is None:
                before.append(f"{SIGNATORIES[earlier][1]} (pas encore signé)")
            elif when < other:
                before.append(f"{SIGNATORIES[earlier][1]} ({fr.day(other)})")
        if before:
            verb = "ont" if SIGNATORIES[later][1].startswith("les ") else "a"
            disorder.append(f"{SIGNATORIES[later][1]} {verb} signé le {fr.day(when)}, avant " + " et ".join(before))
    details = []
    if missing_documents:
        details.append("pièce manquante : " + ", ".join(missing_documents))
    if missing_signatures:
        details.append("signature manquante : " + ", ".join(missing_signatures))
    if late:
        details.append(f"en retard : signature du {fr.day(last)}, après la date limite du {fr.day(last_day)}")
    details += [f"hors ordre : {d}" for d in disorder]
    return {"missing": missing, "last_signed": last, "late": late, "out_of_order": bool(disorder),
            "status": "signée" if not missing else "incomplète", "details": " ; ".join(details)}


def read_tracking(path: Path, edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame,
                  outcomes: pd.DataFrame | None = None) -> ConventionsResult:
    """Validate the filled tracking workbook against the opened projects; raise on blocking problems. Each
    convention is late against its own deadline (its learners' own start dates when the edition reads placements)."""
    config = settings(edition)
    SIGNATORIES = config.signatories  # noqa: N806 (the documents of this edition, in order)
    last_day = deadline(edition, config)
    own_days = deadlines(edition, config, projects, assignment, outcomes)
    raw = read_table(path, limits=edition.params.data.get("limits"), display_name=path.name)
    labels = tracking_labels(config)
    by_label = {fold(label): name for name, label in labels.items()}
    columns = {by_label[fold(c)]: i for i, c in enumerate(raw.columns) if fold(c) in by_label}
    absent = [labels[n] for n in ["project_code", *SIGNATORIES] if n not in columns]
    if absent:
        raise TrackingWorkbookError("Colonnes absentes du classeur de suivi : " + ", ".join(f"« {a} »" for a in absent),
                                    file=path.name, hint="Repartez du classeur suivi_conventions.xlsx généré par l'étape Conventions")
    known = conventions_to_sign(projects, assignment).set_index("convention_id")
    key = "convention" if "convention" in tracking_facts(known) else "project_code"
    if key not in columns:
        raise TrackingWorkbookError(f"Colonne « {labels[key]} » absente du classeur de suivi (une convention par site "
                                    "qualifiant)", file=path.name,
                                    hint="Repartez du classeur suivi_conventions.xlsx généré par l'étape Conventions")
    opens = _opening(edition)
    errors, warnings, records, seen = [], [], [], {}
    for row, line in zip(raw.rows, raw.row_numbers):
        code = row[columns[key]].strip()
        where, error = row_key(code, line, known.index, seen, "projet inconnu (aucune convention pour ce projet)"
                               if key == "project_code" else "convention inconnue (aucune convention de ce code)")
        if error:
            errors.append(error)
            continue
        dates = {}
        for name in SIGNATORIES:
            value, reason = parse_signature_date(row[columns[name]])
            if reason:
                errors.append(f"{where}, colonne « {labels[name]} » : {reason}")
            elif value and opens and value < opens:
                warnings.append(f"{code} : {SIGNATORIES[name][1]} — signature datée du {fr.day(value)}, avant l'ouverture "
                                f"des conventions le {fr.day(opens)} : vérifiez l'année saisie")
            dates[name] = value
        notes = clean_text(row[columns["notes"]], multiline=True)[0] if "notes" in columns else None
        project = known.loc[code, "project_code"]
        records.append({"project_code": project, "convention": code, "title": known.loc[code, "title"],
                        "structure_name": known.loc[code, "host_structure_name"], **dates,
                        **signature_status(dates, own_days.get(project, last_day), config), "notes": notes,
                        "deadline": own_days.get(project, last_day), "source_row": line})
    errors += [f"{'projet' if key == 'project_code' else 'convention'} {c} absent(e) du classeur (chaque convention "
               "doit y avoir sa ligne)" for c in known.index if c not in seen]
    if errors:
        raise TrackingWorkbookError(
            f"Le classeur de suivi des conventions contient {fr.count(len(errors), 'problème bloquant', 'problèmes bloquants')}", problems=errors,
            file=path.name, hint="Corrigez le classeur, enregistrez-le au même endroit et relancez")
    table = pd.DataFrame(records).sort_values(["project_code", "convention"]).reset_index(drop=True)
    return ConventionsResult(conventions=table, deadline=last_day, warnings=warnings)


def _opening(edition: Edition) -> date | None:
    calendar = edition.config.get("calendar") or {}
    return edition.when("conventions_from").date() if "conventions_from" in calendar else None


def ingest(edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame,
           outcomes: pd.DataFrame | None = None) -> ConventionsResult:
    return read_tracking(edition.followup_path(TRACKING_KEY), edition, projects, assignment, outcomes)


def messages(result: ConventionsResult) -> list[str]:
    """One French line per convention that needs attention, for the report."""
    return [f"{r.convention} ({r.structure_name}) : {r.details}" for r in result.problems.itertuples()]

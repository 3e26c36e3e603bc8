"""Stage 40 ``applications`` in placements mode — learners bring their own placement (seed 004, CNAM).

An edition whose ``edition.yaml`` says ``applications: {mode: placements}`` has no Moodle ranking: each
learner finds their structure (one of the offers retained by the commission, « définition du stage
pratique » validated by the coordinator) and the school's file lists the placements — learner, structure
(or offer code), tutor, start and end dates — mapped by the ``placements`` section of ``mapping.yaml``.

* The roster is read as in the preferences mode; the edition's **learner-level conditions**
  (``applications.exemptions``: e.g. at least one year of professional experience in the field) exempt a
  learner from the placement, with the condition's reason: exempted learners are listed, not placed.
  ``roster rows read = learners to place + exempted + rejected``.
* Every row of the placements file is **accepted** or **rejected** with its row, column, value and French
  reason (unknown or exempted learner, second placement of a learner, structure without a retained offer,
  offer already full, track not open, unreadable or inverted dates). ``rows read = accepted + rejected``.
* An accepted placement is the learner's only « choice » (rank 1), so stage 50 turns the placements into
  the assignment with the same solver and the same independent check; a learner without a placement is
  listed (the employer rule ``fix`` of stage 50 may place them in the structure that employs them).
* ``placements.parquet`` (fields.yaml table ``placement_outcomes``) keeps, per placed or exempted learner,
  the structure, tutor and dates: stage 60 computes each learner's convention deadline from their own start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from schemas.fields import table_fields

from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition
from ..contract.errors import ConfigError
from ..io import fr
from ..io.mapping import checked_mapping, column_values, read_mapped, resolve
from ..io.normalise import clean_text, fold, parse_datetime, parse_number
from ..io.readers import RawTable
from .applications import (NON_RESPONDENT_COLUMNS, REJECTED_COLUMNS, ROSTER, TABLE, _display, _preferences,
                           as_catalogue, read_roster)

MODE = "placements"
SECTION = "placements"  # the mapping.yaml section and the editions.<e>.files key of the placements file
PLACED, EXEMPTED = "placé(e)", "dispensé(e) de stage"
ROW_REJECTED = "placement rejeté"
LEARNER_EXEMPTED = "apprenant dispensé de stage"
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%y"]
OUTCOME_COLUMNS = [m.name for m in table_fields("placement_outcomes")]
LABELS = {"placement_status": "Situation", "placement_reason": "Motif", "tutor_name": "Tuteur",
          "tutor_email": "Courriel du tuteur", "start_date": "Date de début", "end_date": "Date de fin",
          "structure_name": "Structure d'accueil"}


def mode(edition: Edition) -> str:
    """``applications.mode`` of edition.yaml (``preferences`` by default)."""
    return edition.stage_mode(edition.params.stage(TABLE)) or "preferences"


@dataclass(frozen=True)
class Exemption:
    """A learner-level condition of the edition (``applications.exemptions``): a roster field at least ``min``."""

    name: str
    field: str
    min: float
    reason: str


def exemptions(edition: Edition) -> list[Exemption]:
    where = f"inputs/{edition.name}/{EDITION_FILE}"
    rules = (edition.config.get(TABLE) or {}).get("exemptions") or {}
    if not isinstance(rules, dict):
        raise ConfigError("applications.exemptions doit décrire des conditions nommées", file=where)
    known = {m.name for m in table_fields("roster_conditions")}
    out = []
    for name, rule in rules.items():
        if not isinstance(rule, dict) or rule.get("field") not in known or not isinstance(rule.get("min"), (int, float)) \
                or not rule.get("reason"):
            raise ConfigError(f"Condition « applications.exemptions.{name} » incomplète", file=where,
                              hint=f"Écrivez field ({', '.join(sorted(known))}), min (un nombre) et reason (le motif)")
        out.append(Exemption(str(name), str(rule["field"]), float(rule["min"]), str(rule["reason"])))
    return out


@dataclass
class PlacementsResult:
    """What stage 40 decides in placements mode (same tables as the preferences mode, plus the outcomes)."""

    roster: pd.DataFrame          # the learners to place (exempted learners removed)
    preferences: pd.DataFrame     # fields.yaml table ``applications``: the accepted placement at rank 1
    outcomes: pd.DataFrame        # OUTCOME_COLUMNS: one row per placed or exempted learner
    rejected: pd.DataFrame        # REJECTED_COLUMNS: roster rows and placement rows rejected, with reason
    non_respondents: pd.DataFrame  # learners to place without an accepted placement, with why
    placements_raw: RawTable
    roster_rows_read: int
    notes: list[str] = field(default_factory=list)

    @property
    def exempted(self) -> pd.DataFrame:
        return self.outcomes[self.outcomes["placement_status"] == EXEMPTED].reset_index(drop=True)

    @property
    def metrics(self) -> dict:
        by = self.rejected["consequence"].value_counts()
        return {
            "learners": len(self.roster),
            "exempted": len(self.exempted),
            "roster_rows_read": self.roster_rows_read,
            "roster_rows_rejected": self.roster_rows_read - len(self.roster) - len(self.exempted),
            "respondents": int(self.preferences["learner_id"].nunique()),
            "non_respondents": len(self.non_respondents),
            "rows_read": len(self.placements_raw.rows),
            "placements_accepted": len(self.preferences),
            "submissions_rejected": int(by.get(ROW_REJECTED, 0)),
        }


def ingest(edition: Edition, catalogue: pd.DataFrame) -> PlacementsResult:
    """Run the stage in placements mode: roster (with its conditions) and the placements file."""
    roster_raw, roster, rejected = read_roster(edition)
    roster, outcomes = apply_exemptions(edition, roster_raw, roster)
    section, raw = read_mapped(edition, SECTION, "colonnes du fichier des placements",
                               "Ajoutez placements: {source: …, fields: {learner_id: …, structure_name: …, start_date: …}}")
    source = section.get("source") or {}
    formats = list(source.get("date_formats") or DATE_FORMATS)
    catalogue = as_catalogue_with_structure(catalogue)
    placed, row_rejections = validate(raw, section.get("fields") or {}, roster, outcomes, catalogue, formats,
                                      f"inputs/{edition.name}/{MAPPING_FILE}")
    people = roster.set_index("learner_id")
    subs = pd.DataFrame({"learner_id": placed["learner_id"], "status": "retenue", "response": placed["learner_id"],
                         "source_row": placed["source_row"]})
    preferences = _preferences(subs, {r.learner_id: [r.project_code] for r in placed.itertuples()}, people)
    rejected = pd.concat([rejected, pd.DataFrame(row_rejections, columns=REJECTED_COLUMNS)], ignore_index=True)
    outcomes = pd.concat([outcomes, placed.assign(placement_status=PLACED, placement_reason=None)[OUTCOME_COLUMNS]],
                         ignore_index=True).sort_values("learner_id", kind="stable").reset_index(drop=True)
    return PlacementsResult(roster=roster, preferences=preferences, outcomes=outcomes[OUTCOME_COLUMNS],
                            rejected=rejected.sort_values(["file", "source_row"], kind="stable").reset_index(drop=True),
                            non_respondents=without_placement(roster, placed, row_rejections, catalogue),
                            placements_raw=raw,
                            roster_rows_read=len(roster_raw.rows))


def as_catalogue_with_structure(retained: pd.DataFrame) -> pd.DataFrame:
    catalogue = as_catalogue(retained)
    if "structure_name" not in catalogue.columns:
        raise ConfigError("Les offres retenues n'ont pas de structure (structure_name) : impossible d'y rattacher "
                          "les placements")
    return catalogue


def apply_exemptions(edition: Edition, raw: RawTable, roster: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The learners to place, and the outcome rows of the exempted ones (with the condition's reason)."""
    rules = exemptions(edition)
    if not rules:
        return roster, pd.DataFrame(columns=OUTCOME_COLUMNS)
    fields = (checked_mapping(edition).get(ROSTER) or {}).get("fields") or {}
    sources = resolve(raw, fields, [rule.field for rule in rules], f"inputs/{edition.name}/{MAPPING_FILE}")
    by_row = dict(zip(raw.row_numbers, range(len(raw.rows))))
    exempt = {}
    for learner in roster.itertuples():
        for rule in rules:
            value, _ = parse_number(column_values(raw, sources[rule.field])[by_row[learner.source_row]])
            if value is not None and value >= rule.min:
                exempt[learner.learner_id] = (rule.reason + f" ({sources[rule.field].label} : {fr.number(value)})",
                                              learner.source_row)
                break
    outcomes = pd.DataFrame([{"learner_id": lid, "placement_status": EXEMPTED, "placement_reason": reason,
                              "source_row": row} for lid, (reason, row) in sorted(exempt.items())], columns=OUTCOME_COLUMNS)
    return roster[~roster["learner_id"].isin(set(exempt))].reset_index(drop=True), outcomes


def validate(raw: RawTable, mapping_fields: dict, roster: pd.DataFrame, exempted: pd.DataFrame,
             catalogue: pd.DataFrame, formats: list[str], mapping_file: str) -> tuple[pd.DataFrame, list[dict]]:
    """Each placement row accepted (one table row) or rejected (one rejection per problem, with its reason)."""
    sources = resolve(raw, mapping_fields, ["learner_id", "start_date"], mapping_file)
    if "project_code" not in sources and "structure_name" not in sources:
        resolve(raw, mapping_fields, ["structure_name"], mapping_file)  # names the missing column
    values = {name: column_values(raw, src) for name, src in sources.items()}
    people = roster.set_index("learner_id")
    away = dict(zip(exempted["learner_id"], exempted["placement_reason"]))
    by_code = {str(r.project_code): r for r in catalogue.itertuples()}
    by_structure: dict[str, list] = {}
    for r in catalogue.itertuples():
        by_structure.setdefault(fold(str(r.structure_name or "")), []).append(r)
    rows, rejections, seen, taken = [], [], {}, {}
    for i, line in enumerate(raw.row_numbers):
        text = {name: clean_text(values[name][i])[0] if name in values else None for name in
                ("learner_id", "project_code", "structure_name", "tutor_name", "tutor_email", "start_date", "end_date")}
        learner_id = text["learner_id"]
        known = learner_id in people.index if learner_id else False
        name = _display(people.at[learner_id, "first_name"], people.at[learner_id, "last_name"]) if known else None
        problems = []

        def reject(column_key, reason):
            label = sources[column_key].label if column_key in sources else "(ligne entière)"
            problems.append(_row(raw.file, line, learner_id, name, label, text.get(column_key) or "", reason))

        if i in raw.row_errors:
            reject("", f"ligne illisible : {raw.row_errors[i]}")
        elif not learner_id:
            reject("learner_id", "identifiant de l'apprenant absent")
        elif learner_id in away:
            reject("learner_id", f"{LEARNER_EXEMPTED} : {away[learner_id]} ; aucun placement attendu")
        elif not known:
            reject("learner_id", "apprenant absent de la liste de la promotion")
        elif learner_id in seen:
            reject("learner_id", f"placement déjà déclaré pour cet apprenant à la ligne {seen[learner_id]} "
                                 "(un seul stage, dans une seule structure)")
        offer = None
        if not problems:
            offer, reason, key = _offer(text, by_code, by_structure)
            if reason:
                reject(key, reason)
            elif taken.get(offer.project_code, 0) >= int(offer.team_max):
                reject(key, f"l'offre {offer.project_code} ({offer.structure_name}) accueille déjà "
                            f"{fr.count(int(offer.team_max), 'apprenant')}, son effectif maximum")
            elif people.at[learner_id, "track"] not in set(offer.tracks):
                reject(key, f"l'offre {offer.project_code} n'est pas ouverte à la filière {people.at[learner_id, 'track']}")
        start, reason = parse_datetime(text["start_date"] or "", formats)
        if not problems and (reason or start is None):
            reject("start_date", reason or "date de début absente (elle fixe la date limite de la convention)")
        end, reason = parse_datetime(text["end_date"] or "", formats)
        if not problems and reason:
            reject("end_date", reason)
        elif not problems and end is not None and end < start:
            reject("end_date", f"date de fin antérieure à la date de début ({fr.day(start)})")
        if problems:
            rejections += problems
            continue
        seen[learner_id] = line
        taken[offer.project_code] = taken.get(offer.project_code, 0) + 1
        rows.append({"learner_id": learner_id, "project_code": offer.project_code, "structure_name": offer.structure_name,
                     "tutor_name": text["tutor_name"], "tutor_email": text["tutor_email"], "start_date": start,
                     "end_date": end, "source_row": line})
    columns = [m.name for m in table_fields("placements")]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({"start_date": "datetime64[ns]", "end_date": "datetime64[ns]", "source_row": "Int64"})
    return frame, rejections


def _offer(text: dict, by_code: dict, by_structure: dict):
    """The retained offer a placement row names (its code, else its structure), or a French reason."""
    code = text.get("project_code")
    if code:
        if code in by_code:
            return by_code[code], None, "project_code"
        return None, f"offre « {code} » absente des offres retenues par la commission", "project_code"
    structure = text.get("structure_name")
    if not structure:
        return None, "structure d'accueil absente", "structure_name"
    found = by_structure.get(fold(structure), [])
    if not found:
        return None, ("structure sans offre retenue par la commission (sa « définition du stage pratique » doit être "
                      "déposée puis validée)"), "structure_name"
    if len(found) > 1:
        return None, (f"plusieurs offres retenues pour cette structure ({', '.join(r.project_code for r in found)}) : "
                      "indiquez le code de l'offre"), "structure_name"
    return found[0], None, "structure_name"


def without_placement(roster: pd.DataFrame, placed: pd.DataFrame, rejections: list[dict],
                      catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """The learners to place without an accepted placement, with why (a learner whose employer carries a
    retained offer is said so: the assignment's employer rule « fix » places them there)."""
    offers = {} if catalogue is None else {fold(str(r.structure_name or "")): r.project_code for r in catalogue.itertuples()}
    done = set(placed["learner_id"])
    rows_of: dict[str, list[int]] = {}
    for r in rejections:
        if r["learner_id"]:
            rows_of.setdefault(r["learner_id"], []).append(r["source_row"])
    rows = []
    for learner in roster.itertuples():
        if learner.learner_id in done:
            continue
        lines = sorted(set(rows_of.get(learner.learner_id, [])))
        reason = (f"placement rejeté : {fr.agree(len(lines), 'ligne')} {', '.join(map(str, lines))} (motifs dans les rejets)"
                  if lines
                  else "aucun placement dans le fichier des placements")
        employer = fold(learner.employer) if isinstance(learner.employer, str) else ""
        if employer in offers:
            reason += (f" ; sa structure employeuse porte l'offre {offers[employer]} : la règle employeur « fix » "
                       "de l'affectation l'y place")
        rows.append({"learner_id": learner.learner_id, "last_name": learner.last_name, "first_name": learner.first_name,
                     "email": learner.email, "track": learner.track, "reason": reason})
    return pd.DataFrame(rows, columns=NON_RESPONDENT_COLUMNS)


def _row(file, line, learner_id, learner, column, value, reason) -> dict:
    return {"file": file, "source_row": int(line), "learner_id": learner_id, "learner": learner or None,
            "column": column, "value": value, "reason": reason, "consequence": ROW_REJECTED}

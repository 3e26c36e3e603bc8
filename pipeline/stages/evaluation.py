"""Stage 70 ``evaluation`` — the référents' competence evaluations, read back and checked.

* :func:`evaluation_sheets` is the workbook sent to a project's référent: one row per learner of the
  team, one column per competence the project targets — the blocks of ``vocabularies.competences``
  (BC1…), or, when ``evaluation.competences`` lists finer items per block, those items — whose cells
  offer the levels of ``evaluation.levels`` as a dropdown; only the levels and a notes column are editable.
* The référents' filled workbooks are saved in the edition's folder, one file per project:
  ``inputs/<edition>/<follow-up folder>/<evaluations folder>/<project code>.xlsx`` (the folder is
  ``followup_files.evaluations`` in params.yaml).
* :func:`read_evaluations` reads them back. An unreadable file, a missing column, an unknown or repeated
  learner or a level not in the list **blocks** (every problem listed with file, row and column); a
  missing grade, a learner absent from the file or a file not received is counted and reported (one
  French line each) without blocking.

The juries of the restitution are assigned by :mod:`pipeline.stages.juries`; :func:`stage_metrics`
gathers the metrics of both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas.fields import field_meta

from ..contract.config import Edition
from ..contract.errors import ConfigError, StagescoError
from ..io.normalise import clean_text, fold
from ..io.readers import read_table
from ..io.workbook import Sheet
from ..io import fr
from ..io.html import display
from . import sites, terms
from .conventions import opened, ordered_competences, team_table

EVALUATIONS_KEY = "evaluations"  # followup_files.evaluations in params.yaml: a folder of the follow-up folder
IDENTITY = ["learner_id", "last_name", "first_name", "track"]
NOTES_LABEL = "Observations du référent"
_CODE = re.compile(r"^\s*([A-Za-z]{1,6}\d+(?:[.\-]\d+)*)")
_DROPDOWN_MAX = 255  # Excel's limit on a list validation's text


class EvaluationWorkbookError(StagescoError):
    """The filled evaluation workbooks have blocking problems (listed one per line)."""


@dataclass(frozen=True)
class EvaluationSettings:
    levels: tuple[str, ...]
    blocks: dict[str, str]  # block code → label (vocabularies.competences)
    items: dict[str, dict[str, str]] = field(default_factory=dict)  # block → {item code: label}
    jurors_per_project: int = 2  # 0: the edition forms no jury (no jurors' list is awaited)
    max_projects_per_juror: int | None = None


def settings(edition: Edition) -> EvaluationSettings:
    where = f"inputs/{edition.name}/edition.yaml"
    section = edition.config.get("evaluation") or {}
    levels = tuple(str(level).strip() for level in section.get("levels") or [] if str(level).strip())
    if len(levels) < 2:
        raise ConfigError("Niveaux d'évaluation absents (evaluation.levels, au moins deux)", file=where,
                          hint="Ajoutez par exemple « levels: [non acquis, en cours d'acquisition, acquis] »")
    if len({fold(level) for level in levels}) != len(levels):
        raise ConfigError("evaluation.levels contient deux fois le même niveau", file=where)
    if any("," in level or '"' in level for level in levels) or len(",".join(levels)) + 2 > _DROPDOWN_MAX:
        raise ConfigError("evaluation.levels : un niveau ne peut contenir ni virgule ni guillemet, et la liste "
                          f"doit tenir en {_DROPDOWN_MAX - 2} caractères (liste déroulante d'Excel)", file=where)
    items = {str(block): {str(k): str(v) for k, v in (entries or {}).items()}
             for block, entries in (section.get("competences") or {}).items()}
    try:
        per_project = int(section.get("jurors_per_project", 2))
        cap = section.get("max_projects_per_juror")
        cap = int(cap) if cap not in (None, "") else None
    except (TypeError, ValueError):
        raise ConfigError("evaluation.jurors_per_project et evaluation.max_projects_per_juror doivent être des "
                          "nombres entiers", file=where)
    if per_project < 0 or (cap is not None and cap < 1):
        raise ConfigError("evaluation.jurors_per_project doit valoir au moins 0 (0 : pas de jury) et "
                          "evaluation.max_projects_per_juror au moins 1", file=where)
    return EvaluationSettings(levels=levels, blocks=edition.labels("competences"), items=items,
                              jurors_per_project=per_project, max_projects_per_juror=cap)


def competence_columns(targeted, config: EvaluationSettings) -> list[tuple[str, str]]:
    """``(code, label)`` of what is evaluated for a project targeting the blocks ``targeted``, in the
    order of the vocabulary: each block, or its items when the edition lists them."""
    out = []
    for block in ordered_competences(targeted, config.blocks):
        if config.items.get(block):
            out += list(config.items[block].items())
        else:
            out.append((block, config.blocks.get(block, "")))
    return out


def header(code: str, label: str) -> str:
    return f"{code} — {label}" if label else code


def file_name(project_code: str) -> str:
    return f"{project_code}.xlsx"


def evaluation_sheets(project: dict, team: pd.DataFrame, edition: Edition,
                      config: EvaluationSettings | None = None) -> list[Sheet]:
    """The workbook for one project's référent: the grid to fill, then a sheet describing the project."""
    config = config or settings(edition)
    columns = competence_columns(project.get("competences"), config)
    frame = team[IDENTITY].reset_index(drop=True).copy()
    for code, _ in columns:
        frame[code] = None
    frame["notes"] = None
    labels = {name: field_meta(name).label for name in IDENTITY}
    labels.update({code: header(code, label) for code, label in columns})
    labels["notes"] = NOTES_LABEL
    codes = [code for code, _ in columns]
    about = pd.DataFrame([
        ("Projet", f"{project.get('project_code')} — {project.get('title')}"),
        ("Site qualifiant", project.get("structure_name") or ""),
        ("Référent", project.get("referent_name") or ""),
        ("Formateur référent", project.get("trainer") or ""),
        *offer_rows(project, edition),
        ("Niveaux possibles", " ; ".join(config.levels)),
        ("Consigne", "Pour chaque apprenant et chaque compétence, choisissez un niveau dans la liste. "
                     "Ne modifiez ni les identifiants ni les en-têtes ; renvoyez le classeur à l'établissement "
                     "de formation."),
    ], columns=["item", "value"])
    return [
        Sheet("Évaluation", frame, labels=labels, dropdowns={c: list(config.levels) for c in codes},
              editable=codes + ["notes"]),
        Sheet("Projet", about, labels={"item": "Rubrique", "value": "Contenu"}),
    ]


def offer_rows(project: dict, edition: Edition) -> list[tuple[str, str]]:
    """What the référent must know of an offer beyond the edition's common terms: its own period and hours
    when they differ from the edition's, and every site of a multi-site offer with its référent and share."""
    own = terms.offer_terms(project, edition)
    rows = []
    if (own.start, own.end) != (edition.when("start").date(), edition.when("end").date()):
        rows.append(("Période et volume horaire", f"du {fr.day(own.start)} au {fr.day(own.end)}, "
                                                  f"{display(own.hours)} heures"))
    listed = sites.sites(project, own.hours)
    if len(listed) > 1:
        rows.append(("Sites qualifiants", " ; ".join(
            f"{s.structure_name} ({s.referent_name or 'référent non indiqué'}, {display(s.hours)} h)" for s in listed)))
    return rows


def blank_workbooks(projects: pd.DataFrame, assignment: pd.DataFrame, roster: pd.DataFrame,
                    edition: Edition) -> dict[str, list[Sheet]]:
    """``{file name: sheets}``: the workbook to send to each opened project's référent."""
    config = settings(edition)
    team = team_table(assignment, roster)
    return {file_name(p["project_code"]): evaluation_sheets(p, team[team["project_code"] == p["project_code"]],
                                                            edition, config)
            for p in opened(projects, assignment).to_dict("records")}


# --- reading back ----------------------------------------------------------------------------------------
@dataclass
class EvaluationResult:
    results: pd.DataFrame  # one row per (learner, competence): level (None when missing), rank, source
    warnings: list[str] = field(default_factory=list)  # missing grades, absent learners, files not received
    files_missing: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict:
        r = self.results
        graded = r[r["level"].notna()]
        by_learner = r.groupby("learner_id")["level"].apply(lambda s: s.notna().all())
        return {
            "learners": int(r["learner_id"].nunique()),
            "learners_evaluated": int(graded["learner_id"].nunique()),
            "learners_complete": int(by_learner.sum()),
            "grades_expected": len(r),
            "grades_entered": len(graded),
            "grades_missing": int(r["level"].isna().sum()),
            "evaluations_missing": len(self.files_missing),
        }


RESULT_COLUMNS = ["project_code", "learner_id", "last_name", "first_name", "track", "competence",
                  "competence_label", "level", "level_rank", "file", "source_row"]


def _locate(raw_columns: list[str], codes: list[str]) -> tuple[int | None, dict[str, int], int | None]:
    """Column positions of the learner id, of each expected competence code, and of the notes."""
    id_labels = {fold(field_meta("learner_id").label), "identifiant"}
    wanted = {fold(c): c for c in codes}
    id_col, notes_col, found = None, None, {}
    for i, label in enumerate(raw_columns):
        if fold(label) in id_labels and id_col is None:
            id_col = i
        elif fold(label) == fold(NOTES_LABEL):
            notes_col = i
        else:
            match = _CODE.match(label)
            if match and fold(match.group(1)) in wanted and wanted[fold(match.group(1))] not in found:
                found[wanted[fold(match.group(1))]] = i
    return id_col, found, notes_col


def read_workbook(path: Path, project_code: str, team: pd.DataFrame, columns: list[tuple[str, str]],
                  config: EvaluationSettings, roster: pd.DataFrame, limits: dict | None = None,
                  display_name: str | None = None) -> tuple[list[dict], list[str], list[str]]:
    """One référent's workbook → (grade records, blocking errors, warnings); never raises for content."""
    name = display_name or path.name
    records, errors, warnings = [], [], []
    levels = {fold(level): (rank, level) for rank, level in enumerate(config.levels)}
    members = team.set_index("learner_id")
    labels = dict(columns)

    def record(learner_id, code, level=None, rank=None, row=None):
        person = members.loc[learner_id]
        return {"project_code": project_code, "learner_id": learner_id, "last_name": person["last_name"],
                "first_name": person["first_name"], "track": person["track"], "competence": code,
                "competence_label": labels[code], "level": level, "level_rank": rank, "file": name, "source_row": row}

    def absent(reason: str) -> tuple[list[dict], list[str], list[str]]:
        grades = [record(lid, code) for lid in members.index for code, _ in columns]
        return grades, errors, warnings + [f"{name} : {reason} — {fr.count(len(grades), 'évaluation manquante', 'évaluations manquantes')}"]

    if not path.is_file():
        return absent(f"classeur d'évaluation non reçu ({fr.count(len(members), 'apprenant')})")
    try:
        raw = read_table(path, limits=limits, display_name=name)
    except StagescoError as exc:
        errors.append(str(exc))
        return records, errors, warnings
    id_col, found, notes_col = _locate(raw.columns, [c for c, _ in columns])
    if id_col is None:
        errors.append(f"{name} : colonne « {field_meta('learner_id').label} » absente (repartez du classeur envoyé "
                      "au référent)")
    for code, label in columns:
        if code not in found:
            errors.append(f"{name} : colonne « {header(code, label)} » absente (compétence visée par le projet)")
    if id_col is None:
        return records, errors, warnings
    known = roster.set_index("learner_id")
    seen: dict[str, int] = {}
    for row, line in zip(raw.rows, raw.row_numbers):
        learner_id = row[id_col].strip()
        where = f"{name}, ligne {line}"
        if not learner_id:
            errors.append(f"{where} : identifiant apprenant vide")
            continue
        if learner_id not in members.index:
            if learner_id in known.index:
                person = known.loc[learner_id]
                errors.append(f"{where} : l'apprenant {learner_id} ({person['first_name']} {person['last_name']}) "
                              f"n'est pas dans l'équipe du projet {project_code}")
            else:
                errors.append(f"{where} : apprenant {learner_id} inconnu (absent de la promotion)")
            continue
        if learner_id in seen:
            errors.append(f"{where} : apprenant {learner_id} déjà évalué ligne {seen[learner_id]}")
            continue
        seen[learner_id] = line
        person = members.loc[learner_id]
        for code, label in columns:
            if code not in found:
                continue
            text = clean_text(row[found[code]])[0]
            column = raw.columns[found[code]]
            if text is None:
                warnings.append(f"{where}, colonne « {column} » : évaluation manquante pour "
                                f"{person['first_name']} {person['last_name']}")
                records.append(record(learner_id, code, row=line))
            elif fold(text) not in levels:
                errors.append(f"{where}, colonne « {column} » : niveau « {text} » hors liste "
                              f"({', '.join(config.levels)})")
            else:
                rank, level = levels[fold(text)]
                records.append(record(learner_id, code, level, rank, line))
    for learner_id in members.index:
        if learner_id not in seen:
            person = members.loc[learner_id]
            warnings.append(f"{name} : {person['first_name']} {person['last_name']} absent du classeur "
                            f"— {fr.count(len(columns), 'évaluation manquante', 'évaluations manquantes')}")
            records += [record(learner_id, code) for code, _ in columns]
    return records, errors, warnings


def read_evaluations(folder: Path, edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame,
                     roster: pd.DataFrame) -> EvaluationResult:
    """Read every opened project's workbook from ``folder``; raise on blocking problems (all listed)."""
    config = settings(edition)
    team = team_table(assignment, roster)
    limits = edition.params.data.get("limits")
    records, errors, warnings, not_received = [], [], [], []
    for project in opened(projects, assignment).to_dict("records"):
        code = project["project_code"]
        path = Path(folder) / file_name(code)
        display = f"{Path(folder).name}/{file_name(code)}"
        if not path.is_file():
            not_received.append(display)
        got, errs, warns = read_workbook(path, code, team[team["project_code"] == code],
                                         competence_columns(project.get("competences"), config), config, roster,
                                         limits, display)
        records += got
        errors += errs
        warnings += warns
    if errors:
        raise EvaluationWorkbookError(
            f"Les classeurs d'évaluation contiennent {fr.count(len(errors), 'problème bloquant', 'problèmes bloquants')}", problems=errors,
            hint="Corrigez les classeurs (ou demandez-les à nouveau au référent), enregistrez-les au même endroit "
                 "et relancez")
    frame = pd.DataFrame(records, columns=RESULT_COLUMNS)
    frame["level_rank"] = frame["level_rank"].astype("Int64")
    frame["source_row"] = frame["source_row"].astype("Int64")
    frame = frame.sort_values(["project_code", "learner_id", "competence"], kind="stable").reset_index(drop=True)
    return EvaluationResult(results=frame, warnings=warnings, files_missing=not_received)


def ingest(edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame, roster: pd.DataFrame) -> EvaluationResult:
    return read_evaluations(edition.followup_path(EVALUATIONS_KEY), edition, projects, assignment, roster)


# --- tables for the report and the review ------------------------------------------------------------------
def per_learner(result: EvaluationResult) -> pd.DataFrame:
    """One row per learner: identity, project, the level of each competence (empty if not targeted or
    missing) and the number of grades missing."""
    r = result.results
    wide = r.pivot_table(index="learner_id", columns="competence", values="level", aggfunc="first")
    ids = r.drop_duplicates("learner_id").set_index("learner_id")[["project_code", "last_name", "first_name", "track"]]
    missing = r.groupby("learner_id")["level"].apply(lambda s: int(s.isna().sum())).rename("grades_missing")
    out = ids.join(wide).join(missing).reset_index()
    competences = [c for c in out.columns if c not in {"learner_id", "project_code", "last_name", "first_name",
                                                       "track", "grades_missing"}]
    return out[["learner_id", "last_name", "first_name", "track", "project_code", *competences, "grades_missing"]]


def by_competence(result: EvaluationResult, config: EvaluationSettings) -> pd.DataFrame:
    """For each competence evaluated: its label, learners at each level, and grades missing."""
    r = result.results
    rows = []
    for code, grades in r.groupby("competence", sort=True):
        counts = grades["level"].value_counts()
        rows.append({"competence": code, "competence_label": grades["competence_label"].iloc[0],
                     **{level: int(counts.get(level, 0)) for level in config.levels},
                     "missing": int(grades["level"].isna().sum())})
    return pd.DataFrame(rows, columns=["competence", "competence_label", *config.levels, "missing"])


def stage_metrics(result: EvaluationResult, juries) -> dict:
    """The stage's metrics.json: the evaluation's and the juries' (:class:`juries.JuryResult`)."""
    return {**result.metrics, **juries.metrics}

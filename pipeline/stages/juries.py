"""Juries of the restitution (stage 70): volunteer référents assigned to the opened projects.

Rules: each project gets ``evaluation.jurors_per_project`` jurors; no juror sits on the jury of their own
project (same e-mail as the project's référent, or same name and structure) nor of a project of their own
structure (names compared without case, accents or spacing); loads are balanced — the largest number of
projects per juror is as small as possible, then the gap between the largest and the smallest; an optional
``evaluation.max_projects_per_juror`` caps a juror's load.

The model is solved by CP-SAT (single worker, fixed seed) level after level: (1) as many complete juries
as possible, then as many seats filled as possible; (2) the smallest maximum load; (3) the smallest spread;
(4) a seeded lottery over (juror, project) pairs, so that the chosen plan among equally good ones depends
on the data and the edition's seed, not on the solver's path. When no complete plan exists, every reason
is stated in French (« 3 jurés nécessaires par projet, mais seulement 2 volontaires hors de la structure
de P7KQ2 ») and the best partial plan is returned (or, with ``strict=True``, :class:`JuryInfeasibleError`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from ortools.sat.python import cp_model

from ..contract.config import Edition
from ..contract.errors import StagescoError
from ..io import fr
from ..io.normalise import clean_text, fold
from ..io.readers import read_table
from .conventions import opened
from .evaluation import settings

VOLUNTEERS_KEY = "jurors"  # followup_files.jurors in params.yaml (a file of the follow-up folder)
VOLUNTEER_LABELS = {
    "name": ["Nom", "Nom et prénom", "Prénom et nom", "Juré", "Référent"],
    "structure": ["Structure", "Site qualifiant", "Établissement"],
    "email": ["Courriel", "E-mail", "Email", "Adresse électronique", "Mail"],
}
TIME_LIMIT = 20.0
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class JurorListError(StagescoError):
    """The volunteers' list has blocking problems."""


class JuryInfeasibleError(StagescoError):
    """No jury plan satisfies every rule; ``reasons`` says why, in French."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("Jurys impossibles à constituer : " + " ; ".join(self.reasons),
                         hint="Recrutez d'autres jurés volontaires ou réduisez evaluation.jurors_per_project")


@dataclass(frozen=True)
class Volunteer:
    name: str
    structure: str
    email: str
    source_row: int | None = None

    @property
    def key(self) -> str:
        return fold(self.email)


def read_volunteers(path: Path, limits: dict | None = None) -> list[Volunteer]:
    """The volunteers' list (CSV or XLSX: name, structure, e-mail); raise with every problem by row."""
    raw = read_table(path, limits=limits, display_name=path.name)
    wanted = {fold(label): name for name, labels in VOLUNTEER_LABELS.items() for label in labels}
    columns: dict[str, int] = {}
    for i, label in enumerate(raw.columns):
        name = wanted.get(fold(label))
        if name and name not in columns:
            columns[name] = i
    absent = [VOLUNTEER_LABELS[n][0] for n in VOLUNTEER_LABELS if n not in columns]
    if absent:
        raise JurorListError("Colonnes absentes de la liste des jurés volontaires : " + ", ".join(f"« {a} »" for a in absent),
                             file=path.name, hint="La liste doit avoir les colonnes Nom ; Structure ; Courriel")
    errors, out, seen = [], [], {}
    for row, line in zip(raw.rows, raw.row_numbers):
        values = {n: clean_text(row[i])[0] or "" for n, i in columns.items()}
        problems = [f"{VOLUNTEER_LABELS[n][0].lower()} vide" for n in ("name", "structure", "email") if not values[n]]
        if values["email"] and not _EMAIL.match(values["email"]):
            problems.append(f"courriel « {values['email']} » invalide")
        if values["email"] and fold(values["email"]) in seen:
            problems.append(f"courriel déjà présent ligne {seen[fold(values['email'])]}")
        if problems:
            errors.append(f"ligne {line} : " + ", ".join(problems))
            continue
        seen[fold(values["email"])] = line
        out.append(Volunteer(values["name"], values["structure"], values["email"], line))
    if errors:
        raise JurorListError(f"La liste des jurés volontaires contient {fr.count(len(errors), 'problème')}", problems=errors,
                             file=path.name, hint="Corrigez la liste et relancez")
    if not out:
        raise JurorListError("La liste des jurés volontaires est vide", file=path.name)
    return out


def conflict(volunteer: Volunteer, project: dict) -> str | None:
    """Why ``volunteer`` may not sit on ``project``'s jury, or None."""
    if fold(project.get("referent_email") or "") == volunteer.key:
        return "référent du projet"
    if fold(project.get("structure_name") or "") == fold(volunteer.structure):
        return "même structure"
    return None


@dataclass
class JuryResult:
    juries: pd.DataFrame  # one row per (project, juror)
    loads: pd.DataFrame  # one row per volunteer: projects on their jury
    projects_table: pd.DataFrame  # one row per project: its number of jurors
    required: int
    reasons: list[str] = field(default_factory=list)  # why some juries are incomplete (French)

    @property
    def metrics(self) -> dict:
        loads = self.loads["projects"] if len(self.loads) else pd.Series([0])
        return {
            "juries_complete": int((self.projects_table["jurors"] >= self.required).sum()),
            "juries_incomplete": int((self.projects_table["jurors"] < self.required).sum()),
            "jurors": len(self.loads),
            "jury_load_max": int(loads.max()),
            "jury_load_min": int(loads.min()),
        }


def _lottery(seed: int, volunteer: Volunteer, code: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{volunteer.key}\x00{code}".encode(), digest_size=4).digest()
    return 1 + int.from_bytes(digest, "big") % 1000


def _solver(seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed % (2**31)
    solver.parameters.max_time_in_seconds = TIME_LIMIT
    return solver


def _shortages(projects: list[dict], allowed: dict[str, list[int]], required: int) -> list[str]:
    out = []
    for p in projects:
        n = len(allowed[p["project_code"]])
        if n < required:
            who = "volontaire" if n <= 1 else "volontaires"
            out.append(f"{required} jurés nécessaires par projet, mais seulement {n} {who} hors de la structure de "
                       f"{p['project_code']} ({p.get('structure_name') or '?'})")
    return out


def assign_juries(projects: pd.DataFrame, volunteers: list[Volunteer], required: int, *,
                  max_load: int | None = None, seed: int = 0, strict: bool = False) -> JuryResult:
    """Jurors for every project of ``projects`` (columns ``project_code``, ``structure_name``,
    ``referent_email``, optionally ``title``)."""
    if required < 1:
        raise StagescoError("Le nombre de jurés par projet doit valoir au moins 1")
    plist = projects.sort_values("project_code").to_dict("records")
    vols = sorted(volunteers, key=lambda v: (fold(v.name), v.key))
    allowed = {p["project_code"]: [j for j, v in enumerate(vols) if conflict(v, p) is None] for p in plist}
    reasons = _shortages(plist, allowed, required)
    seats = len(plist) * required
    if max_load is not None and seats > len(vols) * max_load:
        reasons.append(f"{seats} places de juré à pourvoir ({len(plist)} projets × {required}), mais {len(vols)} "
                       f"volontaires à {fr.count(max_load, 'projet')} au plus n'en couvrent que {len(vols) * max_load}")
    if reasons and strict:
        raise JuryInfeasibleError(reasons)

    model = cp_model.CpModel()
    x = {(j, p["project_code"]): model.NewBoolVar(f"x_{j}_{p['project_code']}") for p in plist
         for j in allowed[p["project_code"]]}
    full = {}
    for p in plist:
        code = p["project_code"]
        taken = [x[j, code] for j in allowed[code]]
        model.Add(sum(taken) <= required)
        full[code] = model.NewBoolVar(f"full_{code}")
        model.Add(sum(taken) >= required).OnlyEnforceIf(full[code])
    bound = len(plist)
    loads = []
    for j in range(len(vols)):
        load = model.NewIntVar(0, bound, f"load_{j}")
        model.Add(load == sum(var for (jj, _), var in x.items() if jj == j))
        if max_load is not None:
            model.Add(load <= max_load)
        loads.append(load)
    top, bottom = model.NewIntVar(0, bound, "top"), model.NewIntVar(0, bound, "bottom")
    if loads:
        model.AddMaxEquality(top, loads)
        model.AddMinEquality(bottom, loads)
    levels = [
        sum(full.values()) * (seats + 1) + sum(x.values()),  # maximise
        -top,  # i.e. minimise the largest load
        -(top - bottom),
        -sum(_lottery(seed, vols[j], code) * var for (j, code), var in x.items()),
    ]
    solver = _solver(seed)
    for level in levels:
        model.Maximize(level)
        status = solver.Solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise StagescoError("Le calcul des jurys n'a pas abouti dans le temps imparti",
                                hint="Relancez ; si cela se reproduit, signalez-le avec les fichiers de l'édition")
        model.Add(level >= round(solver.ObjectiveValue()))
    rows = [{"project_code": code, "juror_name": vols[j].name, "juror_structure": vols[j].structure,
             "juror_email": vols[j].email} for (j, code), var in x.items() if solver.Value(var)]
    juries = pd.DataFrame(rows, columns=["project_code", "juror_name", "juror_structure", "juror_email"])
    facts = projects.sort_values("project_code")[[c for c in ("project_code", "title", "structure_name")
                                                  if c in projects.columns]].reset_index(drop=True)
    juries = facts.merge(juries, on="project_code").sort_values(["project_code", "juror_name"]).reset_index(drop=True)
    count = juries.groupby("project_code").size()
    table = facts.assign(jurors=facts["project_code"].map(count).fillna(0).astype(int))
    if not reasons and (table["jurors"] < required).any():
        short = table[table["jurors"] < required]
        reasons.append("jurys incomplets (la charge maximale par juré ne permet pas de tous les compléter) : "
                       + ", ".join(f"{r.project_code} ({r.jurors}/{required})" for r in short.itertuples()))
        if strict:
            raise JuryInfeasibleError(reasons)
    load_table = pd.DataFrame([{"juror_name": v.name, "juror_structure": v.structure, "juror_email": v.email,
                                "projects": int(solver.Value(loads[j])),
                                "project_codes": ", ".join(sorted(c for (jj, c), var in x.items()
                                                                  if jj == j and solver.Value(var)))}
                               for j, v in enumerate(vols)])
    return JuryResult(juries=juries, loads=load_table, projects_table=table, required=required, reasons=reasons)


def ingest(edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame, *, strict: bool = False) -> JuryResult:
    """The juries of an edition's opened projects, from its volunteers' list and ``evaluation`` settings."""
    config = settings(edition)
    volunteers = read_volunteers(edition.followup_path(VOLUNTEERS_KEY), edition.params.data.get("limits"))
    return assign_juries(opened(projects, assignment), volunteers, config.jurors_per_project,
                         max_load=config.max_projects_per_juror, seed=int(edition.config.get("seed") or 0),
                         strict=strict)


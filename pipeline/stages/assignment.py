"""Stage 50 ``assignment`` — Affectation: one retained project per learner, within team sizes and
open tracks, fixed and forbidden pairs holding, by the edition's objective, ties broken by a seeded
lottery; every learner told why not a better choice.

This module turns the stage tables into a :class:`pipeline.assign.Instance` and the solution back into
tables; the optimisation itself is :mod:`pipeline.assign`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..assign import check
from ..assign.explain import explain, improving_swaps
from ..assign.model import Instance, Learner, Pair, Project, Solution
from ..assign.solver import solve, solve_keep_published
from ..contract.config import MAPPING_FILE, Edition
from ..contract.errors import ConfigError, StagescoError
from ..io import fr
from ..io.mapping import column_values, read_mapped, resolve
from ..io.normalise import clean_text, fold
from ..io.readers import read_table
from . import applications, pole
from .eligibility import as_list
from schemas.fields import field_meta

ADJUSTMENTS = "adjustments"
PUBLICATION = "publication"  # editions.<e>.files.publication: the folder where the published workbook is saved
KINDS = {"fixer": "fixed", "fixe": "fixed", "fixed": "fixed", "exclure": "forbidden", "exclusion": "forbidden",
         "forbidden": "forbidden", "retrait": "withdrawn", "retirer": "withdrawn", "abandon": "withdrawn",
         "withdrawn": "withdrawn", "effectif": "capacity", "capacite": "capacity", "capacity": "capacity",
         "filieres": "tracks", "tracks": "tracks", "ouvrir": "open", "open": "open", "fermer": "close", "close": "close"}
KIND_WORDS = {"fixed": "fixer", "forbidden": "exclure", "withdrawn": "retrait", "capacity": "effectif",
              "tracks": "filières", "open": "ouvrir", "close": "fermer"}  # the word written in the file, per kind
PROJECT_KINDS = ("capacity", "tracks", "open", "close")  # adjustments of a project (no learner)
OPTIONAL_FIELDS = ("value", "author", "date", "order")
# The employer rule (edition.yaml assignment.employer_rule): a learner employed by a structure that carries a
# retained offer is kept out of it (forbid: conflict of interest) or placed in it (fix: a learner employed in
# the field does their placement in their own structure, seed 004), or nothing is done (none).
EMPLOYER_RULES = {"forbid": "exclu(e) de l'offre de sa structure employeuse",
                  "fix": "placé(e) dans l'offre de sa structure employeuse", "none": "sans règle"}
EMPLOYER_FORBIDDEN = "employeur (conflit d'intérêts)"
EMPLOYER_FIXED = "stage dans sa structure employeuse (règle employeur de l'édition)"
POLE_COLUMNS = ("school", "basin")  # a pupil's school and basin, in a pôle de stages
OTHER_BASIN = "offre d'un autre bassin que celui de l'élève"


@dataclass
class AssignmentResult:
    instance: Instance
    solution: Solution
    table: pd.DataFrame  # one row per learner: identity, track, project, rank obtained, explanation
    reasons: dict = field(default_factory=dict)
    swaps: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    adjustments: pd.DataFrame | None = None
    published: dict | None = None  # learner → published project, once the assignment is announced
    withdrawn: list = field(default_factory=list)  # learners withdrawn (adjustments « retrait »)
    adjustments_file: bool = True  # False: the edition has no adjustments file (an optional input)
    unplaced: pd.DataFrame | None = None  # learners left without a project (applications.allow_unplaced), with why
    names: dict = field(default_factory=dict)  # a pôle's school and basin names (pole.territory_names)

    @property
    def metrics(self) -> dict:
        s = self.solution
        return {
            "learners": len(self.instance.learners),
            "assigned": len(s.assignment),
            "unassigned": len(self.instance.learners) - len(s.assignment),
            "projects_opened": len(s.opened),
            "projects_closed": len(s.closed),
            "rank_profile": list(s.rank_profile),
            "worst_rank": s.worst_rank,
            "optimal": bool(s.optimal),
            "gap": float(s.gap),
            "first_choice_share": round(s.rank_profile[0] / max(1, len(s.assignment)), 4),
            "improving_swaps": len(self.swaps),
            "seed": self.instance.seed,
            "published": self.published is not None,
            "withdrawn": len(self.withdrawn),
            "moved": len(s.moved),
            **(pole.placement_counts(self.table, self.unplaced) if self.unplaced is not None else {}),
        }


def settings(edition: Edition) -> dict:
    section = edition.section("assignment")
    objective = section.get("objective", "egalitarian")
    if objective not in ("egalitarian", "rank_maximal", "sum_of_ranks"):
        raise ConfigError(f"Objectif d'affectation « {objective} » inconnu", file=f"inputs/{edition.name}/edition.yaml",
                          hint="Valeurs possibles : egalitarian, rank_maximal, sum_of_ranks")
    return {"objective": objective, "seed": int(section.get("seed", edition.config.get("seed", 0))),
            "time_limit": float(section.get("time_limit", 120)),
            "ranks": int((edition.config.get("applications") or {}).get("ranks_asked", 5)),
            "employer_rule": employer_rule(edition),
            # fewer places than pupils (a pôle de stages): place as many as possible, list the others
            "allow_unplaced": applications.allow_unplaced(edition),
            # a pôle de stages: no pupil leaves their school's basin (stage 40 gave each pupil its basin)
            "same_basin": applications.same_basin(edition)}


def employer_rule(edition: Edition) -> str:
    """``assignment.employer_rule`` (fix, forbid or none); the older ``employer_exclusion: true/false`` reads
    forbid/none; forbid by default."""
    section = edition.config.get("assignment") or {}
    rule = section.get("employer_rule")
    if rule is None:
        rule = "forbid" if section.get("employer_exclusion", True) else "none"
    if rule not in EMPLOYER_RULES:
        raise ConfigError(f"Règle employeur « {rule} » inconnue (assignment.employer_rule)",
                          file=f"inputs/{edition.name}/edition.yaml",
                          hint="Valeurs possibles : " + " ; ".join(f"{k} : {v}" for k, v in EMPLOYER_RULES.items()))
    return str(rule)


def read_adjustments(edition: Edition, learners: set[str], projects: set[str]) -> pd.DataFrame:
    """The commission's adjustments, in the file's order, each with its reason: fixed and forbidden pairs,
    withdrawals, and changes of a project decided in the meeting (team sizes « effectif » ``min-max``, open
    tracks « filières », « ouvrir » / « fermer »); any problem stops the stage."""
    columns = ["learner_id", "project_code", "kind", "reason", "source_row", *OPTIONAL_FIELDS]
    if not edition.has_input(ADJUSTMENTS):  # an optional input: the report says the assignment follows the applications alone
        return pd.DataFrame(columns=columns)
    section, raw = read_mapped(edition, ADJUSTMENTS)
    sources = resolve(raw, section.get("fields") or {}, ["learner_id", "project_code", "adjustment", "reason"],
                      f"inputs/{edition.name}/{MAPPING_FILE}")
    values = {name: column_values(raw, src) for name, src in sources.items()}
    rows, errors = [], []
    for i, line in enumerate(raw.row_numbers):
        learner, project = values["learner_id"][i].strip(), values["project_code"][i].strip()
        kind = KINDS.get(fold(values["adjustment"][i]))
        reason, _ = clean_text(values["reason"][i])
        extra = {name: values[name][i].strip() if name in values else "" for name in OPTIONAL_FIELDS}
        where = f"ligne {line}"
        if kind in PROJECT_KINDS:
            errors += [f"{where} : {problem}" for problem in project_problems(edition, kind, learner, extra["value"])]
        elif learner not in learners:
            errors.append(f"{where} : apprenant « {learner} » absent de la promotion")
        if project not in projects and not (kind == "withdrawn" and not project):
            errors.append(f"{where} : projet « {project} » non retenu")
        if kind is None:
            errors.append(f"{where} : type « {values['adjustment'][i]} » inconnu (" + ", ".join(KIND_WORDS.values()) + ")")
        if not reason:
            errors.append(f"{where} : motif obligatoire")
        if extra["order"] and not extra["order"].isdigit():
            errors.append(f"{where} : ordre « {extra['order']} » : un nombre entier est attendu")
        rows.append({"learner_id": learner, "project_code": project, "kind": kind, "reason": reason, "source_row": line,
                     **extra})
    if errors:
        raise StagescoError("Le fichier d'ajustements contient des erreurs :\n- " + "\n- ".join(errors), file=raw.file,
                            hint="Corrigez-le et relancez")
    return pd.DataFrame(rows, columns=columns)


def project_problems(edition: Edition, kind: str, learner: str, value: str) -> list[str]:
    """What is wrong with an adjustment of a project (French), or nothing."""
    problems = [f"un ajustement « {KIND_WORDS[kind]} » porte sur un projet : la colonne apprenant reste vide"] if learner else []
    if kind == "capacity" and capacity_value(value) is None:
        problems.append(f"effectif « {value} » illisible : écrivez le minimum et le maximum, par exemple 3-8")
    if kind == "tracks":
        codes = tracks_value(value)
        unknown = [code for code in codes if code not in edition.tracks]
        if not codes or unknown:
            problems.append(f"filières « {value} » : écrivez les filières ouvertes séparées par des virgules, parmi "
                            + ", ".join(edition.tracks))
    return problems


def capacity_value(value: str) -> tuple[int, int] | None:
    """``"3-8"`` → (3, 8); None when unreadable or the minimum exceeds the maximum."""
    parts = [p.strip() for p in str(value).replace("–", "-").split("-")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > int(parts[1]):
        return None
    return int(parts[0]), int(parts[1])


def tracks_value(value: str) -> list[str]:
    return [code.strip() for code in str(value).split(",") if code.strip()]


def apply_project_adjustments(retained: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """Stage 30's retained projects with the meeting's project adjustments applied in the file's order
    (a closed project keeps no place: minimum and maximum 0; « ouvrir » lifts an earlier closure)."""
    rows = adjustments[adjustments["kind"].isin(PROJECT_KINDS)]
    if rows.empty:
        return retained
    sizes = {code: (low, high) for code, low, high in
             zip(retained["project_code"], retained["decided_team_min"], retained["decided_team_max"])}
    tracks = dict(zip(retained["project_code"], retained["tracks_open"]))
    closed: set[str] = set()
    for kind, code, value in zip(rows["kind"], rows["project_code"], rows["value"]):
        if kind == "capacity":
            sizes[code] = capacity_value(value)
        elif kind == "tracks":
            tracks[code] = tracks_value(value)
        elif kind == "close":
            closed.add(code)
        else:
            closed.discard(code)
    codes = list(retained["project_code"])
    out = retained.copy()
    out["decided_team_min"] = [0 if c in closed else int(sizes[c][0]) for c in codes]
    out["decided_team_max"] = [0 if c in closed else int(sizes[c][1]) for c in codes]
    out["tracks_open"] = [as_list(tracks[c]) for c in codes]
    return out


def read_published(edition: Edition, learners: set[str], projects: set[str]) -> dict[str, str] | None:
    """The assignment as announced (the published ``affectations.xlsx`` the analyst saved in the edition's
    publication folder), or None before publication; any unknown learner or project stops the stage."""
    files = edition.params.edition_files(edition.name)
    name = edition.params.data["publication_files"]["assignment"]
    if PUBLICATION not in files or not (edition.input_path(PUBLICATION) / name).is_file():
        return None
    path = edition.input_path(PUBLICATION) / name
    where = f"{files[PUBLICATION]}/{name}"
    raw = read_table(path, limits=edition.params.data.get("limits"), display_name=where)
    wanted = {fold(field_meta(n).label): n for n in ("learner_id", "project_code")}
    columns = {wanted[fold(c)]: i for i, c in enumerate(raw.columns) if fold(c) in wanted}
    if len(columns) < 2:
        raise StagescoError("Colonnes « Identifiant apprenant » et « Code projet » introuvables dans l'affectation publiée",
                            file=where, hint="Enregistrez ici le classeur affectations.xlsx tel qu'il a été publié")
    published, errors = {}, []
    for row, line in zip(raw.rows, raw.row_numbers):
        learner, project = row[columns["learner_id"]].strip(), row[columns["project_code"]].strip()
        if learner not in learners:
            errors.append(f"ligne {line} : apprenant « {learner} » absent de la promotion")
        elif project not in projects:
            errors.append(f"ligne {line} : projet « {project} » non retenu")
        elif learner in published:
            errors.append(f"ligne {line} : apprenant « {learner} » présent deux fois")
        else:
            published[learner] = project
    if errors:
        raise StagescoError("L'affectation publiée contient des erreurs :\n- " + "\n- ".join(errors), file=where,
                            hint="Enregistrez ici le classeur affectations.xlsx tel qu'il a été publié, sans le modifier")
    return published


def employer_pairs(roster: pd.DataFrame, retained: pd.DataFrame) -> list[Pair]:
    """A learner is not placed in the structure that employs them (conflict of interest)."""
    by_name = {fold(name): code for code, name in zip(retained["project_code"], retained["structure_name"])}
    pairs = []
    for row in roster.itertuples():
        if isinstance(row.employer, str) and fold(row.employer) in by_name:
            pairs.append(Pair(row.learner_id, by_name[fold(row.employer)], EMPLOYER_FORBIDDEN))
    return pairs


def employer_fixed_pairs(roster: pd.DataFrame, retained: pd.DataFrame) -> list[Pair]:
    """Each learner employed by a structure carrying exactly one retained offer, fixed to it; a structure
    with several offers stops the stage (which one is the learner's is the commission's call)."""
    offers: dict[str, list[str]] = {}
    for code, name in zip(retained["project_code"], retained["structure_name"]):
        offers.setdefault(fold(str(name or "")), []).append(str(code))
    pairs, errors = [], []
    for row in roster.itertuples():
        if not isinstance(row.employer, str) or fold(row.employer) not in offers:
            continue
        codes = sorted(offers[fold(row.employer)])
        if len(codes) > 1:
            errors.append(f"{row.learner_id} : sa structure employeuse « {row.employer} » porte {len(codes)} offres "
                          f"retenues ({', '.join(codes)})")
        else:
            pairs.append(Pair(row.learner_id, codes[0], EMPLOYER_FIXED))
    if errors:
        raise StagescoError("Règle employeur « fix » : offre de la structure employeuse ambiguë", problems=errors,
                            hint="Fixez l'offre de chacun de ces apprenants dans le fichier d'ajustements (type fixer)")
    return pairs


def basin_pairs(roster: pd.DataFrame, retained: pd.DataFrame) -> list[Pair]:
    """Every (learner, project of another basin) pair, forbidden."""
    return [Pair(learner, project, f"{OTHER_BASIN} ({basin})")
            for learner, own in zip(roster["learner_id"], roster["basin"])
            for project, basin in zip(retained["project_code"], retained["basin"]) if basin != own]


def build_instance(edition: Edition, retained: pd.DataFrame, roster: pd.DataFrame, preferences: pd.DataFrame,
                   adjustments: pd.DataFrame, cfg: dict) -> Instance:
    prefs = preferences.sort_values(["learner_id", "rank"]).groupby("learner_id")["project_code"].apply(tuple).to_dict()
    learners = tuple(Learner(row.learner_id, row.track, prefs.get(row.learner_id, ()))
                     for row in roster.sort_values("learner_id").itertuples())
    retained = apply_project_adjustments(retained, adjustments)
    projects = tuple(Project(row.project_code, int(row.decided_team_min), int(row.decided_team_max),
                             frozenset(as_list(row.tracks_open))) for row in retained.sort_values("project_code").itertuples())
    gone = set(adjustments.loc[adjustments["kind"] == "withdrawn", "learner_id"])
    learners = tuple(learner for learner in learners if learner.id not in gone)
    fixed = tuple(Pair(r.learner_id, r.project_code, r.reason) for r in adjustments.itertuples() if r.kind == "fixed")
    forbidden = [Pair(r.learner_id, r.project_code, r.reason) for r in adjustments.itertuples() if r.kind == "forbidden"]
    if cfg["employer_rule"] == "forbid":
        known = {(p.learner, p.project) for p in forbidden}
        forbidden += [p for p in employer_pairs(roster, retained) if (p.learner, p.project) not in known]
    elif cfg["employer_rule"] == "fix":  # the commission's own fixed pair of a learner comes first
        decided = {p.learner for p in fixed}
        fixed += tuple(p for p in employer_fixed_pairs(roster, retained) if p.learner not in decided)
    if cfg.get("same_basin"):  # a pôle de stages: no pupil leaves their school's basin
        forbidden += basin_pairs(roster, retained)
    fixed = tuple(p for p in fixed if p.learner not in gone)
    forbidden = [p for p in forbidden if p.learner not in gone]
    return Instance(learners=learners, projects=projects, ranks=cfg["ranks"], fixed=fixed,
                    forbidden=tuple(sorted(forbidden, key=lambda p: (p.learner, p.project))),
                    seed=cfg["seed"], objective=cfg["objective"], tracks=tuple(edition.tracks),
                    allow_unplaced=cfg.get("allow_unplaced", False))


def run(edition: Edition, retained: pd.DataFrame, roster: pd.DataFrame, preferences: pd.DataFrame) -> AssignmentResult:
    cfg = settings(edition)
    adjustments = read_adjustments(edition, set(roster["learner_id"]), set(retained["project_code"]))
    instance = build_instance(edition, retained, roster, preferences, adjustments, cfg)
    withdrawn = sorted(adjustments.loc[adjustments["kind"] == "withdrawn", "learner_id"])
    published = read_published(edition, set(roster["learner_id"]), set(retained["project_code"]))
    if published is not None:
        missing = sorted(set(roster["learner_id"]) - set(published) - set(withdrawn))
        if missing:
            raise StagescoError(f"{fr.count(len(missing), 'apprenant')} de la promotion {fr.agree(len(missing), 'absent')} de l'affectation publiée : "
                                + ", ".join(missing[:10]), hint="Enregistrez le classeur affectations.xlsx complet, tel "
                                "qu'il a été publié ; un apprenant qui se retire s'inscrit dans les ajustements (retrait)")
        homes = {learner.id: published[learner.id] for learner in instance.learners}
        solution = solve_keep_published(instance, homes, (), time_limit=cfg["time_limit"])
    else:
        solution = solve(instance, time_limit=cfg["time_limit"])
    violations = check.violations(instance, solution)
    if violations:  # an independent re-check of every constraint: never publish a wrong assignment
        raise StagescoError("Affectation incohérente (contrôle indépendant) : " + " ; ".join(violations[:5]))
    reasons = explain(instance, solution, time_limit=cfg["time_limit"]) if published is None else {}
    own = (edition.config.get("applications") or {}).get("mode") == "placements"
    table = result_table(instance, solution, reasons, roster, retained, published, own)
    missing = pole.unplaced(instance, solution, roster, retained) if pole.is_pole(roster) else None
    return AssignmentResult(instance=instance, solution=solution, table=table, reasons=reasons,
                            swaps=improving_swaps(instance, solution), violations=violations, adjustments=adjustments,
                            published=published, withdrawn=withdrawn, adjustments_file=edition.has_input(ADJUSTMENTS),
                            unplaced=missing, names=pole.territory_names(edition) if pole.is_pole(roster) else {})


def rank_text(rank: int, ranks: int) -> str:
    if rank > ranks:
        return "projet non classé"
    return "1er choix" if rank == 1 else f"{rank}e choix"


def result_table(instance: Instance, solution: Solution, reasons: dict, roster: pd.DataFrame,
                 retained: pd.DataFrame, published: dict | None = None, own: bool = False) -> pd.DataFrame:
    """One row per learner. ``own``: learners brought their own placement (stage 40 in placements mode):
    rank 1 reads « placement déclaré »."""
    titles = dict(zip(retained["project_code"], retained["title"]))
    people = roster.set_index("learner_id")
    employer = {p.learner: p.project for p in instance.fixed if p.reason == EMPLOYER_FIXED}
    rows = []
    for learner in instance.learners:
        if learner.id not in solution.assignment:
            continue  # left unplaced (applications.allow_unplaced): listed apart, with why
        project = solution.assignment[learner.id]
        rank = solution.ranks[learner.id]
        why = [f"{r.project} ({rank_text(r.rank, instance.ranks)}) : {r.text}" for r in reasons.get(learner.id, [])]
        if not learner.preferences:
            why = ["aucune candidature valide : placé(e) sur un projet ouvert à sa filière qui avait de la place"]
        label = rank_text(rank, instance.ranks)
        if own and rank == 1:
            label = "placement déclaré"
        if employer.get(learner.id) == project:
            why = [f"{EMPLOYER_FIXED} : {people.loc[learner.id, 'employer']}"]
            label = "structure employeuse"
        if published is not None:  # after publication: keep the announced project unless a withdrawal forbids it
            why = ([f"affectation publiée ({published[learner.id]}) maintenue"] if published[learner.id] == project else
                   [f"déplacé(e) après un ou plusieurs retraits (projet publié : {published[learner.id]}) : garder chacun "
                    "à son projet publié ne respectait plus les effectifs minimum et maximum ; ce changement fait partie "
                    "du plus petit nombre de déplacements possible"])
        rows.append({"learner_id": learner.id, "last_name": people.loc[learner.id, "last_name"],
                     "first_name": people.loc[learner.id, "first_name"], "email": people.loc[learner.id, "email"],
                     "track": learner.track, **{c: people.loc[learner.id, c] for c in POLE_COLUMNS if c in people},
                     "project_code": project, "title": titles[project], "rank": rank,
                     "rank_label": label, "explanation": "\n".join(why)})
    return pd.DataFrame(rows)


def what_if(edition: Edition, changes: list[str], retained: pd.DataFrame, roster: pd.DataFrame,
            preferences: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """Re-solve with team sizes changed (``P7KQ2.max=10``, ``P7KQ2.min=3``) and say what would change;
    writes nothing (for the commission's meeting)."""
    retained = retained.copy()
    for change in changes:
        try:
            target, value = change.split("=", 1)
            code, attribute = target.rsplit(".", 1)
            column = {"min": "decided_team_min", "max": "decided_team_max"}[attribute]
            number = int(value)
        except (ValueError, KeyError):
            raise StagescoError(f"Modification « {change} » illisible", hint="Écrivez par exemple P7KQ2.max=10 ou P7KQ2.min=3")
        if code not in set(retained["project_code"]):
            raise StagescoError(f"Projet « {code} » non retenu", hint="Utilisez le code d'un projet retenu")
        retained.loc[retained["project_code"] == code, column] = number
    cfg = settings(edition)
    adjustments = read_adjustments(edition, set(roster["learner_id"]), set(retained["project_code"]))
    instance = build_instance(edition, retained, roster, preferences, adjustments, cfg)
    solution = solve(instance, time_limit=cfg["time_limit"])
    before = current.set_index("learner_id")
    ranks = instance.ranks
    old_profile = [int((before["rank"] == r).sum()) for r in range(1, ranks + 1)] + [int((before["rank"] > ranks).sum())]
    lines = [f"Profil des rangs actuel : {old_profile}", f"Profil des rangs simulé : {list(solution.rank_profile)}",
             f"Projets fermés : {', '.join(solution.closed) or 'aucun'} ; {solution.status}"]
    moves = [(lid, before.loc[lid, "project_code"], project, int(before.loc[lid, "rank"]), solution.ranks[lid])
             for lid, project in sorted(solution.assignment.items()) if before.loc[lid, "project_code"] != project]
    lines.append(f"{fr.count(len(moves), 'apprenant changerait', 'apprenants changeraient')} de projet :")
    lines += [f"  {lid} : {old} ({rank_text(r0, ranks)}) → {new} ({rank_text(r1, ranks)})" for lid, old, new, r0, r1 in moves]
    return lines

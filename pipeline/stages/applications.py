"""Stage 40 ``applications`` — Candidatures des apprenants: read the cohort roster and the Moodle export
of the learners' ranked preferences, identify each respondent, validate each choice against the catalogue
of retained projects, keep the latest submission of each learner.

Every response read ends up valid (the learner's candidature), rejected or superseded, every choice
dropped has its French reason, and every learner of the roster is a respondent or a non-respondent.
Projects are matched by their stable code or their title, never by position; learners by identifier,
else e-mail, else full name (an ambiguous name is an error, not a guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from schemas.applications import preferences_schema, roster_schema
from schemas.fields import table_fields

from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition
from ..contract.errors import ConfigError
from ..io import fr
from ..io.mapping import checked_mapping, column_values, read_mapped, resolve
from ..io.moodle import MoodleExport, read_moodle_export
from ..io.normalise import clean_text, fold, parse_choice, parse_datetime
from ..io.readers import RawTable
from ..io import rejections, territory
from ..io.validation import schema_problems
from . import capacity, pole

ROSTER = "roster"
TABLE = "applications"

# How learners without a valid candidature are assigned (edition.yaml: applications.non_respondents).
POLICIES = {
    "any_project": "affectés par l'affectation à un projet ouvert à leur filière qui a encore de la place",
    "manual": "placés un par un par la commission",
}

# What happens to what was rejected (column « consequence » of the rejections).
ROSTER_ROW_IGNORED = "ligne de la liste ignorée"
SUBMISSION_REJECTED = "candidature rejetée"
CHOICE_DROPPED = "choix écarté, les suivants remontent"
RANK_CLOSED = "rang vide, les suivants remontent"
VALUE_IGNORED = "valeur ignorée"

REJECTED_COLUMNS = ["file", "source_row", "learner_id", "learner", "column", "value", "reason", "consequence"]
SUPERSEDED_COLUMNS = ["source_row", "learner_id", "learner", "submitted_at", "replaced_by_row", "reason"]
NON_RESPONDENT_COLUMNS = ["learner_id", "last_name", "first_name", "email", "track", "reason"]
CONFLICT_COLUMNS = ["learner_id", "learner", "employer", "project_code", "rank", "reason"]
SUBMISSION_COLUMNS = ["source_row", "learner_id", "learner", "matched_by", "submitted_at", "choices_read",
                      "choices_kept", "status"]

# French headers of the tables that have no field metadata (the lead's workbooks and report use these).
LABELS = {
    "file": "Fichier", "source_row": "Ligne du fichier", "learner_id": "Identifiant apprenant",
    "learner": "Apprenant", "column": "Colonne ou choix (libellé du fichier)", "value": "Valeur lue",
    "reason": "Motif", "consequence": "Conséquence", "submitted_at": "Date de la candidature",
    "replaced_by_row": "Remplacée par la ligne", "matched_by": "Apprenant reconnu par",
    "choices_read": "Choix lus", "choices_kept": "Choix retenus", "status": "Statut", "employer": "Structure employeuse",
    "project_code": "Code projet", "rank": "Rang de préférence", "title": "Titre du projet", "tracks": "Filières ouvertes",
    "team_min": "Effectif minimum", "team_max": "Effectif maximum", "first_choices": "1ers choix",
    "top3": "Dans les 3 premiers choix", "applicants": "Candidats (tous rangs)",
    "under_minimum": "Candidats en dessous de l'effectif minimum", "last_name": "Nom", "first_name": "Prénom",
    "email": "Courriel", "track": "Filière",
}


@dataclass
class ApplicationsResult:
    """Everything stage 40 decides; the notebook writes it out (``candidatures_rejets.xlsx``…)."""

    export: MoodleExport
    roster: pd.DataFrame            # fields.yaml table ``roster``
    preferences: pd.DataFrame       # fields.yaml table ``applications``: learner_id, track, rank 1..k, project_code
    submissions: pd.DataFrame       # one row per response with at least one choice: who, how recognised, status
    rejected: pd.DataFrame          # REJECTED_COLUMNS: roster rows, responses, choices, empty ranks
    superseded: pd.DataFrame        # earlier candidatures replaced by the learner's latest one
    non_respondents: pd.DataFrame   # roster learners without a valid candidature, with why
    demand: pd.DataFrame            # per retained project: first choices, top 3, applicants, by track
    conflicts: pd.DataFrame         # a learner ranked a project of the structure that employs them
    policy: str                     # applications.non_respondents of edition.yaml (a key of POLICIES)
    roster_raw: RawTable | None = None
    notes: list[str] = field(default_factory=list)
    tracks: tuple[str, ...] = ()    # the edition's track codes (vocabularies.tracks), in its order
    names: dict = field(default_factory=dict)  # a pôle's school and basin names (pole.territory_names)

    @property
    def demand_columns(self) -> list[str]:
        """The columns of the demand table people read: first choices per track, not the top 3 per track."""
        return ["project_code", "title", "tracks", "team_min", "team_max", "first_choices",
                *(f"first_choices_{t}" for t in self.tracks), "top3", "applicants", "under_minimum"]

    @property
    def labels(self) -> dict[str, str]:
        """:data:`LABELS` with the headers of the per-track columns of the demand table."""
        per_track = {f"{name}_{t}": f"{label} {t}" for t in self.tracks
                     for name, label in (("first_choices", "1ers choix"), ("top3", "Top 3"))}
        return {**LABELS, **per_track}

    @property
    def policy_label(self) -> str:
        return POLICIES[self.policy]

    @property
    def metrics(self) -> dict:
        status = self.submissions["status"].value_counts()
        by = self.rejected["consequence"].value_counts()
        return {
            "learners": len(self.roster),
            "respondents": int(self.preferences["learner_id"].nunique()),
            "non_respondents": len(self.non_respondents),
            "rows_read": len(self.export.responses),
            "rows_without_choice": len(self.export.responses) - len(self.submissions),
            "submissions_read": len(self.submissions),
            "submissions_valid": int(status.get(STATUS_VALID, 0)),
            "submissions_rejected": int(status.get(STATUS_REJECTED, 0)),
            "submissions_superseded": int(status.get(STATUS_SUPERSEDED, 0)),
            "choices_kept": len(self.preferences),
            "choices_dropped": int(by.get(CHOICE_DROPPED, 0)),
            "rank_gaps_closed": int(by.get(RANK_CLOSED, 0)),
            "roster_rows_rejected": int(by.get(ROSTER_ROW_IGNORED, 0)),
            "conflicts_of_interest": len(self.conflicts),
            "projects_under_minimum": int(self.demand["under_minimum"].sum()) if len(self.demand) else 0,
        }


STATUS_VALID = "retenue"
STATUS_REJECTED = "rejetée"
STATUS_SUPERSEDED = "remplacée"


# --- The stage, end to end ------------------------------------------------------------------------------
def ingest(edition: Edition, catalogue: pd.DataFrame, known_projects: pd.DataFrame | None = None) -> ApplicationsResult:
    """Run the stage on an edition: its roster (``files.roster``), its Moodle export (``files.applications``),
    the catalogue of retained projects (from the commission stage) and, if given, every project received
    (stage 10: ``project_code``, ``title``) so that a non-retained project is named as such."""
    policy = non_respondent_policy(edition)
    limits = edition.params.data.get("limits")
    roster_raw, roster, roster_rejected = read_roster(edition)
    section = checked_mapping(edition).get(TABLE) or {}
    path = edition.input_path(TABLE)
    export = read_moodle_export(path, source=section.get("source") or {}, fields=section.get("fields") or {},
                                limits=limits, display_name=path.name,
                                mapping_file=f"inputs/{edition.name}/{MAPPING_FILE}")
    result = validate(export, roster, catalogue, tracks=tuple(edition.tracks), policy=policy, known_projects=known_projects,
                      roster_rejected=roster_rejected, basins=same_basin(edition),
                      basin_names=(names := pole.territory_names(edition) if pole.is_pole(roster) else {}).get("basin"))
    result.roster_raw = roster_raw
    result.names = names
    stop_mass_rejection(result, edition.params.data.get("mass_rejection") or {}, path.name)
    result.notes += capacity.check(result.roster, as_catalogue(catalogue), result.preferences, result.tracks,
                                   allow_unplaced=allow_unplaced(edition))
    return result


def same_basin(edition: Edition) -> bool:
    """``applications.same_basin`` of edition.yaml (a pôle de stages: pupils never leave their school's basin);
    it needs the basin table and the list of schools."""
    wanted = bool((edition.config.get(TABLE) or {}).get("same_basin", False))
    if wanted and not (edition.has_input(territory.BASINS) and edition.has_input(territory.SCHOOLS)):
        raise ConfigError("applications.same_basin demande la table des bassins et la liste des établissements",
                          file=f"inputs/{edition.name}/{EDITION_FILE}",
                          hint="Déclarez editions.<édition>.files.basins et .schools dans params.yaml, ou retirez same_basin")
    return wanted


def allow_unplaced(edition: Edition) -> bool:
    """``applications.allow_unplaced`` of edition.yaml: fewer places than pupils, some may stay without one."""
    return bool((edition.config.get(TABLE) or {}).get("allow_unplaced", False))


def stop_mass_rejection(result: ApplicationsResult, rule: dict, file: str) -> None:
    """A mass of choices or of candidatures dropped for one reason stops the stage (:mod:`pipeline.io.rejections`)."""
    hint = ("Vérifiez que l'export est celui du formulaire de cette édition, que la liste de la promotion, la "
            "correspondance (mapping.yaml) et le catalogue des projets retenus sont à jour ; le motif en cause et "
            "son nombre sont donnés ci-dessous")
    dropped = result.rejected[result.rejected["consequence"] == CHOICE_DROPPED]["reason"]
    rejections.check(dropped, len(result.export.choices), rule, what="choix", file=file, hint=hint)
    refused = result.rejected[result.rejected["consequence"] == SUBMISSION_REJECTED]["reason"]
    rejections.check(refused, len(result.submissions), rule, what="candidatures", file=file, hint=hint,
                     feminine=True)


def non_respondent_policy(edition: Edition) -> str:
    """``applications.non_respondents`` of edition.yaml, checked against :data:`POLICIES`."""
    where = f"inputs/{edition.name}/{EDITION_FILE}"
    value = (edition.config.get(TABLE) or {}).get("non_respondents")
    choices = " ; ".join(f"{k} : {v}" for k, v in POLICIES.items())
    if value is None:
        raise ConfigError("Règle d'affectation des non-répondants absente (applications.non_respondents)",
                          file=where, hint=f"Ajoutez « applications: {{non_respondents: any_project}} » ({choices})")
    if value not in POLICIES:
        raise ConfigError(f"Règle d'affectation des non-répondants inconnue « {value} »", file=where,
                          hint=f"Valeurs possibles : {choices}")
    return str(value)


# --- The roster ----------------------------------------------------------------------------------------
def read_roster(edition: Edition) -> tuple[RawTable, pd.DataFrame, pd.DataFrame]:
    """Read and validate the roster through the mapping's ``roster`` section."""
    section, raw = read_mapped(edition, ROSTER, "colonnes de la liste de la promotion")
    roster, rejected = parse_roster(raw, section.get("fields") or {}, edition.tracks,
                                    f"inputs/{edition.name}/{MAPPING_FILE}", schools=territory.read_schools(edition),
                                    date_formats=(section.get("source") or {}).get("date_formats"))
    return raw, roster, rejected


def parse_roster(raw: RawTable, mapping_fields: dict, tracks: dict[str, str], mapping_file: str = MAPPING_FILE,
                 schools: pd.DataFrame | None = None, date_formats: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roster table (one row per learner, identifiers unique) and its rejected rows; a learner's track
    must be one of the edition's ``tracks`` (code → French label, ``vocabularies.tracks``). A field kept only
    when mapped (``when_mapped``: a pupil's school, birth date) is a column only then; with the edition's
    ``schools`` (a pôle de stages), a pupil's school must be one of them and the pupil gets its basin."""
    metas = [m for m in table_fields(ROSTER) if m.name != "source_row" and (not m.when_mapped or m.name in mapping_fields)]
    required = [m.name for m in metas if m.required] + (["school"] if schools is not None else [])
    sources = resolve(raw, mapping_fields, required, mapping_file)
    columns, problems = {}, []
    for meta in metas:
        src = sources.get(meta.name)
        texts = column_values(raw, src) if src else [""] * len(raw.rows)
        if meta.type == "datetime":
            parsed = [parse_datetime(t, date_formats or ["%d/%m/%Y", "%Y-%m-%d"]) for t in texts]
            problems += [(i, src.label, texts[i], reason) for i, (_, reason) in enumerate(parsed) if reason]
            columns[meta.name] = [value for value, _ in parsed]
            continue
        columns[meta.name] = [(parse_choice(t, src.values) if src and src.values else clean_text(t))[0] for t in texts]
    frame = pd.DataFrame(columns, index=range(len(raw.rows)), dtype=object)
    frame["source_row"] = pd.array(raw.row_numbers, dtype="Int64")
    problems += schema_problems(roster_schema(tracks), frame, raw, sources)
    if schools is not None:
        known = set(schools["school"])
        problems += [(i, sources["school"].label, code or "", f"établissement « {code or ''} » absent de la liste des "
                      "établissements de l'édition") for i, code in frame["school"].items() if code not in known]
    problems += [(i, "(ligne entière)", "", reason) for i, reason in raw.row_errors.items()]
    bad = {p[0] for p in problems}
    seen: dict[str, int] = {}
    for i, learner_id in frame["learner_id"].items():
        if i in bad or learner_id is None:
            continue
        key = fold(learner_id)
        if key in seen:
            problems.append((i, sources["learner_id"].label, learner_id,
                             f"identifiant déjà attribué à l'apprenant de la ligne {raw.row_numbers[seen[key]]}"))
        else:
            seen[key] = i
    bad = {p[0] for p in problems}
    rejected = pd.DataFrame([
        {"file": raw.file, "source_row": raw.row_numbers[i], "learner_id": frame.at[i, "learner_id"],
         "learner": _display(frame.at[i, "first_name"], frame.at[i, "last_name"]), "column": column,
         "value": value, "reason": reason, "consequence": ROSTER_ROW_IGNORED}
        for i, column, value, reason in sorted(problems, key=lambda p: (raw.row_numbers[p[0]], p[1]))
    ], columns=REJECTED_COLUMNS)
    roster = frame.drop(index=sorted(bad)).reset_index(drop=True)[[*(m.name for m in metas), "source_row"]]
    roster = roster.astype({m.name: "datetime64[ns]" for m in metas if m.type == "datetime"})
    if schools is not None:
        roster.insert(len(roster.columns) - 1, "basin", roster["school"].map(dict(zip(schools["school"], schools["basin"]))))
    return roster, rejected


# --- Who answered ---------------------------------------------------------------------------------------
def name_key(text: str | None) -> str:
    """A full name for matching: :func:`fold`, hyphens and apostrophes as spaces."""
    return re.sub(r"\s+", " ", re.sub(r"[-'’.]", " ", fold(text or ""))).strip()


class LearnerIndex:
    """Finds the roster learner of a response: identifier, else e-mail, else full name (either order)."""

    def __init__(self, roster: pd.DataFrame):
        self.by: dict[str, dict[str, list[str]]] = {"identifiant": {}, "courriel": {}, "nom": {}}
        for row in roster.itertuples():
            self._add("identifiant", fold(row.learner_id), row.learner_id)
            if row.email:
                self._add("courriel", fold(row.email), row.learner_id)
            for key in {name_key(f"{row.first_name} {row.last_name}"), name_key(f"{row.last_name} {row.first_name}")}:
                self._add("nom", key, row.learner_id)

    def _add(self, kind: str, key: str, learner_id: str) -> None:
        ids = self.by[kind].setdefault(key, [])
        if learner_id not in ids:
            ids.append(learner_id)

    def match(self, response) -> tuple[str | None, str | None, str | None]:
        """``(learner_id, matched by, None)`` or ``(None, None, French reason)``."""
        name = response.full_name or " ".join(p for p in (response.first_name, response.last_name) if p)
        probes = [("identifiant", response.learner_id, fold), ("courriel", response.email, fold), ("nom", name, name_key)]
        for kind, value, key in probes:
            if not value:
                continue
            found = self.by[kind].get(key(value), [])
            if len(found) == 1:
                return found[0], kind, None
            if len(found) > 1:
                return None, None, (f"{'nom' if kind == 'nom' else kind} « {value} » partagé par plusieurs apprenants "
                                    f"de la liste ({', '.join(sorted(found))}) : impossible de savoir qui a répondu ; "
                                    "exportez les réponses avec l'identifiant ou le courriel")
        said = ", ".join(f"{k} « {v} »" for k, v, _ in probes if v) or "aucune identité dans l'export"
        return None, None, f"apprenant absent de la liste de la promotion ({said})"


# --- Which project ---------------------------------------------------------------------------------------
_CODE = re.compile(r"\b[A-Z][A-Z0-9]{3,7}\b")
_LEADING_CODE = re.compile(r"^\s*[A-Z][A-Z0-9]{3,7}\s*[-–—:|]\s*|\s*[-–—:|(]\s*[A-Z][A-Z0-9]{3,7}\)?\s*$")


class ProjectIndex:
    """Finds the retained project a choice label names: its stable code, else its title (:func:`fold`)."""

    def __init__(self, catalogue: pd.DataFrame, known_projects: pd.DataFrame | None = None):
        self.tracks = {row.project_code: set(row.tracks) for row in catalogue.itertuples()}
        self.basins = dict(zip(catalogue["project_code"], catalogue["basin"])) if "basin" in catalogue else {}
        self.basin_names: dict[str, str] = {}  # code → name, for the reasons people read
        self.by_title: dict[str, list[str]] = {}
        for row in catalogue.itertuples():
            self.by_title.setdefault(fold(row.title), []).append(row.project_code)
        self.other_codes: set[str] = set()
        self.other_titles: dict[str, str] = {}
        if known_projects is not None:
            for row in known_projects.itertuples():
                if row.project_code not in self.tracks:
                    self.other_codes.add(row.project_code)
                    self.other_titles.setdefault(fold(row.title), row.project_code)

    def resolve(self, label: str) -> tuple[str | None, str | None]:
        """``(project_code, None)`` or ``(None, French reason)``."""
        codes = list(dict.fromkeys(c for c in _CODE.findall(label) if c in self.tracks))
        if len(codes) > 1:
            return None, f"plusieurs codes de projets retenus dans le libellé ({', '.join(codes)})"
        if codes:
            return codes[0], None
        others = [c for c in _CODE.findall(label) if c in self.other_codes]
        if others:
            return None, f"projet {others[0]} non retenu par la commission"
        for text in dict.fromkeys([label, _LEADING_CODE.sub("", label)]):
            found = self.by_title.get(fold(text), [])
            if len(found) == 1:
                return found[0], None
            if len(found) > 1:
                return None, (f"titre commun à plusieurs projets retenus ({', '.join(found)}) : "
                              "ajoutez le code du projet aux libellés des choix dans Moodle")
            if fold(text) in self.other_titles:
                return None, f"projet {self.other_titles[fold(text)]} non retenu par la commission"
        return None, "projet inconnu : ni code ni titre d'un projet retenu"


# --- Validation --------------------------------------------------------------------------------------------
CATALOGUE_COLUMNS = ["project_code", "title", "tracks", "team_min", "team_max"]
_DECIDED = {"tracks_open": "tracks", "decided_team_min": "team_min", "decided_team_max": "team_max"}


def as_catalogue(retained: pd.DataFrame) -> pd.DataFrame:
    """The catalogue this stage needs (:data:`CATALOGUE_COLUMNS`, plus ``structure_name`` when known), from a
    frame already in that shape or from the commission's retained projects, whose decided team sizes and
    open tracks (``decided_team_min``, ``decided_team_max``, ``tracks_open``) win over the proposed ones."""
    frame = retained.copy()
    for decided, name in _DECIDED.items():
        if decided in frame.columns:
            frame[name] = frame[decided]
    missing = [c for c in CATALOGUE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"catalogue without column(s) {missing}: expected {CATALOGUE_COLUMNS}")
    keep = CATALOGUE_COLUMNS + [c for c in ("structure_name", "basin") if c in frame.columns]
    frame = frame[keep].reset_index(drop=True)
    frame["tracks"] = [sorted(str(t) for t in tracks) for tracks in frame["tracks"]]
    frame["team_min"] = frame["team_min"].astype("int64")
    frame["team_max"] = frame["team_max"].astype("int64")
    return frame


def validate(export: MoodleExport, roster: pd.DataFrame, catalogue: pd.DataFrame, *, tracks, policy: str = "any_project",
             known_projects: pd.DataFrame | None = None, roster_rejected: pd.DataFrame | None = None,
             basins: bool = False, basin_names: dict[str, str] | None = None) -> ApplicationsResult:
    """Identify, validate and de-duplicate the responses of ``export`` against ``roster`` and ``catalogue``;
    ``tracks`` are the edition's track codes, in its order (the demand table counts choices per track).
    ``basins``: a learner's choice of a project outside their basin is dropped (a pôle de stages), the reason
    naming the basins by ``basin_names`` (code → name) when given."""
    if policy not in POLICIES:
        raise ConfigError(f"Règle d'affectation des non-répondants inconnue « {policy} »",
                          hint="Valeurs possibles : " + ", ".join(POLICIES))
    catalogue = as_catalogue(catalogue)
    learners = LearnerIndex(roster)
    projects = ProjectIndex(catalogue, known_projects)
    projects.basin_names = basin_names or {}
    people = roster.set_index("learner_id")
    file = export.raw.file
    rejected = [] if roster_rejected is None else roster_rejected.to_dict("records")
    choices_of = {k: g for k, g in export.choices.groupby("response", sort=False)}
    problems_of = {k: g for k, g in export.problems.groupby("response", sort=False)}
    submissions, kept_of, choice_problems = [], {}, {}
    for response in export.responses.itertuples(index=False):
        learner_id, matched_by, reason = learners.match(response)
        learner = (_display(people.at[learner_id, "first_name"], people.at[learner_id, "last_name"]) if learner_id
                   else response.full_name or _display(response.first_name, response.last_name))
        for problem in problems_of.get(response.response, export.problems.iloc[:0]).itertuples():
            rejected.append(_rejection(file, response.source_row, learner_id, learner, problem.column, problem.value,
                                       problem.reason, VALUE_IGNORED))
        broken = export.raw.row_errors.get(response.response)
        mine = choices_of.get(response.response)
        if mine is None and not broken:
            continue  # no choice at all: not a candidature (ratingallocate lists every enrolled user)
        row = {"source_row": response.source_row, "learner_id": learner_id, "learner": learner,
               "matched_by": matched_by, "submitted_at": response.submitted_at,
               "choices_read": 0 if mine is None else len(mine), "choices_kept": 0, "status": STATUS_REJECTED,
               "response": response.response}
        submissions.append(row)
        if broken or learner_id is None:  # a broken line's cells cannot be trusted
            column, value = ("(ligne entière)", "") if broken else ("(identité)", _identity_text(response))
            rejected.append(_rejection(file, response.source_row, learner_id, learner, column, value,
                                       f"ligne illisible : {broken}" if broken else reason, SUBMISSION_REJECTED))
            continue
        track = people.at[learner_id, "track"]
        kept, problems = rank_choices(mine, track, projects, export, people.at[learner_id, "basin"] if basins else None)
        choice_problems[response.response] = [_rejection(file, response.source_row, learner_id, learner, *p)
                                              for p in problems]
        row["choices_kept"] = len(kept)
        if kept:
            row["status"] = STATUS_VALID
            kept_of[response.response] = kept
        else:
            rejected.extend(choice_problems[response.response])
            rejected.append(_rejection(file, response.source_row, learner_id, learner, "(candidature)", "",
                                       "aucun choix valable dans cette candidature", SUBMISSION_REJECTED))
    subs = pd.DataFrame(submissions, columns=SUBMISSION_COLUMNS + ["response"])
    superseded, notes = _latest_wins(subs)
    for i in subs.index[subs["status"] == STATUS_VALID]:
        rejected.extend(choice_problems[subs.at[i, "response"]])
    preferences = _preferences(subs, kept_of, people)
    rejected_frame = pd.DataFrame(rejected, columns=REJECTED_COLUMNS)
    rejected_frame = rejected_frame.sort_values(["file", "source_row"], kind="stable").reset_index(drop=True)
    result = ApplicationsResult(
        export=export, roster=roster, preferences=preferences,
        submissions=subs.drop(columns="response").reset_index(drop=True), rejected=rejected_frame,
        superseded=superseded, non_respondents=_non_respondents(roster, subs), demand=demand(preferences, catalogue, tracks),
        conflicts=_conflicts(preferences, roster, catalogue), policy=policy, notes=export.notes + notes,
        tracks=tuple(tracks))
    return result


def rank_choices(choices: pd.DataFrame, track: str, projects: ProjectIndex, export: MoodleExport,
                 basin: str | None = None):
    """The kept project codes of one response in order, and ``(column, value, reason, consequence)`` for each
    choice dropped and each empty rank closed up; with the learner's ``basin``, a project of another basin is
    dropped."""
    problems, kept, seen = [], [], {}
    counts = choices["rank"].value_counts()
    filled = set(choices["rank"])
    for rank in range(1, max(filled)):
        if rank not in filled:
            problems.append((export.rank_column(rank), "",
                             f"rang {rank} laissé vide : les choix suivants remontent d'un rang", RANK_CLOSED))
    for choice in choices.sort_values(["rank", "column"], kind="stable").itertuples():
        if counts[choice.rank] > 1:
            reason = f"plusieurs projets classés au rang {choice.rank} : ordre de préférence indéterminé"
        else:
            code, reason = projects.resolve(choice.choice)
            if code in seen:
                reason = f"projet {code} déjà classé au rang {seen[code]}"
            elif code and track not in projects.tracks[code]:
                opened = ", ".join(sorted(projects.tracks[code])) or "aucune"
                reason = f"projet {code} non ouvert à la filière {track} (filières ouvertes : {opened})"
            elif code and basin and projects.basins.get(code, basin) != basin:
                named = projects.basin_names
                reason = (f"offre {code} ({named.get(projects.basins[code]) or 'bassin ' + projects.basins[code]}), "
                          f"hors du bassin de l'élève ({named.get(basin) or 'bassin ' + basin}) : "
                          "un élève reste dans le bassin de son établissement (applications.same_basin)")
        if reason:
            problems.append((choice.column, choice.value, reason, CHOICE_DROPPED))
            continue
        seen[code] = choice.rank
        kept.append(code)
    return kept, problems


def _latest_wins(subs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Of a learner's valid candidatures the latest (by date, then by file row) is kept; the others are
    superseded. A rejected candidature never replaces a valid one: the notes say when one came later."""
    rows, notes = [], []
    valid = subs[subs["status"] == STATUS_VALID].sort_values(["submitted_at", "source_row"], kind="stable",
                                                                na_position="first")
    for learner_id, group in valid.groupby("learner_id", sort=True):
        winner = group.iloc[-1]
        undated = group["submitted_at"].isna().any()
        for i, loser in group.iloc[:-1].iterrows():
            subs.at[i, "status"] = STATUS_SUPERSEDED
            when = "" if pd.isna(winner.submitted_at) else f" du {fr.moment(winner.submitted_at, with_time=True)}"
            rows.append({"source_row": loser.source_row, "learner_id": learner_id, "learner": loser.learner,
                         "submitted_at": loser.submitted_at, "replaced_by_row": winner.source_row,
                         "reason": f"remplacée par la candidature plus récente de la ligne {winner.source_row}{when}"
                                   + (" (sans date dans l'export : ordre du fichier)" if undated else "")})
        late = subs[(subs["learner_id"] == learner_id) & (subs["status"] == STATUS_REJECTED)]
        for loser in late.itertuples():
            if pd.isna(loser.submitted_at) or pd.isna(winner.submitted_at) or loser.submitted_at >= winner.submitted_at:
                notes.append(f"La candidature rejetée de la ligne {loser.source_row} ({loser.learner}) n'a pas remplacé "
                             f"la candidature valable de la ligne {winner.source_row}.")
    frame = pd.DataFrame(rows, columns=SUPERSEDED_COLUMNS).sort_values("source_row", kind="stable").reset_index(drop=True)
    return frame, notes


def _preferences(subs: pd.DataFrame, kept_of: dict, people: pd.DataFrame) -> pd.DataFrame:
    rows = [{"learner_id": s.learner_id, "track": people.at[s.learner_id, "track"], "rank": rank,
             "project_code": code, "source_row": s.source_row}
            for s in subs[subs["status"] == STATUS_VALID].itertuples()
            for rank, code in enumerate(kept_of[s.response], start=1)]
    columns = [m.name for m in table_fields(TABLE)]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.sort_values(["learner_id", "rank"], kind="stable").reset_index(drop=True)
    frame = frame.astype({"learner_id": "str", "track": "str", "project_code": "str", "rank": "Int64", "source_row": "Int64"})
    return preferences_schema().validate(frame)


def _non_respondents(roster: pd.DataFrame, subs: pd.DataFrame) -> pd.DataFrame:
    answered = set(subs.loc[subs["status"] == STATUS_VALID, "learner_id"])
    rows = []
    for learner in roster.itertuples():
        if learner.learner_id in answered:
            continue
        theirs = subs[subs["learner_id"] == learner.learner_id]["source_row"].tolist()
        reason = (f"{fr.agree(len(theirs), 'candidature rejetée', 'candidatures rejetées')} : "
                  f"{fr.agree(len(theirs), 'ligne')} {', '.join(map(str, theirs))} (motifs dans les rejets)" if theirs
                  else "aucune candidature dans l'export Moodle")
        rows.append({"learner_id": learner.learner_id, "last_name": learner.last_name, "first_name": learner.first_name,
                     "email": learner.email, "track": learner.track, "reason": reason})
    return pd.DataFrame(rows, columns=NON_RESPONDENT_COLUMNS)


def demand(preferences: pd.DataFrame, catalogue: pd.DataFrame, tracks) -> pd.DataFrame:
    """Per retained project (catalogue order): first choices, top-3 and all-rank applicants, by track (the
    edition's ``tracks``), and whether the applicants fall short of the team minimum."""
    out = as_catalogue(catalogue)[["project_code", "title", "tracks", "team_min", "team_max"]].copy().reset_index(drop=True)

    def count(mask: pd.Series) -> list[int]:
        counts = preferences.loc[mask, "project_code"].value_counts()
        return [int(counts.get(code, 0)) for code in out["project_code"]]

    first, top3 = preferences["rank"] == 1, preferences["rank"] <= 3
    for name, mask in (("first_choices", first), ("top3", top3)):
        out[name] = count(mask)
        for track in tracks:
            out[f"{name}_{track}"] = count(mask & (preferences["track"] == track))
    out["applicants"] = count(preferences["rank"] >= 1)
    out["under_minimum"] = out["applicants"] < out["team_min"]
    return out


def _conflicts(preferences: pd.DataFrame, roster: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Choices of a project carried by the structure that employs the learner (for the commission)."""
    if "structure_name" not in catalogue.columns:
        return pd.DataFrame(columns=CONFLICT_COLUMNS)
    structure = {row.project_code: row.structure_name for row in catalogue.itertuples()}
    people = roster.set_index("learner_id")
    rows = []
    for p in preferences.itertuples():
        employer = people.at[p.learner_id, "employer"]
        if employer and fold(employer) == fold(structure.get(p.project_code) or ""):
            rows.append({"learner_id": p.learner_id, "employer": employer, "project_code": p.project_code,
                         "rank": int(p.rank),
                         "learner": _display(people.at[p.learner_id, "first_name"], people.at[p.learner_id, "last_name"]),
                         "reason": "l'apprenant est employé par la structure qui porte ce projet : "
                                   "la commission peut interdire cette affectation"})
    return pd.DataFrame(rows, columns=CONFLICT_COLUMNS)


def solver_input(preferences: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, str]]:
    """``({learner_id: [project_code by rank]}, {learner_id: track})`` for the assignment stage."""
    ordered = preferences.sort_values(["learner_id", "rank"], kind="stable")
    ranking = {str(k): [str(c) for c in g["project_code"]] for k, g in ordered.groupby("learner_id", sort=True)}
    tracks = {str(k): str(g["track"].iloc[0]) for k, g in ordered.groupby("learner_id", sort=True)}
    return ranking, tracks


def _rejection(file, source_row, learner_id, learner, column, value, reason, consequence) -> dict:
    return {"file": file, "source_row": int(source_row), "learner_id": learner_id, "learner": learner or None,
            "column": column, "value": value, "reason": reason, "consequence": consequence}


def _display(first, last) -> str | None:
    return " ".join(str(p) for p in (first, last) if isinstance(p, str) and p) or None


def _identity_text(response) -> str:
    parts = [response.learner_id, response.email,
             response.full_name or _display(response.first_name, response.last_name)]
    return " / ".join(p for p in parts if isinstance(p, str) and p)

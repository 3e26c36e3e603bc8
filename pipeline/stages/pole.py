"""A pôle de stages (seeds 002–003): several schools of one territory share one bank of offers, by basin.

What the stages do differently for a pôle, in one place:

* **conventions** (stage 60): each school signs for its own pupils, so an offer hosting pupils of two schools
  has one convention per school (``<code>-<UAI>``), signed by that school's head (the edition's list of
  schools); a pupil under the age of majority (``conventions.age_of_majority``, params.yaml's by default) on the first day
  of the convention has their legal representative sign too;
* **pupils without a placement** (stage 50): when the edition allows it (``applications.allow_unplaced``) there
  may be fewer places than pupils; each unplaced pupil is listed for their school with why (which of their
  wishes were full, or closed) and the offers of their basin that still have room;
* **each school's workbook** (stage 50): its own pupils only, placed and unplaced, never another school's;
* **offers per pupil** (stage 80): the places offered in a basin ÷ the pupils of that basin, per basin, per
  school and per track, and overall (the national indicator of the circular).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..contract.config import Edition
from ..contract.errors import ConfigError
from ..io import fr
from schemas.fields import labels

from ..io import territory
from ..io.territory import read_schools


# --- schools ---------------------------------------------------------------------------------------------
def directory(edition: Edition) -> dict[str, dict]:
    """``{school code: its row of the edition's list}`` (empty when the edition has no list of schools)."""
    schools = read_schools(edition)
    return {} if schools is None else {str(r["school"]): r for r in schools.to_dict("records")}


def is_pole(table: pd.DataFrame) -> bool:
    """Whether a table of learners carries their school (the roster of a pôle de stages maps it)."""
    return "school" in table.columns


# --- conventions -------------------------------------------------------------------------------------------
def per_school(conventions: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    """One convention per offer (and site) and school of its pupils: ``convention_id`` ``<id>-<school>``."""
    if not is_pole(assignment):
        return conventions
    schools = {code: sorted(set(group["school"])) for code, group in assignment.groupby("project_code")}
    rows = [{**record, "school": school, "convention_id": f"{record['convention_id']}-{school}"}
            for record in conventions.to_dict("records") for school in schools.get(record["project_code"], [])]
    return pd.DataFrame(rows, columns=[*conventions.columns, "school"])


def age_of_majority(edition: Edition) -> int:
    """``conventions.age_of_majority`` of edition.yaml, else of params.yaml, checked against params.yaml's
    ``conventions.plausible_ages``."""
    defaults = edition.params.data.get("conventions") or {}
    value = (edition.config.get("conventions") or {}).get("age_of_majority", defaults.get("age_of_majority"))
    low, high = defaults.get("plausible_ages") or (0, 200)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"Âge de la majorité « {value} » invalide (conventions.age_of_majority)",
                          file=f"inputs/{edition.name}/edition.yaml",
                          hint=f"Indiquez un nombre entier d'années entre {low} et {high}, "
                               f"{defaults.get('age_of_majority')} en France")
    return value


def is_minor(birth, first_day: date, majority: int) -> bool:
    """Whether a person born on ``birth`` is under ``majority`` years old on ``first_day`` (unknown: no)."""
    if birth is None or pd.isna(birth):
        return False
    born = pd.Timestamp(birth).date()
    try:
        adult = born.replace(year=born.year + majority)
    except ValueError:  # born on 29 February
        adult = date(born.year + majority, 3, 1)
    return first_day < adult


def signing_school(project: dict, schools: dict[str, dict], default: dict) -> dict:
    """The school that signs a convention: the pupils' own school in a pôle, else the edition's ``school:``."""
    code = project.get("school")
    if not code or code not in schools:
        return {"name": default.get("name"), "address": default.get("address"), "email": default.get("email"),
                "signatory": default.get("signatory"), "signatory_title": default.get("signatory_title")}
    row = schools[code]
    address = ", ".join(str(p) for p in (row.get("address"), f"{row.get('postcode') or ''} {row.get('city') or ''}".strip()) if p)
    return {"name": row["school_name"], "address": address, "email": default.get("email"),
            "signatory": row.get("signatory"), "signatory_title": row.get("signatory_title")}


def guardians_needed(template_text: str, minors: int, template_name: str) -> None:
    """A minor's convention must carry the legal representative's signature: a template without the
    ``guardians`` field cannot be used when a convention has minors."""
    if minors and "guardians" not in template_text:
        raise ConfigError(f"{fr.count(minors, 'élève mineur')} à la date de début de sa convention, mais le modèle "
                          f"de convention ne prévoit pas la signature du représentant légal (champ « guardians »)",
                          file=template_name, hint="Utilisez un modèle qui a la ligne de signature du représentant légal "
                          "(voir inputs/demo-pole/convention_pole.docx, conventions.template)")


def territory_names(edition: Edition) -> dict[str, dict[str, str]]:
    """``{"school": {UAI: name}, "basin": {code: name}}`` from the edition's list of schools and basin table, so
    that pages and workbooks name them; empty for an edition without them."""
    names: dict[str, dict[str, str]] = {}
    basins = territory.read_basins(edition)
    if basins is not None:
        names["basin"] = basins.names
    schools = territory.read_schools(edition, basins)
    if schools is not None:
        names["school"] = dict(zip(schools["school"], schools["school_name"]))
    return names


def named(frame: pd.DataFrame, names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """``frame`` with its ``school`` and ``basin`` codes replaced by their names where the edition gives one (the
    codes stay in the data: file names, history, filters)."""
    columns = [c for c in names if c in frame.columns]
    if not columns:
        return frame
    return frame.assign(**{c: frame[c].map(lambda v, c=c: names[c].get(v, v) if isinstance(v, str) else v)
                           for c in columns})


# --- pupils without a placement ----------------------------------------------------------------------------
UNPLACED_COLUMNS = ["learner_id", "last_name", "first_name", "school", "basin", "track", "unplaced_reason",
                    "open_offers"]
UNPLACED_LABELS = labels(UNPLACED_COLUMNS)  # schemas/fields.yaml


def unplaced(instance, solution, roster: pd.DataFrame, retained: pd.DataFrame) -> pd.DataFrame:
    """One row per learner the assignment left without a project: which of their wishes were full (or closed)
    and the offers of their basin that still have room (to support their school's own search)."""
    placed = pd.Series(solution.assignment).value_counts() if solution.assignment else pd.Series(dtype=int)
    sizes = {p.id: p for p in instance.projects}
    people = roster.set_index("learner_id")
    titles = dict(zip(retained["project_code"], retained["title"]))
    basins = dict(zip(retained["project_code"], retained["basin"])) if "basin" in retained else {}
    rows = []
    for learner in instance.learners:
        if learner.id in solution.assignment:
            continue
        wishes = []
        for rank, code in enumerate(learner.preferences, start=1):
            taken, room = int(placed.get(code, 0)), sizes[code].max_size
            state = ("fermée (pas assez d'élèves pour son minimum)" if code not in solution.opened and taken == 0
                     else f"complète ({fr.count(taken, 'place prise', 'places prises')} sur {fr.integer(room)})")
            wishes.append(f"{code} ({'1er' if rank == 1 else f'{rank}e'} vœu) {state}")
        reason = ("ses vœux étaient tous complets : " + " ; ".join(wishes) if wishes
                  else "aucun vœu valable : pas de candidature, ou des vœux écartés (voir l'étape Candidatures)")
        own = people.loc[learner.id].get("basin") if "basin" in people.columns else None
        room = [f"{p.id} – {titles.get(p.id, '')} ({fr.count(p.max_size - int(placed.get(p.id, 0)), 'place')}, "
                f"{', '.join(sorted(p.tracks))})" for p in instance.projects
                if p.max_size > int(placed.get(p.id, 0)) and (own is None or basins.get(p.id) == own)]
        rows.append({"learner_id": learner.id, "last_name": people.loc[learner.id, "last_name"],
                     "first_name": people.loc[learner.id, "first_name"],
                     "school": people.loc[learner.id].get("school"), "basin": own, "track": learner.track,
                     "unplaced_reason": reason, "open_offers": "\n".join(room) or "aucune offre du bassin n'a encore de place"})
    return pd.DataFrame(rows, columns=UNPLACED_COLUMNS)


def placement_counts(table: pd.DataFrame, missing: pd.DataFrame) -> dict:
    """Stage 50's metrics of a pôle: placed and unplaced pupils per basin and per school."""
    out = {}
    for key in ("basin", "school"):
        if key not in table.columns:
            continue
        values = sorted({*table[key].dropna(), *missing[key].dropna()})
        out[f"placed_by_{key}"] = {str(v): int((table[key] == v).sum()) for v in values}
        out[f"unplaced_by_{key}"] = {str(v): int((missing[key] == v).sum()) for v in values}
    return out


# --- offers per pupil (the circular's indicator) -----------------------------------------------------------
DENOMINATORS = {"all": "places offertes ÷ tous les apprenants (un apprenant peut aller partout)",
                "basin": "places offertes dans un bassin ÷ élèves de ce bassin (un élève reste dans son bassin)"}


def denominator(edition: Edition) -> str:
    """``applications.offers_per_learner`` of edition.yaml: ``all`` (default) or ``basin``."""
    value = (edition.config.get("applications") or {}).get("offers_per_learner", "all")
    if value not in DENOMINATORS:
        raise ConfigError(f"applications.offers_per_learner « {value} » inconnu", file=f"inputs/{edition.name}/edition.yaml",
                          hint="Valeurs possibles : " + " ; ".join(f"{k} : {v}" for k, v in DENOMINATORS.items()))
    return str(value)


def offers_per_pupil(retained: pd.DataFrame, roster: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Places offered (decided maximum team sizes) per pupil: per basin (the basin's places ÷ its pupils), per
    school and per track (the places of the pupils' basin open to them ÷ those pupils), and overall."""
    places = retained[["project_code", "basin", "decided_team_max", "tracks_open"]]

    def ratio(pupils: pd.DataFrame) -> float:
        if pupils.empty:
            return 0.0
        basins, tracks = set(pupils["basin"]), set(pupils["track"])
        open_to = pd.Series([bool(tracks & set(t)) for t in places["tracks_open"]], index=places.index)
        mask = places["basin"].isin(basins) & open_to
        return round(float(places.loc[mask, "decided_team_max"].sum()) / len(pupils), 2)

    return {
        "overall": {"ensemble": round(float(places["decided_team_max"].sum()) / max(1, len(roster)), 2)},
        "by_basin": {str(b): round(float(places.loc[places["basin"] == b, "decided_team_max"].sum()) / len(g), 2)
                     for b, g in roster.groupby("basin", sort=True)},
        "by_school": {str(s): ratio(g) for s, g in roster.groupby("school", sort=True)},
        "by_track": {str(t): ratio(g) for t, g in roster.groupby("track", sort=True)},
    }

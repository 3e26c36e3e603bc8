"""Synthetic cohort of the demo edition: the school's roster and the learners' ranked preferences,
exported from a Moodle Feedback activity (one dropdown per rank), with the messy cases real campaigns have.

Everything is drawn from one seeded generator: the same catalogue and seed give the same bytes. Names are
common French first and last names combined at random (no real person); e-mails use the reserved
``.example`` domain.

:func:`demo_catalogue` is a **stand-in for the commission stage** (stage 30, not built yet): it retains
the first demo projects of stage 10 that pass the call's obvious rules and widens their teams so that the
cohort fits. Replace it by the commission's catalogue once that stage exists.
"""

from __future__ import annotations

import csv
import math
import random
import unicodedata
from collections import Counter
from datetime import datetime, timedelta

import pandas as pd

from . import moodle_formats
from .formats import _csv_bytes

DEMO_SEED = 2025
RANKS = 5
ROSTER_FILE = "promotion.csv"
PREFERENCES_FILE = "candidatures_moodle.csv"
ROSTER_HEADER = ["Nom", "Prénom", "Identifiant", "Courriel", "Filière", "Structure employeuse"]
TRACK_LABELS = {"ES": "Éducateur spécialisé", "EJE": "Éducateur de jeunes enfants"}

# The ``roster`` and ``applications`` sections of the demo edition's mapping.yaml.
ROSTER_MAPPING = {
    "source": {"header_rows": 1, "delimiter": "auto"},
    "fields": {
        "last_name": "Nom",
        "first_name": "Prénom",
        "learner_id": "Identifiant",
        "email": "Courriel",
        "track": {"column": "Filière", "values": {"ES": "ES", "EJE": "EJE", **{v: k for k, v in TRACK_LABELS.items()}}},
        "employer": "Structure employeuse",
    },
}
APPLICATIONS_MAPPING = {"source": {"format": "auto", "delimiter": "auto"}, "fields": {}}

FIRST = ["Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Jade", "Louise", "Clara", "Lucie", "Anaïs",
         "Mathilde", "Pauline", "Justine", "Océane", "Margaux", "Élise", "Noémie", "Laura", "Marie-Claire", "Héloïse",
         "Aïcha", "Fatoumata", "Yasmine", "Salomé", "Romane", "Zoé", "Maëlys", "Solène", "Thomas", "Lucas", "Hugo",
         "Théo", "Nathan", "Maxime", "Antoine", "Quentin", "Romain", "Julien", "Kévin", "Mehdi", "Yanis", "Baptiste",
         "Jean-Baptiste", "Gaël", "Loïc", "Adrien", "Florian", "Clément"]
LAST = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
        "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
        "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Faure", "André", "Mercier", "Blanc",
        "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin",
        "Clément", "Morin", "Henry", "Roussel", "Mathieu", "Masson", "Marchand", "Duval", "Denis", "Dumont",
        "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière",
        "Le Gall", "Da Silva", "N’Diaye", "Benali", "Nguyen", "Lacroix", "Barbier", "Arnaud", "Picard", "Renaud"]
OTHER_EMPLOYERS = ["IME Les Sources", "MECS La Clairière", "Crèche municipale Les Pitchouns",
                   "Foyer d'hébergement Le Phare", "Service d'AEMO du Limousin", "Halte-garderie Les Petits Loups"]
# Free comments, some starting with a character Moodle guards with a ' (and a lone '-', which it does not).
COMMENTS = ["", "", "", "", "", "Très motivée par le travail avec les familles",
            "J'aimerais travailler l'expression & la créativité", "- disponible tous les jours\n- véhiculée", "=)",
            "+ intéressé par la médiation culturelle", "@ voir avec ma tutrice", "-", "Pas d'autre souhait"]
UNKNOWN_CHOICE = "Atelier cirque et jonglage avec des adolescents"
DEADLINE = datetime(2025, 7, 15, 23, 59)
EXPECTED = {"ES": 165, "EJE": 85}  # the demo edition's commission.expected_learners
ALLOWED_TYPES = {"essms", "eaje", "collectivite", "entreprise_sociale", "organisation_solidaire"}
DEPARTEMENTS = {"87", "23", "19"}


# --- Stand-in for the commission's catalogue ---------------------------------------------------------
def demo_catalogue(projects: pd.DataFrame | None = None, *, count: int = 25,
                   cohort: int = sum(EXPECTED.values())) -> pd.DataFrame:
    """``count`` retained projects (``project_code``, ``title``, ``tracks``, ``team_min``, ``team_max``,
    ``structure_name``): stage 10's demo projects that pass the call's obvious rules, in submission order,
    teams widened evenly until they can hold 110 % of the cohort. A stand-in until stage 30 exists."""
    if projects is None:
        from ..contract.config import Edition
        from ..stages.projects import ingest
        projects = ingest(Edition.load("demo")).projects
    ok = projects[
        projects["departement"].isin(DEPARTEMENTS)
        & projects["structure_type"].isin(ALLOWED_TYPES)
        & (projects["hours"].fillna(999) <= 105)
        & projects["referent_available"].fillna(False).astype(bool)
        & projects["referent_name"].notna()
        & (projects["team_min"].fillna(99) <= projects["team_max"].fillna(0))
        & projects["competences"].map(len).gt(0)
        & (projects["submitted_at"] <= DEADLINE)
    ].sort_values("source_row").head(count)
    catalogue = pd.DataFrame({
        "project_code": ok["project_code"].astype(str).tolist(),
        "title": ok["title"].astype(str).tolist(),
        "tracks": [sorted(t) for t in ok["tracks"]],
        "team_min": ok["team_min"].astype(int).tolist(),
        "team_max": ok["team_max"].astype(int).tolist(),
        "structure_name": ok["structure_name"].astype(str).tolist(),
    })
    extra = max(0, math.ceil((1.1 * cohort - catalogue["team_max"].sum()) / max(len(catalogue), 1)))
    catalogue["team_max"] = catalogue["team_max"] + extra
    return catalogue


# --- The roster --------------------------------------------------------------------------------------
def _handle(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return "".join(c for c in text.replace(" ", "-") if c.isalnum() or c == "-")


def roster_records(catalogue: pd.DataFrame, seed: int = DEMO_SEED, tracks: dict[str, int] | None = None) -> list[dict]:
    """The cohort (``tracks``: learners per track, default the demo's expected 165 ES and 85 EJE), sorted by
    name as a school export lists them; two are homonyms; a few are employed by a structure carrying a
    retained project, a few elsewhere."""
    tracks = tracks or EXPECTED
    count = sum(tracks.values())
    rng = random.Random(seed)
    names: list[tuple[str, str]] = []
    while len(names) < count - 1:
        pair = (rng.choice(FIRST), rng.choice(LAST))
        if pair not in names:
            names.append(pair)
    names.append(names[rng.randrange(len(names))])  # homonyms: only the identifier tells them apart
    track_of = [track for track, n in sorted(tracks.items()) for _ in range(n)]
    rng.shuffle(track_of)
    partners = sorted(set(catalogue["structure_name"])) if "structure_name" in catalogue else []
    learners, used = [], {}
    for (first, last), track in zip(names, track_of):
        handle = f"{_handle(first)}.{_handle(last)}"
        used[handle] = used.get(handle, 0) + 1
        email = f"{handle}{used[handle] if used[handle] > 1 else ''}@apprenants.ifsl.example"
        roll = rng.random()
        employer = (rng.choice(partners) if partners and roll < 0.03 else
                    rng.choice(OTHER_EMPLOYERS) if roll < 0.10 else "")
        learners.append({"first_name": first, "last_name": last, "email": email, "track": track, "employer": employer})
    learners.sort(key=lambda r: (_handle(r["last_name"]), _handle(r["first_name"]), r["email"]))
    for n, learner in enumerate(learners, start=1):
        learner["idnumber"] = f"A25{n:04d}"
        learner["username"] = learner["email"].split("@")[0]
    return learners


def roster_export(learners: list[dict]) -> bytes:
    """The school's roster: French headers, ``;``, UTF-8 with BOM, CRLF."""
    rows = [[r["last_name"], r["first_name"], r["idnumber"], r["email"], TRACK_LABELS.get(r["track"], r["track"]),
             r["employer"]] for r in learners]
    return _csv_bytes(ROSTER_HEADER, rows, delimiter=";", quoting=csv.QUOTE_MINIMAL, line_end="\r\n",
                      encoding="utf-8", bom=True)


# --- The preferences ---------------------------------------------------------------------------------
def choice_label(project) -> str:
    """A dropdown option of the Feedback: « CODE – Titre »."""
    return f"{project.project_code} – {project.title}"


def preference_records(learners: list[dict], catalogue: pd.DataFrame, seed: int = DEMO_SEED,
                       non_retained: list[str] | None = None) -> tuple[list[dict], dict[str, list[str]]]:
    """The Feedback responses, in export order, and ``cases``: which learners carry each messy case
    (``non_respondents``, ``outsiders``, ``twice``, ``repeated``, ``wrong_track``, ``unknown``,
    ``non_retained``, ``gap``, ``by_email``, ``by_name``, ``conflict``, ``deserted`` (project codes))."""
    rng = random.Random(seed + 1)
    projects = list(catalogue.itertuples(index=False))
    labels = {p.project_code: choice_label(p) for p in projects}
    order = projects[:]
    rng.shuffle(order)
    weight = {p.project_code: 1 / (k + 1) ** 0.9 for k, p in enumerate(order)}
    both = [p for p in projects if set(p.tracks) >= {"ES", "EJE"}]
    deserted = max(both, key=lambda p: (p.team_min, p.project_code)).project_code
    weight[deserted] = 0.0

    def ranking(track: str, size: int) -> list[str]:
        pool = [p.project_code for p in projects if track in p.tracks and weight[p.project_code] > 0]
        picked = []
        while len(picked) < size and pool:
            code = rng.choices(pool, weights=[weight[c] for c in pool])[0]
            pool.remove(code)
            picked.append(code)
        return picked

    start = datetime(2025, 10, 17, 13, 30)
    silent = set(rng.sample(range(len(learners)), round(0.02 * len(learners))))
    responses, cases = [], {k: [] for k in ("non_respondents", "outsiders", "twice", "repeated", "wrong_track",
                                               "unknown", "non_retained", "gap", "by_email", "by_name", "conflict")}
    cases["deserted"] = [deserted]
    for n, learner in enumerate(learners):
        if n in silent:
            cases["non_respondents"].append(learner["idnumber"])
            continue
        size = RANKS if rng.random() < 0.85 else rng.choice([3, 4])
        codes = ranking(learner["track"], size)
        responses.append(dict(learner, ranking=[labels[c] for c in codes], comment=rng.choice(COMMENTS),
                              submitted_at=start + timedelta(minutes=rng.randint(0, 14 * 24 * 60))))
    answered = list(responses)
    es_only = [p.project_code for p in projects if list(p.tracks) == ["ES"]]
    eje = [r for r in answered if r["track"] == "EJE"]
    homonyms = Counter((r["first_name"], r["last_name"]) for r in learners)
    a = rng.sample([r for r in answered if homonyms[r["first_name"], r["last_name"]] == 1], 12)
    # Messy cases, each on distinct learners (never a homonym: one of them is recognised by name).
    a[0]["ranking"][2] = a[0]["ranking"][0]; cases["repeated"].append(a[0]["idnumber"])
    a[1]["ranking"][min(3, len(a[1]["ranking"]) - 1)] = UNKNOWN_CHOICE; cases["unknown"].append(a[1]["idnumber"])
    a[2]["ranking"][1] = None; cases["gap"].append(a[2]["idnumber"])
    a[3]["idnumber"] = ""; cases["by_email"].append(_id_of(learners, a[3]))
    a[4]["idnumber"], a[4]["email"] = "", a[4]["email"].replace("@apprenants.", "@perso.")
    cases["by_name"].append(_id_of(learners, a[4]))
    if non_retained:
        a[5]["ranking"][1] = non_retained[0]; cases["non_retained"].append(a[5]["idnumber"])
    a[6]["ranking"][2] = labels[deserted]; a[7]["ranking"][2] = labels[deserted]
    wrong = next(r for r in eje if all(r is not x for x in a))
    wrong["ranking"][1] = labels[es_only[0]]; cases["wrong_track"].append(wrong["idnumber"])
    carried = {p.structure_name: p for p in projects} if "structure_name" in catalogue else {}
    for r in answered:  # a learner ranks first the project of the structure that employs them
        own = carried.get(r["employer"])
        if own and r["track"] in own.tracks and labels[own.project_code] not in r["ranking"] \
                and all(r is not x for x in a + [wrong]):
            r["ranking"][0] = labels[own.project_code]
            cases["conflict"].append(r["idnumber"])
            break
    for r in a[8:11]:  # submitted twice: an earlier ranking, then the one that counts
        earlier = dict(r, ranking=list(reversed(r["ranking"])), comment="",
                       submitted_at=r["submitted_at"] - timedelta(days=rng.randint(1, 3), minutes=rng.randint(1, 600)))
        responses.append(earlier)
        cases["twice"].append(r["idnumber"])
    for k, name in enumerate([("Ambre", "Vasseur"), ("Tristan", "Leclerc")]):
        outsider = {"first_name": name[0], "last_name": name[1], "idnumber": f"A24{k + 9001:04d}",
                    "email": f"{_handle(name[0])}.{_handle(name[1])}@apprenants.ifsl.example", "track": "ES",
                    "ranking": [labels[c] for c in ranking("ES", RANKS)], "comment": "Inscrite en 2ème année",
                    "submitted_at": start + timedelta(days=k + 2, hours=3)}
        responses.append(outsider)
        cases["outsiders"].append(outsider["idnumber"])
    # Moodle lists the responses by name; the second copy of a double submission comes first for one of them.
    responses.sort(key=lambda r: (_handle(r["last_name"]), _handle(r["first_name"]), r["email"], r["submitted_at"]))
    twice = cases["twice"][0]
    idx = [i for i, r in enumerate(responses) if r["idnumber"] == twice]
    responses[idx[0]], responses[idx[1]] = responses[idx[1]], responses[idx[0]]
    return responses, cases


def _id_of(learners: list[dict], response: dict) -> str:
    return next(l["idnumber"] for l in learners
                if (l["first_name"], l["last_name"], l["username"]) == (response["first_name"], response["last_name"],
                                                                        response["username"]))


def demo_cohort(catalogue: pd.DataFrame, seed: int = DEMO_SEED, non_retained: list[str] | None = None):
    """``(roster records, Feedback responses, cases)`` of the demo edition."""
    learners = roster_records(catalogue, seed)
    responses, cases = preference_records(learners, catalogue, seed, non_retained)
    return learners, responses, cases


def demo_files(catalogue: pd.DataFrame, seed: int = DEMO_SEED, non_retained: list[str] | None = None) -> dict[str, bytes]:
    """``{file name in inputs/demo/: bytes}``: the roster and the Moodle Feedback export.
    ``non_retained``: choice labels of projects the commission did not retain (one learner picks one)."""
    learners, responses, _ = demo_cohort(catalogue, seed, non_retained)
    return {ROSTER_FILE: roster_export(learners),
            PREFERENCES_FILE: moodle_formats.feedback_export(responses, RANKS)}

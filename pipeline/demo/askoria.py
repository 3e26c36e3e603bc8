"""The ``demo-askoria`` edition's generated inputs (seed 001, ASKORIA's alternance protocol), seeded.

Another campaign shape than the demo's stages collectifs, made only of data: offers of one learner on two
sites qualifiants around one theme (« stage pluri-institutionnel », EJE and ES), a site's commission answered
by a mixed ES/ASS team, a six-day (42 h) health-education project with a health team, single-site ES, EJE and
ASS placements of 280–420 h, and offers the call refuses (too short, outside the alternance period, two sites
whose hours do not add up, outside the region). Exports in the real shapes of FORMATS.md: the offers as a
Google Forms CSV, the roster re-saved by Excel (« ; », Windows-1252), the choices from Moodle's « Répartition
équitable » (mod_ratingallocate). Every name is invented; e-mails use the reserved ``.example`` domain.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from ..contract.config import Edition
from ..io import tracks as track_words
from ..stages import applications, assignment, conventions, eligibility, signatures
from . import adjustments, followup, moodle_formats
from .commission import decide, decision_workbook, workspace
from .files import columns, fill_row, opened_workbook, synthetic_key, workbook_bytes, write_files
from .formats import _csv_bytes
from .learners import FIRST, LAST, _handle, choice_label

EDITION = "demo-askoria"
SEED = 2026
RANKS = 4
COMPETENCES = {"DC1": "DC1 Accompagnement social et éducatif", "DC2": "DC2 Conception et conduite de projet",
               "DC3": "DC3 Communication professionnelle", "DC4": "DC4 Partenariats et réseaux"}
TRACKS = {"ES": "Éducateur spécialisé (ES)", "EJE": "Éducateur de jeunes enfants (EJE)",
          "ASS": "Assistant de service social (ASS)"}
TYPES = {"essms": "Établissement ou service social ou médico-social (public ou privé)",
         "eaje": "Établissement d'accueil de jeunes enfants", "collectivite": "Collectivité territoriale",
         "sante": "Établissement ou service de santé publique", "organisation_solidaire": "Organisation solidaire"}
# The Google Form's questions, in its order: canonical key → column label (mapping.yaml maps them back).
QUESTIONS = [
    ("referent_email", "Adresse e-mail"), ("structure_name", "Nom de la structure"),
    ("structure_type", "Type de structure"), ("address", "Adresse du site"), ("postcode", "Code postal"),
    ("city", "Commune"), ("referent_name", "Référent professionnel (nom et prénom)"),
    ("referent_function", "Fonction du référent"), ("referent_phone", "Téléphone du référent"),
    ("referent_available", "Le référent est-il disponible pendant toute la durée du stage ?"),
    ("title", "Intitulé de l'offre"), ("description", "Description de l'offre"), ("public", "Public accompagné"),
    ("competences", "Domaines de compétences visés"), ("tracks", "Formations visées"),
    ("team_min", "Nombre de stagiaires - minimum"), ("team_max", "Nombre de stagiaires - maximum"),
    ("hours", "Durée du stage (heures)"), ("period_start", "Date de début"), ("period_end", "Date de fin"),
    ("theme", "Thématique structurante (stage pluri-institutionnel)"),
    ("site1_hours", "Heures accueillies sur votre site"),
    ("site2_structure_name", "Second site qualifiant : structure"),
    ("site2_address", "Second site qualifiant : adresse"), ("site2_postcode", "Second site qualifiant : code postal"),
    ("site2_city", "Second site qualifiant : commune"), ("site2_referent_name", "Second site qualifiant : référent"),
    ("site2_referent_email", "Second site qualifiant : e-mail du référent"),
    ("site2_hours", "Second site qualifiant : heures accueillies"),
    ("consent", "J'accepte que les données de ce formulaire soient traitées par l'établissement de formation (RGPD)"),
]

# (structure, type, postcode, city, title, tracks, team, hours, period, competences, extra)
OFFERS = [
    ("Multi-accueil Les Goélands", "eaje", "35200", "Rennes",
     "Séparation et parentalité : de la crèche à l'école maternelle", ["EJE"], (1, 2), 280,
     ("2026-01-05", "2026-03-27"), ["DC1", "DC4"],
     {"theme": "La séparation et l'accompagnement à la parentalité (accueil des 2-3 ans à l'école)", "site1_hours": "140",
      "site2": ("École maternelle Jean-Macé", "12 rue Jean-Macé", "35200", "Rennes", "Nolwenn Prigent", "140")}),
    ("Crèche familiale Les Lutins", "eaje", "22000", "Saint-Brieuc",
     "Prévention précoce : crèche familiale et protection maternelle et infantile", ["EJE"], (1, 1), 210,
     ("2026-02-02", "2026-04-03"), ["DC1", "DC2", "DC4"],
     {"theme": "Prévention précoce et soutien à la parentalité", "site1_hours": "140",
      "site2": ("Centre de PMI du Plateau", "3 place du Plateau", "22000", "Saint-Brieuc", "Maëlle Le Goff", "")}),
    ("IME Les Ajoncs", "essms", "29000", "Quimper",
     "Handicap : du parcours de l'enfant à l'insertion professionnelle", ["ES"], (1, 2), 280,
     ("2026-01-12", "2026-04-03"), ["DC1", "DC2", "DC4"],
     {"theme": "Le handicap, de l'institut médico-éducatif au travail protégé", "site1_hours": "",
      "site2": ("ESAT de l'Odet", "Zone de Kerdroniou", "29000", "Quimper", "Tanguy Le Roux", "140")}),
    ("Centre social de Maurepas", "collectivite", "35700", "Rennes",
     "Diagnostic partagé des besoins sociaux du quartier", ["ES", "ASS"], (2, 3), 210,
     ("2026-01-12", "2026-04-10"), ["DC2", "DC3", "DC4"], {}),
    ("Équipe d'éducation à la santé du pays de Vannes", "sante", "56000", "Vannes",
     "Six jours avec une équipe de santé : éducation thérapeutique après un diagnostic santé", ["ES", "EJE", "ASS"],
     (2, 4), 42, ("2026-03-09", "2026-03-14"), ["DC2", "DC3"], {}),
    ("CCAS de Vannes", "collectivite", "56000", "Vannes", "Accès aux droits des personnes âgées isolées", ["ASS"],
     (1, 2), 280, ("2026-01-05", "2026-03-27"), ["DC1", "DC4"], {}),
    ("Service social départemental du pays de Lorient", "collectivite", "56100", "Lorient",
     "Accompagnement social global des familles", ["ASS"], (1, 2), 420, ("2026-01-05", "2026-04-24"),
     ["DC1", "DC2", "DC3"], {}),
    ("MECS Ker Avel", "essms", "29200", "Brest", "Accueil et projet personnalisé d'adolescents confiés", ["ES"],
     (1, 3), 280, ("2026-01-05", "2026-03-27"), ["DC1", "DC3"], {}),
    ("Multi-accueil Les P'tits Mousses", "eaje", "56100", "Lorient", "Éveil culturel des tout-petits", ["EJE"],
     (1, 2), 280, ("2026-02-02", "2026-04-24"), ["DC1", "DC2"], {}),
    ("Foyer de jeunes travailleurs de la Rance", "organisation_solidaire", "35400", "Saint-Malo",
     "Insertion sociale et professionnelle des 16-25 ans", ["ES", "ASS"], (1, 2), 280,
     ("2026-01-05", "2026-03-27"), ["DC1", "DC4"], {}),
    # refused by the call's rules
    ("Maison de quartier du Blosne", "collectivite", "35200", "Rennes", "Journées découverte du quartier",
     ["ES", "ASS"], (1, 2), 21, ("2026-02-09", "2026-02-11"), ["DC4"], {}),
    ("Halte-garderie Les Hirondelles", "eaje", "22100", "Dinan", "Accueil d'été des tout-petits", ["EJE"],
     (1, 2), 140, ("2026-07-06", "2026-08-14"), ["DC1"], {}),
    ("SESSAD Les Genêts d'Armor", "essms", "22300", "Lannion", "Inclusion scolaire : SESSAD et collège",
     ["ES"], (1, 1), 280, ("2026-01-05", "2026-03-27"), ["DC1", "DC4"],
     {"theme": "L'inclusion scolaire des adolescents", "site1_hours": "140",
      "site2": ("Collège Charles-Le-Goffic", "1 rue du Collège", "22300", "Lannion", "Ronan Guillou", "100")}),
    ("Accueil de jour Estuaire", "essms", "44000", "Nantes", "Accueil de jour de personnes sans domicile",
     ["ES", "ASS"], (1, 2), 280, ("2026-01-05", "2026-03-27"), ["DC1"], {}),
]


def offer_records(seed: int = SEED) -> list[dict]:
    """The offers as canonical answers (strings as the form writes them)."""
    rng = random.Random(seed)
    start = datetime(2025, 5, 5, 9, 0)
    out = []
    for i, (name, kind, postcode, city, title, tracks, (low, high), hours, (first, last), comps, extra) in enumerate(OFFERS):
        referent = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        domain = _handle(name.split(" ", 1)[-1])[:24].strip("-")
        record = {
            "submitted_at": start + timedelta(days=i * 3, minutes=rng.randint(0, 600), seconds=rng.randint(0, 59)),
            "structure_name": name, "structure_type": TYPES[kind], "address": f"{rng.randint(1, 40)} rue de Brest",
            "postcode": postcode, "city": city, "referent_name": referent,
            "referent_function": rng.choice(["Éducatrice de jeunes enfants", "Cheffe de service", "Assistante sociale",
                                             "Coordinateur", "Infirmière de santé publique"]),
            "referent_email": f"{_handle(referent).replace('-', '.')}@{domain}.example",
            "referent_phone": f"02 99 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            "referent_available": "Oui", "title": title,
            "description": f"{title}. Le ou les stagiaires sont accueillis par l'équipe et conduisent une action.",
            "public": rng.choice(["Familles et jeunes enfants", "Adolescents", "Adultes en situation de handicap",
                                  "Habitants du quartier", "Personnes âgées"]),
            "competences": ", ".join(COMPETENCES[c] for c in comps),
            "tracks": ", ".join(TRACKS[t] for t in tracks), "team_min": str(low), "team_max": str(high),
            "hours": str(hours), "period_start": f"{date.fromisoformat(first):%d/%m/%Y}",
            "period_end": f"{date.fromisoformat(last):%d/%m/%Y}", "theme": extra.get("theme", ""),
            "site1_hours": extra.get("site1_hours", ""), "consent": "Oui",
        }
        site2 = extra.get("site2") or ("", "", "", "", "", "")
        s_name, s_address, s_postcode, s_city, s_referent, s_hours = site2
        record.update(site2_structure_name=s_name, site2_address=s_address, site2_postcode=s_postcode,
                      site2_city=s_city, site2_referent_name=s_referent,
                      site2_referent_email=f"{_handle(s_referent).replace('-', '.')}@site2.example" if s_referent else "",
                      site2_hours=s_hours)
        out.append(record)
    out[-1]["submitted_at"] = datetime(2025, 6, 29, 22, 41, 7)
    return out


def forms_export(records: list[dict]) -> bytes:
    """Google Forms' CSV download: ``Horodateur`` first, ``,``, UTF-8, CRLF."""
    header = ["Horodateur"] + [label for _, label in QUESTIONS]
    rows = [[f"{r['submitted_at']:%d/%m/%Y %H:%M:%S}"] + [str(r[key]) for key, _ in QUESTIONS] for r in records]
    return _csv_bytes(header, rows, delimiter=",", quoting=csv.QUOTE_MINIMAL, line_end="\r\n", encoding="utf-8")


# --- the commission -----------------------------------------------------------------------------------------
DECIDED_TERMS_FOR = "Foyer de jeunes travailleurs de la Rance"


def filled_decisions(edition: Edition, result: eligibility.EligibilityResult) -> bytes:
    """The decision workbook as the commission saves it: every eligible offer retained with its proposed team
    and tracks, every other one refused with its reason."""
    workbook, sheet, col = decision_workbook(edition, result)
    trainers = list(edition.section("commission")["trainers"])
    decisions = edition.vocabulary["decisions"]
    facts = result.projects.set_index("project_code")
    retained = 0
    for r in range(2, sheet.max_row + 1):
        row = facts.loc[sheet.cell(r, col["project_code"]).value]
        if row["status_code"] == "eligible":
            values = {"decision": decisions["retained"], "decided_team_min": int(row["team_min"]),
                      "decided_team_max": int(row["team_max"]), "tracks_open": tracks_open_label(edition, row["tracks"]),
                      "trainer": trainers[retained % len(trainers)]}
            if row["structure_name"] == DECIDED_TERMS_FOR:  # the commission shortens one placement
                values.update(decided_hours=245, decided_end="20/03/2026")
            retained += 1
        else:
            values = {"decision": decisions["not_retained"], "motivation": "Offre hors de l'appel : " + row["status_reasons"]}
        fill_row(sheet, r, col, values)
    return workbook_bytes(workbook)


def tracks_open_label(edition: Edition, tracks) -> str:
    """The « filières ouvertes » answer opening exactly ``tracks`` (« ES et ASS »), in the edition's order."""
    return track_words.phrase(code for code in edition.labels("tracks") if code in {str(t) for t in tracks})


# --- the cohort ---------------------------------------------------------------------------------------------
# Each learner's first choice (by structure), so the two-site offers, the mixed ES/ASS team and the six-day
# project open; the other ranks are drawn among the offers open to the learner's track.
FIRST_CHOICES = {
    "EJE": ["Multi-accueil Les Goélands", "Multi-accueil Les Goélands", "Crèche familiale Les Lutins",
            "Multi-accueil Les P'tits Mousses", "Équipe d'éducation à la santé du pays de Vannes"],
    "ASS": ["Centre social de Maurepas", "Centre social de Maurepas", "CCAS de Vannes",
            "Service social départemental du pays de Lorient", "Équipe d'éducation à la santé du pays de Vannes",
            "Foyer de jeunes travailleurs de la Rance"],
    "ES": ["Centre social de Maurepas", "IME Les Ajoncs", "IME Les Ajoncs", "MECS Ker Avel", "MECS Ker Avel",
           "Équipe d'éducation à la santé du pays de Vannes", "Foyer de jeunes travailleurs de la Rance", "MECS Ker Avel"],
}
DIPLOMAS = {"ES": "DEES", "EJE": "DEEJE", "ASS": "DEASS"}


def cohort(catalogue: pd.DataFrame, seed: int = SEED) -> list[dict]:
    """The learners with their rankings (choice labels), sorted by name as the school's export lists them."""
    rng = random.Random(f"{seed}-cohort")
    by_structure = {p.structure_name: p for p in catalogue.itertuples(index=False)}
    learners, names = [], set()
    for track in ("ASS", "EJE", "ES"):
        for first_choice in FIRST_CHOICES[track]:
            while (name := (rng.choice(FIRST), rng.choice(LAST))) in names:
                pass
            names.add(name)
            top = by_structure[first_choice]
            others = [p for p in catalogue.itertuples(index=False) if track in p.tracks and p is not top]
            rng.shuffle(others)
            ranking = [choice_label(p) for p in [top, *others][:RANKS]]
            learners.append({"first_name": name[0], "last_name": name[1], "track": track, "ranking": ranking})
    learners.sort(key=lambda r: (_handle(r["last_name"]), _handle(r["first_name"])))
    start = datetime(2025, 10, 6, 9, 0)
    for n, learner in enumerate(learners, start=1):
        handle = f"{_handle(learner['first_name'])}.{_handle(learner['last_name'])}"
        learner.update(idnumber=f"E26{n:03d}", username=handle, email=f"{handle}@stagiaires.eras.example",
                       employer="", submitted_at=start + timedelta(hours=7 * n))
    return learners


def roster_export(learners: list[dict]) -> bytes:
    """The school's roster re-saved by Excel: ``;``, Windows-1252, CRLF."""
    header = ["Nom", "Prénom", "Matricule", "Courriel", "Formation", "Employeur"]
    rows = [[r["last_name"], r["first_name"], r["idnumber"], r["email"], DIPLOMAS[r["track"]], r["employer"]]
            for r in learners]
    return _csv_bytes(header, rows, delimiter=";", quoting=csv.QUOTE_MINIMAL, line_end="\r\n", encoding="cp1252")


def adjustments_csv(learners: list[dict], catalogue: pd.DataFrame) -> bytes:
    """One fixed pair with its reason: the EJE learner placed near home for a disability accommodation."""
    code = catalogue.set_index("structure_name").loc["Crèche familiale Les Lutins", "project_code"]
    label = choice_label(catalogue.set_index("project_code").loc[[code]].reset_index().iloc[0])
    who = next(r for r in learners if r["track"] == "EJE" and r["ranking"][0] == label)
    rows = [[who["idnumber"], code, "fixer", "Aménagement : stage proche du domicile (reconnaissance de handicap)"]]
    return _csv_bytes(adjustments.HEADER, rows, delimiter=";", quoting=csv.QUOTE_MINIMAL, line_end="\r\n",
                      encoding="utf-8", bom=True)


# --- the follow-up ------------------------------------------------------------------------------------------
def filled_tracking(edition: Edition, retained: pd.DataFrame, placed: pd.DataFrame) -> bytes:
    """Every convention signed in order and on time — each site of a two-site offer signs its own —
    except one single-site convention whose learners signed late."""
    workbook = opened_workbook(signatures.tracking_sheets(retained, placed, edition))
    sheet = workbook["Suivi des conventions"]
    col = columns(sheet)
    labels = signatures.tracking_labels()
    last = conventions.deadline(edition, conventions.settings(edition))
    site = date(2025, 11, 17)
    late_done = False
    for index, r in enumerate(range(2, sheet.max_row + 1)):
        code = str(sheet.cell(r, col[labels["convention"]]).value)
        learners = site + timedelta(days=10 + index % 5)
        if "-S" not in code and not late_done:
            learners, late_done = last + timedelta(days=2), True
        for name, value in {"site_signed": site + timedelta(days=index % 4), "school_signed": site + timedelta(days=6),
                            "learners_signed": learners}.items():
            followup._put_date(sheet.cell(r, col[labels[name]]), value)
    return workbook_bytes(workbook)


def askoria_files(root: Path) -> dict[str, bytes]:
    """``{file name in inputs/demo-askoria/: bytes}`` of every generated input."""
    files = {"offres_google_forms.csv": forms_export(offer_records())}
    checked, decided = decide(root, files, EDITION, filled_decisions)
    catalogue = applications.as_catalogue(decided.retained)
    learners = cohort(catalogue)
    files["promotion.csv"] = roster_export(learners)
    files["choix_moodle.csv"] = moodle_formats.ratingallocate_export(
        learners, [choice_label(p) for p in catalogue.itertuples(index=False)], RANKS)
    files["ajustements.csv"] = adjustments_csv(learners, catalogue)
    with workspace(root, files, EDITION) as edition:
        applied = applications.ingest(edition, catalogue)
        placed = assignment.run(edition, decided.retained, applied.roster, applied.preferences).table
        pairs = placed[["learner_id", "project_code"]]
        files["suivi/suivi_conventions.xlsx"] = filled_tracking(edition, decided.retained, pairs)
        files["suivi/jures_volontaires.csv"] = followup.volunteers_csv(decided.retained, SEED, count=8)
        files.update({f"suivi/{name}": data for name, data in
                      followup.filled_evaluations(edition, decided.retained, pairs, applied.roster, SEED).items()})
    files["cle_pseudonymes.txt"] = synthetic_key(EDITION)
    return files


def write_askoria(root: Path) -> list[Path]:
    return write_files(root / "inputs" / EDITION, askoria_files(root))

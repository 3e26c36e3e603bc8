"""The ``demo-cnam`` edition's generated inputs: individual 560-hour placements of a licence professionnelle
(seed 004, CNAM « Intervention sociale »), seeded so that the same bytes come out every time.

* ``definitions_stage.csv`` — the Google Forms export of the « définition du stage pratique » each host
  structure fills with the learner's tutor (one offer per structure, team size 1, 560 h);
* ``decisions_commission.xlsx`` — the coordinator's decisions (every offer retained: her accord pédagogique);
* ``promotion.csv`` — the cohort (Excel-FR re-save: ``;``, Windows-1252), with each auditor's employer and
  years of professional experience in the field (one learner has more than a year: exempted);
* ``placements.csv`` — the school's placements file (Excel-FR): learner, host structure, tutor, own start and
  end dates; learners employed in the field have no row (the employer rule ``fix`` places them in their own
  structure), one row repeats a learner (rejected with its reason);
* ``ajustements.csv`` (header only), ``suivi/`` (the filled tracking workbook — one convention late by its
  learner's own start date —, the volunteer jurors), ``publication/LISEZMOI.txt`` and the synthetic key.

``edition.yaml`` and ``mapping.yaml`` are hand-written (``inputs/demo-cnam/``).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from pathlib import Path


from ..stages import assignment, conventions, placements
from ..stages import signatures
from .commission import decide, decision_workbook, workspace
from .files import fill_row, folder_readme, opened_workbook, synthetic_key, workbook_bytes, write_files
from .formats import excel_fr
from .partners import FIRST, LAST, _ascii

EDITION = "demo-cnam"
SEED = 2026
TRACK = "LP"
# Host structures of the insertion field: (name, type label as the form offers it, postcode, city).
HOSTS = [
    ("Atelier et chantier d'insertion Le Fil d'Ariane", "Structure d'insertion par l'activité économique", "75011", "Paris"),
    ("Mission locale de Paris Est", "Mission locale", "75020", "Paris"),
    ("Association Emmaüs Solidarité — accueil de jour", "Association", "75010", "Paris"),
    ("Entreprise d'insertion Recyclerie du Canal", "Structure d'insertion par l'activité économique", "93200", "Saint-Denis"),
    ("Centre d'hébergement et de réinsertion sociale Les Lilas", "Association", "93260", "Les Lilas"),
    ("PLIE de Montreuil", "Collectivité territoriale", "93100", "Montreuil"),
    ("Régie de quartier Belleville", "Association", "75019", "Paris"),
    ("Épicerie solidaire La Passerelle", "Association", "94200", "Ivry-sur-Seine"),
    ("Service insertion du CCAS de Vitry", "Collectivité territoriale", "94400", "Vitry-sur-Seine"),
    ("Association intermédiaire Coup de main", "Structure d'insertion par l'activité économique", "92000", "Nanterre"),
    ("Maison de l'emploi de Créteil", "Collectivité territoriale", "94000", "Créteil"),
]
EMPLOYED = 3  # the last hosts employ a learner, who does the placement there (employer rule « fix »)
FORM = [
    ("submitted_at", "Horodateur"), ("structure_name", "Nom de la structure d'accueil"),
    ("structure_type", "Type de structure"), ("address", "Adresse"), ("postcode", "Code postal"), ("city", "Commune"),
    ("referent_name", "Nom et prénom du tuteur"), ("referent_function", "Fonction du tuteur"),
    ("referent_email", "Adresse e-mail du tuteur"), ("referent_phone", "Téléphone du tuteur"),
    ("referent_available", "Le tuteur sera-t-il présent pendant toute la durée du stage ?"),
    ("title", "Intitulé du projet collectif confié au stagiaire"), ("description", "Activités confiées au stagiaire"),
    ("public", "Publics accompagnés"), ("issue", "Problématique d'insertion"),
    ("mediation", "Forme de l'action collective"), ("challenges", "Enjeux pour le stagiaire"),
    ("competences", "Compétences visées"), ("hours", "Durée du stage (heures)"),
    ("team_min", "Nombre de stagiaires"), ("team_max", "Nombre de stagiaires (maximum)"), ("tracks", "Formation"),
    ("consent", "J'accepte que ces données soient traitées par le Cnam"),
]
PROJECTS = ["Atelier collectif de recherche d'emploi", "Groupe de parole des bénéficiaires du RSA",
            "Action collective « mobilité » vers l'emploi", "Forum des métiers du quartier",
            "Accompagnement collectif à la création d'activité", "Atelier numérique et démarches en ligne",
            "Projet collectif de remobilisation", "Chantier collectif d'embellissement", "Atelier budget et logement",
            "Ateliers de préparation aux entretiens", "Club d'insertion des jeunes diplômés"]
FUNCTIONS = ["Conseillère en insertion professionnelle", "Encadrant technique d'insertion", "Chargée d'accompagnement",
             "Coordinateur de projets", "Responsable de l'accueil"]


def _handle(name: str) -> str:
    return _ascii(name).lower().replace(" ", ".").replace("'", "")


def definitions(rng: random.Random) -> list[dict]:
    """One « définition du stage pratique » per host structure: a 560-hour offer for one learner."""
    out = []
    for i, (name, kind, postcode, city) in enumerate(HOSTS):
        tutor = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        out.append({
            "submitted_at": datetime(2026, 9, 7, 9, 0) + timedelta(days=2 * i, minutes=rng.randint(0, 500)),
            "structure_name": name, "structure_type": kind, "address": f"{rng.randint(2, 90)} rue des Écoles",
            "postcode": postcode, "city": city, "referent_name": tutor, "referent_function": rng.choice(FUNCTIONS),
            "referent_email": f"{_handle(tutor)}@structure{i + 1}.example", "referent_phone": f"01 43 55 {10 + i} {20 + i}",
            "title": PROJECTS[i], "description": "Immersion de quinze jours, puis conduite d'une action collective "
            "d'insertion avec le tuteur ; observation d'entretiens et accueil du public.",
            "public": "Personnes éloignées de l'emploi",
            "issue": "Retour à l'emploi de personnes cumulant des difficultés sociales et professionnelles",
            "mediation": rng.choice(["atelier collectif hebdomadaire", "groupe de parole", "chantier collectif",
                                     "forum et rencontres avec des employeurs"]),
            "challenges": "S'approprier la conduite d'un projet et en saisir les enjeux",
            "competences": "Conduite de projet, Connaissance des publics" + (", Travail en partenariat" if i % 3 == 0 else ""),
            "hours": "560", "team_min": "1", "team_max": "1", "tracks": "Licence professionnelle intervention sociale",
            "consent": "Oui", "referent_available": "Oui",
        })
    return out


def google_forms_csv(records: list[dict]) -> bytes:
    """A Google Forms CSV download: UTF-8, ``,``, every field quoted only when needed, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([label for _, label in FORM])
    for r in records:
        writer.writerow([r["submitted_at"].strftime("%d/%m/%Y %H:%M:%S") if name == "submitted_at" else r[name]
                         for name, _ in FORM])
    return buffer.getvalue().encode("utf-8")


def learners(rng: random.Random) -> list[dict]:
    """The cohort: one learner per offer, the last ``EMPLOYED`` employed by their host, plus one exempted."""
    people, used = [], set()
    while len(people) < len(HOSTS) + 1:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if (first, last) in used:
            continue
        used.add((first, last))
        n = len(people)
        people.append({"last_name": last.upper(), "first_name": first, "learner_id": f"LP26{101 + n:03d}",
                       "email": f"{_handle(first)}.{_handle(last)}@auditeur.lecnam.example",
                       "employer": "", "experience": "0"})
    for i in range(EMPLOYED):  # employed in the field, in a host structure: placed there (fix)
        people[len(HOSTS) - EMPLOYED + i]["employer"] = HOSTS[len(HOSTS) - EMPLOYED + i][0]
        people[len(HOSTS) - EMPLOYED + i]["experience"] = "0,5"
    people[-1]["experience"] = "2"  # two years in the field: exempted from the placement
    people[-1]["employer"] = "Foyer de jeunes travailleurs Les Acacias"
    return people


def roster_csv(people: list[dict]) -> bytes:
    header = ["Nom", "Prénom", "N° auditeur", "Courriel", "Formation", "Employeur actuel",
              "Expérience professionnelle dans l'insertion (années)"]
    return excel_fr(header, [[p["last_name"], p["first_name"], p["learner_id"], p["email"],
                                  "Licence professionnelle intervention sociale", p["employer"], p["experience"]]
                                 for p in people])


def start_dates() -> list[date]:
    """Each learner's own first day (16 weeks full time or longer part time, spread over the year)."""
    return [date(2026, 11, 2) + timedelta(days=7 * (i % 6)) for i in range(len(HOSTS))]


def placements_csv(people: list[dict], records: list[dict]) -> bytes:
    header = ["N° auditeur", "Nom", "Prénom", "Structure d'accueil", "Tuteur", "Courriel du tuteur", "Date de début",
              "Date de fin"]
    rows = []
    for i, (person, offer, start) in enumerate(zip(people, records, start_dates())):
        if i >= len(HOSTS) - EMPLOYED:
            break  # employed learners: no row, the employer rule places them
        end = start + timedelta(weeks=16 if i % 2 == 0 else 26)
        rows.append([person["learner_id"], person["last_name"], person["first_name"], offer["structure_name"],
                     offer["referent_name"], offer["referent_email"], start.strftime("%d/%m/%Y"), end.strftime("%d/%m/%Y")])
    twice = list(rows[1])
    twice[3] = HOSTS[2][0]  # the same learner declared a second time, in another structure: rejected
    rows.insert(4, twice)
    return excel_fr(header, rows)


def filled_decisions(edition, result) -> bytes:
    """The coordinator's decision workbook: every offer retained for one LP learner (her accord pédagogique)."""
    workbook, sheet, col = decision_workbook(edition, result)
    trainer = edition.section("commission")["trainers"][0]
    values = {"decision": edition.vocabulary["decisions"]["retained"], "decided_team_min": 1, "decided_team_max": 1,
              "tracks_open": TRACK, "trainer": trainer}
    for r in range(2, sheet.max_row + 1):
        fill_row(sheet, r, col, values)
    return workbook_bytes(workbook)


def filled_tracking(edition, retained, placed, outcomes) -> bytes:
    """The tracking workbook as the school fills it: every document in order and on time, except one
    convention signed after ITS learner's own deadline (still before the edition's calendar.start)."""
    workbook = opened_workbook(signatures.tracking_sheets(retained, placed, edition, outcomes))
    sheet = workbook["Suivi des conventions"]
    header = [c.value for c in sheet[1]]
    config = conventions.settings(edition)
    labels = signatures.tracking_labels(config)
    days = conventions.deadlines(edition, config, retained, placed, outcomes)
    late = sorted(days, key=lambda code: (days[code], code))[-1]  # the learner who starts last
    for r in range(2, sheet.max_row + 1):
        code = sheet.cell(r, header.index(labels["project_code"]) + 1).value
        last = days[code] + timedelta(days=3 if code == late else -2)
        for j, key in enumerate(reversed(list(config.signatories))):
            cell = sheet.cell(r, header.index(labels[key]) + 1)
            cell.value = (last - timedelta(days=2 * j)).strftime("%d/%m/%Y")
            cell.data_type = "s"
    return workbook_bytes(workbook)


def jurors_csv() -> bytes:
    rows = ["Nom ; Structure ; Courriel", "Claire Dumont ; Cnam Paris ; claire.dumont@lecnam.example",
            "Hervé Morin ; Cnam Paris ; herve.morin@lecnam.example"]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def demo_files(root: Path) -> dict[str, bytes]:
    """``{path in inputs/demo-cnam/: bytes}`` of every generated input."""
    rng = random.Random(SEED)
    offers = definitions(rng)
    people = learners(rng)
    files = {"definitions_stage.csv": google_forms_csv(offers), "promotion.csv": roster_csv(people),
             "placements.csv": placements_csv(people, offers),
             "cle_pseudonymes.txt": synthetic_key(EDITION)}
    checked, decided = decide(root, files, EDITION, filled_decisions)
    # The coordinator's one adjustment: a learner kept out of a structure where they volunteer.
    codes = dict(zip(checked.projects["structure_name"], checked.projects["project_code"]))
    files["ajustements.csv"] = excel_fr(["Identifiant apprenant", "Code projet", "Type", "Motif"], [
        [people[0]["learner_id"], codes[HOSTS[2][0]], "exclure", "bénévole dans cette structure (conflit d'intérêts)"]])
    with workspace(root, files, EDITION) as edition:
        result = placements.ingest(edition, decided.retained)
        placed = assignment.run(edition, decided.retained, result.roster, result.preferences).table
        files["suivi/suivi_conventions.xlsx"] = filled_tracking(edition, decided.retained,
                                                                placed[["learner_id", "project_code"]], result.outcomes)
    files["suivi/jures_volontaires.csv"] = jurors_csv()
    files["publication/LISEZMOI.txt"] = folder_readme(root, "publication")
    return files


def write(root: Path) -> list[Path]:
    return write_files(root / "inputs" / EDITION, demo_files(root))


"""The ``demo-pole`` edition's generated inputs: a pôle de stages (seeds 002 and 003), seeded.

Three schools of two basins (bassins de formation et d'emploi) pool the offers businesses and associations
make through the pôle's Framaforms form: a collège's 3e pupils (« stage d'observation », one week), a lycée
professionnel's Bac pro pupils (PFMP, four weeks) and a CFA's apprentices (two weeks of immersion). There are
about 1.6 pupils per place: the assignment places as many as it can and lists the others for their school.
Most pupils are minors (their conventions carry a legal representative's signature line).

* ``offres_framaforms.tsv`` — the Drupal Webform export (TAB, every value quoted, three header rows, one « X »
  column per option), with an offer refused by the call (too short) and one whose tutor is not available;
* ``etablissements.csv`` and ``bassins.csv`` — the coordinator's list of schools (UAI, signatory) and the
  pôle's communes with their basin (Excel re-save: « ; », Windows-1252);
* ``promotion.csv`` — the pupils of the three schools (INE, birth date, UAI, formation), merged by the
  coordinator (Excel re-save);
* ``voeux_moodle.csv`` — the pupils' three wishes (Moodle Feedback « Choix n°1… »); two apprentices also
  wish for an offer of the other basin (dropped: pupils stay in their basin), one pupil never answers;
* ``convention_pole.docx`` — the pôle's convention template: signed by each pupil's own school, with a
  legal representative's signature line for a minor pupil;
* ``decisions_commission.xlsx`` (every eligible offer retained), ``ajustements.csv`` (header only),
  ``suivi/`` and ``publication/`` (read-me files) and the synthetic pseudonym key.

Every name is invented; e-mails use the reserved ``.example`` domain. ``edition.yaml`` and ``mapping.yaml``
are hand-written (``inputs/demo-pole/``).
"""

from __future__ import annotations

import csv
import hashlib
import random
from datetime import date, datetime, timedelta
from pathlib import Path


from ..contract.config import Edition
from ..stages import applications
from . import make_convention_template, moodle_formats, pole_actions
from .askoria import tracks_open_label
from .commission import decide, decision_workbook
from .files import fill_row, folder_readme, synthetic_key, workbook_bytes, write_files
from .formats import WEBFORM_META, _csv_bytes, excel_fr
from .learners import FIRST, LAST, choice_label

EDITION = "demo-pole"
SEED = 2027
RANKS = 3
FORM_TITLE = "Proposer un stage au pôle de stages des bassins de Lunéville et de Toul"

# The commune → basin table: (INSEE code, postcode, commune, basin code, basin name).
BASIN_NAMES = {"LUN": "Bassin de Lunéville", "TOU": "Bassin de Toul"}
COMMUNES = [
    ("54329", "54300", "Lunéville", "LUN"), ("54039", "54120", "Baccarat", "LUN"),
    ("54076", "54360", "Blainville-sur-l'Eau", "LUN"), ("54222", "54830", "Gerbéviller", "LUN"),
    ("54176", "54370", "Einville-au-Jard", "LUN"), ("54366", "54300", "Moncel-lès-Lunéville", "LUN"),
    ("54528", "54200", "Toul", "TOU"), ("54175", "54200", "Écrouves", "TOU"),
    ("54167", "54200", "Dommartin-lès-Toul", "TOU"), ("54205", "54570", "Foug", "TOU"),
    ("54135", "54170", "Colombey-les-Belles", "TOU"), ("54318", "54460", "Liverdun", "TOU"),
]
# The schools: (UAI, name, kind, signatory, title, address, INSEE code, formations with their pupils).
SCHOOLS = [
    ("0540055Y", "Collège Jules-Ferry (fictif)", "Collège", "Claire Marchal", "Principale", "3 rue de la Charité",
     "54329", {"3e": 24}),
    ("0540077X", "Lycée professionnel Jean-Prouvé (fictif)", "Lycée professionnel", "Hervé Colin", "Proviseur",
     "12 avenue Victor-Hugo", "54528",
     {"Bac pro Maintenance des véhicules": 8, "Bac pro Accompagnement, soins et services à la personne": 6}),
    ("0541911K", "CFA des métiers du Lunévillois (fictif)", "CFA", "Sandrine Mougenot", "Directrice du CFA",
     "5 rue des Artisans", "54366",
     {"CAP Boulanger (apprentissage)": 3, "CAP Métiers de la coiffure (apprentissage)": 3,
      "CAP Menuisier fabricant (apprentissage)": 2}),
]
TRACK_OF = {"3e": "3E", "Bac pro Maintenance des véhicules": "PFMP",
            "Bac pro Accompagnement, soins et services à la personne": "PFMP", "CAP Boulanger (apprentissage)": "APP",
            "CAP Métiers de la coiffure (apprentissage)": "APP", "CAP Menuisier fabricant (apprentissage)": "APP"}
BIRTH_YEARS = {"3E": (2011, 2012), "PFMP": (2008, 2010), "APP": (2006, 2010)}
TYPES = {"entreprise": "Entreprise", "artisan": "Artisan, commerçant", "association": "Association",
         "collectivite": "Collectivité ou service public"}
OBJECTIVES = {"O1": "Découvrir un métier et son environnement",
              "O2": "Pratiquer les gestes professionnels", "O3": "Savoir-être professionnels"}
AUDIENCES = {"3E": "Élèves de 3e (stage d'observation)", "PFMP": "Lycéens professionnels (PFMP)",
             "APP": "Apprentis (CFA)"}
# The periods each kind of pupil is hosted: (first day, last day, hours).
PERIODS = {"3E": ("14/12/2026", "18/12/2026", 30), "PFMP": ("04/01/2027", "29/01/2027", 140),
           "APP": ("15/02/2027", "26/02/2027", 70)}
# The offers: (structure, type, commune INSEE, title, tracks, (min, max), objectives, extra answers).
OFFERS = [
    ("Boulangerie-pâtisserie Au Pain de Stanislas", "artisan", "54329", "Fournil et boutique : du pétrin à la vente",
     ["3E", "APP"], (1, 3), ["O1", "O2"], {}),
    ("Garage des Bosquets", "entreprise", "54329", "Atelier de mécanique automobile", ["3E"], (1, 2),
     ["O1"], {}),
    ("EHPAD Les Jardins du Château", "association", "54329", "Animation et vie quotidienne en EHPAD", ["3E"], (1, 3),
     ["O1", "O3"], {}),
    ("Mairie de Lunéville — services techniques", "collectivite", "54329", "Espaces verts et voirie de la ville",
     ["3E"], (1, 2), ["O1"], {}),
    ("Atelier verrier du Pays de Baccarat", "entreprise", "54039", "Taille et gravure du verre", ["3E", "APP"],
     (1, 1), ["O1", "O2"], {}),
    ("Pharmacie du Château", "artisan", "54329", "Officine : accueil et conseil", ["3E"], (1, 1), ["O1"], {}),
    ("Épicerie solidaire L'Escale", "association", "54329", "Épicerie solidaire : accueil, stock et bénévolat", ["3E"],
     (1, 2), ["O1", "O3"], {}),
    ("Salon de coiffure Créa'Tif", "artisan", "54076", "Salon de coiffure mixte", ["APP"], (1, 1), ["O2"], {}),
    ("Menuiserie Thiriet et fils", "artisan", "54222", "Menuiserie : fabrication et pose", ["3E", "APP"], (1, 2),
     ["O1", "O2"], {}),
    ("Supermarché Coop du Lunévillois", "entreprise", "54329", "Métiers du commerce et de la grande distribution",
     ["3E"], (1, 3), ["O1", "O3"], {}),
    ("GAEC des Deux Rivières", "entreprise", "54176", "Exploitation laitière et cultures", ["3E"], (1, 1),
     ["O1"], {}),
    ("Garage du Toulois", "entreprise", "54528", "Maintenance et diagnostic des véhicules légers", ["PFMP", "APP"],
     (1, 2), ["O2", "O3"], {}),
    ("Carrosserie Écrouves Auto", "entreprise", "54175", "Entretien courant et préparation des véhicules", ["PFMP"],
     (1, 1), ["O2"], {}),
    ("Centre hospitalier de Toul — service de soins", "collectivite", "54528", "Aide aux soins et hygiène des locaux",
     ["PFMP"], (1, 2), ["O2", "O3"], {}),
    ("Transports Lorrains du Toulois", "entreprise", "54205", "Atelier poids lourds", ["PFMP"], (1, 2), ["O2"], {}),
    ("ADMR du Toulois", "association", "54135", "Aide à domicile auprès de personnes âgées", ["PFMP"], (1, 2),
     ["O2", "O3"], {}),
    # refused by the call's rules
    ("Cabinet d'architecture Lhuillier", "entreprise", "54528", "Une journée au cabinet", ["3E"], (1, 1),
     ["O1"], {"hours": "7"}),
    ("Fleuriste Le Jardin d'Hélène", "artisan", "54318", "Art floral et vente", ["PFMP"], (1, 1), ["O2"],
     {"referent_available": "Non"}),
]
FUNCTIONS = ["Gérant", "Cheffe d'atelier", "Responsable des ressources humaines", "Maître d'apprentissage",
             "Responsable de l'accueil", "Adjointe de direction"]
# Two apprentices (Lunéville basin) also wish for an offer of the Toul basin: the choice is dropped.
CROSS_BASIN = 2


def _ascii(text: str) -> str:
    import unicodedata

    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return "".join(c if c.isalnum() else "." for c in text).strip(".")


def commune(insee: str) -> tuple[str, str, str, str]:
    return next(c for c in COMMUNES if c[0] == insee)


def offer_records(rng: random.Random) -> list[dict]:
    """The offers as the form's answers (strings as the form writes them)."""
    out = []
    for i, (name, kind, insee, title, tracks, (low, high), objectives, extra) in enumerate(OFFERS):
        _, postcode, city, _ = commune(insee)
        tutor = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        first, last, hours = PERIODS[tracks[0]]
        out.append({
            "submitted_at": datetime(2026, 10, 5, 8, 30) + timedelta(days=i * 2, minutes=rng.randint(0, 600)),
            "structure_name": name, "structure_type": TYPES[kind], "structure_siret": "",
            "address": f"{rng.randint(1, 60)} rue {rng.choice(['de la Gare', 'Carnot', 'de Nancy', 'du Général-Leclerc'])}",
            "postcode": postcode, "city": city, "referent_name": tutor, "referent_function": rng.choice(FUNCTIONS),
            "referent_email": f"{_ascii(tutor)}@{_ascii(name.split(' — ')[0])[:20].strip('.')}.example",
            "referent_phone": f"03 83 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            "referent_available": extra.get("referent_available", "Oui"), "title": title,
            "description": f"{title}. L'élève observe puis participe aux activités de l'équipe, avec son tuteur.",
            "objectives": objectives, "tracks": tracks, "team_min": str(low), "team_max": str(high),
            "hours": extra.get("hours", str(hours)), "period_start": first, "period_end": last,
            "consent": "Oui",
        })
    return out


QUESTIONS = [
    ("structure_name", "Raison sociale de la structure d'accueil"), ("structure_type", "Type de structure"),
    ("structure_siret", "N° SIRET"), ("address", "Adresse du lieu de stage"), ("postcode", "Code postal"),
    ("city", "Commune"), ("referent_name", "Tuteur (nom et prénom)"), ("referent_function", "Fonction du tuteur"),
    ("referent_email", "Courriel du tuteur"), ("referent_phone", "Téléphone du tuteur"),
    ("referent_available", "Le tuteur est-il présent pendant toute la durée du stage ?"),
    ("title", "Intitulé du stage proposé"), ("description", "Activités proposées à l'élève"),
    ("objectives", "Objectifs du stage"), ("tracks", "Élèves accueillis"),
    ("team_min", "Nombre d'élèves accueillis - minimum"), ("team_max", "Nombre d'élèves accueillis - maximum"),
    ("hours", "Durée de l'accueil (heures)"), ("period_start", "Premier jour d'accueil"),
    ("period_end", "Dernier jour d'accueil"),
    ("consent", "J'accepte que le pôle de stages diffuse cette offre aux établissements de mon bassin"),
]
OPTIONS = {"objectives": OBJECTIVES, "tracks": AUDIENCES}


def webform_export(records: list[dict]) -> bytes:
    """Framaforms' (Drupal Webform) download: TAB, every value quoted, three header rows, one column per option."""
    columns = []
    for name, label in QUESTIONS:
        if name in OPTIONS:
            columns += [(name, code, f"{label}: {text}") for code, text in OPTIONS[name].items()]
        else:
            columns.append((name, None, label))
    row1 = [FORM_TITLE] + [""] * (len(WEBFORM_META) + len(columns) - 1)
    row2 = ["Submission Details"] + [""] * (len(WEBFORM_META) - 1) + ["Offre de stage"] * len(columns)
    row3 = WEBFORM_META + [label for _, _, label in columns]
    rows = []
    for i, r in enumerate(records, start=1):
        when = r["submitted_at"].strftime("%d/%m/%Y - %H:%M")
        row = [str(i), str(300 + i), when, when, when, "0", "(inconnue)", "0", "Anonyme"]
        row += [("X" if code in r[name] else "") if code else str(r[name]) for name, code, _ in columns]
        rows.append(row)
    return _csv_bytes([row1, row2, row3], rows, delimiter="\t", quoting=csv.QUOTE_ALL, line_end="\n", encoding="utf-8")


def basins_csv() -> bytes:
    return excel_fr(["Code INSEE", "Code postal", "Commune", "Code du bassin", "Bassin de formation et d'emploi"],
                    [[insee, postcode, city, basin, BASIN_NAMES[basin]] for insee, postcode, city, basin in COMMUNES])


def schools_csv() -> bytes:
    header = ["UAI", "Établissement", "Type", "Chef d'établissement (signataire des conventions)", "Qualité", "Adresse",
              "Code postal", "Commune", "Code INSEE"]
    rows = []
    for uai, name, kind, signatory, title, address, insee, _ in SCHOOLS:
        _, postcode, city, _ = commune(insee)
        rows.append([uai, name, kind, signatory, title, address, postcode, city, insee])
    return excel_fr(header, rows)


def pupils(rng: random.Random) -> list[dict]:
    """The pupils of the three schools, sorted by name as the merged export lists them."""
    out, names = [], set()
    for uai, _, _, _, _, _, insee, formations in SCHOOLS:
        for formation, count in formations.items():
            track = TRACK_OF[formation]
            for _ in range(count):
                while (name := (rng.choice(FIRST), rng.choice(LAST))) in names:
                    pass
                names.add(name)
                low, high = BIRTH_YEARS[track]
                born = date(low, 1, 1) + timedelta(days=rng.randint(0, (date(high, 12, 31) - date(low, 1, 1)).days))
                out.append({"first_name": name[0], "last_name": name[1].upper(), "school": uai, "formation": formation,
                            "track": track, "birth_date": born, "basin": commune(insee)[3]})
    out.sort(key=lambda p: (_ascii(p["last_name"]), _ascii(p["first_name"])))
    for n, p in enumerate(out, start=1):
        digits = f"{int(hashlib.sha256(f'{SEED}-{n}'.encode()).hexdigest(), 16) % 10**9:09d}"
        p.update(idnumber=f"0{digits}{'ABCDEFGHJK'[n % 10]}",
                 email=f"{_ascii(p['first_name'])}.{_ascii(p['last_name'])}@eleves.ac-nancy-metz.example")
    return out


def roster_csv(people: list[dict]) -> bytes:
    header = ["Nom", "Prénom", "INE", "Né(e) le", "UAI de l'établissement", "Formation", "Courriel"]
    return excel_fr(header, [[p["last_name"], p["first_name"], p["idnumber"], f"{p['birth_date']:%d/%m/%Y}",
                              p["school"], p["formation"], p["email"]] for p in people])


def wishes(people: list[dict], catalogue, basin_of: dict[str, str], rng: random.Random) -> list[dict]:
    """Each pupil's three wishes among the offers of their basin open to their track (popular offers first more
    often), two apprentices with an offer of the other basin, the last pupil without an answer."""
    records, crossed = [], 0
    offers = list(catalogue.itertuples(index=False))
    start = datetime(2026, 11, 18, 8, 0)
    for n, p in enumerate(people[:-1]):
        mine = [o for o in offers if p["track"] in o.tracks and basin_of[o.project_code] == p["basin"]]
        weights = [3 if o.team_max > 1 else 1 for o in mine]
        ranking = []
        while len(ranking) < min(RANKS, len(mine)):
            pick = rng.choices(mine, weights=weights)[0]
            if pick not in ranking:
                ranking.append(pick)
        if p["track"] == "APP" and crossed < CROSS_BASIN:
            other = next(o for o in offers if p["track"] in o.tracks and basin_of[o.project_code] != p["basin"])
            ranking = [other, *ranking][:RANKS]
            crossed += 1
        records.append({**p, "username": p["email"].split("@")[0], "submitted_at": start + timedelta(hours=5 * n),
                        "ranking": [choice_label(o) for o in ranking], "groups": p["formation"]})
    return records


def filled_decisions(edition: Edition, result) -> bytes:
    """The pôle's decisions: every eligible offer retained with its proposed team and tracks, the others refused."""
    workbook, sheet, col = decision_workbook(edition, result)
    trainers = list(edition.section("commission")["trainers"])
    decisions = edition.vocabulary["decisions"]
    facts = result.projects.set_index("project_code")
    for r in range(2, sheet.max_row + 1):
        row = facts.loc[sheet.cell(r, col["project_code"]).value]
        if row["status_code"] == "eligible":
            values = {"decision": decisions["retained"], "decided_team_min": int(row["team_min"]),
                      "decided_team_max": int(row["team_max"]), "tracks_open": tracks_open_label(edition, row["tracks"]),
                      "trainer": trainers[0 if row["basin"] == "LUN" else 1]}
        else:
            values = {"decision": decisions["not_retained"], "motivation": "Offre hors du cadre du pôle : "
                      + row["status_reasons"]}
        fill_row(sheet, r, col, values)
    return workbook_bytes(workbook)


def pole_files(root: Path) -> dict[str, bytes]:
    """``{path in inputs/demo-pole/: bytes}`` of every generated input."""
    rng = random.Random(SEED)
    files = {"offres_framaforms.tsv": webform_export(offer_records(rng)), "bassins.csv": basins_csv(),
             "etablissements.csv": schools_csv(), "convention_pole.docx": make_convention_template.build(pole=True)}
    checked, decided = decide(root, files, EDITION, filled_decisions)
    catalogue = applications.as_catalogue(decided.retained)
    basin_of = dict(zip(decided.retained["project_code"], decided.retained["basin"]))
    people = pupils(rng)
    files["promotion.csv"] = roster_csv(people)
    files["voeux_moodle.csv"] = moodle_formats.feedback_export(wishes(people, catalogue, basin_of, rng), RANKS,
                                                               comment=None)
    # The pôle's one adjustment: a pupil kept out of the pharmacy where a parent works.
    pharmacy = decided.retained.set_index("structure_name").loc["Pharmacie du Château", "project_code"]
    who = next(p for p in people if p["track"] == "3E")
    files["ajustements.csv"] = excel_fr(["Identifiant apprenant", "Code projet", "Type", "Motif"], [
        [who["idnumber"], pharmacy, "exclure", "un parent de l'élève travaille dans cette officine"]])
    files["suivi/LISEZMOI.txt"] = folder_readme(root, "followup")
    files["publication/LISEZMOI.txt"] = folder_readme(root, "publication")
    files["actions.csv"] = pole_actions.register_csv()  # the coordinator's register of actions (stage 80)
    files["cle_pseudonymes.txt"] = synthetic_key(EDITION)
    return files


def write(root: Path) -> list[Path]:
    return write_files(root / "inputs" / EDITION, pole_files(root))

"""The demo pôle's register of actions (``actions.csv``, seed 003), seeded: the same bytes every time.

A coordinator keeps it in a spreadsheet and saves it as an Excel (French) CSV — ``;``, Windows-1252, CRLF,
dates ``15/10/2025`` —, one row per action: its date, kind, title, the partners and schools involved (several
joined with `` ; ``), the number of participants and the accord or partnership convention it ended in. The
figures follow a pôle's yearly bilan (seed 003: informative, formative, communication, collaborative and
school–business actions, a few accords and conventions). A few rows are wrong as real registers are (an
unknown kind, an unreadable date, participants written as words) so the review shows them rejected with
their reason.

:data:`PARTNERS` is the pôle's pool of local partners; the earlier edition's aggregates
(:mod:`.pole_history`) keep some of them, so that the review tells new from returning partners.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

SEED = 2026
FILE = "actions.csv"
HEADERS = ["Date", "Type d'action", "Intitulé", "Partenaires", "Établissements", "Nombre de participants",
           "Accord ou convention"]
# The edition's vocabulary (edition.yaml) and the labels the coordinator types in the register.
KINDS = {
    "information": "Action d'information",
    "formation": "Action de formation",
    "communication": "Action de communication",
    "collaboration": "Collaboration entre établissements",
    "ecole_entreprise": "Rapprochement école–entreprise",
}
AGREEMENTS = {"accord": "Accord entre établissements", "convention": "Convention de partenariat"}
TYPED = {"information": "Information", "formation": "Formation", "communication": "Communication",
         "collaboration": "Collaboration entre établissements", "ecole_entreprise": "École-entreprise"}
COUNTS = {"information": 9, "formation": 5, "communication": 3, "collaboration": 3, "ecole_entreprise": 4}
TITLES = {
    "information": ["Réunion de présentation du pôle", "Présentation du pôle en réunion de bassin",
                    "Information des familles sur les stages de 3e", "Permanence d'information des entreprises"],
    "formation": ["Formation des professeurs référents", "Atelier CV et lettre de motivation",
                  "Préparation des élèves aux entretiens", "Formation des tuteurs d'entreprise"],
    "communication": ["Plaquette du pôle de stages", "Page du pôle sur le site académique",
                      "Fiches méthode pour la recherche de stage"],
    "collaboration": ["Harmonisation des périodes de stage de 3e", "Fichier commun des lieux de stage",
                      "Échange de lieux de stage sur une même filière"],
    "ecole_entreprise": ["Forum des métiers", "Visite d'entreprise", "Mini-forum des métiers en tension",
                         "Rencontre jeunes–entreprises"],
}
# Partners of the pôle: host structures of its offers (demo-pole's, pipeline/demo/pole.py) and local bodies met in
# its actions.
PARTNERS = [
    "Boulangerie-pâtisserie Au Pain de Stanislas", "Garage des Bosquets", "EHPAD Les Jardins du Château",
    "Mairie de Lunéville — services techniques", "Atelier verrier du Pays de Baccarat", "Menuiserie Thiriet et fils",
    "Supermarché Coop du Lunévillois", "Garage du Toulois", "Centre hospitalier de Toul — service de soins",
    "ADMR du Toulois", "Maison de l'emploi du Lunévillois", "Chambre de métiers et de l'artisanat de Meurthe-et-Moselle",
    "Mission locale Terres de Lorraine", "Communauté de communes Terres Touloises", "Fédération du BTP 54",
    "Fondation Agir Contre l'Exclusion",
]
SCHOOLS = ["Collège Jules-Ferry (fictif)", "Lycée professionnel Jean-Prouvé (fictif)",
           "CFA des métiers du Lunévillois (fictif)"]
# rows as a register really holds them: (kind typed, date typed, participants typed)
WRONG = [("Sortie scolaire", None, "25"), (None, "31/02/2026", "12"), (None, None, "une vingtaine")]


def rows(seed: int = SEED, *, start: date = date(2026, 9, 7), schools: list[str] | None = None,
         partners: list[str] | None = None) -> list[dict[str, str]]:
    """The register's rows (as typed), in date order, then the wrong ones."""
    rng = random.Random(seed)
    schools, partners = schools or SCHOOLS, partners or PARTNERS
    agreements = {"collaboration": ["accord", "accord", ""], "ecole_entreprise": ["convention", "", "convention", ""]}
    out = []
    for kind, count in COUNTS.items():
        for i in range(count):
            when = start + timedelta(days=rng.randrange(0, 270))
            named = sorted(rng.sample(partners, rng.randint(0, 3))) if kind != "communication" else []
            involved = sorted(rng.sample(schools, rng.randint(1, len(schools))))
            agreement = (agreements.get(kind) or [""])[i % len(agreements.get(kind) or [""])]
            out.append({"date": when, "Type d'action": TYPED[kind], "Intitulé": TITLES[kind][i % len(TITLES[kind])],
                        "Partenaires": " ; ".join(named), "Établissements": " ; ".join(involved),
                        "Nombre de participants": str(rng.randint(6, 60) if kind != "communication" else ""),
                        "Accord ou convention": AGREEMENTS[agreement] if agreement else ""})
    out.sort(key=lambda r: (r["date"], r["Intitulé"]))
    for typed_kind, typed_date, typed_count in WRONG:
        base = dict(out[rng.randrange(len(out))])
        base.update({"Type d'action": typed_kind or base["Type d'action"], "Nombre de participants": typed_count,
                     "Accord ou convention": ""})
        base["date"] = typed_date or base["date"]
        out.append(base)
    for row in out:
        when = row.pop("date")
        row["Date"] = when if isinstance(when, str) else when.strftime("%d/%m/%Y")
    return out


def register_csv(seed: int = SEED, **kwargs) -> bytes:
    """``actions.csv`` as an Excel (French) re-save writes it: ``;``, Windows-1252, CRLF."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(seed, **kwargs))
    return buffer.getvalue().encode("cp1252")


def mapping_section() -> dict:
    """The ``actions`` section of the edition's mapping.yaml (the register's column labels)."""
    return {"source": {"delimiter": ";", "date_formats": ["%d/%m/%Y"], "list_separators": [";"]},
            "fields": {"action_date": "Date", "action_kind": {"column": "Type d'action",
                                                              "values": {v: k for k, v in TYPED.items()}},
                       "action_title": "Intitulé", "action_partners": "Partenaires", "action_schools": "Établissements",
                       "participants": "Nombre de participants", "agreement": "Accord ou convention"}}


def vocabularies() -> dict:
    """The edition.yaml vocabularies the register needs (``vocabularies.action_kinds``, ``action_agreements``)."""
    return {"action_kinds": dict(KINDS), "action_agreements": dict(AGREEMENTS)}

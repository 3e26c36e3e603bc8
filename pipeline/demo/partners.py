"""Synthetic partner project submissions, as canonical records (before any export shape)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST = ["Amandine", "Bastien", "Chloé", "Damien", "Élodie", "Fabien", "Gaëlle", "Hugo", "Inès", "Jérôme",
         "Karine", "Loïc", "Maëlle", "Nicolas", "Océane", "Pascal", "Rachida", "Samuel", "Tiphaine", "Yannick",
         "Zoé", "Marc-Antoine", "Anaïs", "Benoît"]
LAST = ["Aubert", "Berthon", "Chaumeil", "Delage", "Estier", "Faucher", "Gendreau", "Hérault", "Jouanneau",
        "Lachaud", "Marsac", "Nouaille", "Peyrat", "Queyroi", "Rougier", "Sarre", "Teillet", "Vergnaud",
        "Lemoine-Durand", "Boissière"]
FUNCTIONS = ["Éducatrice spécialisée", "Chef de service", "Directrice adjointe", "Animateur", "Coordinatrice",
             "Éducateur de jeunes enfants", "Responsable de structure", "Médiatrice culturelle"]
TOWNS = [("87000", "Limoges"), ("87200", "Saint-Junien"), ("87100", "Limoges"), ("87500", "Saint-Yrieix-la-Perche"),
         ("87300", "Bellac"), ("87400", "Saint-Léonard-de-Noblat"), ("23000", "Guéret"), ("23200", "Aubusson"),
         ("23300", "La Souterraine"), ("19000", "Tulle"), ("19100", "Brive-la-Gaillarde"), ("19200", "Ussel"),
         ("87350", "Panazol"), ("87280", "Limoges")]
KINDS = [
    ("Établissement ou service social ou médico-social (public ou privé)", ["Maison d'enfants à caractère social", "IME", "Foyer de vie", "SESSAD", "CHRS", "Service d'AEMO", "ESAT"]),
    ("Établissement d'accueil de jeunes enfants", ["Multi-accueil", "Crèche parentale", "Micro-crèche", "Halte-garderie"]),
    ("Collectivité territoriale", ["Centre social municipal", "Service jeunesse de la communauté de communes", "CCAS"]),
    ("Entreprise sociale", ["Entreprise d'insertion", "SCIC"]),
    ("Organisation solidaire", ["Association", "Collectif", "Épicerie solidaire"]),
]
PLACES = ["Les Tilleuls", "Les Genêts", "La Passerelle", "Le Petit Prince", "Les Bruyères", "Arc-en-ciel", "Le Moulin",
          "La Ruche", "Les Châtaigniers", "L'Escale", "Les Coquelicots", "Le Trait d'union", "La Source", "Pause-Café",
          "Les Lucioles", "Le Vieux Pont", "Vent d'Ouest", "Les Mille-Pattes", "La Fabrique", "Le Relais"]
MEDIATIONS = ["théâtre forum", "création d'une fresque murale", "atelier radio", "conte et marionnettes",
              "photographie participative", "jardin partagé et land art", "atelier d'écriture et slam",
              "danse et expression corporelle", "court-métrage", "éveil musical", "jeux coopératifs",
              "exposition itinérante"]
PUBLICS = ["adolescents accueillis en MECS", "adultes en situation de handicap", "enfants de 0 à 3 ans et leurs parents",
           "jeunes de 16 à 25 ans du quartier", "familles hébergées en CHRS", "personnes âgées isolées",
           "enfants de 6 à 11 ans en accueil de loisirs", "travailleurs d'ESAT"]
COMPETENCES = ["BC1", "BC2", "BC3", "BC4", "BC5", "BC6", "BC7", "BC8"]


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    handle = (first + "." + last).lower()
    for a, b in (("é", "e"), ("è", "e"), ("ë", "e"), ("ï", "i"), ("î", "i"), ("ç", "c"), ("ô", "o"), (" ", "")):
        handle = handle.replace(a, b)
    return f"{first} {last}", handle


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _phone(rng: random.Random, international: bool = False) -> str:
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    return f"+33 5 36 49 {a} {b}" if international else f"05 36 49 {a} {b}"


def records(seed: int = 2025, count: int = 36) -> list[dict]:
    """``count`` distinct projects, then their re-submissions and messy cases (see :func:`demo_cases`)."""
    rng = random.Random(seed)
    start = datetime(2025, 5, 12, 9, 0)
    out = []
    for i in range(count):
        kind_label, kinds = KINDS[i % len(KINDS)] if i < 10 else rng.choice(KINDS)
        place = PLACES[i % len(PLACES)]
        name = f"{rng.choice(kinds)} {place}" if i < len(PLACES) else f"{rng.choice(kinds)} {place} {i // len(PLACES) + 1}"
        postcode, city = rng.choice(TOWNS)
        referent, handle = _person(rng)
        mediation = rng.choice(MEDIATIONS)
        public = rng.choice(PUBLICS)
        team_min = rng.choice([5, 6, 6, 7, 8])
        competences = sorted(rng.sample(COMPETENCES, rng.randint(2, 5)))
        if "BC4" not in competences:
            competences = sorted(competences + ["BC4"])
        tracks = "EJE" if kind_label.startswith("Établissement d'accueil") else rng.choice(["ES", "ES, EJE", "ES, EJE"])
        out.append({
            "submitted_at": start + timedelta(days=i * 1.6, minutes=rng.randint(0, 600)),
            "structure_name": name,
            "structure_type": kind_label,
            "structure_siret": "".join(str(rng.randint(0, 9)) for _ in range(14)) if rng.random() < 0.6 else "",
            "address": f"{rng.randint(1, 60)} rue {rng.choice(['des Écoles', 'du Moulin', 'Jean Jaurès', 'de la Gare', 'des Lilas'])}",
            "postcode": postcode,
            "city": city,
            "referent_name": referent,
            "referent_function": rng.choice(FUNCTIONS),
            "referent_email": f"{handle}@{_ascii(place.lower()).replace(' ', '-').replace(chr(39), '')}.example",
            "referent_phone": _phone(rng, international=rng.random() < 0.3),
            "referent_available": "Oui",
            "title": f"{mediation.capitalize()} avec des {public}",
            "description": (f"Projet de {mediation} mené sur site avec des {public}.\n"
                            f"Les apprenants conçoivent, animent puis évaluent des séances hebdomadaires ;\n"
                            f"une restitution publique clôt le projet."),
            "issue": f"Rompre l'isolement et favoriser l'expression des {public}.",
            "mediation": mediation.capitalize(),
            "public": public.capitalize(),
            "challenges": "Mobiliser le groupe, adapter les supports, associer les familles.",
            "resources": "Une salle d'activité, du matériel, un accès au parc informatique.",
            "competences": competences,
            "tracks": tracks,
            "team_min": str(team_min),
            "team_max": str(team_min + rng.choice([3, 4, 5, 6])),
            "hours": rng.choice(["105", "105", "90", "100", "84", "70", "52,5", "105"]),
            "period": "Du 1er au 19 décembre 2025",
            "consent": "Oui",
        })
    return out


def demo_cases(base: list[dict]) -> list[dict]:
    """The demo's messy cases on top of ``base``: eligibility failures, hostile text, re-submissions,
    one row that fails the schema. Returns every submission in submission order."""
    rows = [dict(r) for r in base]
    # Eligibility failures (accepted here; judged by the eligibility stage).
    rows[3].update(postcode="86000", city="Poitiers", address="4 place du Marché")
    rows[7].update(postcode="24000", city="Périgueux")
    rows[5].update(hours="120")
    rows[9].update(referent_name="", referent_function="", referent_email="", referent_phone="")
    rows[12].update(referent_available="Non")
    rows[14].update(structure_type="Entreprise commerciale", structure_name="SARL Ateliers Créatifs du Limousin")
    rows[16].update(competences=[])
    rows[18].update(team_min="8", team_max="5")
    rows[-1].update(submitted_at=datetime(2025, 7, 16, 9, 12))
    # Missing data: the commission must look (« à examiner »).
    rows[13].update(hours="")
    rows[15].update(referent_available="")
    # Hostile text a real partner could type: kept inert and intact everywhere.
    rows[2].update(title="=Projet « tous en scène » (théâtre forum)")
    rows[4].update(referent_phone="+33 5 36 49 12 34")
    rows[6].update(structure_name="@sso Les Liens Solidaires", structure_type="Organisation solidaire")
    rows[8].update(challenges="- créer un outil de communication\n- animer un atelier \"parents-enfants\"\n- évaluer avec le public")
    rows[10].update(title="Atelier photo <img src=x onerror=alert(1)> en crèche")
    rows[11].update(resources="+ une salle ; + un vidéoprojecteur ; @ prêt de matériel")
    rows.sort(key=lambda r: r["submitted_at"])
    # Three re-submissions of the same project (same structure, same title), each later.
    extra = []
    for k, (src, change) in enumerate([(rows[1], {"hours": "98"}), (rows[20], {"team_max": "9"}),
                                       (rows[25], {"description": rows[25]["description"] + "\nPrécision : le projet inclut une sortie au musée."})]):
        again = dict(src, **change)
        again["submitted_at"] = src["submitted_at"] + timedelta(days=3 + k, hours=2, minutes=17)
        extra.append(again)
    # A re-submission that fails the schema: it must not replace the valid one.
    bad = dict(rows[30], hours="une centaine", submitted_at=rows[30]["submitted_at"] + timedelta(days=1, minutes=5))
    extra.append(bad)
    rows = sorted(rows + extra, key=lambda r: r["submitted_at"])
    return rows

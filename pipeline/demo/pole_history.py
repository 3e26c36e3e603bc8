"""The aggregates of an imaginary earlier year of the demo pôle de stages (``history/demo-pole-2025.json``),
so that ``demo-pole``'s review has a year of the same pôle to compare with. Seeded: the same bytes every
time. Only aggregates exist for it, as for any edition whose personal data was purged; the figures are
consistent with one another (actions by kind add up to the actions, pupils placed by school and by basin
to the pupils placed, places by sector to the places…). Its partners are kept as hashed keys only
(:func:`pipeline.stages.review_pole.partner_key`): part of today's pool, so that the review tells new from
returning partners."""

from __future__ import annotations

import random

from ..stages.review_pole import partner_key
from . import pole_actions
from .history import _split

NAME = "demo-pole-2025"
CAMPAIGN = "pole"  # demo-pole's campaign (inputs/demo-pole/edition.yaml)
SEED = 2025
START, END = "2025-12-15", "2026-02-27"
# the offers by structure type (demo-pole's vocabulary structure_types), as the review counts them without sectors
SECTORS = {"Entreprise": 0.4, "Artisan, commerçant": 0.3, "Association": 0.2, "Collectivité ou service public": 0.1}
BASINS = {"Bassin de Lunéville": 0.6, "Bassin de Toul": 0.4}
FORMER_PARTNERS = ["Pharmacie de la Place (fictive)", "Scierie Vergnaud (fictive)"]  # partners of that year only


def pole_figures(rng: random.Random, pupils: int, placed: int, offers: int, places: int, signed: int) -> dict:
    """The pôle's own bilan of that year (the section ``pole`` of the record)."""
    counts = {"information": 6, "formation": 3, "communication": 4, "collaboration": 2, "ecole_entreprise": 3}
    kinds = pole_actions.KINDS
    actions_by_kind = {kinds[k]: n for k, n in counts.items()}
    participants = {kinds[k]: (0 if k == "communication" else sum(rng.randint(6, 50) for _ in range(n)))
                    for k, n in counts.items()}
    agreements = {pole_actions.AGREEMENTS["accord"]: 1, pole_actions.AGREEMENTS["convention"]: 1}
    partners = sorted(rng.sample(pole_actions.PARTNERS, 10)) + FORMER_PARTNERS
    offers_by_sector = _split(offers, SECTORS, rng)
    more = _split(places - offers, SECTORS, rng)  # every offer has a place, some more
    places_by_sector = {sector: n + more[sector] for sector, n in offers_by_sector.items()}
    indicators = {
        "actions": sum(counts.values()), "participants": sum(participants.values()),
        "agreements": sum(agreements.values()), "conventions_signed": signed,
        "partners": len(partners), "partners_new": None, "partners_returning": None,  # its own earlier years unknown
        "offers": offers, "places": places, "pupils": pupils, "placed": placed,
    }
    breakdowns = {
        "actions_by_kind": actions_by_kind, "participants_by_kind": participants, "agreements_by_kind": agreements,
        "offers_by_sector": dict(sorted(offers_by_sector.items())), "places_by_sector": dict(sorted(places_by_sector.items())),
        "placed_by_school": dict(sorted(_split(placed, {s: w for s, w in zip(pole_actions.SCHOOLS, (0.5, 0.3, 0.2))},
                                               rng).items())),
        "placed_by_basin": dict(sorted(_split(placed, BASINS, rng).items())),
    }
    return {"indicators": indicators, "breakdowns": breakdowns,
            "partner_keys": sorted({partner_key(name) for name in partners})}


def record() -> dict:
    rng = random.Random(SEED)
    received, eligible, retained, closed = 15, 13, 13, 1
    opened = retained - closed
    pupils, places = 42, 24
    placed = 24
    profile = [13, 7, 4, pupils - placed]  # 1st … 3rd choice, then unplaced
    tracks = {"3E": 22, "PFMP": 13, "APP": 7}
    assert sum(tracks.values()) == pupils == sum(profile)
    signed = opened - 2
    partners = 14
    indicators = {
        "projects_received": received, "projects_eligible": eligible, "projects_retained": retained,
        "projects_opened": opened, "projects_closed": closed, "partners": partners, "partners_retained": 12,
        "departements": 1, "learners": pupils, "training_hours": placed * 70, "places_offered": places,
        "places_per_learner": round(places / pupils, 2), "first_choice": profile[0],
        "first_choice_share": round(profile[0] / pupils, 4), "conventions": opened, "conventions_on_time": signed,
        "competences_targeted": 0, "competences_acquired": 0, "acquired_share": 0.0,
    }
    breakdowns = {
        "partners_by_type": dict(sorted(_split(partners, SECTORS, rng).items())),
        "partners_by_departement": {"54": partners},
        "learners_by_track": tracks,
        "places_per_learner_by_departement": {"54": round(places / pupils, 2)},
        "rank_profile": {**{str(r + 1): n for r, n in enumerate(profile[:-1])}, "hors choix": profile[-1]},
        "targeted_by_competence": {},
        "acquired_by_competence": {},
    }
    pole = pole_figures(rng, pupils, placed, retained, places, signed)
    stages = {
        "projects": {"projects_accepted": received},
        "eligibility": {"eligible": eligible},
        "commission": {"retained": retained, "places_max": places},
        "applications": {"learners": pupils},
        "assignment": {"projects_opened": opened, "projects_closed": closed, "assigned": placed,
                       "unassigned": pupils - placed, "first_choice_share": indicators["first_choice_share"],
                       "rank_profile": profile},
        "conventions": {"conventions": opened, "fully_signed": signed, "signed_on_time": signed},
        "review": {"indicators": indicators, "breakdowns": breakdowns, "earlier_editions": [], "pole": pole},
    }
    return {"edition": NAME, "campaign": CAMPAIGN, "title": "Pôle de stages démo — année 2025-2026 (données fictives)",
            "synthetic": True, "start": START, "end": END, "indicators": indicators, "breakdowns": breakdowns,
            "stages": stages, "pole": pole}

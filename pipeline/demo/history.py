"""The aggregates of an imaginary earlier demo edition (``history/demo-2024.json``), so that the demo's
review has an edition to compare with. Seeded: the same bytes every time. Only aggregates exist for it
(as for any edition whose personal data was purged); the figures are consistent with one another
(partners by type add up to the partners, the rank profile to the learners, …)."""

from __future__ import annotations

import random

NAME = "demo-2024"
SEED = 2024
COMPETENCES = ["BC1", "BC2", "BC3", "BC4", "BC5", "BC6", "BC7", "BC8"]
TYPES = {
    "Établissement ou service social ou médico-social (public ou privé)": 0.5,
    "Établissement d'accueil de jeunes enfants": 0.2,
    "Collectivité territoriale": 0.15,
    "Entreprise sociale": 0.1,
    "Organisation solidaire": 0.05,
}
DEPARTEMENTS = {"19": 0.2, "23": 0.15, "87": 0.65}


def _split(total: int, weights: dict[str, float], rng: random.Random) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` (largest remainders, ties by a seeded draw)."""
    raw = {k: total * w / sum(weights.values()) for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    order = sorted(raw, key=lambda k: (-(raw[k] - out[k]), rng.random()))
    for k in order[: total - sum(out.values())]:
        out[k] += 1
    return out


def record() -> dict:
    rng = random.Random(SEED)
    received, eligible, retained, closed = 28, 21, 18, 1
    opened = retained - closed
    partners, partners_retained = 25, 16
    learners = 236
    tracks = _split(learners, {"EJE": 1 / 3, "ES": 2 / 3}, rng)
    places = 228
    profile = [92, 61, 39, 24, 11, 9]  # 1st … 5th choice, then unranked
    assert sum(profile) == learners
    targeted = _split(944, {c: rng.uniform(0.6, 1.4) for c in COMPETENCES}, rng)
    acquired = {c: round(n * rng.uniform(0.36, 0.5)) for c, n in targeted.items()}
    per_dep = _split(places, DEPARTEMENTS, rng)
    hours = sum(rng.choice([98, 100, 105]) for _ in range(learners))
    conventions, on_time = opened, opened - 3
    indicators = {
        "projects_received": received, "projects_eligible": eligible, "projects_retained": retained,
        "projects_opened": opened, "projects_closed": closed, "partners": partners,
        "partners_retained": partners_retained, "departements": len(DEPARTEMENTS), "learners": learners,
        "training_hours": hours, "places_offered": places, "places_per_learner": round(places / learners, 2),
        "first_choice": profile[0], "first_choice_share": round(profile[0] / learners, 4),
        "conventions": conventions, "conventions_on_time": on_time,
        "competences_targeted": sum(targeted.values()), "competences_acquired": sum(acquired.values()),
        "acquired_share": round(sum(acquired.values()) / sum(targeted.values()), 4),
    }
    breakdowns = {
        "partners_by_type": _split(partners, TYPES, rng),
        "partners_by_departement": _split(partners, DEPARTEMENTS, rng),
        "learners_by_track": dict(sorted(tracks.items())),
        "places_per_learner_by_departement": {d: round(n / learners, 2) for d, n in per_dep.items()},
        "rank_profile": {**{str(r + 1): n for r, n in enumerate(profile[:-1])}, "hors choix": profile[-1]},
        "targeted_by_competence": targeted,
        "acquired_by_competence": acquired,
    }
    stages = {
        "projects": {"projects_accepted": received},
        "eligibility": {"eligible": eligible},
        "commission": {"retained": retained, "places_max": places},
        "applications": {"learners": learners},
        "assignment": {"projects_opened": opened, "projects_closed": closed, "first_choice_share":
                       indicators["first_choice_share"], "rank_profile": profile},
        "conventions": {"conventions": conventions, "signed_on_time": on_time},
        "evaluation": {"grades_expected": indicators["competences_targeted"]},
        "review": {"indicators": indicators, "breakdowns": breakdowns, "earlier_editions": []},
    }
    return {"edition": NAME, "title": "Démo — 1ère édition, décembre 2024 (données fictives)", "synthetic": True,
            "start": "2024-12-02", "end": "2024-12-20", "indicators": indicators, "breakdowns": breakdowns,
            "stages": stages}

"""Can the roster be placed in the retained projects? Checked at stage 40, not found at stage 50.

The solver's own pre-checks (:func:`pipeline.assign.precheck.precheck`: places overall and per track,
minimum sizes no track can reach) run on the roster and the catalogue before any ranking is read, and
a shortfall comes with advice: which projects could widen, and by how much, starting with those the
learners of the short track asked for most.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from ..assign.model import Instance, Learner, Project
from ..assign.precheck import precheck
from ..contract.errors import StagescoError
from ..io import fr


class NotEnoughPlaces(StagescoError):
    """The retained projects cannot take the whole roster (and the edition does not allow learners left unplaced)."""


def placement_problems(roster: pd.DataFrame, catalogue: pd.DataFrame, preferences: pd.DataFrame,
                       tracks) -> list[str]:
    """Why the roster cannot be placed in the catalogue's projects (empty when it can), each followed by
    advice. ``catalogue``: ``project_code``, ``tracks``, ``team_min``, ``team_max`` (decided sizes)."""
    learners = tuple(Learner(str(r.learner_id), str(r.track)) for r in roster.itertuples())
    projects = tuple(Project(str(r.project_code), int(r.team_min), int(r.team_max), frozenset(r.tracks))
                     for r in catalogue.itertuples())
    problems = precheck(Instance(learners=learners, projects=projects, ranks=1, tracks=tuple(tracks)))
    if not problems:
        return []
    by_track = Counter(lr.track for lr in learners)
    for track in tracks:
        open_to = catalogue[catalogue["tracks"].map(lambda t, k=track: k in list(t))]
        short = by_track[track] - int(open_to["team_max"].sum())
        if short > 0:
            problems.append(_advice(track, short, open_to, preferences))
    short = len(learners) - int(catalogue["team_max"].sum())
    if short > 0:
        problems.append(f"Au total, il manque {fr.count(short, 'place')} : élargissez d'autant les effectifs maximaux "
                        "ou retenez d'autres projets (étape 30), puis relancez.")
    return problems


def _advice(track: str, short: int, open_to: pd.DataFrame, preferences: pd.DataFrame) -> str:
    """Cover the shortfall with the projects open to ``track``: first by the applicants of that track each
    project has beyond its maximum (most ranked first), then one place at a time in the same order."""
    if open_to.empty:
        return (f"Il manque {fr.count(short, 'place')} pour les apprenants {track} : aucun projet ne leur est "
                "ouvert ; ouvrez-en à l'étape 30.")
    asked = preferences[preferences["track"] == track]["project_code"].value_counts()
    order = sorted(open_to.itertuples(), key=lambda r: (-int(asked.get(r.project_code, 0)), str(r.project_code)))
    widen: Counter = Counter()
    left = short
    for row in order:
        extra = min(left, max(0, int(asked.get(row.project_code, 0)) - int(row.team_max)))
        widen[row.project_code] += extra
        left -= extra
    while left > 0:
        for row in order[:left]:
            widen[row.project_code] += 1
            left -= 1
    plan = " ; ".join(f"{r.project_code} : {int(r.team_max)} → {int(r.team_max) + widen[r.project_code]} "
                      f"({fr.count(int(asked.get(r.project_code, 0)), 'candidat')} {track})"
                      for r in order if widen[r.project_code])
    return (f"Il manque {fr.count(short, 'place')} pour les apprenants {track}. Élargissements possibles, en "
            f"commençant par les projets les plus demandés : {plan}.")


def check(roster: pd.DataFrame, catalogue: pd.DataFrame, preferences: pd.DataFrame, tracks, *,
          allow_unplaced: bool) -> list[str]:
    """Raise :class:`NotEnoughPlaces` with the problems and advice, or return them as warnings when the edition
    allows learners to stay unplaced (``applications.allow_unplaced``)."""
    problems = placement_problems(roster, catalogue, preferences, tracks)
    if problems and not allow_unplaced:
        raise NotEnoughPlaces("Les projets retenus ne peuvent pas accueillir toute la promotion", problems=problems,
                              hint="Modifiez le classeur de décisions de la commission (effectifs, filières ouvertes, "
                                   "projets retenus) puis relancez ; si l'édition admet des apprenants sans place, "
                                   "indiquez applications.allow_unplaced: true dans edition.yaml")
    return problems

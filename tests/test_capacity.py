"""Stage 40 finds, before any assignment, a roster the retained projects cannot take, and says which
projects could widen and by how much."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.stages import capacity

TRACKS = ("ES", "EJE")


def roster(es: int, eje: int) -> pd.DataFrame:
    rows = [(f"S{i:02d}", "ES") for i in range(es)] + [(f"J{i:02d}", "EJE") for i in range(eje)]
    return pd.DataFrame(rows, columns=["learner_id", "track"])


CATALOGUE = pd.DataFrame([
    {"project_code": "P1", "tracks": ["ES"], "team_min": 2, "team_max": 4},
    {"project_code": "P2", "tracks": ["ES", "EJE"], "team_min": 2, "team_max": 4},
    {"project_code": "P3", "tracks": ["EJE"], "team_min": 2, "team_max": 3},
])


def preferences(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [{"learner_id": f"{track}{project}{i}", "track": track, "project_code": project, "rank": 1}
            for (track, project), n in counts.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["learner_id", "track", "project_code", "rank"])


def test_a_roster_that_fits_passes_silently():
    assert capacity.check(roster(6, 3), CATALOGUE, preferences({}), TRACKS, allow_unplaced=False) == []


def test_a_shortfall_blocks_with_the_projects_to_widen():
    asked = preferences({("ES", "P2"): 7, ("ES", "P1"): 5})
    with pytest.raises(capacity.NotEnoughPlaces) as info:
        capacity.check(roster(11, 3), CATALOGUE, asked, TRACKS, allow_unplaced=False)
    error = info.value
    text = "\n".join(error.problems)
    assert "11 apprenants ES mais seulement 8 places" in text
    # 3 ES places short: P2 (7 asked, max 4) widens by 3 first
    assert "Il manque 3 places pour les apprenants ES" in text and "P2 : 4 → 7 (7 candidats ES)" in text
    assert "P1" not in text.split("Élargissements possibles")[1].split(".")[0]
    assert "Au total, il manque 3 places" in text
    assert "allow_unplaced" in error.hint and "classeur de décisions" in error.hint


def test_the_shortfall_is_spread_when_one_project_is_not_enough():
    asked = preferences({("ES", "P1"): 5, ("ES", "P2"): 1})
    problems = capacity.placement_problems(roster(12, 0), CATALOGUE, asked, TRACKS)
    advice = [p for p in problems if p.startswith("Il manque")][0]
    # 4 short: P1 takes its 1 applicant beyond its maximum, then one place each in order of demand
    assert advice.endswith("P1 : 4 → 7 (5 candidats ES) ; P2 : 4 → 5 (1 candidat ES).")


def test_an_edition_that_allows_unplaced_learners_gets_a_warning():
    warnings = capacity.check(roster(11, 3), CATALOGUE, preferences({}), TRACKS, allow_unplaced=True)
    assert any("Il manque 3 places pour les apprenants ES" in w for w in warnings)

"""A mass of rows or choices dropped for one reason stops the stage (stages 10 and 40), at the function level."""

from __future__ import annotations

import pytest

from pipeline.io import rejections

RULE = {"max_share": 0.2, "min_count": 10}


def test_reasons_are_counted_by_kind_not_by_value():
    assert rejections.reason_kind("projet P2RIG non retenu par la commission") == "projet … non retenu par la commission"
    assert (rejections.reason_kind("apprenant absent de la liste de la promotion (identifiant « A249002 »)")
            == "apprenant absent de la liste de la promotion …")
    assert rejections.reason_kind("rang 2 laissé vide") == rejections.reason_kind("rang 4 laissé vide")


def test_a_mass_of_unknown_codes_stops_with_the_count_and_the_reason():
    reasons = [f"projet inconnu : ni code ni titre d'un projet retenu (« X{i:03d}Q »)" for i in range(139)]
    reasons += ["projet P2RIG non retenu par la commission"] * 3
    with pytest.raises(rejections.MassRejection) as info:
        rejections.check(reasons, 600, RULE, what="choix", file="candidatures_moodle.csv", hint="Vérifiez l'export")
    error = info.value
    assert error.file == "candidatures_moodle.csv" and "plus de 20\u00a0% des 600 lus" in error.message
    assert error.problems == ["139 choix (23\u00a0%) : projet inconnu : ni code ni titre d'un projet retenu …"]


@pytest.mark.parametrize("count, read", [(9, 20), (100, 600)])  # too few to be a mass; a small share
def test_scattered_or_few_rejections_pass(count, read):
    rejections.check(["projet inconnu"] * count, read, RULE, what="choix", file="f.csv", hint="")

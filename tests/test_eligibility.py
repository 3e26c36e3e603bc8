"""Stage 20 rules at their boundaries, their kinds, and the status they give (no Jupyter)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.stages import eligibility, projects
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo():
    edition = Edition.load("demo", ROOT)
    return edition, projects.ingest(edition).projects


def one(demo, **changes) -> tuple[str, dict]:
    """Status and {rule: (outcome, reason)} of the first demo project with ``changes`` applied."""
    edition, table = demo
    row = table.iloc[[0]].copy()
    for key, value in changes.items():
        row.at[row.index[0], key] = value
    result = eligibility.evaluate(edition, row)
    rules = {r.rule_id: (r.outcome, r.reason) for r in result.results.itertuples()}
    return result.projects.iloc[0]["eligibility_status"], rules


def test_demo_every_project_has_every_rule_with_a_reason(demo):
    edition, table = demo
    result = eligibility.evaluate(edition, table)
    m = result.metrics
    assert m["projects"] == m["eligible"] + m["not_eligible"] + m["to_review"]
    assert m["not_eligible"] >= 5 and m["to_review"] >= 1
    assert len(result.results) == len(table) * len(result.rules)
    assert result.results["reason"].str.len().min() > 0
    assert set(result.results.groupby("project_code").size()) == {len(result.rules)}


@pytest.mark.parametrize("hours, outcome, words", [(105.0, "pass", "105 h prévues (maximum 105 h)"),
                                                   (105.5, "fail", "105,5 h prévues, maximum 105 h"),
                                                   (120.0, "fail", "120 h prévues, maximum 105 h")])
def test_hours_boundary(demo, hours, outcome, words):
    status, rules = one(demo, hours=hours)
    assert rules["hours"] == (outcome, words)
    assert status == ("éligible" if outcome == "pass" else "non éligible")


def test_missing_hours_is_to_review(demo):
    status, rules = one(demo, hours=pd.NA)
    assert rules["hours"][0] == "review" and status == "à examiner"


@pytest.mark.parametrize("postcode, dept, outcome", [("87000", "87", "pass"), ("86999", "86", "fail"),
                                                    ("19100", "19", "pass"), ("23000", "23", "pass")])
def test_zone_boundary(demo, postcode, dept, outcome):
    status, rules = one(demo, postcode=postcode, departement=dept)
    assert rules["zone"][0] == outcome and f"code postal {postcode}" in rules["zone"][1]


@pytest.mark.parametrize("when, outcome", [(datetime(2025, 7, 15, 23, 59), "pass"),
                                           (datetime(2025, 7, 15, 23, 59, 59), "pass"),
                                           (datetime(2025, 7, 16, 0, 0), "fail")])
def test_deadline_minute(demo, when, outcome):
    _, rules = one(demo, submitted_at=pd.Timestamp(when))
    assert rules["deadline"][0] == outcome
    if outcome == "fail":
        assert rules["deadline"][1] == "déposé le 16/07/2025 00:00, après la date limite du 15/07/2025 23:59"


def test_team_referent_competences_and_type(demo):
    assert one(demo, team_min=8, team_max=5)[1]["team"] == ("fail", "effectif minimum 8 supérieur au maximum 5")
    assert one(demo, referent_name=None)[1]["referent"] == ("fail", "aucun référent indiqué")
    assert one(demo, referent_available=pd.NA)[1]["referent"][0] == "review"
    assert one(demo, referent_available=False)[1]["referent"][0] == "fail"
    assert one(demo, competences=[])[1]["competences"][0] == "fail"
    assert one(demo, competences=["BC9"])[1]["competences"][1].endswith("codes inconnus ignorés : BC9")
    outcome, reason = one(demo, structure_type="Entreprise commerciale")[1]["structure_type"]
    assert outcome == "fail" and reason.startswith("Entreprise commerciale : hors de la liste")


def test_indicators_and_judgements_never_change_status(demo):
    status, rules = one(demo, hours=105.0)
    assert rules["ambition"][0] == "indicator" and "par apprenant" in rules["ambition"][1]
    assert rules["deliverable"][0] == "question" and status == "éligible"


def test_threshold_is_configuration(demo):
    edition, table = demo
    edition.config["eligibility"]["rules"]["hours"]["max"] = 560  # the CNAM individual placement of seed 004
    try:
        row = table.iloc[[0]].copy()
        row["hours"] = 400.0
        result = eligibility.evaluate(edition, row)
        assert result.results.set_index("rule_id").loc["hours", "reason"] == "400 h prévues (maximum 560 h)"
    finally:
        edition.config["eligibility"]["rules"]["hours"]["max"] = 105


def test_unknown_check_or_kind_is_a_clear_error(demo):
    edition, table = demo
    rules = edition.config["eligibility"]["rules"]
    rules["typo"] = {"kind": "hard", "check": "max_valeur"}
    try:
        with pytest.raises(ConfigError, match="contrôle « max_valeur » inconnu"):
            eligibility.evaluate(edition, table)
        rules["typo"] = {"kind": "dur", "check": "max_value"}
        with pytest.raises(ConfigError, match="nature « dur » inconnue"):
            eligibility.evaluate(edition, table)
    finally:
        del rules["typo"]

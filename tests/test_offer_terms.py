"""An offer's own terms (hours, period) and its sites; the eligibility checks on any mapped field
(minimum, range, exact value, date inside the edition's window, sites' shares) — on small tables."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest

from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.stages import eligibility, sites, terms
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def edition():
    return Edition.load("demo", ROOT)


def with_rules(edition: Edition, rules: dict) -> Edition:
    config = copy.deepcopy(edition.config)
    config["eligibility"] = {"rules": rules}
    config["calendar"]["window_open"] = "2025-09-01"
    config["calendar"]["window_close"] = "2026-06-30"
    return replace(edition, config=config)


def offer(**values) -> pd.DataFrame:
    base = {"project_code": "PTEST", "structure_name": "Multi-accueil Les Lucioles", "hours": 42.0,
            "period_start": pd.Timestamp("2026-03-02"), "period_end": pd.Timestamp("2026-03-09"),
            "referent_name": "Zoé Teillet", "address": "3 rue des Écoles", "postcode": "35000", "city": "Rennes",
            "referent_email": "z.teillet@lucioles.example", "team_min": 1, "team_max": 3}
    base.update(values)
    frame = pd.DataFrame([base])
    frame["hours"] = frame["hours"].astype("Float64")
    return frame


def verdict(edition, rule: dict, **values) -> tuple[str, str]:
    result = eligibility.evaluate(with_rules(edition, {"r": {"kind": "hard", "label": "Règle", **rule}}), offer(**values))
    row = result.results.iloc[0]
    return row["outcome"], row["reason"]


@pytest.mark.parametrize("hours, outcome, reason", [
    (560.0, "pass", "Volume horaire prévu (h) : 560 h, comme attendu"),
    (400.0, "fail", "Volume horaire prévu (h) : 400 h ; l'appel demande exactement 560 h")])
def test_exact_value(edition, hours, outcome, reason):
    rule = {"check": "exact_value", "field": "hours", "value": 560, "unit": "h"}
    assert verdict(edition, rule, hours=hours) == (outcome, reason)


@pytest.mark.parametrize("hours, outcome", [(35.0, "pass"), (34.5, "fail"), (105.0, "pass"), (105.5, "fail")])
def test_range_bounds_are_inclusive(edition, hours, outcome):
    rule = {"check": "range", "field": "hours", "min": 35, "max": 105, "unit": "h"}
    got, reason = verdict(edition, rule, hours=hours)
    assert got == outcome and "de 35 h à 105 h" in reason
    if outcome == "fail":
        assert "hors de l'intervalle de l'appel" in reason


def test_minimum_and_missing_value(edition):
    rule = {"check": "min_value", "field": "hours", "min": 42, "unit": "h"}
    assert verdict(edition, rule, hours=41.0) == ("fail", "Volume horaire prévu (h) : 41 h, minimum 42 h")
    assert verdict(edition, rule, hours=42.0)[0] == "pass"
    assert verdict(edition, rule, hours=pd.NA) == ("review", "volume horaire prévu (h) non renseigné(e)")


def test_date_inside_the_edition_window(edition):
    rule = {"check": "date_window", "field": "period_start", "from_key": "window_open", "to_key": "window_close"}
    assert verdict(edition, rule)[0] == "pass"
    outcome, reason = verdict(edition, rule, period_start=pd.Timestamp("2026-07-01"))
    assert outcome == "fail"
    assert reason == ("Début du stage : 01/07/2026, hors de la période de l'édition "
                      "(du 01/09/2025 au 30/06/2026)")


def test_minimum_on_a_date_field_takes_a_calendar_key(edition):
    rule = {"check": "min_value", "field": "period_end", "min": "window_open"}
    outcome, reason = verdict(edition, rule, period_end=pd.Timestamp("2025-08-31"))
    assert outcome == "fail" and "minimum 01/09/2025" in reason


def test_rule_on_an_unknown_or_unmapped_field_is_a_french_error(edition):
    with pytest.raises(ConfigError, match="champ « heures » inconnu"):
        verdict(edition, {"check": "min_value", "field": "heures", "min": 1})
    with pytest.raises(ConfigError, match="n'est pas dans la correspondance"):
        eligibility.evaluate(with_rules(edition, {"r": {"kind": "hard", "check": "min_value", "field": "site2_hours",
                                                       "min": 1}}), offer())
    with pytest.raises(ConfigError, match="paramètre value absent"):
        verdict(edition, {"check": "exact_value", "field": "hours"})


def two_sites(**values) -> dict:
    row = offer(site2_structure_name="École maternelle Jules-Ferry", site2_referent_name="Karine Sarre",
                site2_referent_email="k.sarre@ecole.example", site2_hours=140.0, site1_hours=None,
                hours=280.0).iloc[0].to_dict()
    row.update(values)
    return row


def test_second_site_takes_what_the_first_leaves():
    listed = sites.sites(two_sites())
    assert [(s.number, s.structure_name, s.hours) for s in listed] == [
        (1, "Multi-accueil Les Lucioles", 140.0), (2, "École maternelle Jules-Ferry", 140.0)]
    assert sum(s.hours for s in listed) == 280.0  # a learner's hours add up across the sites
    assert sites.share_problems(two_sites()) == []


def test_shares_that_do_not_add_up_are_refused(edition):
    row = two_sites(site1_hours=100.0)
    assert sites.share_problems(row) == ["les parts des sites (100 + 140 h) ne font pas le volume horaire de "
                                         "l'offre (280 h)"]
    rule = {"check": "site_shares"}
    frame = pd.DataFrame([row])
    result = eligibility.evaluate(with_rules(edition, {"r": {"kind": "hard", "label": "Sites", **rule}}), frame)
    assert result.results.iloc[0]["outcome"] == "fail"
    assert "Multi-accueil Les Lucioles 100 h ; École maternelle Jules-Ferry 140 h" in result.results.iloc[0]["reason"]


def test_site_without_structure_is_refused():
    assert "site 2 sans structure" in sites.share_problems(two_sites(site2_structure_name=None))


def test_partners_count_every_site():
    frame = pd.DataFrame([two_sites(), offer(project_code="P2", structure_name="CCAS").iloc[0].to_dict()])
    assert sorted(sites.partner_structures(frame)["structure_name"]) == [
        "CCAS", "Multi-accueil Les Lucioles", "École maternelle Jules-Ferry"]


def test_terms_commission_then_form_then_edition(edition):
    row = offer().iloc[0].to_dict()
    own = terms.offer_terms(row, edition)
    assert (own.hours, own.start, own.end, own.days) == (42.0, date(2026, 3, 2), date(2026, 3, 9), 8)
    decided = terms.offer_terms({**row, "decided_hours": 35.0}, edition)
    assert decided.hours == 35.0 and decided.sources["hours"] == "commission"
    bare = terms.offer_terms({"hours": None}, edition)
    assert (bare.hours, bare.start, bare.end) == (105.0, date(2025, 12, 1), date(2025, 12, 19))
    assert bare.sources == {"hours": "edition", "start": "edition", "end": "edition"}


def test_commission_terms_read_back_and_unreadable_values_are_named():
    from pipeline.stages.commission import read_terms

    columns = {"decided_hours": 0, "decided_start": 1, "decided_end": 2}
    values = {"decided_hours": "245", "decided_start": "", "decided_end": "20/03/2026"}
    errors: list[str] = []
    got = read_terms(lambda name: values[name], columns, "ligne 3 (PTEST)", errors)
    assert errors == [] and got["decided_hours"] == 245 and pd.isna(got["decided_start"])
    assert got["decided_end"] == pd.Timestamp("2026-03-20")
    values.update(decided_hours="beaucoup", decided_end="31/02/2026")
    read_terms(lambda name: values[name], columns, "ligne 3 (PTEST)", errors)
    assert [e.split(" : ")[0] for e in errors] == ["ligne 3 (PTEST), colonne « Volume horaire retenu (h) »",
                                                   "ligne 3 (PTEST), colonne « Fin retenue »"]

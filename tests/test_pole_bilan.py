"""The pôle's bilan in the review (issue 15, item 4; seed 003): the coordinator's register of actions read like
any export (every row accepted or rejected with its reason), its actions counted by kind, new versus returning
partners, the same figures beside the earlier years of the same pôle only — and nothing of it for a campaign
without the data (the demo's review unchanged)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from pipeline.contract.config import Edition, Params
from pipeline.contract.errors import ConfigError
from pipeline.demo import pole_actions, pole_history
from pipeline.io.mapping import UnknownFieldError, load_mapping
from pipeline.repro import history
from pipeline.stages import actions, review, review_pole, review_report
from tests.conftest import ROOT

EDITION = "pole-t"
POLE_SPEC = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["review"]["pole"]
HEADER = "Date;Type d'action;Intitulé;Partenaires;Établissements;Nombre de participants;Accord ou convention\r\n"


def tiny_pole(tmp_path: Path, register: str | None, *, start: str = "2026-01-12", records: list[dict] = ()) -> Edition:
    """A project tree with one pôle edition (its edition.yaml and mapping.yaml, its register of actions when
    given as CSV text) and the history records given."""
    root = tmp_path / "repo"
    folder = root / "inputs" / EDITION
    folder.mkdir(parents=True)
    (root / "history").mkdir()
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["editions"] = {EDITION: {"files": {"actions": "actions.csv"}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    config = {"title": "Pôle test", "campaign": "pole-t", "calendar": {"start": start},
              "vocabularies": {**pole_actions.vocabularies(), "structure_types": {"entreprise": "Entreprise"}}}
    (folder / "edition.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "mapping.yaml").write_text(yaml.safe_dump({"actions": pole_actions.mapping_section()}, allow_unicode=True),
                                         encoding="utf-8")
    if register is not None:
        (folder / "actions.csv").write_bytes((HEADER + register).encode("cp1252"))
    for record in records:
        (root / "history" / f"{record['edition']}.json").write_text(json.dumps(record), encoding="utf-8")
    return Edition.load(EDITION, root)


def small_tables(partners: list[str] = ("Garage Central", "Boulangerie Marchand")):
    projects = pd.DataFrame({"project_code": [f"P{i}" for i in range(len(partners))], "structure_name": list(partners),
                             "structure_type": "entreprise", "decision_code": "retained", "decided_team_max": 3,
                             "sector": ["Commerce", "Artisanat", "Commerce"][: len(partners)]})
    roster = pd.DataFrame({"learner_id": ["a", "b", "c", "d"], "track": "3e",
                           "school": ["Collège A", "Collège A", "LP B", "LP B"], "basin": ["Nord", "Nord", "Sud", "Sud"]})
    assignment = pd.DataFrame({"learner_id": ["a", "b", "c"], "project_code": ["P0", "P0", "P1"]})
    return projects, roster, assignment


REGISTER = (
    '15/09/2025;Information;Réunion de présentation du pôle;"Garage Central ; Mairie";Collège A;30;\r\n'
    '02/10/2025;Information;Information des familles;;"Collège A ; LP B";45;\r\n'
    '12/11/2025;Collaboration entre établissements;Fichier commun;;"Collège A ; LP B";8;Accord entre établissements\r\n'
    '20/01/2026;École-entreprise;Forum des métiers;"Boulangerie Marchand ; Maison de l\'Emploi";LP B;60;Convention de partenariat\r\n'
    "03/02/2026;Sortie scolaire;Visite du musée;;Collège A;25;\r\n"
    "31/02/2026;Formation;Formation des référents;;LP B;12;\r\n"
    "10/03/2026;Formation;Atelier CV;;LP B;-3;\r\n"
)


def earlier_record(name: str, campaign: str, start: str, partners: list[str], actions_by_kind: dict) -> dict:
    pole = {"indicators": {"actions": sum(actions_by_kind.values()), "participants": 40, "agreements": 1,
                           "partners": len(partners), "partners_new": None, "partners_returning": None},
            "breakdowns": {"actions_by_kind": actions_by_kind},
            "partner_keys": sorted(review_pole.partner_key(p) for p in partners)}
    return {"edition": name, "campaign": campaign, "title": f"Année {name}", "start": start, "indicators": {},
            "breakdowns": {}, "pole": pole}


def pole_review(edition: Edition, register) -> review.Review:
    projects, roster, assignment = small_tables()
    result = review.Review(edition, {}, {}, history.earlier(edition))
    result.pole = review_pole.compute(edition, register, projects, projects, roster, assignment,
                                      {"fully_signed": 2}, result.earlier)
    result.register = register
    return result


# --- the register of actions ----------------------------------------------------------------------------------
def test_every_row_of_the_register_is_accepted_or_rejected_with_its_reason(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    register = actions.read(edition)
    assert register.rows_read == 7 == len(register.table) + register.metrics["rows_rejected"]
    assert list(register.table["source_row"]) == [2, 3, 4, 5]
    rejected = register.rejected.set_index("source_row")
    assert rejected.loc[6, "column"] == "Type d'action" and rejected.loc[6, "value"] == "Sortie scolaire"
    assert "nature d'action inconnue" in rejected.loc[6, "reason"] and "« Action de formation »" in rejected.loc[6, "reason"]
    assert rejected.loc[7, "column"] == "Date" and "n'est pas une date reconnue" in rejected.loc[7, "reason"]
    assert rejected.loc[8, "column"] == "Nombre de participants" and "positif" in rejected.loc[8, "reason"]
    first = register.table.iloc[0]
    assert first["action_kind"] == "information" and first["action_partners"] == ["Garage Central", "Mairie"]
    assert first["participants"] == 30 and pd.isna(first["agreement"])
    assert list(register.table["agreement"].dropna()) == ["accord", "convention"]


def test_a_register_mapped_with_an_unknown_field_or_without_its_date_column_is_refused(tmp_path):
    with pytest.raises(UnknownFieldError, match="actions.fields.lieu"):
        load_mapping({"actions": {"fields": {"action_date": "Date", "lieu": "Lieu"}}})
    edition = tiny_pole(tmp_path, REGISTER.replace("15/09/2025", "15/09/2025"))
    mapping = {"actions": dict(pole_actions.mapping_section(), fields={"action_date": "Jour", "action_kind": "Type d'action"})}
    (edition.inputs / "mapping.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="action_date") as info:
        actions.read(Edition.load(EDITION, edition.root))
    assert "« Date »" in str(info.value)  # the closest column of the file is named


def test_kinds_are_edition_vocabulary_and_a_register_without_them_is_an_error(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    config = yaml.safe_load((edition.inputs / "edition.yaml").read_text(encoding="utf-8"))
    config["vocabularies"]["action_kinds"] = {"information": "Action d'information", "sortie": "Sortie scolaire"}
    (edition.inputs / "edition.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    register = actions.read(Edition.load(EDITION, edition.root))
    assert sorted(register.table["action_kind"]) == ["information", "information", "sortie"]
    del config["vocabularies"]["action_kinds"]
    (edition.inputs / "edition.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError, match="vocabularies.action_kinds"):
        actions.read(Edition.load(EDITION, edition.root))


# --- the figures ----------------------------------------------------------------------------------------------
def test_actions_counted_by_kind_with_participants_agreements_places_and_pupils(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    result = pole_review(edition, actions.read(edition))
    i, b = result.pole["indicators"], result.pole["breakdowns"]
    assert b["actions_by_kind"] == {"Action d'information": 2, "Action de formation": 0, "Action de communication": 0,
                                    "Collaboration entre établissements": 1, "Rapprochement école–entreprise": 1}
    assert i["actions"] == 4 == sum(b["actions_by_kind"].values())
    assert b["participants_by_kind"]["Action d'information"] == 75 and i["participants"] == 143
    assert b["agreements_by_kind"] == {"Accord entre établissements": 1, "Convention de partenariat": 1}
    assert i["agreements"] == 2 and i["conventions_signed"] == 2
    assert b["offers_by_sector"] == {"Artisanat": 1, "Commerce": 1} and b["places_by_sector"] == {"Artisanat": 3, "Commerce": 3}
    assert b["placed_by_school"] == {"Collège A": 2, "LP B": 1} and b["placed_by_basin"] == {"Nord": 2, "Sud": 1}
    assert (i["pupils"], i["placed"], i["offers"], i["places"]) == (4, 3, 2, 6)


def test_without_school_and_basin_columns_the_pupils_placed_are_not_broken_down(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    projects, roster, assignment = small_tables()
    pole = review_pole.compute(edition, actions.read(edition), projects.drop(columns="sector"), projects.drop(columns="sector"),
                               roster.drop(columns=["school", "basin"]), assignment, {}, [])
    assert "placed_by_school" not in pole["breakdowns"] and "placed_by_basin" not in pole["breakdowns"]
    assert pole["breakdowns"]["offers_by_sector"] == {"Entreprise": 2}  # no sector mapped: the structure type


def test_new_and_returning_partners_against_the_earlier_years_of_the_pole(tmp_path):
    earlier = earlier_record("pole-t-2025", "pole-t", "2025-01-13", ["GARAGE  central", "Mairie", "Scierie"],
                             {"Action d'information": 3})
    edition = tiny_pole(tmp_path, REGISTER, records=[earlier])
    i = pole_review(edition, actions.read(edition)).pole["indicators"]
    # partners: the offers' structures (Garage Central, Boulangerie Marchand) and the register's (Mairie, Maison de l'Emploi)
    assert i["partners"] == 4 and i["partners_returning"] == 2 and i["partners_new"] == 2
    alone = tiny_pole(tmp_path / "alone", REGISTER)
    assert pole_review(alone, actions.read(alone)).pole["indicators"]["partners_new"] is None  # nothing to compare


def test_the_earlier_year_side_by_side_and_another_campaign_ignored(tmp_path):
    same = earlier_record("pole-t-2025", "pole-t", "2025-01-13", ["Mairie"], {"Action d'information": 3, "Action de formation": 1})
    other = earlier_record("autre-pole-2025", "autre-pole", "2025-02-03", ["Mairie"], {"Action d'information": 99})
    later = earlier_record("pole-t-2027", "pole-t", "2027-01-11", ["Mairie"], {"Action d'information": 77})
    edition = tiny_pole(tmp_path, REGISTER, records=[same, other, later])
    result = pole_review(edition, actions.read(edition))
    assert [r["edition"] for r in result.earlier] == ["pole-t-2025"]
    table = review.comparison(result, part=review.POLE).set_index("Indicateur")
    assert list(table.columns[:2]) == ["pole-t-2025", EDITION]
    actions_row = table.loc[POLE_SPEC["indicators"]["actions"]["label"]]
    assert (actions_row["pole-t-2025"], actions_row[EDITION]) == (4, 4) and actions_row["Évolution"].startswith("0")
    kinds = review.breakdown(result, "actions_by_kind", part=review.POLE).set_index("Catégorie")
    assert kinds.loc["Action d'information"].tolist() == [3, 2] and kinds.loc["Action de formation"].tolist() == [1, 0]
    assert list(kinds.index)[:2] == ["Action d'information", "Action de formation"]  # the edition's order
    page = review_report.pole_block(result)
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    assert "<th>pole-t-2025</th><th>pole-t</th>" in text and ">99<" not in text and ">77<" not in text
    assert "autre-pole" not in page and page.count("<svg") >= 2 and "4 actions menées (contre 4 en pole-t-2025), dont 2 « Action d&#x27;information »" in page


def test_small_counts_of_pupils_are_suppressed_in_the_pole_tables_and_left_out_of_its_charts(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    result = pole_review(edition, actions.read(edition))
    schools = review.breakdown(result, "placed_by_school", part=review.POLE).set_index("Catégorie")[EDITION].to_dict()
    assert schools == {"Collège A": "< 5", "LP B": "< 5"}
    page = review_report.pole_block(result)
    assert "2 catégories à l&#x27;effectif inférieur à 5 non représentées dans le graphique" in page
    assert "élèves placés sur &lt; 5" in page


def test_the_history_record_keeps_the_pole_figures_and_old_records_stay_readable(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    result = pole_review(edition, actions.read(edition))
    assert result.metrics["pole"] == result.pole and set(result.pole["partner_keys"]) >= {review_pole.partner_key("Mairie")}
    out = edition.outputs / "review"
    out.mkdir(parents=True)
    (out / "metrics.json").write_text(json.dumps(result.metrics, default=str), encoding="utf-8")
    record = history.record(edition)
    assert record["pole"]["indicators"]["actions"] == 4 and "Mairie" not in json.dumps(record, ensure_ascii=False)
    old = json.loads((ROOT / "history" / "demo-2024.json").read_text(encoding="utf-8"))
    assert "pole" not in old
    mixed = review.Review(edition, {}, {}, [old, earlier_record("pole-t-2025", "pole-t", "2025-01-13", [], {})])
    mixed.pole = result.pole
    assert [r["edition"] for r in mixed.part(review.POLE)[1]] == ["pole-t-2025", EDITION]


# --- a campaign without the data: the review as before --------------------------------------------------------
def test_the_demo_review_has_no_pole_bilan_and_reads_no_mapping():
    demo = Edition.load("demo", ROOT)
    stage = next(s for s in demo.stages if s.name == "review")
    assert demo.stage_inputs(stage) == []  # no register: neither it nor the mapping is read (same fingerprint)
    result = review.Review(demo, {"a": 1}, {}, [])
    assert review_report.pole_block(result) == "" and "pole" not in result.metrics
    assert not review_pole.has_data(demo, pd.DataFrame(columns=["learner_id"]), pd.DataFrame(columns=["learner_id"]))


def test_an_edition_with_a_register_reads_it_with_its_mapping(tmp_path):
    edition = tiny_pole(tmp_path, REGISTER)
    stage = next(s for s in edition.stages if s.name == "review")
    assert [p.name for p in edition.stage_inputs(stage)] == ["mapping.yaml", "actions.csv"]
    (edition.inputs / "actions.csv").unlink()
    assert Edition.load(EDITION, edition.root).stage_inputs(stage) == []


# --- the earlier year of the demo pôle ------------------------------------------------------------------------
def test_committed_earlier_pole_year_is_what_the_generator_writes_and_adds_up():
    committed = json.loads((ROOT / "history" / f"{pole_history.NAME}.json").read_text(encoding="utf-8"))
    record = pole_history.record()
    assert committed == json.loads(json.dumps(record))
    pole = Edition.load("demo-pole", ROOT)
    assert record["campaign"] == pole.campaign and record["start"] < history.start_of(pole)  # an earlier year of it
    assert [p.name for p in history.earlier_files("demo-pole", pole.params)] == [f"{pole_history.NAME}.json"]
    i, b = record["pole"]["indicators"], record["pole"]["breakdowns"]
    assert set(i) == set(POLE_SPEC["indicators"]) and set(b) == set(POLE_SPEC["breakdowns"])
    assert sum(b["actions_by_kind"].values()) == i["actions"] and sum(b["participants_by_kind"].values()) == i["participants"]
    assert sum(b["agreements_by_kind"].values()) == i["agreements"]
    assert sum(b["offers_by_sector"].values()) == i["offers"] and sum(b["places_by_sector"].values()) == i["places"]
    assert sum(b["placed_by_school"].values()) == sum(b["placed_by_basin"].values()) == i["placed"] <= i["pupils"]
    assert len(record["pole"]["partner_keys"]) == i["partners"]
    assert not any(name in json.dumps(record, ensure_ascii=False) for name in pole_actions.PARTNERS)


def test_the_demo_register_generator_is_seeded_and_reads_back(tmp_path):
    data = pole_actions.register_csv()
    assert data == pole_actions.register_csv() and data.startswith("Date;Type d'action".encode("cp1252"))
    edition = tiny_pole(tmp_path, None)
    (edition.inputs / "actions.csv").write_bytes(data)
    register = actions.read(Edition.load(EDITION, edition.root))
    assert len(register.table) == sum(pole_actions.COUNTS.values())
    assert register.metrics["rows_rejected"] == len(pole_actions.WRONG) > 0


def test_the_cockpit_mentions_an_absent_register_only_for_an_edition_that_declares_one(tmp_path):
    demo = Edition.load("demo", ROOT)
    stage = demo.params.stage("review")
    assert demo.missing_optional(stage) == []  # not a pôle: nothing « sans registre des actions »
    edition = tiny_pole(tmp_path, None)
    assert edition.missing_optional(stage) == ["actions"]


def test_demo_pole_declares_its_register_as_the_generator_writes_it():
    pole = Edition.load("demo-pole", ROOT)
    assert (pole.inputs / "actions.csv").read_bytes() == pole_actions.register_csv() and pole.has_input("actions")
    assert load_mapping(pole.inputs / "mapping.yaml")["actions"] == pole_actions.mapping_section()
    assert {k: pole.labels(k) for k in (actions.KINDS, actions.AGREEMENTS)} == pole_actions.vocabularies()


# --- the real demo-pole run ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_pole_review_counts_the_actions_by_kind_beside_its_earlier_year_only(pole_run):
    out = pole_run / "outputs" / "demo-pole" / "review"
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    page = (out / "report.html").read_text(encoding="utf-8")
    earlier = pole_history.record()
    assert metrics["earlier_editions"] == [pole_history.NAME]  # no other campaign's record (demo-2024, demo-cnam…)
    register = actions.read(Edition.load("demo-pole", pole_run))
    kinds = pole_actions.KINDS
    expected = {label: int((register.table["action_kind"] == code).sum()) for code, label in kinds.items()}
    assert metrics["pole"]["breakdowns"]["actions_by_kind"] == expected and sum(expected.values()) > 0
    assert metrics["actions_register"] == register.metrics and register.metrics["rows_rejected"] == len(pole_actions.WRONG)
    assert "<h2>Bilan du pôle de stages</h2>" in page and f"<th>{pole_history.NAME}</th><th>demo-pole</th>" in page
    row = re.search(r"<td>Action d(?:'|&#x27;)information</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", page)
    assert row and (int(row.group(1)), int(row.group(2))) == (
        earlier["pole"]["breakdowns"]["actions_by_kind"]["Action d'information"], expected["Action d'information"])
    assert not any(f"<th>{name}</th>" in page for name in ("demo-2024", "demo", "demo-cnam", "demo-askoria"))
    indicators = metrics["pole"]["indicators"]
    assert indicators["partners_returning"] + indicators["partners_new"] == indicators["partners"]
    assert 0 < indicators["partners_returning"] < indicators["partners"]
    assert set(metrics["pole"]["breakdowns"]["placed_by_school"]) == set(pole_actions.SCHOOLS)
    assert sum(metrics["pole"]["breakdowns"]["placed_by_basin"].values()) == indicators["placed"]
    sheets = load_workbook(out / "bilan.xlsx").sheetnames
    assert {"Pôle — indicateurs", "Registre des actions", "Actions rejetées"} <= set(sheets)

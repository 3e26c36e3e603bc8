"""Individual placements (seed 004): the edition's stage list and stage modes, the placements file read
row by row, roster exemptions, the employer rule fix/forbid, per-learner convention deadlines and the
documents an edition tracks — on small tables, without Jupyter."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
import yaml

from pipeline.assign.model import Pair
from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError, StagescoError
from pipeline.io.readers import RawTable
from pipeline.repro import dvcgen
from pipeline.stages import assignment, conventions as cv, placements
from pipeline.stages import signatures as sig
from tests.conftest import ROOT, copy_repo
from tests.test_conventions import make_edition, small_case

CATALOGUE = pd.DataFrame([
    {"project_code": "PAAA1", "title": "Atelier emploi", "tracks": ["LP"], "team_min": 1, "team_max": 1,
     "structure_name": "Mission locale Est"},
    {"project_code": "PBBB2", "title": "Forum", "tracks": ["LP"], "team_min": 1, "team_max": 1,
     "structure_name": "Régie de quartier"},
    {"project_code": "PCCC3", "title": "Chantier", "tracks": ["LP"], "team_min": 1, "team_max": 1,
     "structure_name": "Recyclerie"},
    {"project_code": "PDDD4", "title": "Budget", "tracks": ["LP"], "team_min": 1, "team_max": 1,
     "structure_name": "Recyclerie"},
])
ROSTER = pd.DataFrame([{"learner_id": f"A{i}", "last_name": f"Nom{i}", "first_name": f"Prénom{i}",
                        "email": f"a{i}@x.example", "track": "LP", "employer": None, "source_row": i + 1}
                       for i in range(1, 7)])
FIELDS = {"learner_id": "N° auditeur", "structure_name": "Structure d'accueil", "project_code": "Code offre",
          "tutor_name": "Tuteur", "start_date": "Date de début", "end_date": "Date de fin"}
HEADER = ["N° auditeur", "Structure d'accueil", "Code offre", "Tuteur", "Date de début", "Date de fin"]


def raw(rows: list[list[str]]) -> RawTable:
    return RawTable(file="placements.csv", columns=HEADER, rows=rows, row_numbers=list(range(2, 2 + len(rows))),
                    format="csv")


def run_rows(rows):
    exempted = pd.DataFrame([{"learner_id": "A6", "placement_reason": "dispensé(e) : deux ans d'expérience"}])
    return placements.validate(raw(rows), FIELDS, ROSTER[ROSTER["learner_id"] != "A6"], exempted, CATALOGUE,
                               placements.DATE_FORMATS, "mapping.yaml")


def test_every_placement_row_is_accepted_or_rejected_with_row_column_and_reason():
    placed, rejected = run_rows([
        ["A1", "mission locale  est", "", "Léa Roux", "02/11/2026", "30/03/2027"],   # accepted (name folded)
        ["A2", "Régie de quartier", "", "Jo Bel", "09/11/2026", ""],                 # accepted, no end date
        ["A1", "Régie de quartier", "", "", "09/11/2026", ""],                      # second row of A1
        ["A3", "Recyclerie", "", "", "02/11/2026", ""],                             # two offers: ambiguous
        ["A4", "", "PDDD4", "", "31/02/2026", ""],                                  # impossible date
        ["A5", "", "PZZZ9", "", "02/11/2026", ""],                                  # offer not retained
        ["A6", "Recyclerie", "PCCC3", "", "02/11/2026", ""],                        # exempted learner
        ["B9", "", "PCCC3", "", "02/11/2026", ""],                                  # not in the roster
        ["A3", "", "PCCC3", "", "16/11/2026", "01/11/2026"],                        # end before start
        ["A5", "", "PAAA1", "", "02/11/2026", ""],                                  # offer already full
        ["A4", "", "PDDD4", "", "23/11/2026", "15/03/2027"],                        # accepted
    ])
    assert list(placed["learner_id"]) == ["A1", "A2", "A4"]
    assert list(placed["project_code"]) == ["PAAA1", "PBBB2", "PDDD4"]
    assert placed.loc[0, "start_date"] == pd.Timestamp(2026, 11, 2)
    assert len(placed) + len({r["source_row"] for r in rejected}) == 11  # rows read = accepted + rejected
    by_row = {r["source_row"]: r for r in rejected}
    assert "déjà déclaré" in by_row[4]["reason"] and "ligne 2" in by_row[4]["reason"]
    assert "plusieurs offres" in by_row[5]["reason"] and by_row[5]["column"] == "Structure d'accueil"
    assert by_row[6]["column"] == "Date de début" and "31/02/2026" in by_row[6]["reason"]
    assert "absente des offres retenues" in by_row[7]["reason"] and by_row[7]["column"] == "Code offre"
    assert "dispensé" in by_row[8]["reason"]
    assert "absent de la liste" in by_row[9]["reason"]
    assert "antérieure" in by_row[10]["reason"] and by_row[10]["column"] == "Date de fin"
    assert "effectif maximum" in by_row[11]["reason"]


def test_learners_without_placement_are_listed_with_why():
    placed, rejected = run_rows([["A1", "Mission locale Est", "", "", "02/11/2026", ""],
                                 ["A2", "Inconnue", "", "", "02/11/2026", ""]])
    missing = placements.without_placement(ROSTER[ROSTER["learner_id"] != "A6"], placed, rejected)
    reasons = dict(zip(missing["learner_id"], missing["reason"]))
    assert set(reasons) == {"A2", "A3", "A4", "A5"}
    assert reasons["A2"].startswith("placement rejeté : ligne 3")
    assert reasons["A3"] == "aucun placement dans le fichier des placements"


def test_an_exemption_rule_needs_field_min_and_reason():
    edition = make_edition(applications={"mode": "placements", "exemptions": {"xp": {"field": "experience_years", "min": 1}}})
    with pytest.raises(ConfigError, match="applications.exemptions.xp"):
        placements.exemptions(edition)
    ok = make_edition(applications={"exemptions": {"xp": {"field": "experience_years", "min": 1, "reason": "dispensé"}}})
    assert placements.exemptions(ok) == [placements.Exemption("xp", "experience_years", 1.0, "dispensé")]


# --- the employer rule ------------------------------------------------------------------------------------
def retained_with(structures: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"project_code": [f"P{i}" for i in range(len(structures))], "structure_name": structures})


def test_employer_rule_fix_pairs_a_learner_with_their_structures_offer_and_forbid_keeps_them_out():
    roster = ROSTER.assign(employer=["Recyclerie", None, "régie de QUARTIER", None, None, None])
    retained = retained_with(["Mission locale Est", "Régie de quartier", "Recyclerie"])
    assert assignment.employer_fixed_pairs(roster, retained) == [
        Pair("A1", "P2", assignment.EMPLOYER_FIXED), Pair("A3", "P1", assignment.EMPLOYER_FIXED)]
    assert [(p.learner, p.project) for p in assignment.employer_pairs(roster, retained)] == [("A1", "P2"), ("A3", "P1")]
    with pytest.raises(StagescoError, match="ambiguë") as error:
        assignment.employer_fixed_pairs(roster, retained_with(["Recyclerie", "Recyclerie"]))
    assert "A1" in error.value.problems[0]


def test_employer_rule_setting():
    assert assignment.employer_rule(make_edition(assignment={"employer_rule": "fix"})) == "fix"
    assert assignment.employer_rule(make_edition(assignment={"employer_exclusion": True})) == "forbid"
    assert assignment.employer_rule(make_edition(assignment={"employer_exclusion": False})) == "none"
    with pytest.raises(ConfigError, match="Règle employeur « garder » inconnue"):
        assignment.employer_rule(make_edition(assignment={"employer_rule": "garder"}))


# --- per-learner deadlines and the edition's documents -------------------------------------------------------
DOCUMENTS = [{"key": "accord", "label": "Accord pédagogique", "who": "l'accord pédagogique", "kind": "document"},
             {"key": "host_signed", "label": "Signature de la structure", "who": "la structure d'accueil"},
             {"key": "school_signed", "label": "Signature du Cnam", "who": "le Cnam"}]


def test_each_convention_is_late_against_its_own_learners_start():
    edition = make_edition(conventions={"min_lead_days": 12, "documents": DOCUMENTS})
    projects, roster, assignment_ = small_case()
    outcomes = pd.DataFrame({"learner_id": ["T001", "T002", "T003", "T004", "T005", "T009"],
                             "start_date": pd.to_datetime(["2026-01-05", "2026-01-19", "2026-01-12", "2026-02-02",
                                                           "2026-02-02", "2026-02-02"]),
                             "end_date": pd.to_datetime([None] * 6)})
    days = cv.deadlines(edition, cv.settings(edition), projects, assignment_, outcomes)
    # PAAA1: its earliest learner starts 5 January; PCCC3 has no placement: calendar.start (1 December 2025)
    assert days == {"PAAA1": date(2025, 12, 24), "PBBB2": date(2026, 1, 21), "PCCC3": date(2025, 11, 19)}
    config = cv.settings(edition)
    on_time = sig.signature_status({"accord": date(2026, 1, 2), "host_signed": date(2026, 1, 10),
                                   "school_signed": date(2026, 1, 20)}, days["PBBB2"], config)
    assert not on_time["late"] and not on_time["out_of_order"]  # late by calendar.start, on time by its own start
    late = sig.signature_status({"accord": date(2026, 1, 2), "host_signed": date(2026, 1, 10),
                                "school_signed": date(2026, 1, 22)}, days["PBBB2"], config)
    assert late["late"] and "22/01/2026" in late["details"] and "21/01/2026" in late["details"]
    before = sig.signature_status({"accord": date(2026, 1, 12), "host_signed": date(2026, 1, 10),
                                  "school_signed": None}, days["PBBB2"], config)
    assert before["out_of_order"] and "avant l'accord pédagogique (12/01/2026)" in before["details"]
    assert "signature manquante : le Cnam" in before["details"]
    missing = sig.signature_status({"accord": None, "host_signed": None, "school_signed": None}, days["PBBB2"], config)
    assert "pièce manquante : l'accord pédagogique" in missing["details"]


def test_the_tracking_workbook_has_the_editions_documents_and_each_rows_deadline():
    edition = make_edition(conventions={"min_lead_days": 12, "documents": DOCUMENTS})
    projects, roster, assignment_ = small_case()
    outcomes = pd.DataFrame({"learner_id": ["T001", "T002", "T003"],
                             "start_date": pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-19"]),
                             "end_date": pd.to_datetime(["2026-04-30", None, None])})
    sheet = sig.tracking_sheets(projects, assignment_, edition, outcomes)[0]
    assert list(sheet.frame.columns)[-5:] == ["deadline", "accord", "host_signed", "school_signed", "notes"]
    assert list(sheet.frame["deadline"]) == ["24/12/2025", "19/11/2025", "19/11/2025"]
    context = cv.convention_context(projects.iloc[0].to_dict(), roster.head(1), edition, cv.settings(edition),
                                    cv.periods(edition, projects, assignment_, outcomes)["PAAA1"])
    assert context["period"] == {"start": "5 janvier 2026", "end": "30 avril 2026"}
    assert context["deadline"] == "24 décembre 2025"
    assert context["signature_order"] == "la structure d'accueil, puis le Cnam"
    assert [d["label"] for d in context["documents"]] == ["Accord pédagogique"]


def test_documents_are_checked():
    for bad in ([{"key": "Accord!", "label": "x", "who": "y"}], [{"key": "a", "label": "x"}],
                [{"key": "notes", "label": "x", "who": "y"}], [{"key": "a", "label": "x", "who": "y", "kind": "pdf"}]):
        with pytest.raises(ConfigError, match="conventions.documents"):
            cv.settings(make_edition(conventions={"documents": bad}))


def test_the_default_template_wording_fits_any_campaign():
    """Without words from the edition, a convention speaks of a stage in a structure d'accueil, never of a
    stage collectif (a campaign's words come from its edition.yaml)."""
    edition = make_edition()
    config = dict(edition.config)
    config["conventions"] = {k: v for k, v in config["conventions"].items() if k not in ("wording", "clauses")}
    edition.config = config
    projects, roster, assignment_ = small_case()
    team = cv.team_table(assignment_, roster)
    text = docx_text(cv.render_convention(projects.iloc[0].to_dict(), team[team["project_code"] == "PAAA1"], edition))
    assert "stage collectif" not in text
    assert "Convention de stage" in text and "la structure d'accueil" in text and "tuteur" in text


def docx_text(data: bytes) -> str:
    import io
    import re
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    return re.sub(r"<[^>]+>", "", xml.replace("</w:p>", "\n"))


# --- the edition's stage list and modes -------------------------------------------------------------------
def test_an_edition_lists_its_stages_and_dvc_yaml_follows(tmp_path):
    root = copy_repo(tmp_path / "repo")
    config = root / "inputs" / "demo-cnam" / "edition.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["stages"] = ["projects", "eligibility", "commission", "applications", "assignment", "conventions"]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    edition = Edition.load("demo-cnam", root)
    assert [s.name for s in edition.stages] == data["stages"]
    assert edition.stage_mode(edition.params.stage("applications")) == "placements"
    assert [p.name for p in edition.stage_inputs(edition.params.stage("applications"))] == [
        "mapping.yaml", "promotion.csv", "placements.csv", "cle_pseudonymes.txt"]
    stages = yaml.safe_load(dvcgen.generate(root))["stages"]
    assert stages["eligibility"]["foreach"] == "${editions}"         # every edition, same files (none)
    assert stages["projects"]["foreach"]["demo-pole"]["need1"] == "inputs/demo-pole/bassins.csv"  # a pôle's own input
    assert "demo-cnam" not in stages["evaluation"]["foreach"] and "demo" in stages["evaluation"]["foreach"]
    applications = stages["applications"]
    assert applications["foreach"]["demo-cnam"]["need1"] == "inputs/demo-cnam/placements.csv"
    assert applications["foreach"]["demo"]["need1"] == "inputs/demo/candidatures_moodle.csv"
    assert "${item.need1}" in applications["do"]["deps"]
    assert {"notebooks/40_applications.ipynb", "notebooks/40_placements.ipynb"} <= set(applications["do"]["deps"])
    data["stages"] = ["projects", "evaluations"]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="evaluations"):
        Edition.load("demo-cnam", root).stages


def test_an_unknown_mode_is_refused():
    edition = make_edition(applications={"mode": "tirage"})
    with pytest.raises(ConfigError, match="Mode « tirage » inconnu"):
        edition.stage_needs(edition.params.stage("applications"))


def test_start_dates_spread(tmp_path):
    """Sanity of the demo generator: learners start on several days, so deadlines differ per learner."""
    from pipeline.demo import cnam

    assert len(set(cnam.start_dates())) > 3 and min(cnam.start_dates()) >= date(2026, 11, 2)
    assert max(cnam.start_dates()) - min(cnam.start_dates()) >= timedelta(weeks=4)


def test_demo_cnam_inputs_are_what_the_seeded_generator_writes():
    from pipeline.demo import cnam

    for name, data in cnam.demo_files(ROOT).items():
        assert (ROOT / "inputs" / cnam.EDITION / name).read_bytes() == data, f"run `make demo`: {name} is stale"

"""A pôle de stages (seeds 002–003, issue 15): schools, basins, fewer places than pupils, offers per pupil.

Small tables first (no Jupyter, no DVC), then the real run of ``demo-pole`` (session fixture ``pole_run``)."""

from __future__ import annotations

import html
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.assign.model import Instance, Learner, Project, Solution
from pipeline.contract.errors import ConfigError
from pipeline.io.readers import read_table
from pipeline.contract.config import Edition
from pipeline.io.territory import BasinError, BasinTable, basins_of, commune_key, read_schools
from pipeline.stages import applications as app
from pipeline.stages import pole

BASINS = BasinTable("bassins.csv", pd.DataFrame({
    "insee_code": ["54329", "54366", "54528", "54175", "99001", "99002"],
    "postcode": ["54300", "54300", "54200", "54200", "99100", "99100"],
    "city": ["Lunéville", "Moncel-lès-Lunéville", "Toul", "Écrouves", "Saint-Jean-du-Bois", "Sainte-Anne"],
    "basin": ["LUN", "LUN", "TOU", "TOU", "NOR", "SUD"],
    "basin_name": ["Bassin de Lunéville", "Bassin de Lunéville", "Bassin de Toul", "Bassin de Toul", "Nord", "Sud"],
    "source_row": [2, 3, 4, 5, 6, 7]}))


# --- basins ----------------------------------------------------------------------------------------------
def test_a_commune_gets_its_basin_by_insee_code_else_postcode_else_its_name():
    assert BASINS.find("54300", "Lunéville") == ("LUN", "")
    assert BASINS.find("54200", "n'importe quel nom") == ("TOU", "")  # one basin behind the postcode
    assert BASINS.find(None, None, insee="54528") == ("TOU", "")
    # a postcode shared by communes of two basins: the commune's name decides, « St- » and « Saint- » alike
    assert BASINS.find("99100", "St Jean du Bois") == ("NOR", "")
    assert BASINS.find("99100", "STE-ANNE") == ("SUD", "")
    basin, reason = BASINS.find("99100", "Ailleurs")
    assert basin is None and "plusieurs bassins (NOR, SUD)" in reason and "Ailleurs" in reason
    assert commune_key("St-Nicolas-de-Port") == commune_key("Saint Nicolas de Port") == "saint nicolas de port"


def test_a_commune_the_table_lacks_stops_with_file_row_commune_and_what_to_do():
    offers = pd.DataFrame({"structure_name": ["Garage des Bosquets", "Scierie des Vosges"], "postcode": ["54300", "88700"],
                           "city": ["Lunéville", "Rambervillers"], "source_row": [4, 9]})
    with pytest.raises(BasinError) as caught:
        basins_of(BASINS, offers, file="offres.tsv", what="offre de", name_column="structure_name")
    error = caught.value
    assert error.file == "offres.tsv"
    assert error.problems == ["ligne 9 : offre de « Scierie des Vosges », commune « Rambervillers » (88700) : code postal "
                              "88700 absent de la table des bassins"]
    assert "Ajoutez chaque commune à bassins.csv" in error.hint
    assert basins_of(BASINS, offers.iloc[:1], file="offres.tsv", what="offre de", name_column="structure_name") == ["LUN"]


# --- schools: the roster -------------------------------------------------------------------------------------
SCHOOLS = pd.DataFrame({"school": ["0540055Y", "0540077X"], "school_name": ["Collège A", "Lycée B"],
                        "signatory": ["Claire Marchal", "Hervé Colin"], "signatory_title": ["Principale", "Proviseur"],
                        "address": ["3 rue de la Charité", "12 avenue Victor-Hugo"], "postcode": ["54300", "54200"],
                        "city": ["Lunéville", "Toul"], "basin": ["LUN", "TOU"]})
ROSTER_FIELDS = {"last_name": "Nom", "first_name": "Prénom", "learner_id": "INE", "email": "Courriel",
                 "track": "Formation", "school": "UAI", "birth_date": "Né(e) le"}


def test_a_pupil_gets_the_basin_of_their_school_and_an_unknown_school_rejects_the_row(tmp_path):
    path = tmp_path / "promotion.csv"
    path.write_text("Nom;Prénom;INE;Courriel;Formation;UAI;Né(e) le\n"
                    "ANDRÉ;Salomé;A1;a@x.example;3E;0540055Y;14/11/2011\n"
                    "BRUN;Manon;B2;b@x.example;PFMP;0540077X;03/05/2008\n"
                    "COLIN;Inès;C3;c@x.example;3E;0549999Z;01/01/2012\n"
                    "DUPONT;Léo;D4;d@x.example;3E;0540055Y;31/02/2012\n", encoding="utf-8")
    roster, rejected = app.parse_roster(read_table(path), ROSTER_FIELDS, {"3E": "3e", "PFMP": "PFMP"},
                                        schools=SCHOOLS, date_formats=["%d/%m/%Y"])
    assert list(roster["learner_id"]) == ["A1", "B2"] and list(roster["basin"]) == ["LUN", "TOU"]
    assert roster["birth_date"].tolist() == [pd.Timestamp(2011, 11, 14), pd.Timestamp(2008, 5, 3)]
    reasons = dict(zip(rejected["learner_id"], rejected["reason"]))
    assert reasons["C3"] == "établissement « 0549999Z » absent de la liste des établissements de l'édition"
    assert "n'est pas une date reconnue" in reasons["D4"] and set(rejected["source_row"]) == {4, 5}


def test_an_edition_without_schools_keeps_its_roster_columns(tmp_path):
    path = tmp_path / "promotion.csv"
    path.write_text("Nom;Prénom;INE;Courriel;Formation\nANDRÉ;Salomé;A1;a@x.example;3E\n", encoding="utf-8")
    fields = {k: v for k, v in ROSTER_FIELDS.items() if k not in ("school", "birth_date")}
    roster, _ = app.parse_roster(read_table(path), fields, {"3E": "3e"})
    assert list(roster.columns) == ["learner_id", "last_name", "first_name", "email", "track", "employer", "source_row"]


def test_a_choice_of_another_basin_is_dropped_with_its_reason():
    catalogue = pd.DataFrame({"project_code": ["PLUN1", "PTOU1"], "title": ["Fournil", "Garage"],
                              "tracks": [["APP"], ["APP"]], "team_min": [1, 1], "team_max": [2, 2], "basin": ["LUN", "TOU"]})
    projects = app.ProjectIndex(app.as_catalogue(catalogue))
    choices = pd.DataFrame({"rank": [1, 2], "column": ["Choix n°1", "Choix n°2"], "choice": ["PTOU1 – Garage", "PLUN1 – Fournil"],
                            "value": ["PTOU1 – Garage", "PLUN1 – Fournil"]})
    kept, problems = app.rank_choices(choices, "APP", projects, export=None, basin="LUN")
    assert kept == ["PLUN1"]
    assert problems[0][2].startswith("offre PTOU1 (bassin TOU), hors du bassin de l'élève (bassin LUN)")
    assert app.rank_choices(choices, "APP", projects, export=None)[0] == ["PTOU1", "PLUN1"]  # no basin rule


# --- minors, conventions per school ----------------------------------------------------------------------
def test_a_pupil_is_a_minor_until_the_day_of_their_birthday_of_majority():
    assert pole.is_minor(datetime(2008, 12, 14), date(2026, 12, 13), 18)
    assert not pole.is_minor(datetime(2008, 12, 14), date(2026, 12, 14), 18)
    assert pole.is_minor(pd.Timestamp(2008, 2, 29), date(2026, 2, 28), 18)
    assert not pole.is_minor(pd.Timestamp(2008, 2, 29), date(2026, 3, 1), 18)
    assert not pole.is_minor(pd.NaT, date(2026, 1, 1), 18)


def test_the_age_of_majority_comes_from_the_edition_else_from_params_and_an_implausible_one_is_refused():
    from types import SimpleNamespace

    from pipeline.contract.config import Params

    params = Params.load(Path(__file__).resolve().parents[1])

    def edition(conventions):
        return SimpleNamespace(name="x", config={"conventions": conventions}, params=params)

    assert pole.age_of_majority(edition({})) == params.data["conventions"]["age_of_majority"] == 18
    assert pole.age_of_majority(edition({"age_of_majority": 16})) == 16
    for wrong in (7, "18", True, 30):
        with pytest.raises(ConfigError) as error:
            pole.age_of_majority(edition({"age_of_majority": wrong}))
        assert "conventions.age_of_majority" in str(error.value) and "entre 10 et 25" in error.value.hint


def test_each_school_signs_its_own_convention_and_a_template_without_guardians_is_refused():
    conventions = pd.DataFrame({"project_code": ["P1", "P2"], "convention_id": ["P1", "P2"]})
    assignment = pd.DataFrame({"learner_id": ["a", "b", "c"], "project_code": ["P1", "P1", "P2"],
                               "school": ["0540055Y", "0541911K", "0541911K"]})
    split = pole.per_school(conventions, assignment)
    assert list(split["convention_id"]) == ["P1-0540055Y", "P1-0541911K", "P2-0541911K"]
    assert pole.per_school(conventions, assignment.drop(columns="school")) is conventions
    schools = {r["school"]: r for r in SCHOOLS.to_dict("records")}
    signer = pole.signing_school({"school": "0540077X"}, schools, {"name": "Pôle", "email": "pole@x.example"})
    assert signer == {"name": "Lycée B", "address": "12 avenue Victor-Hugo, 54200 Toul", "email": "pole@x.example",
                      "signatory": "Hervé Colin", "signatory_title": "Proviseur"}
    with pytest.raises(ConfigError, match="représentant légal"):
        pole.guardians_needed("<w:t>{{ school.name }}</w:t>", 2, "convention.docx")
    pole.guardians_needed("<w:t>{{ school.name }}</w:t>", 0, "convention.docx")  # no minor: any template


# --- fewer places than pupils ------------------------------------------------------------------------------
def solution(assignment: dict[str, str], opened: set[str]) -> Solution:
    return Solution(assignment=assignment, opened=tuple(sorted(opened)), closed=(), ranks={}, rank_profile=(0, 0, 0),
                    worst_rank=0, objective="egalitarian", objective_vector=(), lottery_value=0, lottery_draw=0,
                    optimal=True, gap=0.0, status="optimale", solve_time=0.0)


def test_an_unplaced_pupil_is_told_which_wishes_were_full_and_the_open_offers_of_their_basin():
    instance = Instance(learners=(Learner("a", "3E", ("P1",)), Learner("b", "3E", ("P1", "P2")), Learner("c", "3E", ())),
                        projects=(Project("P1", 1, 1, frozenset({"3E"})), Project("P2", 1, 1, frozenset({"3E"})),
                                  Project("P3", 1, 2, frozenset({"PFMP"})), Project("P4", 1, 3, frozenset({"3E"}))),
                        ranks=2)
    placed = solution({"a": "P1", "b": "P2"}, {"P1", "P2"})
    roster = pd.DataFrame({"learner_id": ["a", "b", "c"], "last_name": ["A", "B", "C"], "first_name": ["x", "y", "z"],
                           "school": ["S1", "S1", "S2"], "basin": ["LUN", "LUN", "LUN"], "track": ["3E"] * 3})
    retained = pd.DataFrame({"project_code": ["P1", "P2", "P3", "P4"], "title": ["Un", "Deux", "Trois", "Quatre"],
                             "basin": ["LUN", "LUN", "LUN", "TOU"]})
    missing = pole.unplaced(instance, placed, roster, retained)
    assert list(missing["learner_id"]) == ["c"]
    assert missing.loc[0, "unplaced_reason"].startswith("aucun vœu valable")
    assert missing.loc[0, "open_offers"] == "P3 – Trois (2 places, PFMP)"  # P4 has room, but in another basin
    placed = solution({"a": "P1"}, {"P1"})
    b = pole.unplaced(instance, placed, roster, retained).set_index("learner_id").loc["b"]
    assert b["unplaced_reason"] == ("ses vœux étaient tous complets : P1 (1er vœu) complète (1 place prise sur 1) ; "
                           "P2 (2e vœu) fermée (pas assez d'élèves pour son minimum)")
    table = pd.DataFrame({"learner_id": ["a"], "school": ["S1"], "basin": ["LUN"]})
    counts = pole.placement_counts(table, pole.unplaced(instance, placed, roster, retained))
    assert counts == {"placed_by_basin": {"LUN": 1}, "unplaced_by_basin": {"LUN": 2},
                      "placed_by_school": {"S1": 1, "S2": 0}, "unplaced_by_school": {"S1": 1, "S2": 1}}


# --- offers per pupil ---------------------------------------------------------------------------------------
def test_offers_per_pupil_divide_the_places_of_a_basin_by_the_pupils_of_that_basin():
    retained = pd.DataFrame({"project_code": ["P1", "P2", "P3"], "basin": ["LUN", "LUN", "TOU"],
                             "decided_team_max": [4, 2, 3], "tracks_open": [["3E"], ["3E", "APP"], ["PFMP"]]})
    roster = pd.DataFrame({"learner_id": list("abcdefg"), "basin": ["LUN"] * 4 + ["TOU"] * 3,
                           "school": ["C", "C", "C", "F", "L", "L", "L"], "track": ["3E", "3E", "3E", "APP", "PFMP", "PFMP", "PFMP"]})
    ratios = pole.offers_per_pupil(retained, roster)
    assert ratios["by_basin"] == {"LUN": 1.5, "TOU": 1.0}   # 6 places / 4 pupils ; 3 / 3
    assert ratios["overall"] == {"ensemble": round(9 / 7, 2)}
    assert ratios["by_school"] == {"C": 2.0, "F": 2.0, "L": 1.0}  # C: 6 places open to 3E ÷ 3 ; F: 2 open to APP ÷ 1
    assert ratios["by_track"] == {"3E": 2.0, "APP": 2.0, "PFMP": 1.0}


# --- the real run of demo-pole -------------------------------------------------------------------------------
def html_text(path: Path) -> str:
    """A page's text as a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def sheet_ids(path: Path, sheet: str) -> list[str]:
    rows = list(load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))
    column = rows[0].index("Identifiant apprenant")
    return [str(r[column]) for r in rows[1:] if r[column]]


@pytest.fixture(scope="module")
def run(pole_run) -> dict:
    out = pole_run / "outputs" / "demo-pole"
    return {"out": out, "roster": pd.read_parquet(out / "applications" / "promotion.parquet"),
            "placed": pd.read_parquet(out / "assignment" / "affectations.parquet"),
            "retained": pd.read_parquet(out / "commission" / "projets_retenus.parquet"),
            "schools": read_schools(Edition.load("demo-pole", pole_run)),
            "metrics": {stage: json.loads((out / stage / "metrics.json").read_text(encoding="utf-8"))
                        for stage in ("applications", "assignment", "review")}}


@pytest.mark.slow
def test_demo_pole_offers_per_pupil_of_a_basin_are_its_places_over_its_pupils(run):
    retained = run["retained"][run["retained"]["decision_code"] == "retained"]
    roster = run["roster"]
    by_basin = run["metrics"]["review"]["breakdowns"]["offers_per_pupil_by_basin"]
    assert set(by_basin) == {"LUN", "TOU"}
    for basin, ratio in by_basin.items():
        places = int(retained.loc[retained["basin"] == basin, "decided_team_max"].sum())
        assert ratio == round(places / int((roster["basin"] == basin).sum()), 2)
    assert 1.4 <= len(roster) / int(retained["decided_team_max"].sum()) <= 1.8  # about 1.6 pupils per place
    report = (run["out"] / "review" / "report.html").read_text(encoding="utf-8")
    assert "Offres par élève du bassin (places du bassin ÷ élèves du bassin)" in report
    assert run["metrics"]["review"]["earlier_editions"] == [] or all(
        e.startswith("demo-pole") for e in run["metrics"]["review"]["earlier_editions"])


@pytest.mark.slow
def test_demo_pole_lists_every_unplaced_pupil_with_a_reason_and_the_open_offers_of_their_basin(run):
    m = run["metrics"]["assignment"]
    roster, placed = run["roster"], run["placed"]
    unplaced = sheet_ids(run["out"] / "assignment" / "affectations.xlsx", "Élèves sans stage")
    assert m["unassigned"] == len(unplaced) > 0 and m["assigned"] == len(placed)
    assert sorted(unplaced + list(placed["learner_id"])) == sorted(roster["learner_id"])
    assert sum(m["unplaced_by_basin"].values()) == sum(m["unplaced_by_school"].values()) == len(unplaced)
    rows = list(load_workbook(run["out"] / "assignment" / "affectations.xlsx", read_only=True)["Élèves sans stage"]
                .iter_rows(values_only=True))
    header = rows[0]
    for row in rows[1:]:
        record = dict(zip(header, row))
        assert record["Pourquoi pas de stage"].startswith(("ses vœux étaient tous complets : ", "aucun vœu valable"))
        assert record["Offres du bassin encore ouvertes"]  # the open offers, or « aucune offre du bassin… »
    # no pupil placed outside their basin
    basins = dict(zip(run["retained"]["project_code"], run["retained"]["basin"]))
    assert all(basins[p] == b for p, b in zip(placed["project_code"], placed["basin"]))
    report = (run["out"] / "assignment" / "report.html").read_text(encoding="utf-8")
    assert "Élèves sans stage" in report and "Offres du bassin encore ouvertes" in report
    warnings = json.loads((run["out"] / "assignment" / "warnings.json").read_text(encoding="utf-8"))
    assert f"{len(unplaced)} élèves sans stage faute de places" in " ".join(warnings)


@pytest.mark.slow
def test_demo_pole_each_school_workbook_holds_only_its_own_pupils(run):
    roster = run["roster"]
    folder = run["out"] / "assignment" / "outbox" / "etablissements"
    seen = []
    for school in sorted(set(roster["school"])):
        path = folder / f"{school}.xlsx"
        ids = sheet_ids(path, "Élèves placés") + sheet_ids(path, "Élèves sans stage")
        assert ids and set(ids) <= set(roster.loc[roster["school"] == school, "learner_id"])
        seen += ids
    assert sorted(seen) == sorted(roster["learner_id"]) and len(list(folder.iterdir())) == 3


@pytest.mark.slow
def test_demo_pole_pages_and_workbooks_name_schools_and_basins_never_by_their_codes(run):
    """The commission reads « Collège Jules-Ferry (fictif) » and « Bassin de Lunéville », not 0540055Y and LUN: in
    the candidatures, affectation and bilan pages, in the sheet of unplaced pupils and in each school's workbook."""
    schools = run["schools"]
    names = dict(zip(schools["school"], schools["school_name"]))
    basins = {"LUN": "Bassin de Lunéville", "TOU": "Bassin de Toul"}
    for stage in ("applications", "assignment", "review"):
        text = html_text(run["out"] / stage / "report.html")
        assert not [code for code in [*names, *basins] if re.search(rf"\b{code}\b", text)], stage
        assert all(name in text for name in names.values()), stage
    assert all(name in html_text(run["out"] / "assignment" / "report.html") for name in basins.values())
    rows = list(load_workbook(run["out"] / "assignment" / "affectations.xlsx", read_only=True)["Élèves sans stage"]
                .iter_rows(values_only=True))
    header = rows[0]
    shown = {(dict(zip(header, row))["Établissement"], dict(zip(header, row))["Bassin"]) for row in rows[1:]}
    assert shown and {school for school, _ in shown} <= set(names.values()) and {b for _, b in shown} <= set(basins.values())
    for code, name in names.items():
        book = load_workbook(run["out"] / "assignment" / "outbox" / "etablissements" / f"{code}.xlsx", read_only=True)
        rows = list(book["Élèves sans stage"].iter_rows(values_only=True))
        assert all(dict(zip(rows[0], row))["Établissement"] == name for row in rows[1:])


@pytest.mark.slow
def test_demo_pole_a_minor_s_convention_has_the_legal_representative_s_line(run):
    roster, placed = run["roster"].set_index("learner_id"), run["placed"]
    folder = run["out"] / "conventions" / "conventions"
    minors = adults = 0
    for path in sorted(folder.glob("convention_*.docx")):
        code, school = path.stem.removeprefix("convention_").split("-")
        team = placed[(placed["project_code"] == code) & (placed["school"] == school)]
        with zipfile.ZipFile(path) as archive:
            text = archive.read("word/document.xml").decode("utf-8")
        assert not team.empty
        first_day = pd.Timestamp(run["retained"].set_index("project_code").loc[code, "period_start"]).date()
        for learner in team.itertuples():
            name = f"{learner.first_name} {learner.last_name}"
            assert name in text
            minor = pole.is_minor(roster.loc[learner.learner_id, "birth_date"], first_day, 18)
            minors += minor
            adults += not minor
            assert (f"{name} (né(e) le" in text) == minor
        assert ("Représentant légal de l'élève" in text) == any(
            pole.is_minor(roster.loc[i, "birth_date"], first_day, 18) for i in team["learner_id"])
        school_row = run["schools"].set_index("school").loc[school]
        assert f"représenté par {school_row['signatory']}" in text  # each school signs for its own pupils
    assert minors > 0 and adults > 0

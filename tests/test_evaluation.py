"""Stage 70: the référents' evaluation workbooks (generated, filled, read back with their errors) and the
juries (constraints checked independently of the solver, balance proven by a max-flow, infeasibility
explained), plus the demo's follow-up files."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from openpyxl import load_workbook
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from pipeline.contract.errors import ConfigError
from pipeline.io.normalise import fold
from pipeline.io.workbook import write_workbook
from pipeline.demo import followup
from pipeline.stages import evaluation as ev
from pipeline.stages import juries as ju
from tests.test_conventions import case, demo_inputs, edition, make_edition, small_case  # noqa: F401 (fixtures)


def blank(tmp_path, edition, case) -> dict:
    """The generated workbooks written under ``tmp_path/evaluations``; ``{code: path}``."""
    projects, roster, assignment = case
    folder = tmp_path / "evaluations"
    return {name.removesuffix(".xlsx"): write_workbook(folder / name, sheets)
            for name, sheets in ev.blank_workbooks(projects, assignment, roster, edition).items()}


def fill(path, grades: dict[tuple[int, str], object] | None = None, *, default: str | None = "acquis",
         rows: dict[int, str] | None = None):
    """Fill every grade cell with ``default``, then ``grades`` {(row, code): value}; ``rows`` sets the
    identifier of a row."""
    workbook = load_workbook(path)
    sheet = workbook["Évaluation"]
    header = [c.value for c in sheet[1]]
    codes = {h.split(" ")[0]: i + 1 for i, h in enumerate(header) if h and h[:2] == "BC"}
    for r in range(2, sheet.max_row + 1):
        for col in codes.values():
            sheet.cell(r, col).value = default
    for (r, code), value in (grades or {}).items():
        sheet.cell(r, codes[code]).value = value
    for r, learner_id in (rows or {}).items():
        sheet.cell(r, 1).value = learner_id
    workbook.save(path)
    return path


# --- the generated workbook ------------------------------------------------------------------------------
def test_workbook_has_one_column_per_targeted_competence_with_the_levels(tmp_path, edition, case):
    paths = blank(tmp_path, edition, case)
    assert sorted(paths) == ["PAAA1", "PBBB2", "PCCC3"]
    sheet = load_workbook(paths["PAAA1"])["Évaluation"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Identifiant apprenant", "Nom", "Prénom", "Filière"]
    assert [h.split(" — ")[0] for h in header[4:7]] == ["BC1", "BC4", "BC7"]  # vocabulary order
    assert header[4] == "BC1 — Organiser le cadre adapté à la rencontre" and header[7] == "Observations du référent"
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == ["T003", "T002", "T001"]  # by name
    rules = sheet.data_validations.dataValidation
    assert len(rules) == 3 and all(rule.formula1 == '"non acquis,en cours d\'acquisition,acquis"' for rule in rules)
    assert sheet.cell(2, 1).protection.locked and not sheet.cell(2, 5).protection.locked


def test_finer_granularity_lists_the_items_of_each_block(case):
    edition = make_edition(evaluation={"competences": {"BC1": {"BC1.1": "Accueillir", "BC1.2": "Poser le cadre"}}})
    config = ev.settings(edition)
    assert ev.competence_columns(["BC4", "BC1"], config) == [
        ("BC1.1", "Accueillir"), ("BC1.2", "Poser le cadre"), ("BC4", "Concevoir un projet socio-éducatif")]


@pytest.mark.parametrize("levels, words", [
    (["acquis"], "au moins deux"), (["acquis", "Acquis "], "deux fois"), (["a, b", "c"], "ni virgule")])
def test_bad_levels_are_refused(levels, words):
    with pytest.raises(ConfigError, match=words):
        ev.settings(make_edition(evaluation={"levels": levels}))


# --- reading back --------------------------------------------------------------------------------------------
def test_round_trip_counts_missing_grades_and_files(tmp_path, edition, case):
    projects, roster, assignment = case
    paths = blank(tmp_path, edition, case)
    fill(paths["PAAA1"], {(2, "BC4"): None, (3, "BC7"): "  EN COURS d’acquisition ", (4, "BC1"): "non acquis"})
    fill(paths["PBBB2"])
    paths["PCCC3"].unlink()  # not received
    result = ev.read_evaluations(tmp_path / "evaluations", edition, projects, assignment, roster)
    assert result.metrics == {"learners": 9, "learners_evaluated": 6, "learners_complete": 5, "grades_expected": 9 + 6 + 9,
                              "grades_entered": 14, "grades_missing": 10, "evaluations_missing": 1}
    r = result.results.set_index(["learner_id", "competence"])
    assert r.loc[("T002", "BC7"), "level"] == "en cours d'acquisition" and r.loc[("T002", "BC7"), "level_rank"] == 1
    assert r.loc[("T001", "BC1"), "level"] == "non acquis" and r.loc[("T001", "BC1"), "source_row"] == 4
    assert pd.isna(r.loc[("T003", "BC4"), "level"])
    text = "\n".join(result.warnings)
    assert "evaluations/PAAA1.xlsx, ligne 2, colonne « BC4 — Concevoir un projet socio-éducatif » : évaluation " \
           "manquante pour Capucine Éluard" in text
    assert "evaluations/PCCC3.xlsx : classeur d'évaluation non reçu (3 apprenants) — 9 évaluations manquantes" in text
    wide = ev.per_learner(result).set_index("learner_id")
    assert wide.loc["T003", "grades_missing"] == 1 and wide.loc["T004", "BC2"] == "acquis"
    assert pd.isna(wide.loc["T004", "BC1"])  # not targeted by PBBB2
    summary = ev.by_competence(result, ev.settings(edition)).set_index("competence")
    assert summary.loc["BC1", "non acquis"] == 1 and summary.loc["BC5", "missing"] == 3


def test_blocking_problems_name_file_row_and_column(tmp_path, edition, case):
    projects, roster, assignment = case
    paths = blank(tmp_path, edition, case)
    fill(paths["PAAA1"], {(2, "BC1"): "très bien"}, rows={3: "T999"})  # level off the list, unknown learner
    fill(paths["PBBB2"], rows={2: "T006", 3: "T009"})  # T006 is in PCCC3's team; T009 twice now
    workbook = load_workbook(paths["PCCC3"])
    workbook["Évaluation"].delete_cols(6)  # the BC6 column is gone
    workbook.save(paths["PCCC3"])
    with pytest.raises(ev.EvaluationWorkbookError) as info:
        ev.read_evaluations(tmp_path / "evaluations", edition, projects, assignment, roster)
    message = str(info.value)
    assert "5 problèmes bloquants" in message
    assert "evaluations/PAAA1.xlsx, ligne 2, colonne « BC1 — Organiser le cadre adapté à la rencontre » : niveau " \
           "« très bien » hors liste (non acquis, en cours d'acquisition, acquis)" in message
    assert "evaluations/PAAA1.xlsx, ligne 3 : apprenant T999 inconnu (absent de la promotion)" in message
    assert "evaluations/PBBB2.xlsx, ligne 2 : l'apprenant T006 (Evan Lemasson) n'est pas dans l'équipe du projet PBBB2" in message
    assert "evaluations/PBBB2.xlsx, ligne 4 : apprenant T009 déjà évalué ligne 3" in message
    assert "evaluations/PCCC3.xlsx : colonne « BC6 — S'inscrire dans un travail d'équipe" in message


def test_a_file_that_is_not_a_workbook_is_a_blocking_problem(tmp_path, edition, case):
    projects, roster, assignment = case
    paths = blank(tmp_path, edition, case)
    for path in paths.values():
        fill(path)
    paths["PBBB2"].write_bytes(b"ceci n'est pas un classeur")
    with pytest.raises(ev.EvaluationWorkbookError, match=r"(?s)1 problème bloquant.*illisible.*evaluations/PBBB2.xlsx"):
        ev.read_evaluations(tmp_path / "evaluations", edition, projects, assignment, roster)


# --- juries: checked independently of the solver ------------------------------------------------------------------
def jury_case(n_projects: int, structures: list[str], emails_of: dict[int, int] | None = None):
    """Projects P00..; volunteers V0.. whose structure is ``structures[i]`` (a project's structure is
    ``S<k>``); ``emails_of`` makes volunteer i the référent of project k."""
    projects = pd.DataFrame({"project_code": [f"P{k:02d}" for k in range(n_projects)],
                             "title": [f"Projet {k}" for k in range(n_projects)],
                             "structure_name": [f"S{k}" for k in range(n_projects)],
                             "referent_email": [f"ref{k}@site.example" for k in range(n_projects)]})
    emails_of = emails_of or {}
    volunteers = [ju.Volunteer(f"Juré {i}", s, f"ref{emails_of[i]}@site.example" if i in emails_of else f"v{i}@x.example")
                  for i, s in enumerate(structures)]
    return projects, volunteers


def check_rules(result: ju.JuryResult, projects: pd.DataFrame, volunteers: list[ju.Volunteer], required: int) -> None:
    by_email = {fold(v.email): v for v in volunteers}
    facts = projects.set_index("project_code")
    for row in result.juries.itertuples():
        juror = by_email[fold(row.juror_email)]
        assert fold(juror.structure) != fold(facts.loc[row.project_code, "structure_name"]), row
        assert fold(juror.email) != fold(facts.loc[row.project_code, "referent_email"]), row
    assert not result.juries.duplicated(["project_code", "juror_email"]).any()
    counts = result.juries.groupby("project_code").size().reindex(facts.index, fill_value=0)
    assert (counts <= required).all()
    loads = result.juries.groupby("juror_email").size()
    listed = result.loads.set_index("juror_email")["projects"]
    assert (listed.reindex(loads.index) == loads).all() and listed.sum() == len(result.juries)


def min_max_load(projects: pd.DataFrame, volunteers: list[ju.Volunteer], required: int) -> int | None:
    """The smallest L such that every project gets ``required`` allowed jurors with loads ≤ L (max-flow)."""
    P, J = len(projects), len(volunteers)
    source, sink = 0, 1 + P + J
    for cap in range(0, P + 1):
        graph = np.zeros((sink + 1, sink + 1), dtype=np.int32)
        for p, row in enumerate(projects.itertuples()):
            graph[source, 1 + p] = required
            for j, v in enumerate(volunteers):
                if fold(v.structure) != fold(row.structure_name) and fold(v.email) != fold(row.referent_email):
                    graph[1 + p, 1 + P + j] = 1
        for j in range(J):
            graph[1 + P + j, sink] = cap
        if maximum_flow(csr_matrix(graph), source, sink).flow_value == P * required:
            return cap
    return None


def test_juries_follow_the_rules_and_balance_the_loads():
    structures = ["S0", "S0", "S1", "S2", "S3", "Autre", "S5", "S5"]
    projects, volunteers = jury_case(9, structures, emails_of={5: 4})  # V5 is P04's référent elsewhere
    result = ju.assign_juries(projects, volunteers, 3, seed=7)
    check_rules(result, projects, volunteers, 3)
    assert result.metrics["juries_complete"] == 9 and not result.reasons
    assert (result.juries.groupby("project_code").size() == 3).all()
    loads = result.loads["projects"]
    assert loads.max() == min_max_load(projects, volunteers, 3) == math.ceil(27 / 8)
    assert loads.max() - loads.min() <= 1
    assert "P04" not in set(result.juries[result.juries["juror_name"] == "Juré 5"]["project_code"])
    shuffled = random.Random(1).sample(volunteers, len(volunteers))
    again = ju.assign_juries(projects, shuffled, 3, seed=7)
    assert again.juries.equals(result.juries)  # deterministic, whatever the list's order


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_projects=st.integers(1, 6), structures=st.lists(st.integers(0, 7), min_size=2, max_size=7),
       required=st.integers(1, 3))
def test_juries_are_optimal_on_random_instances(n_projects, structures, required):
    projects, volunteers = jury_case(n_projects, [f"S{s}" for s in structures])
    best = min_max_load(projects, volunteers, required)
    result = ju.assign_juries(projects, volunteers, required)
    check_rules(result, projects, volunteers, required)
    if best is None:  # some project lacks volunteers outside its structure
        assert result.reasons and result.metrics["juries_complete"] < n_projects
        with pytest.raises(ju.JuryInfeasibleError):
            ju.assign_juries(projects, volunteers, required, strict=True)
    else:
        assert result.metrics["juries_complete"] == n_projects and not result.reasons
        assert result.loads["projects"].max() == best


def test_infeasible_jury_is_explained_in_french():
    projects, volunteers = jury_case(4, ["S2", "S2", "S2", "S0", "S1"])
    projects.loc[2, "project_code"] = "P7KQ2"
    result = ju.assign_juries(projects, volunteers, 3)
    assert result.reasons == ["3 jurés nécessaires par projet, mais seulement 2 volontaires hors de la structure de "
                              "P7KQ2 (S2)"]
    assert result.metrics["juries_complete"] == 3 and result.metrics["juries_incomplete"] == 1
    check_rules(result, projects, volunteers, 3)
    with pytest.raises(ju.JuryInfeasibleError) as info:
        ju.assign_juries(projects, volunteers, 3, strict=True)
    assert "seulement 2 volontaires hors de la structure de P7KQ2" in str(info.value)
    assert "Recrutez d'autres jurés volontaires" in str(info.value)


def test_a_load_cap_that_cannot_cover_the_seats_is_explained():
    projects, volunteers = jury_case(5, ["A", "B", "C"])
    result = ju.assign_juries(projects, volunteers, 2, max_load=3)
    assert result.reasons == ["10 places de juré à pourvoir (5 projets × 2), mais 3 volontaires à 3 projets au plus "
                              "n'en couvrent que 9"]
    assert result.metrics["juries_complete"] == 4 and result.loads["projects"].max() == 3


def test_volunteers_list_is_read_with_every_problem_by_row(tmp_path):
    path = tmp_path / "jures.csv"
    path.write_bytes("\ufeffNom;Structure;Courriel\r\nAline Verdier;Crèche Les Hirondelles;aline@site.example\r\n"
                     ";Foyer;x@site.example\r\nBruno Sauvat;Foyer;pas-une-adresse\r\n"
                     "Carole Mespoulet;Foyer;ALINE@site.example\r\n".encode("utf-8"))
    with pytest.raises(ju.JurorListError) as info:
        ju.read_volunteers(path)
    message = str(info.value)
    assert "3 problèmes" in message and "ligne 3 : nom vide" in message
    assert "ligne 4 : courriel « pas-une-adresse » invalide" in message
    assert "ligne 5 : courriel déjà présent ligne 2" in message


# --- the demo's follow-up files ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    edition, retained, roster = demo_inputs()
    assignment = followup.standin_assignment(retained, roster)
    return edition, retained, roster, assignment, followup.demo_files(edition, retained, roster, assignment)


def test_demo_files_are_seeded_and_complete(demo):
    edition, retained, roster, assignment, files = demo
    assert files == followup.demo_files(edition, retained, roster, assignment)
    opened = sorted(assignment["project_code"].unique())
    assert sorted(k for k in files if k.startswith("evaluations/")) == [f"evaluations/{c}.xlsx" for c in opened]
    raw = files["jures_volontaires.csv"]
    assert raw.startswith(b"\xef\xbb\xbfNom;Structure;Courriel\r\n")
    assert all(line.endswith(".example") for line in raw.decode("utf-8-sig").split("\r\n")[1:] if line)


def test_demo_evaluations_and_juries(tmp_path, demo):
    edition, retained, roster, assignment, files = demo
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    result = ev.read_evaluations(tmp_path / "evaluations", edition, retained, assignment, roster)
    m = result.metrics
    assert m["learners"] == len(assignment) and 1 <= m["grades_missing"] <= 10 and m["evaluations_missing"] == 0
    assert m["grades_entered"] + m["grades_missing"] == m["grades_expected"]
    volunteers = ju.read_volunteers(tmp_path / "jures_volontaires.csv")
    assert 10 <= len(volunteers) <= 14
    referents = {fold(e) for e in retained["referent_email"].dropna()}
    assert all(fold(v.email) in referents for v in volunteers)
    from pipeline.stages.conventions import opened

    projects = opened(retained, assignment)
    juries = ju.assign_juries(projects, volunteers, 2, seed=int(edition.config["seed"]))
    check_rules(juries, projects, volunteers, 2)
    metrics = ev.stage_metrics(result, juries)
    assert metrics["juries_complete"] == len(projects) and metrics["learners_evaluated"] == m["learners_evaluated"]
    assert juries.loads["projects"].max() == min_max_load(projects, volunteers, 2)


# --- the wired stage on the demo run (outputs re-checked from the published files only) ----------------------
@pytest.mark.slow
def test_demo_stage_outputs(demo_run):
    import json

    from openpyxl import load_workbook as load

    out = demo_run / "outputs" / "demo" / "evaluation"
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    results = pd.read_parquet(out / "resultats_competences.parquet")
    assignment = pd.read_parquet(demo_run / "outputs" / "demo" / "assignment" / "affectations.parquet")
    retained = pd.read_parquet(demo_run / "outputs" / "demo" / "commission" / "projets_retenus.parquet")
    # the metrics are those of the published table
    assert metrics["learners"] == results["learner_id"].nunique() == len(assignment)
    assert metrics["grades_missing"] == int(results["level"].isna().sum()) > 0
    assert metrics["grades_entered"] + metrics["grades_missing"] == metrics["grades_expected"] == len(results)
    assert metrics["learners_evaluated"] == results.loc[results["level"].notna(), "learner_id"].nunique()
    # one blank workbook per opened project, and every competence a project targets is evaluated
    opened = sorted(assignment["project_code"].unique())
    assert sorted(p.stem for p in (out / "evaluations").glob("*.xlsx")) == opened
    targeted = {r.project_code: set(r.competences) for r in retained.itertuples()}
    for code, grades in results.groupby("project_code"):
        assert set(grades["competence"]) == targeted[code]
    # juries: an independent check of the published workbook against the volunteers' list
    volunteers = {fold(v.email): v for v in ju.read_volunteers(demo_run / "inputs" / "demo" / "suivi" / "jures_volontaires.csv")}
    sheet = load(out / "jurys.xlsx")["Jurys"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=2)]
    facts = retained.set_index("project_code")
    per_project: dict[str, int] = {}
    for row in rows:
        juror = volunteers[fold(row["Courriel du juré"])]
        project = facts.loc[row["Code projet"]]
        assert fold(juror.email) != fold(project["referent_email"] or "")
        assert fold(juror.structure) != fold(project["structure_name"] or "")
        per_project[row["Code projet"]] = per_project.get(row["Code projet"], 0) + 1
    complete = sum(1 for code in opened if per_project.get(code, 0) >= 2)
    assert metrics["juries_complete"] == complete == len(opened)
    assert all(n <= 2 for n in per_project.values())
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Jurys des restitutions" in report and "évaluation manquante" in report

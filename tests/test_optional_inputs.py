"""Optional inputs (``optional:`` in the stage table of params.yaml): an edition without an adjustments file,
without a jurors' list or without filled evaluations runs stages 50 and 70, each saying in its report what it
did without them; DVC's deps (dvc.yaml), the cockpit and the stage agree. Stage logic on small tables, no
Jupyter, no pipeline run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cockpit.status import WAITING, edition_status
from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.repro.dvcgen import generate
from pipeline.stages import assignment, assignment_report, evaluation_report
from tests.conftest import ROOT
from tests.test_conventions import LEVELS, small_case

ADJUSTMENTS = "ajustements.csv"


def project(tmp_path: Path, stages: dict | None = None) -> Path:
    """A project tree sharing the repository's code, with the demo edition and two more: ``bare`` (declares
    no adjustments file, its follow-up folder empty) and ``late`` (declares one that is not there yet)."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("notebooks", "pipeline", "schemas", "history"):
        (root / name).symlink_to(ROOT / name)
    (root / "inputs").mkdir()
    (root / "inputs" / "demo").symlink_to(ROOT / "inputs" / "demo")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["editions"] = {"demo": params["editions"]["demo"]}  # the other demo campaigns are not linked here
    demo_files = params["editions"]["demo"]["files"]
    for name in ("bare", "late"):
        folder = root / "inputs" / name
        shutil.copytree(ROOT / "inputs" / "demo", folder, ignore=shutil.ignore_patterns(ADJUSTMENTS, "suivi"))
        (folder / "suivi").mkdir()
        files = {k: v for k, v in demo_files.items() if name == "late" or k != "adjustments"}
        params["editions"][name] = {"synthetic": True, "files": files}
    if stages:
        params["stages"] = {**params["stages"], **stages}
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture
def root(tmp_path) -> Path:
    return project(tmp_path)


# ------------------------------------------------------------------------------- dvc.yaml and cockpit

def test_dvc_deps_name_an_optional_file_only_for_the_editions_that_have_it(root):
    def needs(items, name):
        return [value.rsplit("/", 1)[-1] for key, value in sorted(items[name].items()) if key.startswith("need")]

    stages = yaml.safe_load(generate(root))["stages"]
    items = stages["assignment"]["foreach"]
    assert ADJUSTMENTS in needs(items, "demo")
    assert ADJUSTMENTS not in needs(items, "bare") and ADJUSTMENTS not in needs(items, "late")
    assert "publication" in needs(items, "bare")  # present: a real dep
    assert "${item.need0}" in stages["assignment"]["do"]["deps"]
    # the command names what an edition runs without: removing a file changes it, and DVC re-runs the stage
    assert stages["assignment"]["do"]["cmd"] == "python -m pipeline.contract.run assignment ${key}${item.without}"
    assert items["late"]["without"].split(" --without ")[1].split(",")[0] == "adjustments"
    assert "adjustments" not in items["demo"]["without"]
    (root / "inputs" / "late" / ADJUSTMENTS).write_bytes((ROOT / "inputs" / "demo" / ADJUSTMENTS).read_bytes())
    items = yaml.safe_load(generate(root))["stages"]["assignment"]["foreach"]
    assert ADJUSTMENTS in needs(items, "late") and "adjustments" not in items["late"]["without"]  # rewritten


def test_the_stage_inputs_leave_out_an_absent_optional_file(root):
    stage = Edition.load("bare", root).params.stage("assignment")
    for name in ("bare", "late"):
        edition = Edition.load(name, root)
        assert not any(p.name == ADJUSTMENTS for p in edition.stage_inputs(stage))
        assert edition.missing_optional(stage) == ["adjustments"]
    demo = Edition.load("demo", root)
    assert demo.inputs / ADJUSTMENTS in demo.stage_inputs(stage) and demo.missing_optional(stage) == []


def test_the_cockpit_does_not_wait_for_an_optional_file(root):
    edition = Edition.load("bare", root)
    folder = edition.outputs / "assignment"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}", encoding="utf-8")
    status = {s.stage.name: s for s in edition_status(edition)}["assignment"]
    # not waiting for the optional file; behind its upstream stages, never run here
    assert status.state != WAITING and not status.missing and status.detail.startswith("attend l'étape")
    assert [key for key in edition.missing_optional(status.stage)] == ["adjustments"]
    required = {s.stage.name: s for s in edition_status(Edition.load("bare", root))}["projects"]
    assert required.state != WAITING  # the required exports are there
    (edition.inputs / "depot_projets.csv").unlink()
    status = {s.stage.name: s for s in edition_status(Edition.load("bare", root))}["projects"]
    assert status.state == WAITING and "depot_projets.csv" in status.detail  # a required file is still awaited


def test_an_optional_key_must_be_one_of_the_needs(tmp_path):
    root = project(tmp_path, stages={"review": {**yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
                                                ["stages"]["review"], "optional": ["adjustments"]}})
    with pytest.raises(ConfigError, match="facultatif"):
        Edition.load("demo", root).params.stages


# ------------------------------------------------------------------------------------ stage 50

def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two retained projects, four learners (one employed by the first project's structure), their choices."""
    retained = pd.DataFrame([
        {"project_code": "PAAA1", "title": "Jardin", "structure_name": "Maison des Fougères", "decided_team_min": 1,
         "decided_team_max": 2, "tracks_open": ["ES", "EJE"]},
        {"project_code": "PBBB2", "title": "Fresque", "structure_name": "Crèche Les Hirondelles", "decided_team_min": 1,
         "decided_team_max": 3, "tracks_open": ["ES", "EJE"]},
    ])
    roster = pd.DataFrame([{"learner_id": f"T{i}", "last_name": f"Nom{i}", "first_name": f"Prénom{i}",
                            "email": f"t{i}@apprenants.example", "track": "ES" if i % 2 else "EJE",
                            "employer": "Maison des Fougères" if i == 4 else None} for i in range(1, 5)])
    preferences = pd.DataFrame([{"learner_id": f"T{i}", "rank": r, "project_code": code, "track": "ES" if i % 2 else "EJE"}
                                for i in range(1, 5) for r, code in enumerate(["PAAA1", "PBBB2"], start=1)])
    return retained, roster, preferences


@pytest.mark.parametrize("name", ["bare", "late"])
def test_stage_50_runs_without_adjustments_and_says_so(root, name):
    edition = Edition.load(name, root)
    retained, roster, preferences = tiny_tables()
    result = assignment.run(edition, retained, roster, preferences)
    assert not result.adjustments_file and len(result.adjustments) == 0 and not result.instance.fixed
    assert [(p.learner, p.project) for p in result.instance.forbidden] == [("T4", "PAAA1")]  # the employer rule holds
    assert result.solution.assignment["T4"] == "PBBB2" and len(result.solution.assignment) == 4
    block = assignment_report.adjustments_block(result, assignment_report.learner_view(result, edition))
    assert "Aucun ajustement consigné" in block and "les seules candidatures" in block
    assert "employeur" in block  # the employer exclusion is still listed


def test_stage_50_with_its_adjustments_file_lists_them_without_that_sentence(root):
    edition = Edition.load("late", root)
    retained, roster, preferences = tiny_tables()
    (edition.inputs / ADJUSTMENTS).write_text("Identifiant apprenant;Code projet;Type;Motif\n"
                                              "T1;PBBB2;fixer;aménagement lié à un handicap\n", encoding="utf-8")
    result = assignment.run(edition, retained, roster, preferences)
    assert result.adjustments_file and result.solution.assignment["T1"] == "PBBB2"
    block = assignment_report.adjustments_block(result, assignment_report.learner_view(result, edition))
    assert "Aucun ajustement consigné" not in block and "handicap" in block


# ------------------------------------------------------------------------------------ stage 70

def test_stage_70_runs_without_jurors_nor_evaluations_and_says_so(root, tmp_path):
    edition = Edition.load("bare", root)
    edition.config = {**edition.config, "evaluation": {"levels": LEVELS, "jurors_per_project": 2}}
    projects, roster, placed = small_case()
    out = tmp_path / "out"
    stage = evaluation_report.run(edition, projects, placed, roster, out)
    assert stage.juries is None and stage.evaluation.metrics["grades_entered"] == 0
    assert sorted(p.name for p in (out / "evaluations").iterdir()) == ["PAAA1.xlsx", "PBBB2.xlsx", "PCCC3.xlsx"]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["jurors_received"] is False and metrics["evaluations_missing"] == 3
    text = evaluation_report.summary(stage)
    assert "aucun jury n&#x27;est formé" in text and "Aucune évaluation reçue" in text
    assert "inputs/bare/suivi/jures_volontaires.csv" in evaluation_report.juries_block(stage)


def test_an_edition_without_juries_awaits_no_jurors_list(root, tmp_path):
    edition = Edition.load("bare", root)
    edition.config = {**edition.config, "evaluation": {"levels": LEVELS, "jurors_per_project": 0}}
    shutil.copy(ROOT / "inputs" / "demo" / "suivi" / "jures_volontaires.csv", edition.inputs / "suivi")  # ignored
    projects, roster, placed = small_case()
    stage = evaluation_report.run(edition, projects, placed, roster, tmp_path)
    assert stage.juries is None and stage.no_jury
    assert not [w for w in stage.warnings if "jurés" in w]  # nothing awaited: no point of attention
    assert "ne forme pas de jury" in evaluation_report.summary(stage)
    assert "ne forme pas de jury" in evaluation_report.juries_block(stage)
    edition.config["evaluation"]["jurors_per_project"] = -1
    with pytest.raises(ConfigError, match="au moins 0"):
        evaluation_report.run(edition, projects, placed, roster, tmp_path / "again")

"""The real pipeline (DVC + papermill + nbconvert) on the demo edition, in a temp copy of the repo."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest
import yaml
from openpyxl import load_workbook

from pipeline.contract.provenance import sha256
from tests.conftest import ROOT, clone_run, digest_tree, dvc, stagesco

pytestmark = pytest.mark.slow

NETWORK = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)


def demo_changes(root) -> dict:
    """DVC's own status of the demo's stages (the shared run runs the demo alone; the other demo campaigns have
    their own runs): ``{stage: changes}``, empty when all are up to date. One ``dvc status`` of every stage,
    filtered, instead of one with the nine stages as targets (DVC parses dvc.lock again for each target: 16 s
    against 6)."""
    changes = json.loads(dvc(root, "status", "--json").stdout or "{}")
    return {stage: change for stage, change in changes.items() if stage.endswith("@demo")}


def test_projects_outputs_and_metrics(demo_run):
    out = demo_run / "outputs" / "demo" / "projects"
    assert {p.name for p in out.iterdir()} == {"report.html", "projets.xlsx", "rejets.xlsx", "metrics.json",
                                              "projets.parquet", "warnings.json"}
    assert any("une centaine" in w for w in json.loads((out / "warnings.json").read_text(encoding="utf-8")))
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert m["rows_read"] == m["projects_accepted"] + m["rows_rejected"] + m["duplicates_superseded"]
    assert m["rows_read"] >= 40 and m["duplicates_superseded"] == 3 and m["rows_rejected"] >= 1
    projets = load_workbook(out / "projets.xlsx")["Projets reçus"]
    assert projets.max_row - 1 == m["projects_accepted"]
    assert projets["A1"].value == "Code projet"
    titles = {c.value for c in projets["O"][1:]}
    assert "=Projet « tous en scène » (théâtre forum)" in titles
    assert all(c.data_type == "s" for c in projets["O"][1:])
    rejets = load_workbook(out / "rejets.xlsx")
    assert [c.value for c in rejets["Rejets"][1]] == ["Ligne du fichier", "Colonne (libellé du fichier)", "Valeur lue",
                                                      "Motif du rejet"]
    assert rejets["Soumissions remplacées"].max_row - 1 == m["duplicates_superseded"]


def test_eligibility_and_commission_outputs(demo_run):
    out = demo_run / "outputs" / "demo"
    e = json.loads((out / "eligibility" / "metrics.json").read_text(encoding="utf-8"))
    assert e["projects"] == e["eligible"] + e["not_eligible"] + e["to_review"]
    c = json.loads((out / "commission" / "metrics.json").read_text(encoding="utf-8"))
    assert c["projects"] == c["retained"] + c["not_retained"] == e["projects"]
    decisions = load_workbook(out / "eligibility" / "decisions_commission.xlsx")["Décisions"]
    assert decisions.protection.sheet and decisions.data_validations.dataValidation
    assert decisions.max_row - 1 == e["projects"]
    dossier = (out / "eligibility" / "report.html").read_text(encoding="utf-8")
    for code in json.loads(json.dumps(list(load_workbook(out / "projects" / "projets.xlsx")["Projets reçus"].iter_rows(
            min_row=2, max_col=1, values_only=True)))):
        assert f'id="{code[0]}"' in dossier and f'href="#{code[0]}"' in dossier
    assert "120 h prévues, maximum 105 h" in dossier
    assert len(list((out / "commission" / "outbox").glob("*.eml"))) >= c["projects"] - 2
    assert (out / "commission" / "catalogue.html").is_file()


def test_every_html_is_offline_and_scriptless(demo_run):
    pages = sorted((demo_run / "outputs").rglob("*.html"))
    assert len(pages) >= 4
    for path in pages:
        page = path.read_text(encoding="utf-8")
        assert not NETWORK.search(page), (path.name, NETWORK.search(page))
        assert "<script" not in page.lower(), path.name
        assert '<html lang="fr">' in page and "<img src=x" not in page


def test_report_is_french_offline_without_code_and_with_provenance(demo_run):
    page = (demo_run / "outputs" / "demo" / "projects" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page
    for text in ("Dépôt des projets", "En bref", "Soumissions rejetées", "Soumissions remplacées", "Provenance",
                 "une centaine", "n'a pas remplacé"):
        assert text in page, text
    for code in ("import ", "ingest(", "show(", "stage_dir", "open_stage", "In&nbsp;[", "Traceback"):
        assert code not in page, code
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    csv = demo_run / "inputs" / "demo" / "depot_projets.csv"
    assert sha256(csv) in page and "pandas " in page and "papermill " in page


def test_outputs_hold_no_absolute_path_host_or_date(demo_run):
    needles = [str(demo_run), str(ROOT), socket.gethostname()]
    for path in (demo_run / "outputs").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json"):
            text = path.read_text(encoding="utf-8")
            for needle in needles:
                assert needle not in text, (path.name, needle)


def test_rerun_changes_nothing_and_dvc_is_clean(demo_run):
    """A no-op re-run leaves outputs and dvc.lock as they are. (A run from scratch, byte for byte, is
    test_committed_dvc_lock_is_current: the shared run, made in another folder, must produce the committed
    dvc.lock's outputs; and the committed manifest's ``verify`` re-runs every stage with ``--force``.)"""
    before = digest_tree(demo_run / "outputs")
    lock_before = (demo_run / "dvc.lock").read_text(encoding="utf-8")
    assert "projects@demo" in lock_before
    assert demo_changes(demo_run) == {}
    again = dvc(demo_run, "repro", "--glob", "*@demo")
    assert "didn't change" in again.stdout.lower() or "up to date" in again.stdout.lower(), again.stdout
    assert digest_tree(demo_run / "outputs") == before
    assert (demo_run / "dvc.lock").read_text(encoding="utf-8") == lock_before


def test_a_cli_change_makes_no_stage_stale(demo_run):
    """The stages run ``python -m pipeline.contract.run``: a new command in pipeline/cli.py changes none of
    their deps, and DVC still finds every stage up to date."""
    cli = demo_run / "pipeline" / "cli.py"
    kept = cli.read_bytes()
    try:
        cli.write_bytes(kept + b"\n\ndef cmd_new_command(args) -> int:\n    return 0\n")
        assert demo_changes(demo_run) == {}
    finally:
        cli.write_bytes(kept)


def test_committed_dvc_lock_is_current(demo_run):
    """dvc.lock records what ran on what: the committed one must be what this code produces."""
    committed = yaml.safe_load((ROOT / "dvc.lock").read_text(encoding="utf-8"))
    produced = yaml.safe_load((demo_run / "dvc.lock").read_text(encoding="utf-8"))
    assert committed == produced, "dvc.lock is stale: run `make run` and commit dvc.lock"


def test_new_edition_from_demo_and_a_clear_mapping_error(journey):
    """The analyst's journey on a new edition (the steps up to the fixed run are in ``start_journey``,
    whose run goes on in the background beside the shared demo run)."""
    root, created, failed, failed_status = journey["root"], journey["created"], journey["failed"], journey["failed_status"]
    assert "2026" in created.stdout
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    assert params["editions"]["2026"] == {"files": params["editions"]["demo"]["files"]}  # real: not synthetic
    assert "# stagesco — shared parameters" in (root / "params.yaml").read_text(encoding="utf-8")
    assert failed.returncode != 0
    assert "Colonne introuvable pour le champ obligatoire « title »" in failed.stderr + failed.stdout
    assert "« Titre du projet »" in failed.stderr + failed.stdout
    assert not journey["published_after_failure"]
    assert "Traceback" not in failed.stderr
    assert failed_status.returncode == 2 and "en échec — Colonne introuvable" in failed_status.stdout
    assert journey["logs_after_failure"]
    fixed = journey["fixed_run"].result()
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert (root / "outputs" / "2026" / "projects" / "report.html").is_file()
    # Where the edition stands, as the analyst sees it (CLI and home page).
    done = stagesco(root, "status", "2026")
    assert done.returncode == 0 and "rien à faire" in done.stdout and "en attente" not in done.stdout
    index = (root / "outputs" / "2026" / "index.html").read_text(encoding="utf-8")
    assert " d'attention</summary>" in index and "fermé (pas assez de candidats" in index
    for link in ("projects/report.html", "eligibility/decisions_commission.xlsx", "commission/catalogue.html",
                 "commission/outbox/index.html", "applications/candidatures.xlsx"):
        assert f'href="{link}"' in index, link
    decisions = root / "inputs" / "2026" / "decisions_commission.xlsx"
    kept = decisions.read_bytes()
    decisions.unlink()
    waiting = stagesco(root, "status", "2026", check=False)
    assert waiting.returncode == 1
    assert "il manque inputs/2026/decisions_commission.xlsx" in waiting.stdout
    assert ("Prochaine action : La commission doit remplir decisions_commission.xlsx (à partir de "
            "outputs/2026/eligibility/decisions_commission.xlsx) puis l'enregistrer dans inputs/2026/.") in waiting.stdout
    assert "La commission doit remplir decisions_commission.xlsx" in (root / "outputs" / "2026" / "index.html").read_text(encoding="utf-8")
    decisions.write_bytes(kept)
    stagesco(root, "run", "2026")
    assert stagesco(root, "status", "2026").returncode == 0


def test_threshold_change_reruns_only_downstream(demo_run, tmp_path):
    """Changing the max-hours threshold in edition.yaml changes the results with no code change, and
    DVC re-runs eligibility and what follows, not the projects stage (on a copy of the shared run)."""
    root = clone_run(demo_run, tmp_path / "repo")
    before = digest_tree(root / "outputs" / "demo" / "projects")
    config = root / "inputs" / "demo" / "edition.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("      max: 105\n", "      max: 120\n"), encoding="utf-8")
    status = demo_changes(root)
    assert "eligibility@demo" in status and "projects@demo" not in status, status
    metrics_before = json.loads((root / "outputs" / "demo" / "eligibility" / "metrics.json").read_text(encoding="utf-8"))
    running = re.compile(r"Running stage '([^']+)'")
    plan = running.findall(dvc(root, "repro", "--dry", "--glob", "*@demo").stdout)  # what `stagesco run` would run: DVC's own plan
    assert "eligibility@demo" in plan and "projects@demo" not in plan, plan  # (later ones follow if its outputs change)
    ran = running.findall(dvc(root, "repro", "commission@demo").stdout)  # two of them for real: 20 and 30
    assert ran == ["eligibility@demo", "commission@demo"], ran
    after = json.loads((root / "outputs" / "demo" / "eligibility" / "metrics.json").read_text(encoding="utf-8"))
    assert after["eligible"] == metrics_before["eligible"] + 1
    assert "120 h prévues (maximum 120 h)" in (root / "outputs" / "demo" / "eligibility" / "report.html").read_text(encoding="utf-8")
    assert digest_tree(root / "outputs" / "demo" / "projects") == before


def test_removing_an_optional_input_reruns_the_stage_that_read_it(demo_run, tmp_path):
    """DVC re-runs a stage whose command changed, not one that lost a dependency: the edition's command names
    the optional files it runs without, so deleting the adjustments re-runs the assignment instead of leaving
    results computed with them « à jour »; a file added back behind dvc.yaml's back stops the stage (on a copy
    of the shared run)."""
    root = clone_run(demo_run, tmp_path / "repo")
    adjustments = root / "inputs" / "demo" / "ajustements.csv"
    kept = adjustments.read_bytes()
    adjustments.unlink()
    status = stagesco(root, "status", "demo", check=False).stdout
    assert "50 Affectation : à jour" not in status and "40 Candidatures : à jour" in status, status
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("STAGESCO_ROOT", None)
    subprocess.run([sys.executable, "-m", "pipeline.repro.dvcgen"], cwd=root, env=env, check=True)  # as run does
    plan = re.findall(r"Running stage '([^']+)'", dvc(root, "repro", "--dry", "--glob", "*@demo").stdout)
    assert "assignment@demo" in plan and "applications@demo" not in plan, plan
    adjustments.write_bytes(kept)  # back, while dvc.yaml still says the assignment runs without it
    guarded = subprocess.run([sys.executable, "-m", "pipeline.contract.run", "assignment", "demo", "--without",
                              "adjustments"], cwd=root, env=env, capture_output=True, text=True)
    assert guarded.returncode != 0 and "dvc.yaml ne connaît pas « ajustements.csv »" in guarded.stderr, guarded.stderr
    assert "stagesco run demo" in guarded.stderr and "inattendue" not in guarded.stderr


def test_a_failed_rerun_keeps_the_last_good_report_readable_then_clears(demo_run, tmp_path):
    """A stage that fails on a re-run: its last good report and workbooks stay readable from the home page,
    marked « périmé » (copied from DVC's cache), later stages are not « à jour »; once the input is fixed,
    the run clears the failure and the stale copies (on a copy of the shared run)."""
    root = clone_run(demo_run, tmp_path / "repo")
    decisions = root / "inputs" / "demo" / "decisions_commission.xlsx"
    good = decisions.read_bytes()
    decisions.write_bytes(b"PK\x03\x04 ceci n'est plus un classeur")
    failed = stagesco(root, "run", "demo", "--stage", "commission", check=False)
    assert failed.returncode != 0 and "decisions_commission.xlsx" in failed.stderr + failed.stdout
    kept = root / "state" / "demo" / "perime" / "commission"
    assert (kept / "report.html").read_bytes() == (demo_run / "outputs" / "demo" / "commission" / "report.html").read_bytes()
    assert (kept / "projets_retenus.xlsx").is_file()
    index = (root / "outputs" / "demo" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../state/demo/perime/commission/report.html"' in index
    assert "report.html (périmé : dernière exécution réussie)" in index
    status = stagesco(root, "status", "demo", check=False).stdout
    assert "30 Commission d'attribution : en échec" in status
    assert "40 Candidatures : à jour" not in status and "50 Affectation : à jour" not in status
    decisions.write_bytes(good)
    stagesco(root, "run", "demo")
    assert stagesco(root, "status", "demo").returncode == 0
    assert not kept.exists() and not list((root / "state" / "demo" / "logs").glob("*commission.failed.json"))
    assert 'perime' not in (root / "outputs" / "demo" / "index.html").read_text(encoding="utf-8")

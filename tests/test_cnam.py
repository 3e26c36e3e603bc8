"""The ``demo-cnam`` edition (seed 004) run end to end: individual 560-hour placements read from the
placements file, learners in their own structure (employer rule fix), one exemption, per-learner start
dates and one convention late by its own learner's start (one shared run: ``cnam_run``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
import yaml

from tests.test_placements import docx_text

EDITION = "demo-cnam"


def out(root, rel):
    return root / "outputs" / EDITION / rel


def test_a_cnam_convention_is_late_by_its_own_learners_start(cnam_run):
    from pipeline.contract.config import Edition
    from pipeline.stages import conventions as cv
    from pipeline.stages import signatures as sig

    edition = Edition.load(EDITION, cnam_run)
    placements = pd.read_parquet(out(cnam_run, "applications/placements.parquet"))
    assignment = pd.read_parquet(out(cnam_run, "assignment/affectations.parquet"))
    result = sig.ingest(edition, pd.read_parquet(out(cnam_run, "commission/projets_retenus.parquet")),
                       assignment, placements)
    late = result.conventions[result.conventions["late"]]
    assert len(late) == 1 == json.loads(out(cnam_run, "conventions/metrics.json").read_text())["late"]
    code = late["project_code"].iloc[0]
    learner = assignment.loc[assignment["project_code"] == code, "learner_id"].iloc[0]
    start = pd.Timestamp(placements.set_index("learner_id").loc[learner, "start_date"]).date()
    assert start > edition.when("start").date()              # this learner starts after the edition's first day
    assert late["deadline"].iloc[0] == start - timedelta(days=12)
    assert late["last_signed"].iloc[0] > start - timedelta(days=12)
    # every other convention signed after the edition-wide deadline is on time by its own learner's start
    edition_wide = cv.deadline(edition, cv.settings(edition))
    on_time = result.conventions[~result.conventions["late"]]
    assert (on_time["last_signed"] > edition_wide).sum() >= 5
    warnings = json.loads(out(cnam_run, "conventions/warnings.json").read_text(encoding="utf-8"))
    assert any(code in w and "en retard" in w for w in warnings)


def test_the_tracking_workbook_follows_the_editions_documents(cnam_run):
    from openpyxl import load_workbook

    sheet = load_workbook(out(cnam_run, "conventions/suivi_conventions.xlsx"))["Suivi des conventions"]
    header = [c.value for c in sheet[1]]
    assert header[-7:] == ["Date limite des signatures", "Accord pédagogique de la coordinatrice",
                           "Signature de la structure d'accueil (tuteur)", "Signature de l'auditeur",
                           "Attestation d'assurance responsabilité civile", "Signature du Cnam (scolarité)", "Observations"]


def test_a_cnam_convention_speaks_of_an_individual_placement(cnam_run):
    folder = out(cnam_run, "conventions/conventions")
    texts = [docx_text(path.read_bytes()) for path in sorted(folder.glob("*.docx"))]
    assert len(texts) == 11
    for text in texts:
        assert "stage collectif" not in text.lower() and "équipe" not in text
        assert "Convention de stage — licence professionnelle" in text and "560 heures" in text
        assert "Accord pédagogique de la coordinatrice" in text
    placements = pd.read_parquet(out(cnam_run, "applications/placements.parquet"))
    first = placements.dropna(subset=["start_date"]).sort_values("learner_id").iloc[0]
    own = docx_text((folder / f"convention_{first.project_code}.docx").read_bytes())
    assert "du 2 novembre 2026 au 22 février 2027" in own  # the learner's own dates


def test_the_exempted_learner_is_listed_with_the_reason_and_counts_add_up(cnam_run):
    metrics = json.loads(out(cnam_run, "applications/metrics.json").read_text())
    assert metrics["roster_rows_read"] == metrics["learners"] + metrics["exempted"] + metrics["roster_rows_rejected"]
    assert metrics["exempted"] == 1 and metrics["rows_read"] == metrics["placements_accepted"] + metrics["submissions_rejected"]
    outcomes = pd.read_parquet(out(cnam_run, "applications/placements.parquet"))
    exempted = outcomes[outcomes["placement_status"] == "dispensé(e) de stage"]
    assert list(exempted["learner_id"]) == ["LP26112"]
    assert "au moins un an d'expérience professionnelle" in exempted["placement_reason"].iloc[0]
    roster = pd.read_parquet(out(cnam_run, "applications/promotion.parquet"))
    assignment = pd.read_parquet(out(cnam_run, "assignment/affectations.parquet"))
    assert "LP26112" not in set(roster["learner_id"]) and "LP26112" not in set(assignment["learner_id"])
    report = out(cnam_run, "applications/report.html").read_text(encoding="utf-8")
    assert "dispensé(e) de stage — au moins un an d&#39;expérience" in report or "dispensé(e) de stage — au moins un an d'expérience" in report
    assert "12 = 11 + 1 + 0" in report


def test_the_repeated_placement_row_is_rejected_with_its_row_and_reason(cnam_run):
    from openpyxl import load_workbook

    sheet = load_workbook(out(cnam_run, "applications/candidatures_rejets.xlsx"))["Rejets"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 1
    assert rows[0][1] == 6 and "placement déjà déclaré pour cet apprenant à la ligne 3" in rows[0][6]


def test_learners_employed_in_the_field_are_placed_in_their_employers_structure(cnam_run):
    roster = pd.read_parquet(out(cnam_run, "applications/promotion.parquet")).set_index("learner_id")
    retained = pd.read_parquet(out(cnam_run, "commission/projets_retenus.parquet")).set_index("project_code")
    assignment = pd.read_parquet(out(cnam_run, "assignment/affectations.parquet"))
    employed = assignment[assignment["rank_label"] == "structure employeuse"]
    assert len(employed) == 3
    for row in employed.itertuples():
        assert retained.loc[row.project_code, "structure_name"] == roster.loc[row.learner_id, "employer"]
        assert "structure employeuse" in row.explanation
    assert (assignment["rank_label"] == "placement déclaré").sum() == 8
    config = yaml.safe_load((cnam_run / "inputs" / EDITION / "edition.yaml").read_text(encoding="utf-8"))
    assert config["assignment"]["employer_rule"] == "fix"


def test_status_and_home_page_show_every_stage_done(cnam_run):
    from tests.conftest import stagesco

    status = stagesco(cnam_run, "status", EDITION)
    assert "Toutes les étapes sont à jour" in status.stdout
    assert "40 Placements des apprenants : à jour" in status.stdout  # the stage as this edition's mode names it
    home = (cnam_run / "outputs" / EDITION / "index.html").read_text(encoding="utf-8")
    assert "Placements des apprenants" in home and "Candidatures" not in home
    assert "premier début de stage possible" in home  # the edition's own calendar words


def test_the_cnam_review_compares_only_with_earlier_cnam_editions(cnam_run):
    """history/ holds the demo's editions (stages collectifs) and the other campaigns' records: none is a
    CNAM edition that started before this one, so the review compares with nothing, and says so."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (cnam_run / "history").glob("*.json")]
    assert {r["edition"] for r in records} >= {"demo-2024", "demo"}
    metrics = json.loads(out(cnam_run, "review/metrics.json").read_text(encoding="utf-8"))
    assert metrics["earlier_editions"] == []
    warnings = json.loads(out(cnam_run, "review/warnings.json").read_text(encoding="utf-8"))
    assert any("aucune édition antérieure de la campagne « cnam »" in w for w in warnings)

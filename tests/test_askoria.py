"""The ``demo-askoria`` campaign run end to end (seed 001): ASS learners placed, a mixed ES/ASS team on one site,
two-site offers whose every host signs its own convention, a six-day project whose convention states its own
hours and period, every site's structure counted as a partner. One shared run (``askoria_run``)."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pytest

from pipeline.contract.config import Edition
from pipeline.stages import signatures as sig

EDITION = "demo-askoria"
GOELANDS = "Multi-accueil Les Goélands"


def out(root, path: str):
    return root / "outputs" / EDITION / path


def docx_text(path) -> str:
    xml = zipfile.ZipFile(io.BytesIO(path.read_bytes())).read("word/document.xml").decode("utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", xml))


@pytest.fixture(scope="module")
def tables(askoria_run):
    read = lambda p: pd.read_parquet(out(askoria_run, p))  # noqa: E731
    placed = read("assignment/affectations.parquet")
    roster = read("applications/promotion.parquet")
    retained = read("commission/projets_retenus.parquet")
    return placed.merge(roster[["learner_id", "track"]], on="learner_id", suffixes=("_x", "")), retained


def test_ass_learners_are_placed_and_one_site_hosts_a_mixed_es_ass_team(tables):
    placed, retained = tables
    assert (placed["track"] == "ASS").sum() == 6 and placed["project_code"].notna().all()
    codes = retained.set_index("structure_name")["project_code"]
    team = placed[placed["project_code"] == codes["Centre social de Maurepas"]]
    assert set(team["track"]) == {"ES", "ASS"}


def test_every_host_of_a_two_site_offer_signs_its_own_convention(askoria_run, tables):
    placed, retained = tables
    code = retained.set_index("structure_name").loc[GOELANDS, "project_code"]
    assert code in set(placed["project_code"])
    folder = out(askoria_run, "conventions/conventions")
    first, second = (docx_text(folder / f"convention_{code}-S{n}.docx") for n in (1, 2))
    assert f"Le site qualifiant : {GOELANDS}" in first and "Le site qualifiant : École maternelle Jean-Macé" in second
    assert "École maternelle Jean-Macé (Rennes), qui accueille 140 heures" in first
    assert "thématique « La séparation et l'accompagnement à la parentalité" in second
    edition = Edition.load(EDITION, askoria_run)
    result = sig.read_tracking(askoria_run / "inputs" / EDITION / "suivi" / "suivi_conventions.xlsx", edition,
                              retained, placed)
    rows = result.conventions.set_index("convention")
    two_site = [c for c in rows.index if c.endswith(("-S1", "-S2"))]
    assert {f"{code}-S1", f"{code}-S2"} <= set(two_site)
    assert all(rows.loc[c, "status"] == "signée" and not rows.loc[c, "late"] for c in two_site)
    metrics = json.loads(out(askoria_run, "conventions/metrics.json").read_text(encoding="utf-8"))
    # each convention is late against its own offer's start (the conventions stage's metrics count the same rows)
    assert metrics["conventions"] == len(rows) and metrics["late"] == int(rows["late"].sum())


def test_the_six_day_project_convention_states_its_own_hours_and_period(askoria_run, tables):
    _, retained = tables
    code = retained.set_index("structure_name").loc["Équipe d'éducation à la santé du pays de Vannes", "project_code"]
    text = docx_text(out(askoria_run, f"conventions/conventions/convention_{code}.docx"))
    assert "du 9 mars 2026 au 14 mars 2026" in text and "42 heures de formation pratique" in text
    assert "280 heures" not in text
    from openpyxl import load_workbook

    about = load_workbook(out(askoria_run, f"evaluation/evaluations/{code}.xlsx"))["Projet"]
    rows = {r[0]: r[1] for r in about.iter_rows(values_only=True)}
    assert rows["Période et volume horaire"] == "du 09/03/2026 au 14/03/2026, 42 heures"  # the referent's workbook too


def test_the_commission_s_terms_win_over_the_form_s(askoria_run, tables):
    _, retained = tables
    code = retained.set_index("structure_name").loc["Foyer de jeunes travailleurs de la Rance", "project_code"]
    text = docx_text(out(askoria_run, f"conventions/conventions/convention_{code}.docx"))
    assert "du 5 janvier 2026 au 20 mars 2026" in text and "245 heures de formation pratique" in text


def test_the_catalogue_shows_the_sites_together_and_the_review_counts_every_partner(askoria_run, tables):
    _, retained = tables
    catalogue = out(askoria_run, "commission/catalogue.html").read_text(encoding="utf-8")
    assert "2 sites qualifiants" in catalogue and "École maternelle Jean-Macé" in catalogue
    assert "du 09/03/2026 au 14/03/2026" in catalogue and "42 heures" in catalogue
    review = json.loads(out(askoria_run, "review/metrics.json").read_text(encoding="utf-8"))
    hosts = set(retained["structure_name"]) | set(retained["site2_structure_name"].dropna()) - {""}
    assert review["indicators"]["partners_retained"] == len(hosts) == len(retained) + 3


def test_askoria_inputs_are_what_the_seeded_generator_writes():
    from pipeline.demo.askoria import askoria_files
    from tests.conftest import ROOT

    for name, data in askoria_files(ROOT).items():
        assert (ROOT / "inputs" / EDITION / name).read_bytes() == data, f"run `make demo`: {name} is stale"


def test_the_askoria_review_compares_only_with_its_own_campaign(askoria_run):
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (askoria_run / "history").glob("*.json")]
    assert {r["edition"] for r in records} >= {"demo-2024", "demo"}  # another campaign's editions are there…
    metrics = json.loads(out(askoria_run, "review/metrics.json").read_text(encoding="utf-8"))
    assert metrics["earlier_editions"] == []  # …and not compared with

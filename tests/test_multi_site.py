"""A multi-site offer (« stage pluri-institutionnel », seed 001) at stage 60: each host structure signs its own
convention for its share of the hours, naming the theme and the partner site; the tracking workbook has one
row per convention and is read back per convention. A six-day offer's convention states its own terms."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.io.workbook import write_workbook
from pipeline.stages import conventions as cv
from pipeline.stages import signatures as sig
from tests.test_conventions import document_text, make_edition, small_case


@pytest.fixture(scope="module")
def edition():
    return make_edition()


def two_site_case():
    projects, roster, assignment = small_case()
    projects["theme"] = None
    for name in ("site2_structure_name", "site2_city", "site2_referent_name", "site2_referent_email"):
        projects[name] = None
    projects["site2_hours"] = pd.Series([None] * len(projects), dtype="Float64")
    projects.loc[1, ["theme", "site2_structure_name", "site2_city", "site2_referent_name", "site2_referent_email"]] = [
        "La séparation et la parentalité", "École maternelle Jules-Ferry", "Rennes", "Karine Sarre",
        "k.sarre@ecole.example"]
    projects.loc[1, "site2_hours"] = 35.0
    projects["period_start"] = pd.NaT
    projects["period_end"] = pd.NaT
    projects.loc[2, ["hours", "period_start", "period_end"]] = [42.0, pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-07")]
    return projects, roster, assignment


def test_every_host_of_a_two_site_offer_signs_its_own_convention(edition):
    projects, roster, assignment = two_site_case()
    files = cv.render_all(projects, assignment, roster, edition)
    assert sorted(files) == ["convention_PAAA1.docx", "convention_PBBB2-S1.docx", "convention_PBBB2-S2.docx",
                             "convention_PCCC3.docx"]
    first, second = (document_text(files[f"convention_PBBB2-S{n}.docx"]) for n in (1, 2))
    # (the edition declares no wording of its own: the neutral default, « structure d'accueil », « tuteur »)
    assert "La structure d'accueil : Crèche Les Hirondelles" in first and "tuteur Basile Fromental" in first
    assert "La structure d'accueil : École maternelle Jules-Ferry" in second and "tuteur Karine Sarre" in second
    assert "thématique « La séparation et la parentalité »" in first
    assert "École maternelle Jules-Ferry (Rennes), qui accueille 35 heures" in first  # the partner site named
    assert "Crèche Les Hirondelles (Limoges), qui accueille 55 heures" in second
    assert "en accueille 55 heures" in first and "en accueille 35 heures" in second  # each its own share
    assert "90 heures de formation pratique" in first  # the learner's hours add up across the sites
    single = document_text(files["convention_PAAA1.docx"])
    assert "pluri-institutionnel" not in single and "{%" not in single and "{{" not in single


def test_a_six_day_offer_states_its_own_hours_and_period(edition):
    projects, roster, assignment = two_site_case()
    text = document_text(cv.render_all(projects, assignment, roster, edition)["convention_PCCC3.docx"])
    assert "du 2 mars 2026 au 7 mars 2026" in text and "42 heures de formation pratique" in text
    assert "105 heures" not in text and "1er décembre 2025" not in text


def test_tracking_has_one_row_per_signing_host_and_reads_back(edition, tmp_path):
    projects, roster, assignment = two_site_case()
    sheet = sig.tracking_sheets(projects, assignment, edition)[0]
    assert list(sheet.frame["convention"]) == ["PAAA1", "PBBB2-S1", "PBBB2-S2", "PCCC3"]
    assert list(sheet.frame["structure_name"])[1:3] == ["Crèche Les Hirondelles", "École maternelle Jules-Ferry"]
    frame = sheet.frame.copy()
    for name in cv.SIGNATORIES:
        frame[name] = "10/11/2025"
    frame.loc[2, "site_signed"] = None  # the second site has not signed yet
    path = tmp_path / "suivi.xlsx"
    write_workbook(path, [type(sheet)(sheet.title, frame, labels=sheet.labels)])
    result = sig.read_tracking(path, edition, projects, assignment)
    rows = result.conventions.set_index("convention")
    assert rows.loc["PBBB2-S1", "status"] == "signée"
    assert rows.loc["PBBB2-S2", "missing"] == ["le site qualifiant"]
    assert result.metrics["conventions"] == 4 and result.metrics["fully_signed"] == 3

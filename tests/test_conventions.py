"""Stage 60: conventions de partenariat (DOCX), the tracking workbook and its read-back (missing, late,
out of order), and the demo's filled tracking workbook."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.io.workbook import write_workbook
from pipeline.demo import followup
from pipeline.stages import conventions as cv
from pipeline.stages import signatures as sig
from tests.conftest import ROOT

START = date(2025, 12, 1)  # calendar.start of the demo edition
LEAD = 12
LEVELS = ["non acquis", "en cours d'acquisition", "acquis"]


# --- shared fixtures (also used by test_evaluation) ------------------------------------------------------
def make_edition(**overrides) -> Edition:
    """The demo edition with the conventions and evaluation settings these stages read."""
    edition = Edition.load("demo", ROOT)
    config = dict(edition.config)
    config["conventions"] = {"hours": 105, "min_lead_days": LEAD, **overrides.pop("conventions", {})}
    config["evaluation"] = {"levels": LEVELS, "jurors_per_project": 2, **overrides.pop("evaluation", {})}
    config.update(overrides)
    edition.config = config
    return edition


def small_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three retained projects, a roster of ten learners (one unplaced), an assignment."""
    def project(code, structure, referent, tracks, competences, title=None):
        return {"project_code": code, "title": title or f"Projet {code}", "structure_name": structure,
                "address": "1 rue des Lilas", "postcode": "87000", "city": "Limoges", "referent_name": referent,
                "referent_function": "Cheffe de service", "referent_email": f"{code.lower()}@site.example",
                "referent_phone": "05 00 00 00 00", "decided_team_min": 2, "decided_team_max": 4,
                "tracks_open": tracks, "trainer": "Hélène Marchadier", "hours": 90.0, "competences": competences}

    projects = pd.DataFrame([
        project("PAAA1", "Maison des Fougères", "Odile Varenne", ["ES", "EJE"], ["BC4", "BC1", "BC7"],
                title="Fresque & « récits » <b>partagés</b>"),
        project("PBBB2", "Crèche Les Hirondelles", "Basile Fromental", ["EJE"], ["BC2", "BC3"]),
        project("PCCC3", "Foyer Le Colombier", "Maëlle Ourcq", ["ES"], ["BC5", "BC6", "BC8"]),
    ])
    names = [("Vasseur", "Ambre", "ES"), ("Quillet", "Noé", "EJE"), ("Éluard", "Capucine", "ES"),
             ("Brossard", "Tilio", "EJE"), ("Ardant", "Maïwenn", "EJE"), ("Lemasson", "Evan", "ES"),
             ("Doucet", "Liv", "ES"), ("Rochefort", "Anatole", "ES"), ("Pradel", "Soline", "EJE"),
             ("Zerbib", "Milan", "ES")]
    roster = pd.DataFrame([{"learner_id": f"T{i:03d}", "last_name": last, "first_name": first,
                            "email": f"t{i}@apprenants.example", "track": track, "employer": None}
                           for i, (last, first, track) in enumerate(names, start=1)])
    assignment = pd.DataFrame({"learner_id": ["T001", "T002", "T003", "T004", "T005", "T009", "T006", "T007", "T008"],
                               "project_code": ["PAAA1"] * 3 + ["PBBB2"] * 3 + ["PCCC3"] * 3})
    return projects, roster, assignment


@pytest.fixture(scope="module")
def edition():
    return make_edition()


@pytest.fixture(scope="module")
def case():
    return small_case()


def demo_inputs():
    """The demo's retained projects and roster, computed from its committed inputs (not from outputs/)."""
    from pipeline.stages import applications, commission, eligibility, projects

    edition = make_edition()
    checked = eligibility.evaluate(edition, projects.ingest(edition).projects)
    retained = commission.ingest(edition, checked.projects).retained
    _, roster, _ = applications.read_roster(edition)
    return edition, retained, roster


# --- signature status: the rules at their boundaries ---------------------------------------------------------
LAST_DAY = START - timedelta(days=LEAD)


def status(site, school, learners):
    return sig.signature_status({"site_signed": site, "school_signed": school, "learners_signed": learners}, LAST_DAY)


def test_deadline_is_the_lead_time_before_the_start(edition):
    assert cv.deadline(edition, cv.settings(edition)) == date(2025, 11, 19)
    one_day = make_edition(conventions={"min_lead_days": 1})
    assert cv.deadline(one_day, cv.settings(one_day)) == date(2025, 11, 30)


@pytest.mark.parametrize("days_before, late", [(12, False), (11, True), (13, False), (0, True), (-3, True)])
def test_late_exactly_at_the_lead_time(days_before, late):
    last = START - timedelta(days=days_before)
    result = status(last - timedelta(days=4), last - timedelta(days=2), last)
    assert result["late"] is late
    assert result["last_signed"] == last and not result["missing"] and not result["out_of_order"]
    assert ("en retard" in result["details"]) is late


def test_any_late_signature_is_late_even_when_others_are_missing():
    result = status(LAST_DAY + timedelta(days=1), None, None)
    assert result["late"] and result["missing"] == ["l'établissement de formation", "les apprenants"]


def test_same_day_signatures_are_in_order():
    result = status(LAST_DAY, LAST_DAY, LAST_DAY)
    assert not result["out_of_order"] and not result["late"] and result["status"] == "signée"


@pytest.mark.parametrize("dates, words", [
    ((date(2025, 11, 10), date(2025, 11, 12), date(2025, 11, 11)),
     "les apprenants ont signé le 11/11/2025, avant l'établissement de formation (12/11/2025)"),
    ((date(2025, 11, 10), date(2025, 11, 9), date(2025, 11, 12)),
     "l'établissement de formation a signé le 09/11/2025, avant le site qualifiant (10/11/2025)"),
    ((None, date(2025, 11, 9), None), "l'établissement de formation a signé le 09/11/2025, avant le site qualifiant (pas encore signé)"),
    ((date(2025, 11, 10), None, date(2025, 11, 12)),
     "les apprenants ont signé le 12/11/2025, avant l'établissement de formation (pas encore signé)"),
])
def test_out_of_order(dates, words):
    result = status(*dates)
    assert result["out_of_order"] and words in result["details"]


def test_missing_dates_are_named_in_the_circuit_order():
    result = status(date(2025, 11, 3), None, None)
    assert result["missing"] == ["l'établissement de formation", "les apprenants"]
    assert result["status"] == "incomplète" and not result["out_of_order"] and not result["late"]
    assert status(None, None, None)["missing"] == ["le site qualifiant", "l'établissement de formation", "les apprenants"]


# --- the tracking workbook: generated → filled → read back --------------------------------------------------------
def generated(tmp_path, edition, case):
    projects, _, assignment = case
    path = tmp_path / "suivi_conventions.xlsx"
    write_workbook(path, sig.tracking_sheets(projects, assignment, edition))
    return path


def fill(path, values: dict[tuple[str, str], object]):
    """Set cells of the tracking workbook by (project code, column name), as a user would in Excel."""
    workbook = load_workbook(path)
    sheet = workbook["Suivi des conventions"]
    header = [c.value for c in sheet[1]]
    labels = sig.tracking_labels()
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    for (code, name), value in values.items():
        cell = sheet.cell(rows[code], header.index(labels[name]) + 1)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
    workbook.save(path)
    return path


def test_tracking_workbook_has_one_row_per_convention_and_only_dates_editable(tmp_path, edition, case):
    path = generated(tmp_path, edition, case)
    sheet = load_workbook(path)["Suivi des conventions"]
    header = [c.value for c in sheet[1]]
    dates = ["Signature du site qualifiant", "Signature de l'établissement de formation",
             "Signature des apprenants (dernier signataire)"]
    assert [h for h in header if h.startswith("Signature")] == dates  # the circuit's order
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == ["PAAA1", "PBBB2", "PCCC3"]
    assert [sheet.cell(r, header.index("Apprenants") + 1).value for r in range(2, 5)] == [3, 3, 3]
    assert sheet.protection.sheet
    for name in header:
        locked = sheet.cell(2, header.index(name) + 1).protection.locked
        assert locked is (name not in dates + ["Observations"]), name
    again = write_workbook(tmp_path / "again.xlsx", sig.tracking_sheets(case[0], case[2], edition))
    assert again.read_bytes() == path.read_bytes()


def test_round_trip_reports_missing_late_and_out_of_order(tmp_path, edition, case):
    projects, _, assignment = case
    path = fill(generated(tmp_path, edition, case), {
        ("PAAA1", "site_signed"): datetime(2025, 10, 1), ("PAAA1", "school_signed"): "03/10/2025",
        ("PAAA1", "learners_signed"): datetime(2025, 11, 19),  # exactly 12 days before: on time
        ("PBBB2", "site_signed"): "02/10/2025", ("PBBB2", "school_signed"): datetime(2025, 10, 9),
        ("PBBB2", "learners_signed"): " 20/11/2025 ",  # 11 days before: late
        ("PCCC3", "site_signed"): datetime(2025, 10, 5), ("PCCC3", "learners_signed"): datetime(2025, 10, 7),
    })
    result = sig.read_tracking(path, edition, projects, assignment)
    table = result.conventions.set_index("project_code")
    assert result.metrics == {"conventions": 3, "fully_signed": 2, "missing": 1, "signatures_missing": 1,
                              "late": 1, "out_of_order": 1, "signed_on_time": 1}
    assert table.loc["PAAA1", "school_signed"] == date(2025, 10, 3) and not table.loc["PAAA1", "late"]
    assert table.loc["PBBB2", "late"] and table.loc["PBBB2", "last_signed"] == date(2025, 11, 20)
    assert table.loc["PCCC3", "out_of_order"] and table.loc["PCCC3", "missing"] == ["l'établissement de formation"]
    lines = sig.messages(result)
    assert len(lines) == 2 and lines[0].startswith("PBBB2 (Crèche Les Hirondelles) : en retard")


def test_unreadable_dates_and_unknown_rows_block_with_row_and_column(tmp_path, edition, case):
    projects, _, assignment = case
    path = fill(generated(tmp_path, edition, case), {
        ("PAAA1", "school_signed"): "31/11/2025", ("PBBB2", "learners_signed"): "la semaine dernière"})
    workbook = load_workbook(path)
    sheet = workbook["Suivi des conventions"]
    sheet.cell(4, 1).value = "PZZZ9"  # PCCC3's row now names an unknown project
    workbook.save(path)
    with pytest.raises(sig.TrackingWorkbookError) as info:
        sig.read_tracking(path, edition, projects, assignment)
    message = str(info.value)
    assert "4 problèmes bloquants" in message and "suivi_conventions.xlsx" in message
    assert "ligne 2 (PAAA1), colonne « Signature de l'établissement de formation » : « 31/11/2025 » n'est pas une date" in message
    assert "ligne 3 (PBBB2), colonne « Signature des apprenants (dernier signataire) » : « la semaine dernière »" in message
    assert "ligne 4 (PZZZ9) : projet inconnu" in message and "projet PCCC3 absent(e) du classeur" in message


def test_a_date_before_the_opening_is_a_warning(tmp_path, edition, case):
    projects, _, assignment = case
    path = fill(generated(tmp_path, edition, case), {("PAAA1", "site_signed"): "02/10/2024"})
    result = sig.read_tracking(path, edition, projects, assignment)
    assert any("PAAA1" in w and "avant l'ouverture des conventions le 15/09/2025" in w for w in result.warnings)


# --- the convention (DOCX) -------------------------------------------------------------------------------------
def document_text(data: bytes) -> str:
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", xml))


def render(edition, case, code="PAAA1") -> bytes:
    projects, roster, assignment = case
    team = cv.team_table(assignment, roster)
    row = projects.set_index("project_code").loc[code].to_dict() | {"project_code": code}
    return cv.render_convention(row, team[team["project_code"] == code], edition)


def test_convention_names_the_parties_the_team_and_the_period(edition, case):
    """The offer's own hours (90 h from the form), not the edition's conventions.hours (105)."""
    data = render(edition, case)
    text = document_text(data)
    for words in ["Maison des Fougères", "Odile Varenne", "Institut de formation sociale du Limousin (fictif)",
                  "Hélène Marchadier", "du 1er décembre 2025 au 19 décembre 2025", "90 heures",
                  "Vasseur", "Ambre", "Quillet", "Noé", "Éluard", "Capucine", "Éducateur de jeunes enfants (DEEJE)",
                  "BC1 — Organiser le cadre", "19 novembre 2025"]:
        assert words in text, words
    for other in ["Brossard", "Zerbib", "Crèche Les Hirondelles"]:  # another team, the unplaced learner
        assert other not in text
    assert text.index("BC1") < text.index("BC4") < text.index("BC7")  # the vocabulary's order
    assert text.index("Éluard") < text.index("Quillet") < text.index("Vasseur")  # by name, accents ignored
    assert "&lt;b&gt;partagés&lt;/b&gt;" in text and "Fresque &amp; « récits »" in text  # escaped, not markup
    assert data == render(edition, case)  # byte-identical
    core = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and "Démo — 2ème édition" in core


def test_all_conventions_differ_by_team(edition, case):
    projects, roster, assignment = case
    files = cv.render_all(projects, assignment, roster, edition)
    assert sorted(files) == ["convention_PAAA1.docx", "convention_PBBB2.docx", "convention_PCCC3.docx"]
    assert "Brossard" in document_text(files["convention_PBBB2.docx"])
    assert "Brossard" not in document_text(files["convention_PCCC3.docx"])


def test_default_template_is_reproducible_from_its_script():
    from pipeline.demo.make_convention_template import build

    assert build() == cv.DEFAULT_TEMPLATE.read_bytes()


def test_an_edition_template_is_used_and_checked(tmp_path, case):
    from docx import Document

    edition = make_edition()
    folder = tmp_path / "inputs" / "demo"
    folder.mkdir(parents=True)
    edition.params.root = tmp_path  # the edition's inputs now live under tmp_path
    document = Document()
    document.add_paragraph("Convention maison pour {{ partner.name }} — {{ team|length }} apprenants")
    document.save(folder / "ma_convention.docx")
    edition.config["conventions"] = {"hours": 105, "template": "ma_convention.docx"}
    assert "Convention maison pour Maison des Fougères — 3 apprenants" in document_text(render(edition, case))
    document.add_paragraph("{{ partner.siret }}")
    document.save(folder / "ma_convention.docx")
    with pytest.raises(ConfigError, match="Modèle de convention : champ inconnu"):
        render(edition, case)
    edition.config["conventions"] = {"hours": 105, "template": "absent.docx"}
    with pytest.raises(ConfigError, match="« absent.docx » introuvable"):
        cv.settings(edition)
    edition.config["conventions"] = {}
    with pytest.raises(ConfigError, match="conventions.hours"):
        cv.settings(edition)


def test_convention_converts_to_pdf_with_libreoffice(tmp_path, edition, case):
    from tests.person import Office, new_office_profile

    office = Office(new_office_profile())  # skipped (French message) without soffice, fails under CI=true
    source = tmp_path / "convention.docx"
    source.write_bytes(render(edition, case))
    pdf = office.convert(source, "pdf", tmp_path / "pdf")[0]
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
    else:  # no poppler: LibreOffice's own text export of the same document
        text = office.convert(source, "txt:Text (encoded):UTF8", tmp_path / "txt")[0].read_text(encoding="utf-8-sig")
    text = re.sub(r"\s+", " ", text)
    for name in ["Vasseur", "Ambre", "Quillet", "Éluard", "Capucine", "Maison des Fougères"]:
        assert name in text, name


# --- the demo's filled tracking workbook ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    edition, retained, roster = demo_inputs()
    return edition, retained, roster, followup.standin_assignment(retained, roster)


def test_standin_assignment_respects_sizes_and_tracks(demo):
    _, retained, roster, assignment = demo
    assert assignment["learner_id"].is_unique and len(assignment) == len(roster)
    merged = assignment.merge(roster, on="learner_id").merge(retained, on="project_code")
    assert merged.apply(lambda r: r["track"] in list(r["tracks_open"]), axis=1).all()
    sizes = assignment["project_code"].value_counts()
    bounds = retained.set_index("project_code").loc[sizes.index]
    assert ((sizes >= bounds["decided_team_min"]) & (sizes <= bounds["decided_team_max"])).all()


def test_demo_tracking_workbook_has_late_out_of_order_and_missing(tmp_path, demo):
    edition, retained, _, assignment = demo
    data = followup.filled_tracking(edition, retained, assignment)
    assert data == followup.filled_tracking(edition, retained, assignment)
    path = tmp_path / "suivi_conventions.xlsx"
    path.write_bytes(data)
    sheet = load_workbook(path)["Suivi des conventions"]
    typed = [c.value for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert any(re.fullmatch(r"\d\d/\d\d/\d{4}", v) for v in typed)  # some dates typed as text
    result = sig.read_tracking(path, edition, retained, assignment)
    m = result.metrics
    assert m["conventions"] == assignment["project_code"].nunique() == m["fully_signed"] + m["missing"]
    assert m["late"] >= 1 and m["out_of_order"] >= 1 and m["missing"] >= 1
    assert m["fully_signed"] > m["conventions"] // 2


def test_a_project_retained_on_agreed_hours_states_them_in_its_convention(demo_run):
    """The demo's 120-hour project is retained once its partner agrees to 105 hours (« Volume horaire
    retenu » in the decision workbook): its convention states 105 hours, never the 120 of the form."""
    import pandas as pd

    retained = pd.read_parquet(demo_run / "outputs" / "demo" / "commission" / "projets_retenus.parquet")
    agreed = retained[retained["decided_hours"].notna()]
    assert len(agreed) == 1 and agreed["hours"].iloc[0] == 120 and agreed["decided_hours"].iloc[0] == 105
    code = agreed["project_code"].iloc[0]
    text = document_text((demo_run / "outputs" / "demo" / "conventions" / "conventions" / f"convention_{code}.docx").read_bytes())
    assert "105 heures de formation pratique" in text and "120 heures" not in text

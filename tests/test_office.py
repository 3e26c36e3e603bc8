"""Every generated workbook (and document), opened by a real office suite: LibreOffice headless.

Generic: every ``*.xlsx`` / ``*.docx`` under the demo run's ``outputs/`` is checked, so a new stage's
files are covered without new code. A workbook must hold values only (no formula, no macro, no
external link), have a header row on every sheet, open in LibreOffice with every text cell shown
exactly as written (hostile demo values included), and keep its dropdowns through a LibreOffice
round trip. One LibreOffice profile per test session (``-env:UserInstallation``), thrown away after.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.io.workbook import Sheet, write_workbook
from tests.person import CSV_ALL_SHEETS_UTF8, XLSX, Office, new_office_profile, output_id, outputs_of

# Values of the demo export that a spreadsheet would turn into formulas if they were not typed as text.
DEMO_HOSTILE = ["=Projet « tous en scène » (théâtre forum)", "+33 5 36 49 12 34", "@sso Les Liens Solidaires"]
FORMULA_XML = re.compile(rb"<(?:\w+:)?f[\s>/]")
ERROR_VALUES = ("Err:", "#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!")


@pytest.fixture(scope="module")
def office():
    profile = new_office_profile()
    try:
        yield Office(profile)
    finally:
        shutil.rmtree(profile.parent, ignore_errors=True)


def xml_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def active_content(path: Path) -> list[str]:
    """Formulas, macros, external links, DDE: what would make a workbook do something when opened."""
    found = []
    wb = load_workbook(path)
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.data_type not in ("s", "str", "inlineStr")):
                    found.append(f"{sheet.title}!{cell.coordinate} est une formule ({cell.value!r})")
    for name, data in xml_parts(path).items():
        if name.startswith("xl/") and name.endswith(".xml") and FORMULA_XML.search(data):
            found.append(f"élément <f> (formule) dans {name}")
        if "vbaProject" in name or name.startswith("xl/externalLinks/") or "ddeLink" in data.decode("utf-8", "replace"):
            found.append(f"contenu actif : {name}")
    return found


def validations(path: Path) -> list[tuple[str, str, str, str]]:
    """``(sheet, type, cells, formula1)`` of every data-validation rule (dropdown) of a workbook."""
    wb = load_workbook(path)
    return sorted((ws.title, str(dv.type), " ".join(sorted(str(dv.sqref).split())), str(dv.formula1))
                  for ws in wb.worksheets for dv in ws.data_validations.dataValidation)


def sheets_by_title(files: list[Path], stem: str) -> dict[str, list[list[str]]]:
    """LibreOffice's CSV files of one workbook (``<stem>-<Sheet>.csv``, or ``<stem>.csv`` for a single sheet)."""
    out = {}
    for file in files:
        title = file.stem[len(stem) + 1:] if file.stem.startswith(stem + "-") else file.stem
        with open(file, encoding="utf-8", newline="") as handle:
            out[title] = list(csv.reader(handle))
    return out


def sheet_csv(office: Office, path: Path, tmp: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``path`` as LibreOffice writes it to CSV (UTF-8), by sheet title."""
    return sheets_by_title(office.convert(path, CSV_ALL_SHEETS_UTF8, tmp), path.stem)


def compare_with_libreoffice(path: Path, shown: dict[str, list[list[str]]]) -> list[str]:
    """Every text cell must read in LibreOffice exactly as written; numbers as numbers; no error value."""
    problems = []
    wb = load_workbook(path)
    if sorted(shown) != sorted(ws.title for ws in wb.worksheets):
        return [f"feuilles vues par LibreOffice {sorted(shown)} ≠ {[ws.title for ws in wb.worksheets]}"]
    for ws in wb.worksheets:
        rows = shown[ws.title]
        if not rows or not any(rows[0]):
            problems.append(f"{ws.title} : pas de ligne d'en-têtes dans LibreOffice")
        for r, row in enumerate(ws.iter_rows(values_only=True)):
            seen = rows[r] if r < len(rows) else []
            seen = seen + [""] * (len(row) - len(seen))
            for c, value in enumerate(row):
                where = f"{ws.title}!{ws.cell(row=r + 1, column=c + 1).coordinate}"
                if any(seen[c].startswith(e) for e in ERROR_VALUES):
                    problems.append(f"{where} : LibreOffice affiche une erreur {seen[c]!r}")
                elif isinstance(value, str) and seen[c] != value:
                    problems.append(f"{where} : écrit {value!r}, LibreOffice montre {seen[c]!r}")
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    try:
                        if abs(float(seen[c].replace(",", ".")) - value) > 1e-9:
                            problems.append(f"{where} : nombre {value!r}, LibreOffice montre {seen[c]!r}")
                    except ValueError:
                        problems.append(f"{where} : nombre {value!r}, LibreOffice montre {seen[c]!r}")
                elif isinstance(value, (datetime, date)) and not seen[c]:
                    problems.append(f"{where} : date {value!r} absente dans LibreOffice")
                elif value is None and seen[c]:
                    problems.append(f"{where} : cellule vide, LibreOffice montre {seen[c]!r}")
    return problems


def test_no_workbook_holds_a_formula_macro_or_link_and_each_sheet_has_headers(demo_run):
    books = outputs_of(demo_run, "xlsx")
    assert books, "aucun classeur sous outputs/"
    failures = {}
    for path in books:
        problems = active_content(path)
        for ws in load_workbook(path).worksheets:
            header = [c.value for c in ws[1]]
            if not header or not all(isinstance(h, str) and h.strip() for h in header):
                problems.append(f"{ws.title} : ligne d'en-têtes absente ou incomplète {header}")
            if not re.fullmatch(r"[A-Z]+2", ws.freeze_panes or ""):  # header row frozen (and the key column, B2)
                problems.append(f"{ws.title} : la ligne d'en-têtes n'est pas figée ({ws.freeze_panes})")
        if problems:
            failures[output_id(demo_run, path)] = problems
    assert not failures, failures


def test_the_formula_check_sees_a_formula(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "Titre"
    wb.active["A2"] = "=1+1"
    wb.save(tmp_path / "f.xlsx")
    assert any("formule" in p for p in active_content(tmp_path / "f.xlsx"))


def test_every_workbook_reads_the_same_in_libreoffice(demo_run, office, tmp_path):
    books = outputs_of(demo_run, "xlsx")
    assert books
    failures, everything = {}, []
    for path, files in office.convert_many(books, CSV_ALL_SHEETS_UTF8, tmp_path).items():
        shown = sheets_by_title(files, path.stem)
        everything += [cell for rows in shown.values() for row in rows for cell in row]
        problems = compare_with_libreoffice(path, shown)
        if problems:
            failures[output_id(demo_run, path)] = problems[:20]
    assert not failures, failures
    for value in DEMO_HOSTILE:
        assert value in everything, f"{value!r} n'apparaît intact dans aucun classeur ouvert par LibreOffice"


def test_the_libreoffice_comparison_sees_a_formula_evaluated(office, tmp_path):
    """Proof the comparison is not blind: a formula cell is shown by LibreOffice as its result."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Titre", "Téléphone"])
    wb.active.append(["=1+1", "=+33 5"])
    wb.save(tmp_path / "bad.xlsx")
    shown = sheet_csv(office, tmp_path / "bad.xlsx", tmp_path / "csv")
    problems = " | ".join(compare_with_libreoffice(tmp_path / "bad.xlsx", shown))
    assert "A2" in problems and "B2" in problems, problems


def test_dropdowns_survive_a_libreoffice_round_trip(demo_run, office, tmp_path):
    """Generic: a workbook with dropdowns (``dataValidation``) keeps them when LibreOffice saves it again.
    The writer's own dropdowns are round-tripped too, so the check runs whatever the outputs hold."""
    probe = write_workbook(tmp_path / "decisions.xlsx", [Sheet("Décisions", pd.DataFrame(
        {"title": ["=Projet A", "Projet B"], "decision": ["", ""]}), labels={"decision": "Décision"},
        dropdowns={"decision": ["retenu", "non retenu", "à revoir"]})])
    books = [p for p in outputs_of(demo_run, "xlsx") if b"dataValidation" in b"".join(xml_parts(p).values())]
    failures = {}
    for path, back in office.convert_many([probe, *books], XLSX, tmp_path / "rt").items():
        assert len(back) == 1
        before, after = validations(path), validations(back[0])
        assert before, f"{path.name} annonce des listes déroulantes mais openpyxl n'en lit aucune"
        if before != after:
            failures[path.name] = {"avant": before, "après LibreOffice": after}
    assert not failures, failures
    assert validations(probe) == [("Décisions", "list", "B2:B3", '"retenu,non retenu,à revoir"')]


def test_every_document_opens_in_libreoffice(demo_run, office, tmp_path):
    """Generic over ``*.docx`` (the conventions): each converts to a PDF, all in one LibreOffice call."""
    documents = outputs_of(demo_run, "docx")
    assert documents
    failures = {}
    for path, pdfs in office.convert_many(documents, "pdf", tmp_path).items():
        if not pdfs[0].read_bytes().startswith(b"%PDF") or pdfs[0].stat().st_size < 1000:
            failures[output_id(demo_run, path)] = "PDF vide"
    assert not failures, failures


def test_a_missing_office_suite_is_skipped_in_french_but_fails_under_ci(monkeypatch):
    """On a user's machine without LibreOffice the office tests are skipped with the install command;
    under CI=true they fail instead (a CI that silently skips proves nothing)."""
    from tests import person

    monkeypatch.setattr(person.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        person.require_soffice()
    assert "sudo apt-get install libreoffice-calc-nogui libreoffice-writer-nogui" in str(skipped.value)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        person.require_soffice()
    assert "jamais ignoré" in str(failed.value)
    monkeypatch.setattr(person, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(pytest.fail.Exception, match="sudo apt-get install chromium"):
        person.require_chromium()

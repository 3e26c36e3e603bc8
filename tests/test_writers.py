"""The shared workbook writer and HTML helpers: inert, intact, escaped, byte-stable."""

import hashlib
import zipfile
from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.io import html
from pipeline.io.workbook import Sheet, write_workbook

HOSTILE = ["=1+1", "+33 5 36 49 12 34", "-", "- une liste", "@asso", "\tTAB", "\rCR", "＝SUM(A1)", "{=A1}",
           '=HYPERLINK("http://x.example","clic")', "<img src=x onerror=alert(1)>"]


def test_hostile_text_is_inert_text_and_intact(tmp_path):
    path = write_workbook(tmp_path / "w.xlsx", [Sheet("S", pd.DataFrame({"title": HOSTILE}))])
    sheet = load_workbook(path)["S"]
    values = [sheet.cell(row=r, column=1) for r in range(2, len(HOSTILE) + 2)]
    assert [c.value for c in values] == HOSTILE
    assert all(c.data_type == "s" for c in values)
    with zipfile.ZipFile(path) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml


def test_headers_come_from_field_metadata_and_sheet_is_usable(tmp_path):
    frame = pd.DataFrame({"hours": [105.0, 52.5], "title": ["a", "b"], "custom": [1, 2]})
    path = write_workbook(tmp_path / "w.xlsx", [Sheet("Projets", frame, labels={"custom": "Autre"})])
    sheet = load_workbook(path)["Projets"]
    assert [c.value for c in sheet[1]] == ["Volume horaire prévu (h)", "Titre du projet", "Autre"]
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == "A1:C3"
    assert sheet.cell(row=3, column=1).value == 52.5


def test_dropdowns(tmp_path):
    frame = pd.DataFrame({"decision": ["", ""]})
    path = write_workbook(tmp_path / "w.xlsx", [Sheet("D", frame, dropdowns={"decision": ["retenu", "non retenu"]})])
    rules = load_workbook(path)["D"].data_validations.dataValidation
    assert rules[0].formula1 == '"retenu,non retenu"' and str(rules[0].sqref) == "A2:A3"


def test_workbook_bytes_are_stable(tmp_path):
    frame = pd.DataFrame({"submitted_at": [datetime(2025, 7, 15, 14, 32)], "competences": [["BC1", "BC4"]],
                          "referent_available": pd.array([True], dtype="boolean"), "team_min": pd.array([4], dtype="Int64")})
    a = write_workbook(tmp_path / "a.xlsx", [Sheet("S", frame)]).read_bytes()
    b = write_workbook(tmp_path / "b.xlsx", [Sheet("S", frame)]).read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in archive.read("docProps/core.xml")
    row = [c.value for c in load_workbook(tmp_path / "a.xlsx")["S"][2]]
    assert row == [datetime(2025, 7, 15, 14, 32), "BC1, BC4", "Oui", 4]


def test_no_partial_file_on_failure(tmp_path):
    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(Exception):
        write_workbook(tmp_path / "w.xlsx", [Sheet("S", pd.DataFrame({"x": [Boom()]}))])
    assert list(tmp_path.iterdir()) == []


def test_html_table_escapes_everything():
    frame = pd.DataFrame({"title": ["<img src=x onerror=alert(1)>", "a & b\nligne 2"], "hours": [105.0, 52.5]})
    out = html.table(frame)
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "a &amp; b<br>ligne 2" in out and ">52,5<" in out and "<th>Titre du projet</th>" in out


def test_html_fragments_escape():
    assert "<script>" not in html.figures([("<script>", "<b>")])
    assert html.bullets(["<x>"]) == "<ul><li>&lt;x&gt;</li></ul>"
    assert html.display(datetime(2025, 7, 15, 14, 32)) == "15/07/2025 14:32"

"""It prints: every workbook sheet has an A4 landscape page set-up fitted to the width with its header row
repeated and its key column frozen; the convention keeps its table rows and its signature block together
and numbers its pages; HTML reports fit an A4 page when printed.

The slow tests print the demo run's workbooks and one convention to PDF with LibreOffice, **in one
soffice call**, and read the PDF pages back (``tests/pdf_text.py``); and print every report's layout in
Chromium's print media.
"""

from __future__ import annotations

import os
import re
import subprocess
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.io.workbook import Sheet, write_workbook
from tests.conftest import ROOT
from tests.pdf_text import page_sizes, pages_text
from tests.person import browser, new_office_profile, output_id, outputs_of, require_soffice

A4_LANDSCAPE = (841.9, 595.3)


# --- unit: the page set-up of the one workbook writer -------------------------------------------------------
def test_every_sheet_has_an_a4_landscape_page_setup_fitted_to_width(tmp_path):
    frame = pd.DataFrame({"project_code": ["P0001", "P0002"], "title": ["a", "b"], "hours": [105.0, 52.5]})
    path = write_workbook(tmp_path / "w.xlsx", [Sheet("Projets", frame), Sheet("Autre & suite", frame.head(1), key_columns=2)])
    book = load_workbook(path)
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert str(setup.paperSize) == sheet.PAPERSIZE_A4 and setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1 and setup.fitToHeight == 0
        assert sheet.print_title_rows == "$1:$1"  # the header row on every printed page
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
    assert book["Projets"].freeze_panes == "B2"  # header row and key column stay in view
    assert book["Autre & suite"].freeze_panes == "C2"
    assert book["Autre & suite"].oddHeader.center.text == "Autre && suite"  # & is a code in headers


def test_rows_with_wrapped_text_are_tall_enough_to_show_it(tmp_path):
    long = "mot " * 40  # 160 characters in a 30-character column: several lines
    frame = pd.DataFrame({"project_code": ["P0001", "P0002"], "description": [long, "court"]})
    sheet = load_workbook(write_workbook(tmp_path / "w.xlsx", [Sheet("S", frame)]))["S"]
    assert sheet["B2"].alignment.wrap_text and sheet.row_dimensions[2].height >= 5 * 13
    assert sheet.row_dimensions[3].height is None  # a one-line row keeps the default height


def test_the_convention_template_keeps_rows_and_signatures_together_and_numbers_pages():
    with zipfile.ZipFile(ROOT / "pipeline" / "stages" / "templates" / "convention.docx") as archive:
        document = archive.read("word/document.xml").decode("utf-8")
        footers = "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("word/footer"))
    rows = document.count("<w:tr>") + document.count("<w:tr ")
    assert rows and document.count("<w:cantSplit/>") == rows  # no row breaks across two pages
    assert "<w:tblHeader/>" in document
    signatures = document[document.index("— Signatures"):]  # its number follows the edition's own clauses
    assert signatures.count("<w:keepNext/>") >= 8  # the article, the signatures, the learners' table hold together
    assert 'w:instr="PAGE"' in footers and 'w:instr="NUMPAGES"' in footers


# --- slow: LibreOffice prints the demo's workbooks and a convention -----------------------------------------
@pytest.fixture(scope="module")
def printed(demo_run, tmp_path_factory):
    """Every workbook of the demo run and the convention of the largest team, printed to PDF by LibreOffice
    in a single soffice call (a call per file would start LibreOffice forty times)."""
    binary = require_soffice()
    books = outputs_of(demo_run, "xlsx")
    teams = pd.read_parquet(demo_run / "outputs" / "demo" / "assignment" / "affectations.parquet")
    largest = teams["project_code"].value_counts().sort_index().idxmax()
    convention = demo_run / "outputs" / "demo" / "conventions" / "conventions" / f"convention_{largest}.docx"
    assert convention.is_file()
    out = tmp_path_factory.mktemp("pdf")
    profile = new_office_profile()
    sources = [*books, convention]
    stems = [p.stem for p in sources]
    assert len(set(stems)) == len(stems), "two files would print to the same <name>.pdf"
    env = {**os.environ, "HOME": str(profile.parent), "SAL_USE_VCLPLUGIN": "svp"}
    result = subprocess.run([binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                             "--nolockcheck", "--nodefault", "--convert-to", "pdf", "--outdir", str(out),
                             *map(str, sources)], capture_output=True, text=True, timeout=600, env=env)
    pdfs = {path: out / f"{path.stem}.pdf" for path in sources}
    missing = [output_id(demo_run, p) for p, pdf in pdfs.items() if not pdf.is_file()]
    assert not missing, f"LibreOffice n'a pas imprimé {missing} (code {result.returncode}) :\n{result.stderr}"
    return {"pdfs": pdfs, "convention": convention, "team": teams[teams["project_code"] == largest], "root": demo_run}


def test_the_decision_workbook_prints_on_at_most_three_pages(printed):
    path, pdf = next((p, pdf) for p, pdf in printed["pdfs"].items() if p.name == "decisions_commission.xlsx")
    pages = pages_text(pdf)
    assert 1 <= len(pages) <= 3, f"{len(pages)} pages"
    decisions = sheet_pages(load_workbook(path, read_only=True), pages)["Décisions"]
    assert decisions and all("Code projet" in page for page in decisions)  # header row repeated on each page


def sheet_pages(book, texts: list[str]) -> dict[str, list[str]]:
    """The printed pages of each sheet: each page starts with its sheet's name (the page header)."""
    names = sorted(book.sheetnames, key=len, reverse=True)
    pages: dict[str, list[str]] = {}
    for text in texts:
        if not text.strip():  # LibreOffice sometimes ends a sheet with an empty page: nothing is cut there
            continue
        name = next((n for n in names if text.strip().startswith(n)), None)
        pages.setdefault(name, []).append(text)
    return pages


def test_every_workbook_prints_a4_landscape_fitted_to_width(printed):
    """Every page A4 landscape; each sheet's first page carries every column header (all columns fit the width)."""
    problems = {}
    for path, pdf in printed["pdfs"].items():
        if path.suffix != ".xlsx":
            continue
        name = output_id(printed["root"], path)
        sizes = page_sizes(pdf)
        wrong = [s for s in sizes if abs(s[0] - A4_LANDSCAPE[0]) > 1 or abs(s[1] - A4_LANDSCAPE[1]) > 1]
        if wrong or not sizes:
            problems[name] = f"{len(sizes)} page(s), hors A4 paysage : {wrong[:2]}"
            continue
        book = load_workbook(path, read_only=True)
        pages = sheet_pages(book, pages_text(pdf))
        if None in pages:
            problems[name] = f"page sans le nom de sa feuille en en-tête : {pages[None][0][:80]!r}"
            continue
        for sheet in book.worksheets:
            # a wrapped header is drawn line by line, interleaved with its neighbours: compare words
            header = [str(c.value) for c in next(sheet.iter_rows(max_row=1)) if c.value]
            first = set(re.sub(r"-\s+", "-", pages.get(sheet.title, [""])[0]).split())  # « socio- éducatif »
            cut = [h for h in header if not set(h.split()) <= first]
            if cut:
                problems[f"{name} › {sheet.title}"] = f"colonnes absentes de la première page : {cut}"
    assert not problems, problems


def test_the_convention_keeps_rows_and_signatures_together_and_numbers_its_pages(printed):
    pages = pages_text(printed["pdfs"][printed["convention"]])
    team = printed["team"].sort_values(["last_name", "first_name"])
    assert len(pages) >= 1
    for number, page in enumerate(pages, start=1):
        assert f"page {number} / {len(pages)}" in page, page[-80:]
    for row in team.itertuples():  # each row of the team table whole on one page
        assert any(f"{row.last_name} {row.first_name} " in page for page in pages), row.last_name
    block = [i for i, page in enumerate(pages) if "Article 7" in page]
    last = f"{team.iloc[-1].first_name} {team.iloc[-1].last_name}"
    assert block and "Pour le site qualifiant" in pages[block[0]] and last in pages[block[0]], \
        "le bloc des signatures est coupé entre deux pages"


# --- slow: HTML reports printed by Chromium -----------------------------------------------------------------
def test_every_html_page_fits_an_a4_page_when_printed(demo_run):
    """In print media, at the width of an A4 page between its margins, no table or figure sticks out."""
    pages = outputs_of(demo_run, "html")
    width = round((210 - 24) / 25.4 * 96)  # A4 minus the @page margins, in CSS pixels
    problems = {}
    with browser() as chromium:
        for path in pages:
            context = chromium.new_context(viewport={"width": width, "height": 1000}, offline=True)
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="load")
            page.emulate_media(media="print")
            facts = page.evaluate("""(width) => ({
                overflow: Array.from(document.querySelectorAll('table, svg, pre, .card, dl'))
                    .filter(e => e.getBoundingClientRect().right > width + 1).length,
                scroll: document.documentElement.scrollWidth,
                cards: Array.from(document.querySelectorAll('.card')).every(
                    c => ['avoid'].includes(getComputedStyle(c).breakInside)),
            })""", width)
            context.close()
            if facts["overflow"] or facts["scroll"] > width + 1 or not facts["cards"]:
                problems[output_id(demo_run, path)] = facts
    assert not problems, problems

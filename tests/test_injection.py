"""What an attacker sends: formulas, markup and header breaks in free text stay inert in every output.

Generic checks walk every ``*.xlsx``, ``*.html`` and ``*.eml`` under the demo run's ``outputs/`` (and
every export of every edition under ``inputs/``), so a new stage is covered without new code; each
checker is also shown to catch a crafted bad file. One unit-level test drives stage 10's ingest with
a crafted export holding every dangerous prefix.
"""

from __future__ import annotations

import email
import re
import shutil
import zipfile
from email import policy
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from pipeline.contract.config import Edition
from pipeline.io.normalise import clean_text
from pipeline.io.readers import read_table
from pipeline.demo import formats, partners
from pipeline.stages import projects, projects_report
from tests.conftest import ROOT, make_edition
from tests.person import output_id, outputs_of

# What a spreadsheet (Excel, LibreOffice, xlsxwriter) may evaluate at the start of a cell.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "{=")
TEXT_TYPES = ("s", "str", "inlineStr")


def dangerous(value) -> bool:
    return isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES)


# ------------------------------------------------------------------------------------------ workbooks

def text_cells(path: Path):
    """``(where, value, data_type)`` of every cell of a workbook holding a string or a formula."""
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) or cell.data_type == "f":
                    yield f"{ws.title}!{cell.coordinate}", cell.value, cell.data_type


def live_cells(path: Path) -> list[str]:
    """Cells whose text starts like a formula and that a spreadsheet would not take as plain text."""
    bad = [f"{where} ({kind}) : {value!r}" for where, value, kind in text_cells(path)
           if kind == "f" or (dangerous(value) and kind not in TEXT_TYPES)]
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and re.search(rb"<(?:\w+:)?f[\s>/]", archive.read(name)):
                bad.append(f"formule dans {name}")
    return bad


def edition_exports(root: Path):
    """``(edition, file name, RawTable)`` of every export named in params.yaml that exists."""
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    for edition, spec in (params.get("editions") or {}).items():
        mapping = yaml.safe_load((root / "inputs" / edition / "mapping.yaml").read_text(encoding="utf-8")) or {}
        for table, name in ((spec or {}).get("files") or {}).items():
            path = root / "inputs" / edition / name
            if not path.is_file() or path.suffix == ".docx":  # a convention template is not an export
                continue
            source = (mapping.get(table) or {}).get("source") or {}
            yield edition, name, read_table(path, header_rows=int(source.get("header_rows", 1)),
                                            delimiter=str(source.get("delimiter", "auto")))


def test_dangerous_text_is_inert_in_every_workbook(demo_run):
    books = outputs_of(demo_run, "xlsx")
    assert books
    failures = {output_id(demo_run, p): bad for p in books if (bad := live_cells(p))}
    assert not failures, failures


def test_dangerous_input_values_reach_the_workbooks_unchanged_or_not_at_all(demo_run):
    """A value read from an export that starts like a formula is either in a workbook exactly as the
    partner typed it (line ends and surrounding spaces aside) or not published — never defused by a
    changed value (a ``'`` added, the ``=`` stripped)."""
    cells = {value for p in outputs_of(demo_run, "xlsx") for _, value, _ in text_cells(p) if isinstance(value, str)}
    checked, failures = [], []
    for edition, name, table in edition_exports(demo_run):
        for row in table.rows:
            for raw in row:
                value, _ = clean_text(raw, multiline=True)
                if not dangerous(value):
                    continue
                checked.append(value)
                if value in cells:
                    continue
                core = value.lstrip("=+-@\t\r＝{ '")
                altered = [c for c in cells if c != value and len(core) > 3 and c.endswith(core)]
                if altered:
                    failures.append(f"{edition}/{name} : {value!r} publié modifié en {altered}")
    assert not failures, failures
    assert "=Projet « tous en scène » (théâtre forum)" in checked and "+33 5 36 49 12 34" in checked
    for value in ("=Projet « tous en scène » (théâtre forum)", "+33 5 36 49 12 34", "@sso Les Liens Solidaires"):
        assert value in cells, value


def test_the_workbook_check_sees_live_cells(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "=1+1"  # openpyxl stores it as a formula
    wb.save(tmp_path / "bad.xlsx")
    bad = " | ".join(live_cells(tmp_path / "bad.xlsx"))
    assert "A1" in bad and "formule" in bad


# ------------------------------------------------------------------------------------------ HTML pages

DANGEROUS_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
                  "textarea", "select", "base", "link", "img", "image", "audio", "video", "source", "track",
                  "foreignobject", "animate", "set", "animatetransform", "animatemotion", "portal", "meta-refresh"}


class Markup(HTMLParser):
    """Every element and attribute of a page that could run code or fetch something."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        name = tag.lower()
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if name == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            name = "meta-refresh"
        if name in DANGEROUS_TAGS and not (name == "img" and attributes.get("src", "").startswith("data:")):
            self.problems.append(f"élément <{tag}> {attrs}")
        for key, value in attributes.items():
            if key.startswith("on"):
                self.problems.append(f"attribut {key} sur <{tag}>")
            if key in ("href", "src", "xlink:href", "action", "formaction", "style") and \
                    re.search(r"javascript:|vbscript:|expression\(|url\(\s*['\"]?\s*(?!data:|#)", value, re.I):
                self.problems.append(f"{key}={value[:60]!r} sur <{tag}>")

    handle_startendtag = handle_starttag


def markup_problems(page: str) -> list[str]:
    parser = Markup()
    parser.feed(page)
    parser.close()
    return parser.problems


def test_every_html_page_escapes_input_markup(demo_run):
    pages = outputs_of(demo_run, "html")
    assert pages
    inputs_with_markup = {v for _, _, t in edition_exports(demo_run) for row in t.rows for v in row
                          if re.search(r"<\s*[a-zA-Z/!]", v)}
    assert any("<img src=x onerror=alert(1)>" in v for v in inputs_with_markup)
    failures = {}
    for path in pages:
        page = path.read_text(encoding="utf-8")
        problems = markup_problems(page)
        for value in inputs_with_markup:
            for tag in re.findall(r"<\s*[a-zA-Z/!][^<>]*>?", value):
                if tag in page:
                    problems.append(f"balise d'une valeur saisie restée active : {tag!r}")
        if problems:
            failures[output_id(demo_run, path)] = problems
    assert not failures, failures
    report = (demo_run / "outputs" / "demo" / "projects" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x onerror" not in report and "&lt;img src=x onerror=alert(1)&gt;" in report


def test_the_html_check_sees_active_markup():
    page = ('<p>ok</p><img src=x onerror=alert(1)><svg><a xlink:href="javascript:alert(1)">x</a></svg>'
            '<div style="background:url(http://x.example/p.gif)">y</div><script>z</script>')
    found = " | ".join(markup_problems(page))
    for expected in ("<img>", "onerror", "javascript:", "url(", "<script>"):
        assert expected in found, (expected, found)
    assert markup_problems('<img src="data:image/png;base64,AAAA"><p class="x">a &lt;b&gt;</p>') == []


# ------------------------------------------------------------------------------------------ e-mails

# A draft (.eml) may carry these headers, each once; anything else (Bcc above all) came from a value.
EML_HEADERS = {"from", "to", "cc", "reply-to", "subject", "date", "message-id", "mime-version", "content-type",
               "content-transfer-encoding", "content-disposition", "content-language", "x-unsent", "x-stagesco"}
ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "bcc"}
FOLDING = re.compile(r"\r?\n(?=[ \t])")  # RFC 5322 §2.2.3: CRLF followed by a space is not a line break


def eml_header_problems(data: bytes) -> list[str]:
    """Headers of a draft that a CR/LF in a name could have broken. Every header must be one logical
    line (the writer may fold a long one — CRLF + space — which readers undo), hold no CR/LF once
    decoded, be an expected header present once, and, for an address header, hold plain addresses
    (a CR/LF or ``:`` smuggled into a name turns it into a group of extra recipients)."""
    problems = []
    raw = email.message_from_bytes(data, policy=policy.compat32)  # raw header text, folding kept
    seen: dict[str, int] = {}
    for name, value in raw.items():
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        if re.search(r"[\r\n]", FOLDING.sub("", value)):
            problems.append(f"en-tête {name} sur plusieurs lignes : {value!r}")
        if key not in EML_HEADERS and not key.startswith("x-"):
            problems.append(f"en-tête inattendu {name} : {value!r}")
        if key in ADDRESS_HEADERS and re.search(r"@[^\s<>]*=\?", FOLDING.sub("", value)):
            problems.append(f"en-tête {name} : domaine d'adresse encodé en RFC 2047 ({FOLDING.sub('', value)!r}), "
                            "courriel non distribuable (un domaine accentué s'écrit en IDNA xn--…)")
    for key, count in seen.items():
        if count > 1 and key in ("from", "to", "cc", "subject", "reply-to", "content-type", "message-id"):
            problems.append(f"en-tête {key} présent {count} fois")
    decoded = email.message_from_bytes(data, policy=policy.default)
    for name in decoded.keys():
        try:
            values = decoded.get_all(name) or []
            texts = [str(v) for v in values]
        except ValueError as exc:  # the address parser refuses a decoded CR/LF
            problems.append(f"en-tête {name} : retour à la ligne encodé dans la valeur ({exc})")
            continue
        for header, text in zip(values, texts):
            if re.search(r"[\r\n]", text):
                problems.append(f"en-tête {name} : retour à la ligne encodé dans la valeur {text!r}")
            if name.lower() in ADDRESS_HEADERS:
                groups = [g.display_name for g in header.groups if g.display_name is not None]
                if groups:
                    problems.append(f"en-tête {name} : groupe d'adresses {groups} (un nom a injecté « : » ?)")
                if not header.addresses:
                    problems.append(f"en-tête {name} sans adresse : {text!r}")
            if header.defects:
                problems.append(f"en-tête {name} mal formé : {[type(d).__name__ for d in header.defects]}")
    for part in decoded.walk():
        if part.get_content_type() == "text/html" and markup_problems(part.get_content()):
            problems.append(f"corps HTML actif : {markup_problems(part.get_content())}")
    return problems


def test_no_eml_header_is_broken_by_a_value(demo_run):
    """Generic over every ``*.eml`` under outputs/ (none today: later stages write notification drafts)."""
    drafts = outputs_of(demo_run, "eml")
    failures = {output_id(demo_run, p): bad for p in drafts if (bad := eml_header_problems(p.read_bytes()))}
    assert not failures, failures


GOOD_EML = ("From: Stages collectifs <stages@ecole.example>\r\nTo: =?utf-8?q?Jos=C3=A9_Dupont?= <jd@ex.example>\r\n"
            "Subject: =?utf-8?q?Votre_projet_=C2=AB_Th=C3=A9=C3=A2tre_=C2=BB?=\r\nDate: Mon, 01 Dec 2025 09:00:00 +0100\r\n"
            "Message-ID: <p3x7k.2025@stagesco.invalid>\r\nMIME-Version: 1.0\r\nX-Unsent: 1\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBonjour,\r\n")


@pytest.mark.parametrize("bad_to, expected", [
    ("Dupont\r\n Bcc: pirate@evil.example <jd@ex.example>", "groupe d'adresses"),
    ("Dupont\rBcc: pirate@evil.example <jd@ex.example>", "Bcc"),
    ("Dupont <jd@ex.example>\r\nBcc: pirate@evil.example", "inattendu Bcc"),
    ("Dupont <jd@ex.example>\r\nTo: pirate@evil.example", "to présent 2 fois"),
    ("=?utf-8?q?Dupont=0D=0ABcc=3A_pirate=40evil=2Eexample?= <jd@ex.example>", "retour à la ligne encodé"),
])
def test_the_eml_check_sees_a_broken_header(bad_to, expected):
    assert eml_header_problems(GOOD_EML.encode("utf-8")) == []
    bad = GOOD_EML.replace("To: =?utf-8?q?Jos=C3=A9_Dupont?= <jd@ex.example>", f"To: {bad_to}")
    assert bad != GOOD_EML
    found = " | ".join(eml_header_problems(bad.encode("utf-8")))
    assert expected in found, found


def test_the_draft_writer_keeps_crlf_names_out_of_the_headers():
    """pipeline.io.mail, fed names and a subject holding CR/LF, a ``:`` and a long title (folded),
    writes a draft the checker accepts: one recipient, no smuggled header."""
    mail = pytest.importorskip("pipeline.io.mail")
    hostile = "Dupont\r\nBcc: pirate@evil.example\r\n\r\n<script>x</script>"
    draft = mail.Draft(file_name="P0000.eml", to=mail.address(hostile, "jd@ex.example"),
                       subject="Votre projet « " + "très long titre " * 8 + "»\r\nBcc: pirate@evil.example",
                       body="Bonjour,\n", message_id=mail.message_id("t", "P0000", domain="ecole.example"))
    data = mail.render(draft, mail.address("Stages collectifs\nX-Evil: 1", "stages@ecole.example"))
    assert eml_header_problems(data) == [], data
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["jd@ex.example"]
    assert "Bcc" not in parsed and "X-Evil" not in parsed


# ------------------------------------------------------------------------------------------ stage 10 ingest

# (title as typed in the form, title as the workbook must hold it: surrounding whitespace is trimmed)
HOSTILE_TITLES = [
    ("=HYPERLINK(\"http://x.example\";\"clic\")", None),
    ("=1+1", None),
    ("+33 5 36 49 12 34", None),
    ("-2+3", None),
    ("- une liste à puces", None),
    ("@SUM(A1:A2)", None),
    ("\t=1+1 après une tabulation", "=1+1 après une tabulation"),
    ("\r=1+1 après un retour chariot", "=1+1 après un retour chariot"),
    ("＝SUM(A1) pleine chasse", None),
    ("{=A1:A2} formule matricielle", None),
    ("=cmd|' /C calc'!A0", None),
    ("<img src=x onerror=alert(1)> et <script>alert(2)</script>", None),
]


@pytest.mark.parametrize("shape", ["limesurvey", "google_forms"])
def test_ingest_keeps_every_dangerous_title_as_identical_text(tmp_path, shape):
    writer, mapping, name = {"limesurvey": (formats.limesurvey_export, formats.LIMESURVEY_MAPPING, "depot.csv"),
                             "google_forms": (formats.google_forms_export, formats.GOOGLE_FORMS_MAPPING, "depot.csv")}[shape]
    rows = partners.records(seed=11, count=len(HOSTILE_TITLES))
    for row, (title, _) in zip(rows, HOSTILE_TITLES):
        row["title"] = title
    rows[0]["referent_phone"] = "+33 5 55 00 00 00"
    rows[1]["structure_name"] = "@sso des Tilleuls"
    edition = make_edition(tmp_path, writer(rows), mapping, name)
    result = projects.ingest(edition)
    assert result.metrics["projects_accepted"] == len(HOSTILE_TITLES), result.rejected
    out = tmp_path / "out"
    out.mkdir()
    projects_report.write_outputs(result, edition, out)  # the stage's own writer (write_workbook)
    sheet = load_workbook(out / "projets.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    by_label = {label: [sheet.cell(row=r, column=header.index(label) + 1) for r in range(2, sheet.max_row + 1)]
                for label in ("Titre du projet", "Téléphone du référent", "Structure")}
    titles = {c.value: c.data_type for c in by_label["Titre du projet"]}
    for typed, kept in HOSTILE_TITLES:
        expected = kept or typed
        assert expected in titles, (expected, sorted(titles))
        assert titles[expected] == "s", (expected, titles[expected])
    assert all(c.data_type == "s" for cells in by_label.values() for c in cells)
    assert "+33 5 55 00 00 00" in {c.value for c in by_label["Téléphone du référent"]}
    assert "@sso des Tilleuls" in {c.value for c in by_label["Structure"]}
    assert not live_cells(out / "projets.xlsx") and not live_cells(out / "rejets.xlsx")
    table = projects_report.projects_table(result)
    assert not markup_problems(table), markup_problems(table)
    assert escape("<img src=x onerror=alert(1)>") in table and "<script>" not in table

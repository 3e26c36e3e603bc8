"""Hostile and mistaken input files: refused early, in bounded time and memory, with a French message
naming the file — or read exactly. The corpus (``tests/corpus``) holds the small cases; the big and
explosive ones are generated here into ``tmp_path``."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from pipeline.io import readers
from pipeline.contract.errors import InputFileError
from pipeline.io.readers import read_table
from tests.conftest import ROOT, copy_repo, stagesco

CORPUS = Path(__file__).with_name("corpus")
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
NOT_DATA = {"README.md", "expected.yaml", "build.py"}


# ------------------------------------------------------------------------------------------ the corpus

def test_every_corpus_file_has_an_expectation_and_back():
    files = {p.name for p in CORPUS.iterdir() if p.is_file()} - NOT_DATA
    assert files == set(EXPECTED), {"sans attente": files - set(EXPECTED), "fichier absent": set(EXPECTED) - files}
    for name, case in EXPECTED.items():
        assert case.get("what") and case["expect"] in ("ingested", "refused"), name
        assert case["expect"] == "ingested" or case.get("message"), name
    assert (CORPUS / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus(name):
    case = EXPECTED[name]
    path = CORPUS / name
    started = time.perf_counter()
    if case["expect"] == "refused":
        with pytest.raises(InputFileError) as info:
            read_table(path, header_rows=case.get("header_rows", 1))
        message = str(info.value)
        assert case["message"] in message, message
        assert name in message, f"le message ne nomme pas le fichier : {message}"
        assert info.value.hint, "le message ne dit pas quoi faire"
    else:
        table = read_table(path, header_rows=case.get("header_rows", 1))
        assert len(table.rows) == case["rows"], table.rows
        assert len(table.row_numbers) == len(table.rows)
        assert all(len(row) == len(table.columns) for row in table.rows)
        for key in ("columns", "encoding", "delimiter", "blank_lines", "row_numbers"):
            if key in case:
                assert getattr(table, key) == case[key], (key, getattr(table, key))
        assert sorted(table.row_errors) == case.get("row_errors", []), table.row_errors
        for row, column, value in case.get("values", []):
            assert table.rows[row][table.columns.index(column)] == value, (row, column)
        assert table.describe().startswith(name)
    assert time.perf_counter() - started < 5


# ------------------------------------------------------------------------------------------ CSV at scale

PEAK = """
import json, resource, sys, time
from pathlib import Path
from pipeline.io.readers import read_table
started = time.perf_counter()
try:
    table = read_table(Path(sys.argv[1]))
    outcome = {"rows": len(table.rows)}
except Exception as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
outcome["seconds"] = time.perf_counter() - started
outcome["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(outcome))
"""


def read_in_child(path: Path) -> dict:
    """read_table in a fresh interpreter, with its peak resident memory (ru_maxrss) and wall time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_million_row_csv_is_refused_at_the_row_cap_in_bounded_memory(tmp_path):
    """1 000 000 rows of 12 short fields (37 MB, under the size cap): before the records were streamed
    the whole file was parsed first (1.2 GB peak, 16 s here); now the row cap stops it early."""
    path = tmp_path / "depot_geant.csv"
    row = ";".join(["%02d"] * 12) + "\r\n"
    with open(path, "w", encoding="ascii", newline="") as handle:
        handle.write(";".join(f"C{j}" for j in range(12)) + "\r\n")
        handle.writelines(row % tuple((i + j) % 100 for j in range(12)) for i in range(1_000_000))
    assert path.stat().st_size < readers.DEFAULT_LIMITS["max_file_bytes"]
    outcome = read_in_child(path)
    assert outcome.get("error") == "InputFileError", outcome
    assert "Trop de lignes" in outcome["message"] and "depot_geant.csv" in outcome["message"], outcome
    assert outcome["peak_mb"] < 500, outcome
    assert outcome["seconds"] < 20, outcome


def test_a_header_of_100000_columns_is_refused(tmp_path):
    """Each data row is padded to the header's width: 100 000 labels would make every row huge."""
    path = tmp_path / "colonnes.csv"
    path.write_text(";".join(f"c{i}" for i in range(100_000)) + "\n" + "1;2\n" * 100, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(InputFileError, match=r"Trop de colonnes.*colonnes\.csv"):
        read_table(path)
    assert time.perf_counter() - started < 5


# ------------------------------------------------------------------------------------------ XLSX bombs

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                 'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
                 'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                 '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
                 '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Réponses" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                 'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
                 'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                 'Target="sharedStrings.xml"/></Relationships>')
PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'
ROWS = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>2</v></c></row>')
LAUGHS = ('<!DOCTYPE {root} [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10)) + "]>")
XXE = '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def sheet_xml(rows: str = ROWS, dimension: str | None = None, dtd: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (PROLOG + dtd.format(root="worksheet") + '<worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main">{dim}<sheetData>{rows}</sheetData></worksheet>')


def strings_xml(strings=("Titre", "Code", "Fresque"), dtd: str = "") -> str:
    return (PROLOG + dtd.format(root="sst") + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")


def xlsx(path: Path, sheet: str | None = None, strings: str | None = None, extra: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet or sheet_xml())
        archive.writestr("xl/sharedStrings.xml", strings or strings_xml())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def refused(path: Path, *words: str, seconds: float = 10, **kwargs) -> str:
    """read_table refuses ``path`` with our error (never a raw exception), naming it, within ``seconds``."""
    started = time.perf_counter()
    with pytest.raises(InputFileError) as info:
        read_table(path, **kwargs)
    elapsed = time.perf_counter() - started
    message = str(info.value)
    assert path.name in message, message
    for word in words:
        assert word in message, message
    assert elapsed < seconds, f"{elapsed:.1f} s"
    return message


def test_the_handmade_workbook_is_valid_to_begin_with(tmp_path):
    table = read_table(xlsx(tmp_path / "sain.xlsx"))
    assert table.columns == ["Titre", "Code"] and table.rows == [["Fresque", "Fresque"]]


def test_billion_laughs_in_shared_strings_is_refused(tmp_path):
    path = xlsx(tmp_path / "rires.xlsx", strings=strings_xml(("Titre", "Code", "&lol9;"), dtd=LAUGHS))
    refused(path, "xl/sharedStrings.xml", "entités XML", seconds=2)


def test_billion_laughs_and_external_entity_in_a_sheet_are_refused(tmp_path):
    refused(xlsx(tmp_path / "feuille.xlsx", sheet=sheet_xml(dtd=LAUGHS)), "xl/worksheets/sheet1.xml", seconds=2)
    message = refused(xlsx(tmp_path / "xxe.xlsx", strings=strings_xml(("Titre", "Code", "&xxe;"), dtd=XXE)),
                      "entités XML", seconds=2)
    assert "root:" not in message


def test_utf16_part_with_a_dtd_is_refused(tmp_path):
    strings = strings_xml(("Titre", "Code", "&lol9;"), dtd=LAUGHS).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = xlsx(tmp_path / "utf16.xlsx", strings="\ufeff" + strings)
    data = io.BytesIO()  # rewrite the shared strings part in UTF-16
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/sharedStrings.xml":
                content = content.decode("utf-8").encode("utf-16-le")
            target.writestr(info.filename, content)
    path.write_bytes(data.getvalue())
    refused(path, "entités XML", seconds=2)


def test_defusedxml_still_stops_entities_the_prescan_would_miss(tmp_path, monkeypatch):
    """Second line of defence: without our DTD pre-scan, openpyxl parses through defusedxml, and the
    forbidden entities still end as our French error — not a hang, not a raw exception."""
    monkeypatch.setattr(readers, "_declares_dtd", lambda archive, info: False)
    refused(xlsx(tmp_path / "rires.xlsx", strings=strings_xml(("Titre", "Code", "&lol9;"), dtd=LAUGHS)),
            "illisible", seconds=2)
    refused(xlsx(tmp_path / "feuille.xlsx", sheet=sheet_xml(dtd=LAUGHS)), "illisible", seconds=2)


def test_openpyxl_without_defusedxml_is_refused(tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    refused(xlsx(tmp_path / "sain.xlsx"), "defusedxml", seconds=2)


def test_a_ratio_bomb_in_the_shared_strings_is_refused_before_parsing(tmp_path):
    """(A sheet-part ratio bomb is in test_readers.) 100 MB of one repeated string."""
    path = xlsx(tmp_path / "bombe.xlsx", strings=strings_xml(("Titre", "Code", "A" * 100_000_000)))
    assert path.stat().st_size < 1_000_000
    refused(path, "xl/sharedStrings.xml", "décompresse", seconds=5)


def test_many_small_entries_adding_up_are_refused(tmp_path):
    """Under the per-entry ratio floor (1 MB) each, 250 entries of 900 kB add up to 225 MB."""
    extra = {f"xl/media/image{i}.bin": b"\0" * 900_000 for i in range(250)}
    refused(xlsx(tmp_path / "cumul.xlsx", extra=extra), "une fois décompressé", seconds=10)


def test_twenty_thousand_entries_are_refused(tmp_path):
    extra = {f"xl/media/e{i}.xml": b"" for i in range(20_000)}
    refused(xlsx(tmp_path / "entrees.xlsx", extra=extra), "éléments dans l'archive", seconds=10)


def _lie_about_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of ``name`` in its local header and central directory entry."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    while local != -1:
        name_len, = struct.unpack_from("<H", out, local + 26)
        if out[local + 30: local + 30 + name_len] == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_len, = struct.unpack_from("<H", out, central + 28)
        if out[central + 46: central + 46 + name_len] == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_an_entry_lying_about_its_size_is_refused(tmp_path):
    """The zip says sheet1.xml is 2 000 bytes; it inflates to 100 MB. Python's zipfile stops at the
    declared size and the CRC check fails: a French refusal, not a raw BadZipFile."""
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="s"><v>2</v></c></row>' for i in range(2, 3)) + " " * 100_000_000
    path = xlsx(tmp_path / "menteur.xlsx", sheet=sheet_xml(rows=ROWS + rows))
    path.write_bytes(_lie_about_size(path.read_bytes(), b"xl/worksheets/sheet1.xml", 2_000))
    refused(path, "illisible", seconds=5)


def test_declared_dimension_and_far_columns_do_not_explode(tmp_path):
    """``A1:XFD1048576`` declared and a cell in column XFD on each of 20 000 rows: read in bounded time,
    cells beyond the label row's width ignored (they were padded to 16 384 cells a row before)."""
    far = "".join(f'<row r="{i}"><c r="A{i}" t="s"><v>2</v></c><c r="XFD{i}" t="s"><v>2</v></c></row>'
                  for i in range(2, 20_002))
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    path = xlsx(tmp_path / "large.xlsx", sheet=sheet_xml(rows=header + far, dimension="A1:XFD1048576"))
    started = time.perf_counter()
    table = read_table(path)
    assert time.perf_counter() - started < 10
    assert table.columns == ["Titre", "Code"] and len(table.rows) == 20_000
    assert table.rows[0] == ["Fresque", ""]


def test_a_label_in_column_xfd_is_refused(tmp_path):
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="XFD1" t="s"><v>1</v></c></row>'
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="s"><v>2</v></c></row>' for i in range(2, 5))
    refused(xlsx(tmp_path / "etiquette.xlsx", sheet=sheet_xml(rows=header + rows)), "Trop de colonnes", seconds=5)


def test_a_row_numbered_beyond_excel_is_refused(tmp_path):
    """openpyxl fills the gap up to a row's number one empty row at a time: r="999999999" never ends."""
    rows = ROWS + '<row r="999999999"><c r="A999999999" t="s"><v>2</v></c></row>'
    refused(xlsx(tmp_path / "ligne.xlsx", sheet=sheet_xml(rows=rows)), "dernière ligne d'Excel", seconds=10)


# ------------------------------------------------------------------------------------------ a value the writers choke on

def test_control_characters_in_a_value_do_not_crash_the_workbooks(tmp_path):
    """A C0 control character in a text value (``\\x01``, ``\\x0b`` pasted from Word or a PDF) used to
    make openpyxl raise ``IllegalCharacterError``; the normaliser now drops them and the writer replaces
    any left by U+FFFD, so the stage completes."""
    from pipeline.demo import formats, partners
    from pipeline.stages import projects, projects_report
    from tests.conftest import make_edition

    rows = partners.records(seed=5, count=3)
    rows[0]["title"] = "Fresque\x01 murale"
    rows[1]["description"] = "Ligne 1\x0bLigne 2 (saut de ligne de Word)"
    edition = make_edition(tmp_path, formats.limesurvey_export(rows), formats.LIMESURVEY_MAPPING, "depot.csv")
    result = projects.ingest(edition)
    out = tmp_path / "out"
    out.mkdir()
    projects_report.write_outputs(result, edition, out)
    assert (out / "projets.xlsx").is_file()
    assert "Fresque murale" in set(result.projects["title"])


# ------------------------------------------------------------------------------------------ through the real pipeline

@pytest.mark.slow
def test_a_hostile_export_stops_the_stage_with_the_french_message(tmp_path):
    """What the analyst sees when the edition's export is not an export (an image saved under its
    name): one French line naming the file, no traceback, no output published."""
    root = copy_repo(tmp_path / "repo")
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    name = params["editions"]["demo"]["files"]["projects"]
    export = root / "inputs" / "demo" / name
    export.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000)  # an image saved under the export's name
    failed = stagesco(root, "run", "demo", check=False)
    said = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert name in said and "contenu binaire" in said, said
    assert "Traceback" not in said, said
    assert not (root / "outputs" / "demo" / "projects" / "report.html").exists()


def test_corpus_files_are_what_build_py_writes():
    """The committed corpus is exactly what build.py writes (the bytes are reviewable as code)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus_build", CORPUS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.FILES) == set(EXPECTED)
    stale = [name for name, data in module.FILES.items() if (CORPUS / name).read_bytes() != data]
    assert not stale, f"relancez tests/corpus/build.py : {stale}"

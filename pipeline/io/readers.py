"""Reading exported files (CSV in any delimiter/encoding real exports use, or XLSX) into raw text rows.

Nothing is guessed silently: the encoding and the delimiter are detected by fixed rules and reported;
a file that matches none stops the stage with a French message naming the file and what to do.
Every value is kept as the exact text of the export (``+33 5 55 …`` stays a string).

Hostile or mistaken files are refused early, in bounded time and memory, with a French message naming
the file: size, row and column caps are checked while reading (a CSV is parsed record by record and
the row cap stops it), an XLSX is checked as a zip (total size, compression ratio, entry count) and
for XML DTD/entity declarations before any XML is parsed, and its rows are read without trusting the
sheet's declared dimensions.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from ..contract.errors import InputFileError
from . import fr

EMPTY_HINT = ("Exportez ou enregistrez à nouveau le fichier depuis l'application qui le produit (formulaire, liste de "
              "la promotion…)")

BOM = b"\xef\xbb\xbf"
DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
DELIMITER_PLURALS = {";": "des points-virgules (« ; »)", ",": "des virgules (« , »)", "\t": "des tabulations"}
DEFAULT_LIMITS = {
    "max_file_bytes": 50_000_000,
    "max_rows": 200_000,
    "max_columns": 1_000,
    "xlsx_max_uncompressed_bytes": 200_000_000,
    "xlsx_max_ratio": 200,
    "xlsx_max_entries": 10_000,
}
EXCEL_MAX_ROWS = 1_048_576  # a sheet row number beyond Excel's last row is not from a real export
CSV_FIELD_LIMIT = csv.field_size_limit()
NOT_AN_EXPORT = "Ce fichier n'est pas un export normal ; demandez un nouvel export"
RESAVE_XLSX = "Ouvrez-le dans Excel ou LibreOffice et enregistrez-le à nouveau au format .xlsx"
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_BLANK = re.compile(rb"(?:\xef\xbb\xbf)?\s*")
_PUNCTUATION_ONLY = re.compile(r"[\s;,\"\ufeff]+")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _n(number: int) -> str:
    """A count in French (thousands separated by a space)."""
    return f"{number:,}".replace(",", " ")


@dataclass
class RawTable:
    """The rows of an export as text, with where each row came from."""

    file: str
    columns: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    blank_lines: int = 0
    row_errors: dict[int, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One French sentence on how the file was read (shown in the report)."""
        if self.format == "xlsx":
            return f"{self.file} : classeur XLSX, {len(self.rows)} lignes de données, {len(self.columns)} colonnes."
        delim = DELIMITER_NAMES.get(self.delimiter or "", repr(self.delimiter))
        return (f"{self.file} : CSV encodé en {self.encoding}, séparateur {delim}, "
                f"{len(self.rows)} lignes de données, {len(self.columns)} colonnes"
                + (f", {fr.count(self.blank_lines, 'ligne vide ignorée', 'lignes vides ignorées')}." if self.blank_lines else "."))


def read_table(path: Path, *, header_rows: int = 1, delimiter: str = "auto",
               limits: dict | None = None, display_name: str | None = None) -> RawTable:
    """Read ``path`` (CSV or XLSX) into a :class:`RawTable`.

    ``header_rows`` rows precede the data; the last of them holds the column labels (Drupal Webform
    writes three). ``delimiter`` is ``auto`` or one of ``;``, ``,``, ``tab``.
    """
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    name = display_name or path.name
    if not path.is_file():
        raise InputFileError("Fichier introuvable", file=name,
                             hint="Déposez l'export dans le dossier de l'édition sous ce nom, ou corrigez le nom dans params.yaml")
    size = path.stat().st_size
    if size > limits["max_file_bytes"]:
        raise InputFileError(f"Fichier trop volumineux ({_n(size)} octets, maximum {_n(limits['max_file_bytes'])})",
                             file=name, hint="Vérifiez qu'il s'agit bien de l'export attendu")
    if path.suffix.lower() == ".xls":
        raise InputFileError("Format .xls (Excel 97-2003) non pris en charge", file=name,
                             hint="Enregistrez le fichier au format .xlsx ou .csv")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name, header_rows, limits)
    with open(path, "rb") as handle:
        head = handle.read(200)
    if head.startswith(b"PK\x03\x04"):
        if b"application/vnd.oasis.opendocument" in head:
            raise InputFileError("Ce fichier est un classeur OpenDocument (.ods), pas un CSV", file=name,
                                 hint="Enregistrez-le au format .xlsx ou .csv depuis LibreOffice")
        raise InputFileError("Ce fichier est un classeur (XLSX/ZIP), pas un CSV", file=name,
                             hint="Renommez-le avec l'extension .xlsx et mettez à jour params.yaml")
    return _read_csv(path, name, header_rows, delimiter, limits)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if _BLANK.fullmatch(data):  # (no copy of a large file)
        raise InputFileError("Le fichier est vide", file=name, hint=EMPTY_HINT)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError("Fichier encodé en UTF-16 (« Texte Unicode » d'Excel), non pris en charge", file=name,
                             hint="Enregistrez-le au format « CSV UTF-8 (délimité par des virgules) » ou .xlsx")
    if b"\x00" in data:
        raise InputFileError("Ce fichier n'est pas un fichier texte CSV (contenu binaire)", file=name,
                             hint="Exportez les réponses au format CSV ou XLSX depuis le formulaire")
    if data.startswith(BOM):
        try:
            return data[len(BOM):].decode("utf-8"), "UTF-8 avec BOM"
        except UnicodeDecodeError as exc:
            raise InputFileError(f"Encodage UTF-8 invalide à l'octet {exc.start}", file=name,
                                 hint="Enregistrez le fichier en UTF-8")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise InputFileError(f"Encodage non reconnu (ni UTF-8 ni Windows-1252, octet {exc.start})", file=name,
                             hint="Enregistrez le fichier en UTF-8 (« CSV UTF-8 » dans Excel)")


def _iter_records(text: str, delimiter: str, *, check_end: bool = True):
    """``(first line number, fields)`` of each CSV record, one at a time; multi-line quoted values are
    one record. A quote opened in the last record and never closed is an error (``csv`` would silently
    read the rest of the file as one value)."""
    consumed = [0]  # end offset of the last line the csv reader took

    def lines():  # as io.StringIO(text, newline="") splits, without copying the text
        for match in _LINE.finditer(text):
            consumed[0] = match.end()
            yield match.group()

    reader = csv.reader(lines(), delimiter=delimiter, quotechar='"', strict=False)
    start = 1
    last: tuple[int, int, bool] | None = None  # (start line, start offset, spans several lines)
    while True:
        offset = consumed[0]
        try:
            fields = next(reader)
        except StopIteration:
            if check_end and last and last[2] and _unterminated(text[last[1]:], delimiter):
                error = csv.Error("unterminated quote")
                error.start_line = last[0]
                raise error from None
            return
        except csv.Error as exc:
            exc.start_line = start  # where the faulty record begins, for the message
            raise
        yield start, fields
        last = (start, offset, reader.line_num > start)
        start = reader.line_num + 1


def _unterminated(tail: str, delimiter: str) -> bool:
    """Whether the last record (``tail``: from its first line to the end) ends inside quotes."""
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, quotechar='"', strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _records(text: str, delimiter: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """The first ``limit`` records (all without a limit) of :func:`_iter_records`."""
    out: list[tuple[int, list[str]]] = []
    for record in _iter_records(text, delimiter, check_end=False):
        out.append(record)
        if limit is not None and len(out) >= limit:
            break
    return out


def _csv_error(exc: csv.Error, line: int, name: str) -> InputFileError:
    """A French message for the csv module's (English) errors."""
    if str(exc) == "unterminated quote":
        return InputFileError(f"CSV mal formé : le guillemet ouvert à la ligne {line} n'est jamais refermé, la fin du "
                              "fichier serait lue comme une seule valeur", file=name,
                              hint="Exportez à nouveau le fichier, ou vérifiez les guillemets de cette ligne")
    if "field larger than field limit" in str(exc):
        return InputFileError(f"CSV mal formé à partir de la ligne {line} : une valeur dépasse "
                              f"{_n(CSV_FIELD_LIMIT)} caractères (guillemet ouvrant jamais refermé ?)",
                              file=name, hint="Exportez à nouveau le fichier, ou vérifiez les guillemets de cette ligne")
    return InputFileError(f"CSV mal formé à partir de la ligne {line} ({exc})", file=name,
                          hint="Exportez à nouveau le fichier")


def _detect_delimiter(text: str, header_rows: int, name: str) -> str:
    """The delimiter among ``;``, ``,`` and TAB that splits the label row into most columns and the
    first data rows consistently; ties go in that order."""
    best: tuple[tuple[int, int, int], str] | None = None
    for rank, candidate in enumerate((";", ",", "\t")):
        try:
            sample = [f for _, f in _records(text, candidate, limit=header_rows + 30) if any(v.strip() for v in f)]
        except csv.Error:
            continue
        if len(sample) < header_rows:
            continue
        width = len(sample[header_rows - 1])
        if width < 2:
            continue
        consistent = sum(1 for f in sample[header_rows:] if len(f) == width)
        score = (consistent, width, -rank)
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is None and not _PUNCTUATION_ONLY.sub("", text):
        raise InputFileError("Le fichier est vide (seulement des lignes vides ou des séparateurs)", file=name,
                             hint=EMPTY_HINT)
    if best is None:
        raise InputFileError("Séparateur de colonnes non reconnu (ni « ; », ni « , », ni tabulation)", file=name,
                             hint="Vérifiez qu'il s'agit d'un export CSV du formulaire, avec une ligne d'en-têtes")
    return best[1]


def _refuse_wrong_delimiter(text: str, header_rows: int, stated: str, name: str) -> None:
    """The mapping states a delimiter that leaves the label row in one piece: when another delimiter splits
    it, say so (rather than let every mapped label be reported missing)."""
    try:
        found = _detect_delimiter(text, header_rows, name)
    except InputFileError:
        return
    if found != stated:
        said = DELIMITER_NAMES.get(stated, repr(stated))
        raise InputFileError(f"Le séparateur de colonnes indiqué dans la correspondance ({said}) laisse la ligne "
                             f"d'en-têtes en une seule colonne : le fichier semble séparé par {DELIMITER_PLURALS[found]}",
                             file=name,
                             hint="Corrigez « delimiter » dans la section « source » de mapping.yaml (ou indiquez "
                                  "auto), ou enregistrez à nouveau le fichier avec le séparateur attendu")


def _too_many_columns(count: int, limits: dict, name: str) -> InputFileError:
    return InputFileError(f"Trop de colonnes dans la ligne d'en-têtes ({_n(count)}, maximum {limits['max_columns']})",
                          file=name, hint="Vérifiez qu'il s'agit bien de l'export attendu et le séparateur de colonnes")


def _too_many_rows(limits: dict, name: str) -> InputFileError:
    return InputFileError(f"Trop de lignes (plus de {_n(limits['max_rows'])} lignes de données, maximum "
                          f"{_n(limits['max_rows'])})", file=name,
                          hint="Vérifiez qu'il s'agit bien de l'export attendu")


def _read_csv(path: Path, name: str, header_rows: int, delimiter: str, limits: dict) -> RawTable:
    """Parse record by record: the header, then each data row, stopping at the row cap (memory stays
    bounded by the cap, not by the file: the bytes are dropped once decoded, lines are not copied)."""
    data = path.read_bytes()
    text, encoding = _decode(data, name)
    del data
    if delimiter in ("auto", None, ""):
        delim = _detect_delimiter(text, header_rows, name)
    else:
        delim = {"tab": "\t", "TAB": "\t"}.get(delimiter, delimiter)
    table = RawTable(file=name, columns=[], rows=[], row_numbers=[], format="csv", encoding=encoding, delimiter=delim)
    seen_headers = 0
    width = 0
    line = 1
    records = _iter_records(text, delim)
    try:
        for line, fields in records:
            if not any(v.strip() for v in fields):
                table.blank_lines += 1
                continue
            if seen_headers < header_rows:
                seen_headers += 1
                if seen_headers == header_rows:
                    if len(fields) > limits["max_columns"]:
                        raise _too_many_columns(len(fields), limits, name)
                    table.columns = [c.strip() for c in fields]
                    width = len(table.columns)
                continue
            if len(table.rows) >= limits["max_rows"]:
                raise _too_many_rows(limits, name)
            if len(fields) != width:
                table.row_errors[len(table.rows)] = (f"la ligne compte {len(fields)} champs alors que l'en-tête compte "
                                                     f"{width} colonnes (guillemet ou séparateur en trop ?)")
                fields = (fields + [""] * width)[:width]
            table.rows.append(fields)
            table.row_numbers.append(line)
    except csv.Error as exc:
        raise _csv_error(exc, getattr(exc, "start_line", line), name) from None
    finally:
        records.close()
    if seen_headers < header_rows:
        raise InputFileError("Ligne d'en-têtes absente", file=name, hint="Exportez le fichier avec ses en-têtes")
    if width == 1 and delimiter not in ("auto", None, ""):
        _refuse_wrong_delimiter(text, header_rows, delim, name)
    if not table.rows:
        raise InputFileError("Le fichier ne contient que des en-têtes, aucune réponse", file=name,
                             hint="Vérifiez que l'export couvre la bonne période et contient les réponses")
    return table


def _check_zip(path: Path, name: str, limits: dict) -> None:
    """Refuse zip bombs before any XML is parsed: entry count, total uncompressed size and per-entry
    ratio caps; then refuse any XML part declaring a DTD or entities (billion laughs, external
    entities): a real workbook never has one."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > limits["xlsx_max_entries"]:
                raise InputFileError(f"Classeur refusé : {len(entries)} éléments dans l'archive (maximum "
                                     f"{limits['xlsx_max_entries']})", file=name, hint=NOT_AN_EXPORT)
            total = 0
            for info in entries:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits["xlsx_max_ratio"] and info.file_size > 1_000_000:
                    raise InputFileError(f"Classeur refusé : l'élément {info.filename} se décompresse "
                                         f"{ratio:.0f} fois (maximum {limits['xlsx_max_ratio']})", file=name,
                                         hint=NOT_AN_EXPORT)
            if total > limits["xlsx_max_uncompressed_bytes"]:
                raise InputFileError(f"Classeur refusé : {_n(total)} octets une fois décompressé (maximum "
                                     f"{_n(limits['xlsx_max_uncompressed_bytes'])})",
                                     file=name, hint=NOT_AN_EXPORT)
            for info in entries:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, info):
                    raise InputFileError(f"Classeur refusé : l'élément {info.filename} déclare des entités XML "
                                         "(<!DOCTYPE>/<!ENTITY>), ce qu'aucun tableur n'écrit", file=name,
                                         hint=NOT_AN_EXPORT)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise InputFileError(f"Classeur XLSX illisible (ce n'est pas une archive valide : {type(exc).__name__})",
                             file=name, hint=RESAVE_XLSX)


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML part holds a ``<!DOCTYPE`` or ``<!ENTITY`` declaration anywhere (in a real part
    such text can only be markup: in values it is escaped as ``&lt;!``). Streamed in blocks through a
    sliding window, so memory stays small whatever the part's size (already capped by the zip checks);
    UTF-16 parts are looked at through their ASCII bytes."""
    tail = b""
    with archive.open(info) as handle:
        while True:
            block = handle.read(1 << 20)
            if not block:
                return False
            text = tail + block.replace(b"\x00", b"")
            if _DTD.search(text):
                return True
            tail = text[-32:]


def cell_text(value) -> str:
    """The text of a workbook cell as the export would have written it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S") if value.time() != time(0) else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_rows(sheet, name: str, limits: dict, max_col: int | None, skip: int = 0, stop_after: int | None = None):
    """``(row number, texts)`` of the non-empty rows of a read-only sheet, cells beyond ``max_col``
    ignored; refuses a row number beyond Excel's last row (gaps are filled by openpyxl one empty row at a
    time: a forged ``r="999999999"`` would never end)."""
    found = 0
    for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=max_col), start=1):
        if number > EXCEL_MAX_ROWS:
            raise InputFileError(f"Classeur refusé : la feuille dépasse la dernière ligne d'Excel ({_n(EXCEL_MAX_ROWS)})",
                                 file=name, hint=NOT_AN_EXPORT)
        if number <= skip or not any(v is not None and v != "" for v in values):
            continue
        texts = [cell_text(v) for v in values]
        if any(t.strip() for t in texts):
            found += 1
            yield number, texts
            if stop_after is not None and found >= stop_after:
                return


def _read_xlsx(path: Path, name: str, header_rows: int, limits: dict) -> RawTable:
    _check_zip(path, name, limits)
    import defusedxml  # noqa: F401  (openpyxl uses it for every XML part when it is installed)
    import openpyxl
    from openpyxl import load_workbook

    if not openpyxl.DEFUSEDXML:  # e.g. OPENPYXL_DEFUSEDXML=False in the environment
        raise InputFileError("Lecture des classeurs XLSX désactivée : openpyxl n'utilise pas defusedxml", file=name,
                             hint="Retirez la variable d'environnement OPENPYXL_DEFUSEDXML ou exportez en CSV")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except InputFileError:
        raise
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputFileError(f"Classeur XLSX illisible ({type(exc).__name__})", file=name, hint=RESAVE_XLSX) from None
    try:
        if not workbook.worksheets:
            raise InputFileError("Le classeur ne contient aucune feuille", file=name, hint=RESAVE_XLSX)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # never trust the declared size (A1:XFD1048576 would pad every row)
        # The label row decides the width: later rows are read no wider (a cell in column XFD on every
        # row would otherwise cost 16 384 cells a row). The header rows themselves are read whole.
        head = list(_sheet_rows(sheet, name, limits, max_col=None, stop_after=header_rows))
        width = 0
        if len(head) == header_rows:
            labels = head[-1][1]
            width = len(labels)
            while width and not labels[width - 1].strip():
                width -= 1
            if width > limits["max_columns"]:
                raise _too_many_columns(width, limits, name)
        rows = list(head)
        if width:
            for number, texts in _sheet_rows(sheet, name, limits, max_col=width, skip=head[-1][0]):
                rows.append((number, texts))
                if len(rows) > limits["max_rows"] + header_rows:
                    raise _too_many_rows(limits, name)
    except InputFileError:
        raise
    except Exception as exc:  # a part that fails to parse only when its rows are read (XML, zip CRC)
        raise InputFileError(f"Classeur XLSX illisible ({type(exc).__name__} en lisant la feuille)", file=name,
                             hint=RESAVE_XLSX) from None
    finally:
        workbook.close()
    if not rows:
        raise InputFileError("Le classeur est vide", file=name, hint=EMPTY_HINT)
    if len(rows) <= header_rows:
        raise InputFileError("Le classeur ne contient que des en-têtes, aucune réponse", file=name,
                             hint="Vérifiez que l'export contient les réponses")
    columns = [c.strip() for c in rows[header_rows - 1][1]]
    while columns and not columns[-1]:
        columns.pop()
    width = len(columns)
    table = RawTable(file=name, columns=columns, rows=[], row_numbers=[], format="xlsx")
    for number, texts in rows[header_rows:]:
        table.rows.append((texts + [""] * width)[:width])
        table.row_numbers.append(number)
    return table

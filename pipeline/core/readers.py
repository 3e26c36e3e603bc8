"""Reading exported files (CSV in any delimiter/encoding real exports use, or XLSX) into raw text rows.

Nothing is guessed silently: the encoding and the delimiter are detected by fixed rules and reported;
a file that matches none stops the stage with a French message naming the file and what to do.
Every value is kept as the exact text of the export (``+33 5 55 …`` stays a string).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from .errors import InputFileError

BOM = b"\xef\xbb\xbf"
DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
DEFAULT_LIMITS = {
    "max_file_bytes": 50_000_000,
    "max_rows": 200_000,
    "xlsx_max_uncompressed_bytes": 200_000_000,
    "xlsx_max_ratio": 200,
}


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
                + (f", {self.blank_lines} ligne(s) vide(s) ignorée(s)." if self.blank_lines else "."))


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
        raise InputFileError(f"Fichier trop volumineux ({size:,} octets, maximum {limits['max_file_bytes']:,})".replace(",", " "),
                             file=name, hint="Vérifiez qu'il s'agit bien de l'export attendu")
    if path.suffix.lower() == ".xls":
        raise InputFileError("Format .xls (Excel 97-2003) non pris en charge", file=name,
                             hint="Enregistrez le fichier au format .xlsx ou .csv")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name, header_rows, limits)
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise InputFileError("Ce fichier est un classeur (XLSX/ZIP), pas un CSV", file=name,
                             hint="Renommez-le avec l'extension .xlsx et mettez à jour params.yaml")
    return _read_csv(data, name, header_rows, delimiter, limits)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if not data.replace(BOM, b"", 1).strip():
        raise InputFileError("Le fichier est vide", file=name, hint="Exportez à nouveau les réponses du formulaire")
    if b"\x00" in data[:65536]:
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


def _records(text: str, delimiter: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """``(first line number, fields)`` of each CSV record; multi-line quoted values are one record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    out: list[tuple[int, list[str]]] = []
    start = 1
    for fields in reader:
        out.append((start, fields))
        start = reader.line_num + 1
        if limit is not None and len(out) >= limit:
            break
    return out


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
    if best is None:
        raise InputFileError("Séparateur de colonnes non reconnu (ni « ; », ni « , », ni tabulation)", file=name,
                             hint="Vérifiez qu'il s'agit d'un export CSV du formulaire, avec une ligne d'en-têtes")
    return best[1]


def _read_csv(data: bytes, name: str, header_rows: int, delimiter: str, limits: dict) -> RawTable:
    text, encoding = _decode(data, name)
    if delimiter in ("auto", None, ""):
        delim = _detect_delimiter(text, header_rows, name)
    else:
        delim = {"tab": "\t", "TAB": "\t"}.get(delimiter, delimiter)
    try:
        records = _records(text, delim)
    except csv.Error as exc:
        raise InputFileError(f"CSV mal formé : {exc}", file=name, hint="Exportez à nouveau le fichier")
    blank = [r for r in records if not any(v.strip() for v in r[1])]
    records = [r for r in records if any(v.strip() for v in r[1])]
    if len(records) < header_rows:
        raise InputFileError("Ligne d'en-têtes absente", file=name, hint="Exportez le fichier avec ses en-têtes")
    columns = [c.strip() for c in records[header_rows - 1][1]]
    data_records = records[header_rows:]
    if not data_records:
        raise InputFileError("Le fichier ne contient que des en-têtes, aucune réponse", file=name,
                             hint="Vérifiez que l'export couvre la bonne période et contient les réponses")
    if len(data_records) > limits["max_rows"]:
        raise InputFileError(f"Trop de lignes ({len(data_records)}, maximum {limits['max_rows']})", file=name,
                             hint="Vérifiez qu'il s'agit bien de l'export attendu")
    table = RawTable(file=name, columns=columns, rows=[], row_numbers=[], format="csv",
                     encoding=encoding, delimiter=delim, blank_lines=len(blank))
    for index, (line, fields) in enumerate(data_records):
        if len(fields) != len(columns):
            table.row_errors[index] = (f"la ligne compte {len(fields)} champs alors que l'en-tête compte "
                                       f"{len(columns)} colonnes (guillemet ou séparateur en trop ?)")
            fields = (fields + [""] * len(columns))[: len(columns)]
        table.rows.append(fields)
        table.row_numbers.append(line)
    return table


def _check_zip(path: Path, name: str, limits: dict) -> None:
    """Refuse zip bombs before any XML is parsed: total uncompressed size and per-entry ratio caps."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits["xlsx_max_ratio"] and info.file_size > 1_000_000:
                    raise InputFileError(f"Classeur refusé : l'élément {info.filename} se décompresse "
                                         f"{ratio:.0f} fois (maximum {limits['xlsx_max_ratio']})", file=name,
                                         hint="Ce fichier n'est pas un export normal ; demandez un nouvel export")
            if total > limits["xlsx_max_uncompressed_bytes"]:
                raise InputFileError(f"Classeur refusé : {total:,} octets une fois décompressé".replace(",", " "),
                                     file=name, hint="Ce fichier n'est pas un export normal ; demandez un nouvel export")
    except zipfile.BadZipFile:
        raise InputFileError("Classeur XLSX illisible (ce n'est pas une archive valide)", file=name,
                             hint="Ouvrez-le dans Excel ou LibreOffice et enregistrez-le à nouveau au format .xlsx")


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


def _read_xlsx(path: Path, name: str, header_rows: int, limits: dict) -> RawTable:
    _check_zip(path, name, limits)
    import defusedxml  # noqa: F401  (openpyxl uses it for every XML part when it is installed)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputFileError(f"Classeur XLSX illisible ({type(exc).__name__})", file=name,
                             hint="Ouvrez-le dans Excel ou LibreOffice et enregistrez-le à nouveau au format .xlsx")
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            texts = [cell_text(v) for v in values]
            if any(t.strip() for t in texts):
                rows.append((number, texts))
            if len(rows) > limits["max_rows"] + header_rows:
                raise InputFileError(f"Trop de lignes (maximum {limits['max_rows']})", file=name,
                                     hint="Vérifiez qu'il s'agit bien de l'export attendu")
    finally:
        workbook.close()
    if not rows:
        raise InputFileError("Le classeur est vide", file=name, hint="Exportez à nouveau les réponses du formulaire")
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

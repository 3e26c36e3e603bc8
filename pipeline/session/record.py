"""The edition's adjustments file as the meeting writes it: one row appended per adopted change, the last
row removed by an undo. Columns are those the edition's ``mapping.yaml`` names; the file keeps its
encoding (UTF-8, with its byte-order mark if it had one), delimiter and line ends, and gains the columns
value, author, date and order the first time the meeting writes in it."""

from __future__ import annotations

import csv
import io

from ..contract.atomic import write_bytes
from ..contract.config import MAPPING_FILE, Edition
from ..contract.errors import ConfigError, StagescoError
from ..io.mapping import checked_mapping
from ..stages.assignment import ADJUSTMENTS

FIELDS = ("order", "adjustment", "learner_id", "project_code", "value", "reason", "author", "date")
BOM = "\ufeff"

def _label(spec) -> str:
    spec = spec if isinstance(spec, dict) else {"column": spec}
    column = spec.get("column")
    return str(column[0] if isinstance(column, list) else column)

class AdjustmentsFile:
    def __init__(self, edition: Edition):
        files = edition.params.edition_files(edition.name)
        where = f"inputs/{edition.name}/{MAPPING_FILE}"
        if ADJUSTMENTS not in files:
            raise ConfigError("Aucun fichier d'ajustements déclaré pour cette édition",
                              file="params.yaml", hint=f"Ajoutez « adjustments: ajustements.csv » aux fichiers de "
                                                       f"l'édition {edition.name}")
        mapped = (checked_mapping(edition).get(ADJUSTMENTS) or {}).get("fields") or {}
        missing = [name for name in FIELDS if name not in mapped]
        if missing:
            raise ConfigError("La section « adjustments » de la correspondance ne nomme pas les colonnes "
                              + ", ".join(missing), file=where,
                              hint="Ajoutez par exemple « value: Valeur », « author: Auteur », « date: Date » et "
                                   "« order: Ordre » sous adjustments.fields")
        self.labels = {name: _label(mapped[name]) for name in FIELDS}
        self.path = edition.input_path(ADJUSTMENTS)
        self.name = f"inputs/{edition.name}/{files[ADJUSTMENTS]}"

    def stamp(self) -> tuple:
        """Changes whenever the file does (size and modification time)."""
        if not self.path.exists():
            return ()
        info = self.path.stat()
        return info.st_size, info.st_mtime_ns

    # --- reading and writing the raw text -------------------------------------------------------------------
    def _read(self) -> tuple[list[str], list[list[str]], dict]:
        if not self.path.exists():
            return [], [], {"bom": True, "delimiter": ";", "newline": "\r\n"}
        raw = self.path.read_bytes().decode("utf-8")
        style = {"bom": raw.startswith(BOM), "newline": "\r\n" if "\r\n" in raw else "\n"}
        text = raw.removeprefix(BOM)
        first = text.splitlines()[0] if text else ""
        style["delimiter"] = ";" if first.count(";") >= first.count(",") and ";" in first else ("," if "," in first else ";")
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=style["delimiter"]) if any(c.strip() for c in row)]
        return (rows[0] if rows else []), rows[1:], style

    def _write(self, header: list[str], rows: list[list[str]], style: dict) -> None:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=style["delimiter"], lineterminator=style["newline"], quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
        write_bytes(self.path, ((BOM if style["bom"] else "") + out.getvalue()).encode("utf-8"))

    def rows(self) -> list[dict]:
        """Each data row as {label: value}."""
        header, rows, _ = self._read()
        return [dict(zip(header, row + [""] * (len(header) - len(row)))) for row in rows]

    def append(self, *, kind: str, learner: str, project: str, value: str, reason: str, author: str, day: str) -> None:
        header, rows, style = self._read()
        if not header:
            header = [self.labels[name] for name in FIELDS]
        for name in FIELDS:  # an older file gains the meeting's columns (value, author, date, order)
            if self.labels[name] not in header:
                header.append(self.labels[name])
                rows = [row + [""] * (len(header) - 1 - len(row)) + [""] for row in rows]
        values = {"order": str(len(rows) + 1), "adjustment": kind, "learner_id": learner, "project_code": project,
                  "value": value, "reason": reason, "author": author, "date": day}
        row = [""] * len(header)
        for name, text in values.items():
            row[header.index(self.labels[name])] = text
        rows = [r + [""] * (len(header) - len(r)) for r in rows]
        self._write(header, rows + [row], style)

    def remove_last(self) -> dict | None:
        header, rows, style = self._read()
        if not rows:
            raise StagescoError("Aucun ajustement à annuler", file=self.name)
        last = dict(zip(header, rows[-1]))
        self._write(header, rows[:-1], style)
        return last

"""Applying an edition's mapping (form column labels → canonical fields) to a raw export.

The mapping is data (``inputs/<edition>/mapping.yaml``), PUDL-style: labels drift every year, so a
new year is a new mapping, not new code. A field is mapped by one of:

- ``field: "Label in the file"`` (or a list of alternative labels);
- ``field: {column: "Label", values: {"Label of an answer": code}}`` for a coded answer or a
  multi-select cell;
- ``field: {options: {code: "Label of the column of that option"}}`` when the form writes one column
  per option, marked ``X``, ``Y``, ``1``, ``Oui``… (LimeSurvey, Drupal Webform).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..contract.errors import ConfigError
from .normalise import fold
from .readers import RawTable


@dataclass
class FieldSource:
    """Where one canonical field comes from in the export."""

    name: str
    columns: list[str]
    values: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The column label(s) as in the file, for messages."""
        return " / ".join(self.columns)


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def resolve(table: RawTable, mapping_fields: dict, required: list[str], mapping_file: str) -> dict[str, FieldSource]:
    """Find each mapped field's column(s) in ``table``; a required field with no column stops the stage
    with a message naming the field and the closest labels found in the file."""
    by_fold = {}
    for index, label in enumerate(table.columns):
        by_fold.setdefault(fold(label), index)
    sources: dict[str, FieldSource] = {}
    for name, spec in (mapping_fields or {}).items():
        spec = spec if isinstance(spec, dict) else {"column": spec}
        if "options" in spec:
            options = {}
            for code, label in (spec["options"] or {}).items():
                if fold(label) in by_fold:
                    options[str(code)] = table.columns[by_fold[fold(label)]]
            if options:
                sources[name] = FieldSource(name, list(options.values()), options=options)
            elif name in required:
                _missing(name, list((spec["options"] or {}).values()), table, mapping_file)
            continue
        wanted = _as_list(spec.get("column"))
        found = [table.columns[by_fold[fold(w)]] for w in wanted if fold(w) in by_fold]
        if found:
            sources[name] = FieldSource(name, found[:1], values={str(k): str(v) for k, v in (spec.get("values") or {}).items()})
        elif name in required:
            _missing(name, wanted, table, mapping_file)
    for name in required:
        if name not in sources and name not in (mapping_fields or {}):
            raise ConfigError(f"Le champ obligatoire « {name} » n'est pas décrit dans la correspondance",
                              file=mapping_file, hint=f"Ajoutez « {name}: <libellé de la colonne> » sous fields:")
    return sources


def _missing(name: str, wanted: list[str], table: RawTable, mapping_file: str) -> None:
    from schemas.fields import all_fields

    meta = all_fields().get(name)
    probes = [fold(w) for w in wanted] + ([fold(meta.label)] if meta else [])
    folded = {fold(c): c for c in table.columns}
    scored = []
    for key, column in folded.items():
        best = max(difflib.SequenceMatcher(None, probe, key).ratio() for probe in probes)
        if best >= 0.4:
            scored.append((-best, column))
    close = [column for _, column in sorted(scored)[:3]]
    suggestion = (" ; colonnes proches dans le fichier : " + ", ".join(f"« {c} »" for c in close)) if close else ""
    raise ConfigError(
        f"Colonne introuvable pour le champ obligatoire « {name} » (attendue : "
        + " ou ".join(f"« {w} »" for w in wanted) + f") dans {table.file}{suggestion}",
        file=mapping_file,
        hint="Corrigez le libellé dans la correspondance (mapping.yaml) de l'édition",
    )


def column_values(table: RawTable, source: FieldSource) -> list[str]:
    """The raw text of a single-column field, one per row."""
    index = table.columns.index(source.columns[0])
    return [row[index] for row in table.rows]


def option_values(table: RawTable, source: FieldSource, marks: list[str]) -> list[list[str]]:
    """The codes of the options marked in each row, for a one-column-per-option field."""
    marked = {fold(m) for m in marks}
    indices = {code: table.columns.index(label) for code, label in source.options.items()}
    out = []
    for row in table.rows:
        out.append(sorted(code for code, i in indices.items()
                          if fold(row[i]) in marked or (row[i].strip() and fold(row[i]) == fold(source.options[code]))))
    return out

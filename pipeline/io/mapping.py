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
from pathlib import Path


from ..contract.config import MAPPING_FILE, parse_yaml
from ..contract.errors import ConfigError
from .normalise import fold
from .readers import RawTable, read_table


@dataclass
class FieldSource:
    """Where one canonical field comes from in the export."""

    name: str
    columns: list[str]
    values: dict[str, str | list[str]] = field(default_factory=dict)  # answer label → code, or codes
    options: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The column label(s) as in the file, for messages."""
        return " / ".join(self.columns)


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def resolve(table: RawTable, mapping_fields: dict, required: list[str], mapping_file: str,
            notes: list[str] | None = None) -> dict[str, FieldSource]:
    """Find each mapped field's column(s) in ``table``; a required field with no column stops the stage
    with a message naming the field and the closest labels found in the file; an optional one is left
    empty and, when ``notes`` is given, a note says so (nothing mapped is dropped without a word)."""
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
            else:
                _absent(name, list((spec["options"] or {}).values()), table, mapping_file, notes)
            continue
        wanted = _as_list(spec.get("column"))
        found = [table.columns[by_fold[fold(w)]] for w in wanted if fold(w) in by_fold]
        if found:
            sources[name] = FieldSource(name, found[:1], values={
                str(k): [str(c) for c in v] if isinstance(v, (list, tuple)) else str(v)
                for k, v in (spec.get("values") or {}).items()})
        elif name in required:
            _missing(name, wanted, table, mapping_file)
        else:
            _absent(name, wanted, table, mapping_file, notes)
    for name in required:
        if name not in sources and name not in (mapping_fields or {}):
            raise ConfigError(f"Le champ obligatoire « {name} » n'est pas décrit dans la correspondance",
                              file=mapping_file, hint=f"Ajoutez « {name}: <libellé de la colonne> » sous fields:")
    return sources


def _absent(name: str, wanted: list[str], table: RawTable, mapping_file: str, notes: list[str] | None) -> None:
    """A mapped optional field none of whose columns is in the file: it stays empty, and a note says so."""
    if notes is None:
        return
    from schemas.fields import all_fields

    meta = all_fields().get(name)
    label = f"« {meta.label} » ({name})" if meta else f"« {name} »"
    notes.append(f"Champ {label} : aucune des colonnes prévues par {mapping_file} ("
                 + ", ".join(f"« {w} »" for w in wanted) + f") n'est dans {table.file}{_close_columns(name, wanted, table)}"
                 " ; il reste vide pour toutes les lignes. Corrigez le libellé dans la correspondance si la colonne a "
                 "changé de nom.")


def _close_columns(name: str, wanted: list[str], table: RawTable) -> str:
    """« ; colonnes proches dans le fichier : … »: the file's columns nearest the labels the mapping expects (or
    the field's own label), for a message about a column not found; empty when none is near."""
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
    return (" ; colonnes proches dans le fichier : " + ", ".join(f"« {c} »" for c in close)) if close else ""


def _missing(name: str, wanted: list[str], table: RawTable, mapping_file: str) -> None:
    suggestion = _close_columns(name, wanted, table)
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


# --- the mapping file itself -----------------------------------------------------------------------------
SOURCE_KEYS = {
    "header_rows": "rows above the data, the last one holding the labels",
    "delimiter": "auto, ';', ',' or tab",
    "date_formats": "strptime formats, tried in order",
    "true_values": "how the form writes yes / a ticked option",
    "false_values": "how the form writes no",
    "list_separators": "separators of a multi-select cell without values",
    "format": "Moodle export: auto, feedback, ratingallocate or questionnaire",
    "ranks_asked": "Moodle Fair allocation: the number of ranks asked",
    "question": "Moodle Questionnaire: which rank question (Qnn_<name>)",
}
MOODLE_FORMATS = ("auto", "feedback", "ratingallocate", "questionnaire")
ADJUSTMENT_FIELDS = ("learner_id", "project_code", "adjustment", "reason", "value", "author", "date", "order")


def section_fields(section: str) -> set[str]:
    """The fields a section of mapping.yaml may map."""
    from schemas.fields import table_fields

    if section in ("projects", "roster"):
        extra = {m.name for m in table_fields("roster_conditions")} if section == "roster" else set()
        return ({m.name for m in table_fields(section)} | extra) - {"source_row", "project_code", "departement"}
    if section in ("placements", "schools", "basins", "actions"):
        return {m.name for m in table_fields(section)} - {"source_row"}
    if section == "applications":
        from .moodle import IDENTITY_LABELS

        return set(IDENTITY_LABELS)
    return set(ADJUSTMENT_FIELDS)


SECTIONS = ("projects", "roster", "applications", "placements", "adjustments", "schools", "basins", "actions")
EXTENSIBLE = ("projects",)  # sections whose table an edition may extend with extra fields (pipeline.io.extras)


class UnknownFieldError(ConfigError):
    """``mapping.yaml`` maps a field stagesco does not know and the edition does not declare as extra."""


def load_mapping(source, file: str = "mapping.yaml", extras: dict[str, set[str]] | None = None) -> dict:
    """Read and check an edition's ``mapping.yaml`` (a path, YAML text or an already-parsed dict): known
    sections, known ``source:`` keys, known fields — those of ``schemas/fields.yaml`` and the edition's
    extra fields (``extras``: section → names, see :mod:`pipeline.io.extras`) —, and each field's spec a
    label, a list of labels, ``{column:, values:}`` (an answer mapped to a code, or to a list of codes for a
    multi-select field) or ``{options: {code: label}}``. Every problem is a French :class:`ConfigError`
    naming the key; an unknown field is an :class:`UnknownFieldError` (never dropped without a word)."""
    if isinstance(source, Path):
        data = parse_yaml(source.read_text(encoding="utf-8"))
    elif isinstance(source, str):
        data = parse_yaml(source)
    else:
        data = source
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError("La correspondance doit décrire un dictionnaire de sections", file=file)
    for name, section in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"Section inconnue « {name} » dans la correspondance", file=file,
                              hint="Sections possibles : " + ", ".join(SECTIONS))
        _check_section(name, section or {}, file, set((extras or {}).get(name) or ()))
    return data


def _check_section(name: str, section, file: str, extras: set[str] = frozenset()) -> None:
    if not isinstance(section, dict) or set(section) - {"source", "fields"}:
        raise ConfigError(f"La section « {name} » attend « source: » et « fields: »", file=file)
    source = section.get("source") or {}
    for key, value in source.items():
        if key not in SOURCE_KEYS:
            raise ConfigError(f"Réglage inconnu « {name}.source.{key} »", file=file,
                              hint="Réglages possibles : " + ", ".join(SOURCE_KEYS))
        if key in ("header_rows", "ranks_asked") and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"« {name}.source.{key} » doit être un nombre entier positif", file=file)
        if key in ("date_formats", "true_values", "false_values", "list_separators") and not isinstance(value, list):
            raise ConfigError(f"« {name}.source.{key} » doit être une liste", file=file)
        if key == "date_formats" and not all(isinstance(f, str) and "%" in f for f in value):
            raise ConfigError(f"« {name}.source.date_formats » : chaque format s'écrit avec %d, %m, %Y…", file=file)
        if key == "format" and value not in MOODLE_FORMATS:
            raise ConfigError(f"« {name}.source.format » inconnu : {value}", file=file,
                              hint="Valeurs possibles : " + ", ".join(MOODLE_FORMATS))
    known = section_fields(name) | extras
    from schemas.fields import all_fields

    metadata = all_fields()
    for field_name, spec in (section.get("fields") or {}).items():
        where = f"{name}.fields.{field_name}"
        if field_name not in known:
            close = difflib.get_close_matches(str(field_name), sorted(known), n=3)
            fix = ("vouliez-vous dire : " + ", ".join(close) + " ?") if close else \
                "champs possibles : " + ", ".join(sorted(known))
            extra = (f" ; s'il s'agit d'une question propre à l'édition, déclarez-le comme champ supplémentaire dans "
                     f"edition.yaml ({name}.extra_fields.{field_name}: libellé, type, où l'afficher — voir le README)"
                     if name in EXTENSIBLE else "")
            raise UnknownFieldError(
                f"Champ inconnu « {where} » : stagesco ne connaît pas le champ « {field_name} » de la section {name}, "
                "et ses valeurs ne seraient lues nulle part", file=file,
                hint=f"Corrigez son nom ({fix}){extra}")
        if isinstance(spec, str) or (isinstance(spec, list) and spec and all(isinstance(x, str) for x in spec)):
            continue
        if not isinstance(spec, dict) or not ({"column", "options"} & set(spec)) or set(spec) - {"column", "values", "options"}:
            raise ConfigError(f"« {where} » : attendu un libellé de colonne, une liste de libellés, "
                              "{column:, values:} ou {options:}", file=file)
        is_list = field_name in metadata and metadata[field_name].type == "list"
        for label, code in (spec.get("values") or {}).items():
            if isinstance(code, list) and not is_list:
                raise ConfigError(f"« {where}.values » : « {label} » ne peut valoir plusieurs codes que pour un champ "
                                  "à choix multiples", file=file)
            if not isinstance(code, (str, list)):
                raise ConfigError(f"« {where}.values » : le code de « {label} » doit être un texte", file=file)
        if "options" in spec and not isinstance(spec["options"], dict):
            raise ConfigError(f"« {where}.options » : attendu {{code: libellé de la colonne de l'option}}", file=file)


def checked_mapping(edition) -> dict:
    """The edition's mapping.yaml, checked by :func:`load_mapping` (what every stage reads it through)."""
    from .extras import TABLES, extra_fields

    extras = {table: set(extra_fields(edition, table)) for table in TABLES}
    return load_mapping(edition.mapping, f"inputs/{edition.name}/mapping.yaml", extras)


def read_mapped(edition, key: str, columns: str | None = None,
                hint: str = "Copiez-la depuis l'édition démo et adaptez les libellés") -> tuple[dict, RawTable]:
    """The input ``key`` of the edition read through its mapping section: the checked section and the file read
    with the section's ``source`` settings (header rows, delimiter) and the edition's limits. ``columns``: what
    the section describes, for the French error raised when the mapping has no such section (None: an empty
    section is allowed)."""
    section = checked_mapping(edition).get(key) or {}
    if not section and columns is not None:
        raise ConfigError(f"Section « {key} » absente de la correspondance ({columns})",
                          file=f"inputs/{edition.name}/{MAPPING_FILE}", hint=hint)
    source = section.get("source") or {}
    path = edition.input_path(key)
    raw = read_table(path, header_rows=int(source.get("header_rows", 1)), delimiter=str(source.get("delimiter", "auto")),
                     limits=edition.params.data.get("limits"), display_name=path.name)
    return section, raw

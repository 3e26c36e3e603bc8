"""The pôle coordinator's register of actions (``actions.csv``), an optional input of stage 80 (seed 003).

A pôle de stages counts its year's actions in its bilan: information, formation, communication, collaboration
between schools, school–business… Each row of the register is one action — date, kind, title, the partners
and schools involved, the number of participants and, when the action ended in one, the accord or partnership
convention obtained. The register is mapped like any export (section ``actions`` of ``mapping.yaml``, fields of
``schemas/fields.yaml`` table ``actions``); the kinds and the agreements are edition vocabulary
(``vocabularies.action_kinds`` and ``vocabularies.action_agreements`` of edition.yaml), never code.

Every row read is **accepted** (one row of :attr:`ActionsRegister.table`) or **rejected** with its file row,
column label as in the file, value and French reason: ``rows_read == accepted + rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from schemas.checks import bound_problem
from schemas.fields import field_meta, table_fields

from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition
from ..contract.errors import ConfigError
from ..io import rejections
from ..io.mapping import FieldSource, column_values, read_mapped, resolve
from ..io.normalise import clean_text, parse_choice, parse_datetime, parse_integer, parse_multi
from ..io.readers import RawTable

SECTION = "actions"  # the mapping.yaml section and the editions.<e>.files key of the register
KINDS, AGREEMENTS = "action_kinds", "action_agreements"  # edition vocabularies
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%y"]
SEPARATORS = [";", "\n", "|"]
REQUIRED = ["action_date", "action_kind"]
COLUMNS = [m.name for m in table_fields("actions")]
REJECTED_COLUMNS = ["file", "source_row", "column", "value", "reason"]
REJECTED_LABELS = {"file": "Fichier", "source_row": "Ligne du fichier", "column": "Colonne", "value": "Valeur lue",
                   "reason": "Motif du rejet"}


@dataclass
class ActionsRegister:
    """The register read: accepted actions (fields.yaml table ``actions``) and rejected rows with their reason."""

    table: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    file: str
    notes: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict:
        return {"rows_read": self.rows_read, "actions_accepted": len(self.table),
                "rows_rejected": int(self.rejected["source_row"].nunique()) if len(self.rejected) else 0}


def vocabulary(edition: Edition, name: str) -> dict[str, str]:
    """An edition vocabulary the register needs (code → French label); absent → a French error."""
    labels = {str(k): str(v) for k, v in edition.labels(name).items()}
    if not labels and name == KINDS:
        raise ConfigError("Natures des actions du pôle absentes (vocabularies.action_kinds)",
                          file=f"inputs/{edition.name}/{EDITION_FILE}",
                          hint="Déclarez sous vocabularies.action_kinds chaque nature d'action : son code, deux-points, "
                               "son libellé (information: Action d'information, formation: Action de formation…)")
    return labels


def read(edition: Edition) -> ActionsRegister | None:
    """The edition's register of actions, or None when the edition has none (an optional input)."""
    if not edition.has_input(SECTION):
        return None
    mapping_file = f"inputs/{edition.name}/{MAPPING_FILE}"
    section, raw = read_mapped(edition, SECTION, "colonnes du registre des actions",
                               "Ajoutez actions: {source: …, fields: {action_date: …, action_kind: …, participants: …}}")
    source = section.get("source") or {}
    register = validate(raw, section.get("fields") or {}, vocabulary(edition, KINDS), vocabulary(edition, AGREEMENTS),
                        list(source.get("date_formats") or DATE_FORMATS),
                        list(source.get("list_separators") or SEPARATORS), mapping_file)
    rejections.check(register.rejected["reason"], register.rows_read, edition.params.data.get("mass_rejection") or {},
                     what="actions", feminine=True, file=raw.file,
                     hint="Vérifiez la correspondance (section actions de mapping.yaml) et les natures d'action de "
                          "l'édition (vocabularies.action_kinds)")
    return register


def _vocabulary_values(mapped: FieldSource | None, labels: dict[str, str]) -> dict[str, str]:
    """The answers a coded column may hold: the edition's labels and codes, then the mapping's own ``values``."""
    values = {label: code for code, label in labels.items()}
    values.update({k: str(v) for k, v in (mapped.values if mapped else {}).items()})
    return values


def validate(raw: RawTable, mapping_fields: dict, kinds: dict[str, str], agreements: dict[str, str],
             formats: list[str], separators: list[str], mapping_file: str) -> ActionsRegister:
    """Each row of the register accepted (one table row) or rejected (one rejection per problem, with its reason)."""
    notes: list[str] = []
    sources = resolve(raw, mapping_fields, REQUIRED, mapping_file, notes)
    values = {name: column_values(raw, src) for name, src in sources.items() if not src.options}
    kind_values = _vocabulary_values(sources.get("action_kind"), kinds)
    agreement_values = _vocabulary_values(sources.get("agreement"), agreements)
    rows, rejected = [], []
    for i, line in enumerate(raw.row_numbers):
        text = {name: values[name][i] if name in values else "" for name in COLUMNS if name != "source_row"}
        problems: list[tuple[str, str, str]] = []

        def reject(name: str, reason: str) -> None:
            label = sources[name].label if name in sources else "(ligne entière)"
            problems.append((label, clean_text(text.get(name, ""))[0] or "", reason))

        if i in raw.row_errors:  # its fields cannot be told apart: the row is rejected as a whole
            rejected.append(dict(zip(REJECTED_COLUMNS, (raw.file, int(line), "(ligne entière)", "",
                                                        f"ligne illisible : {raw.row_errors[i]}"))))
            continue
        when, reason = parse_datetime(text["action_date"], formats)
        if reason or when is None:
            reject("action_date", reason or "date de l'action absente")
        kind, _ = parse_choice(text["action_kind"], kind_values)
        if kind is None:
            reject("action_kind", "nature de l'action absente")
        elif kind not in kinds:
            reject("action_kind", "nature d'action inconnue (natures de l'édition : "
                                  + ", ".join(f"« {label} »" for label in kinds.values()) + ")")
        participants, reason = parse_integer(text["participants"], signed=True)
        reason = reason or bound_problem(field_meta("participants"), participants)
        if reason:
            reject("participants", reason)
        agreement, _ = parse_choice(text["agreement"], agreement_values)
        if agreement is not None and agreement not in agreements:
            reject("agreement", "accord ou convention inconnu (valeurs de l'édition : "
                                + ", ".join(f"« {label} »" for label in agreements.values()) + ", ou vide)"
                   if agreements else "aucun accord ni convention n'est prévu par l'édition "
                                      "(vocabularies.action_agreements)")
        if problems:
            rejected += [dict(zip(REJECTED_COLUMNS, (raw.file, int(line), *p))) for p in problems]
            continue
        rows.append({"action_date": when, "action_kind": kind, "action_title": clean_text(text["action_title"])[0],
                     "action_partners": parse_multi(text["action_partners"], {}, separators)[0],
                     "action_schools": parse_multi(text["action_schools"], {}, separators)[0],
                     "participants": participants, "agreement": agreement, "source_row": int(line)})
    table = pd.DataFrame(rows, columns=COLUMNS).astype({"action_date": "datetime64[ns]", "participants": "Int64",
                                                         "source_row": "Int64"})
    return ActionsRegister(table=table, rejected=pd.DataFrame(rejected, columns=REJECTED_COLUMNS),
                           rows_read=len(raw.rows), file=raw.file, notes=notes)

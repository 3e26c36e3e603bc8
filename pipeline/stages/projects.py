"""Stage 10 ``projects`` — Dépôt des projets: read the partners' form export, map, normalise,
validate, de-duplicate. Every row read ends up accepted, rejected or superseded, with its reason."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

import pandas as pd

from schemas.fields import table_fields
from schemas.projects import projects_schema

from ..contract.config import MAPPING_FILE, Edition
from ..io import fr, rejections, territory
from ..io.extras import extra_fields
from ..io.mapping import FieldSource, column_values, option_values, read_mapped, resolve
from ..io.normalise import (clean_postcode, clean_text, day_month_swap, fold, human_format, parse_boolean, parse_choice,
                            parse_datetime, parse_integer, parse_multi, parse_number, postcode_to_departement,
                            swapped_format)
from ..io.readers import RawTable
from ..io.validation import schema_problems

TABLE = "projects"
DERIVED = {"project_code", "source_row", "departement"}


@dataclass
class Problem:
    """Why a row was rejected: where in the file, the value as written, the reason in French."""

    index: int
    column: str
    value: str
    reason: str


@dataclass
class ProjectsResult:
    raw: RawTable
    projects: pd.DataFrame
    rejected: pd.DataFrame
    superseded: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict:
        rows_rejected = int(self.rejected["source_row"].nunique()) if len(self.rejected) else 0
        return {
            "rows_read": len(self.raw.rows),
            "projects_accepted": len(self.projects),
            "rows_rejected": rows_rejected,
            "duplicates_superseded": len(self.superseded),
            "blank_lines_ignored": self.raw.blank_lines,
        }


def ingest(edition: Edition) -> ProjectsResult:
    """Run the whole stage logic on an edition's partner export."""
    section, raw = read_mapped(edition, TABLE)
    source = section.get("source") or {}
    mapped = section.get("fields") or {}
    extras = {name: extra.meta for name, extra in extra_fields(edition, TABLE).items()}
    metas = [m for m in table_fields(TABLE) if m.name not in DERIVED and (not m.when_mapped or m.name in mapped)] \
        + list(extras.values())
    required = [m.name for m in metas if m.required]
    dates_notes: list[str] = []
    sources = resolve(raw, section.get("fields") or {}, required, f"inputs/{edition.name}/{MAPPING_FILE}", dates_notes)
    dates_notes += extra_notes(edition, section.get("fields") or {})
    frame, problems = normalise(raw, sources, metas, source, dates_notes)
    problems += validate(frame, raw, sources, extras)
    problems += [Problem(i, "(ligne entière)", "", reason) for i, reason in raw.row_errors.items()]
    rejected_idx = sorted({p.index for p in problems})
    valid = frame.drop(index=rejected_idx)
    projects, superseded, notes = deduplicate(valid, frame.loc[rejected_idx], raw, kept=set(mapped))
    rejected = pd.DataFrame(
        [{"source_row": raw.row_numbers[p.index], "column": p.column, "value": p.value, "reason": p.reason}
         for p in sorted(problems, key=lambda p: (raw.row_numbers[p.index], p.column))],
        columns=["source_row", "column", "value", "reason"],
    )
    per_row = rejected.drop_duplicates(["source_row", "reason"])["reason"]
    rejections.check(per_row, len(raw.rows), edition.params.data.get("mass_rejection") or {}, what="soumissions", feminine=True,
                     file=raw.file, hint="Vérifiez que l'export est celui du formulaire de dépôt de cette édition et "
                                          "que la correspondance (mapping.yaml) suit ses libellés")
    basins = territory.read_basins(edition)
    if basins is not None:  # a pôle de stages: each offer's basin, from its commune
        projects.insert(int(projects.columns.get_loc("departement")) + 1, "basin",
                        territory.basins_of(basins, projects, file=raw.file, what="offre de", name_column="structure_name"))
    return ProjectsResult(raw=raw, projects=projects, rejected=rejected, superseded=superseded, notes=dates_notes + notes)


def normalise(raw: RawTable, sources: dict[str, FieldSource], metas, source_cfg: dict, notes: list[str] | None = None):
    """Typed values per field, and a :class:`Problem` for every value that could not be understood. A date
    column whose values prove that day and month are the other way round than ``date_formats`` say is read
    in the proven order, and ``notes`` says so (with the value that proves it)."""
    booleans = {True: source_cfg.get("true_values", ["Oui", "O", "Y", "Yes", "X", "1"]),
                False: source_cfg.get("false_values", ["Non", "N", "No", "0"])}
    formats = source_cfg.get("date_formats", ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"])
    separators = source_cfg.get("list_separators", ["|", "\n", ","])
    n = len(raw.rows)
    columns: dict[str, list] = {}
    problems: list[Problem] = []
    for meta in metas:
        src = sources.get(meta.name)
        if src is None:
            columns[meta.name] = [[] if meta.type == "list" else None] * n
            continue
        if src.options:
            columns[meta.name] = option_values(raw, src, booleans[True])
            continue
        texts = column_values(raw, src)
        column_formats = formats
        if meta.type == "datetime":
            column_formats = dates_in_order(texts, formats, src.label, notes)
        values = []
        for i, text in enumerate(texts):
            if meta.type == "list":
                value, reason = parse_multi(text, src.values, separators)
            elif meta.name == "postcode" or meta.name.endswith("_postcode"):
                value, reason = clean_postcode(text)
            elif src.values:
                value, reason = parse_choice(text, src.values)
            elif meta.type in ("string", "text"):
                value, reason = clean_text(text, multiline=meta.type == "text")
            elif meta.type == "integer":
                value, reason = parse_integer(text)
            elif meta.type == "number":
                value, reason = parse_number(text)
            elif meta.type == "boolean":
                value, reason = parse_boolean(text, booleans)
            elif meta.type == "datetime":
                value, reason = parse_datetime(text, column_formats)
            else:  # pragma: no cover - fields.yaml only uses the types above
                raise ValueError(meta.type)
            if reason:
                problems.append(Problem(i, src.label, text, reason))
            values.append(value)
        columns[meta.name] = values
    frame = pd.DataFrame(columns, index=range(n))
    frame["departement"] = [postcode_to_departement(p) for p in frame["postcode"]]
    for meta in metas:
        if meta.type in ("string", "text"):
            frame[meta.name] = frame[meta.name].astype("str").where(frame[meta.name].notna(), None)
        elif meta.type != "list":
            frame[meta.name] = frame[meta.name].astype(meta.pandas_dtype)
    frame["departement"] = frame["departement"].astype("str").where(frame["departement"].notna(), None)
    return frame, problems


def dates_in_order(texts: list[str], formats: list[str], column: str, notes: list[str] | None) -> list[str]:
    """``formats``, or day and month exchanged when the column's own values prove it (and a note says why)."""
    proof = day_month_swap(texts, formats)
    if proof is None:
        return formats
    swapped = [swapped_format(f) for f in formats]
    if notes is not None:
        notes.append(f"Colonne « {column} » : la correspondance annonce des dates {human_format(formats[0])}, mais "
                     f"« {proof} » n'est une date qu'en lisant le mois avant le jour, et aucune date de la colonne ne "
                     f"l'exclut ; toutes ses dates ont donc été lues {human_format(swapped[0])}. Corrigez "
                     "date_formats dans mapping.yaml si ce n'est pas le format de l'export.")
    return swapped


def validate(frame: pd.DataFrame, raw: RawTable, sources: dict[str, FieldSource], extras=None) -> list[Problem]:
    """pandera, lazily: every failing check of every row becomes a :class:`Problem` (the edition's extra
    fields included)."""
    return [Problem(*case) for case in schema_problems(projects_schema(extras), frame, raw, sources)]


def extra_notes(edition: Edition, mapped: dict) -> list[str]:
    """A note per extra field declared but not mapped (always empty), and per one shown nowhere (kept in the
    parquet only: no one reads it)."""
    notes = []
    for extra in extra_fields(edition, TABLE).values():
        if extra.name not in mapped:
            notes.append(f"Champ supplémentaire « {extra.label} » ({extra.name}) déclaré dans edition.yaml mais absent "
                         f"de la correspondance (mapping.yaml, section {TABLE}) : il reste vide.")
        elif not extra.show:
            notes.append(f"Champ supplémentaire « {extra.label} » ({extra.name}) : lu et vérifié, conservé dans "
                         "projets.parquet, mais affiché nulle part (show vide dans edition.yaml) ; ajoutez catalogue, "
                         "dossier ou workbooks pour qu'il soit lu.")
    return notes


def structure_key(row) -> str:
    """The same structure: its SIRET, else its normalised name and postcode."""
    if isinstance(row.structure_siret, str) and row.structure_siret:
        return f"siret:{row.structure_siret}"
    return f"nom:{fold(row.structure_name)}|{row.postcode or ''}"


def project_key(row) -> str:
    return f"{structure_key(row)}|titre:{fold(row.title)}"


def project_codes(keys: list[str], length: int = 4) -> dict[str, str]:
    """A short stable code per project key (``P`` + base32 of its hash), lengthened on a collision."""
    unique = sorted(set(keys))
    while True:
        codes = {k: "P" + base64.b32encode(hashlib.sha256(k.encode()).digest()).decode()[:length] for k in unique}
        if len(set(codes.values())) == len(codes):
            return codes
        length += 1


def deduplicate(valid: pd.DataFrame, rejected: pd.DataFrame, raw: RawTable, kept: set[str] | None = None):
    """The latest valid submission of each project wins; earlier ones are superseded. A rejected
    submission never replaces a valid one: the notes say when one was kept instead. A field kept only
    when mapped (``when_mapped`` in fields.yaml) is a column only if it is in ``kept``."""
    valid = valid.copy()
    valid["source_row"] = [raw.row_numbers[i] for i in valid.index]
    valid["_key"] = [project_key(r) for r in valid.itertuples()]
    valid = valid.sort_values(["submitted_at", "source_row"], kind="stable")
    codes = project_codes(list(valid["_key"]))
    valid["project_code"] = valid["_key"].map(codes)
    winners = valid.groupby("_key", sort=False).tail(1)
    losers = valid.drop(index=winners.index)
    winner_by_key = winners.set_index("_key")
    superseded = pd.DataFrame({
        "source_row": losers["source_row"].astype("Int64"),
        "project_code": losers["project_code"],
        "structure_name": losers["structure_name"],
        "title": losers["title"],
        "submitted_at": losers["submitted_at"],
        "replaced_by_row": [int(winner_by_key.loc[k, "source_row"]) for k in losers["_key"]],
    }).reset_index(drop=True)
    superseded["reason"] = [
        f"remplacée par la soumission plus récente de la ligne {r} ({fr.moment(t, with_time=True)})"
        for r, t in zip(superseded["replaced_by_row"], [winner_by_key.loc[k, "submitted_at"] for k in losers["_key"]])
    ]
    notes = []
    for i, row in rejected.iterrows():
        if not isinstance(row.get("structure_name"), str) or not isinstance(row.get("title"), str):
            continue
        key = project_key(_ns(row))
        if key in winner_by_key.index:
            notes.append(f"La soumission rejetée de la ligne {raw.row_numbers[i]} n'a pas remplacé la version "
                         f"valide de la ligne {int(winner_by_key.loc[key, 'source_row'])} "
                         f"(projet {winner_by_key.loc[key, 'project_code']}).")
    order = [m.name for m in table_fields(TABLE) if not m.when_mapped or m.name in (kept or set())]
    order += [c for c in winners.columns if c not in order and c != "_key"]  # the edition's extra fields
    projects = winners.drop(columns="_key").sort_values(["source_row"]).reset_index(drop=True)[order]
    projects["source_row"] = projects["source_row"].astype("Int64")
    return projects, superseded, notes


class _ns:
    """Attribute access over a row Series (for :func:`structure_key`)."""

    def __init__(self, row):
        self._row = row

    def __getattr__(self, name):
        value = self._row.get(name)
        return None if value is None or (not isinstance(value, (list, str)) and pd.isna(value)) else value

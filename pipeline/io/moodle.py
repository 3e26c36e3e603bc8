"""Moodle exports of the learners' ranked preferences, detected and parsed into one neutral shape.

Three real activity exports are understood (see FORMATS.md, « Moodle »):

- ``ratingallocate`` — *Répartition équitable* (mod_ratingallocate), « Rank choices » strategy: three
  columns per choice (``<titre>``, ``<titre> - Text``, ``<titre> - Allocation``); the stored rating is
  ``N − rang + 1`` over the N ranks asked, an unranked choice is empty / ``Unrated``;
- ``feedback`` — *Feedback*, one dropdown question per rank (« Choix n°1 », « (choix2) Choix n°2 »…),
  a ``Date`` column in the French long format (« mardi 21 octobre 2025, 14:05 »);
- ``questionnaire`` — mod_questionnaire, one rank question with a column per choice
  ``Qnn_<nom>-><choix>``, values = rank, ``-1`` = N/A, ``Soumis le :`` as ``dd/mm/YYYY HH:MM:SS``.

Whatever the shape, the result is a :class:`MoodleExport`: one row per response (who, when, from which
row of the file) and one row per (response, rank, choice label as written). Matching those labels to
projects and the respondents to the roster is the stage's business (``pipeline/stages/applications.py``),
never this module's. Values are decoded as Moodle wrote them: the ``'`` that recent Moodle puts in front
of a value starting with ``= + - @`` TAB CR LF is removed (only there), HTML entities are decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path

import pandas as pd

from ..contract.errors import ConfigError, InputFileError
from .mapping import FieldSource, resolve
from . import fr
from .normalise import clean_text, fold, parse_datetime, parse_integer
from .readers import RawTable, read_table

FORMAT_LABELS = {
    "ratingallocate": "Répartition équitable (mod_ratingallocate), stratégie « classer les choix »",
    "feedback": "Feedback, une liste déroulante par rang (« Choix n°1 », « Choix n°2 »…)",
    "questionnaire": "Questionnaire (mod_questionnaire), question de classement",
}

# Identity columns as Moodle labels them (French pack, then English); an edition's mapping may add or
# replace labels under ``applications.fields`` (same syntax as any mapping field).
IDENTITY_LABELS: dict[str, list[str]] = {
    "learner_id": ["Numéro d’identification", "Numéro d’identification de l’utilisateur", "ID number", "idnumber"],
    "email": ["Adresse de courriel", "Adresse courriel", "Courriel", "Email address", "E-mail"],
    "username": ["Nom d’utilisateur", "Username"],
    "first_name": ["Prénom", "First name"],
    "last_name": ["Nom de famille", "Last name", "Surname"],
    "full_name": ["Nom complet de l’utilisateur", "Nom complet", "Full name", "User full name"],
    "submitted_at": ["Date", "Soumis le :", "Soumis le", "Submitted on:", "Submitted on"],
}
IDENTITY = [name for name in IDENTITY_LABELS if name != "submitted_at"]

RESPONSE_COLUMNS = ["response", "source_row", "submitted_at", "date_text", *IDENTITY]
CHOICE_COLUMNS = ["response", "source_row", "rank", "choice", "column", "value"]
PROBLEM_COLUMNS = ["response", "source_row", "column", "value", "reason"]

RATINGALLOCATE_SUFFIXES = (" - Text", " - Allocation")
_FEEDBACK_RANK = re.compile(r"^(?:\([^)]*\)\s*)?choix\s*(?:n\s*[°o]\s*)?(\d+)\b")
_QUESTIONNAIRE = re.compile(r"^Q(\d+)_(.*?)->(.*)$", re.S)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_FRENCH_MONTHS = {fold(m): i for i, m in enumerate(fr.MONTHS, start=1)}
_FRENCH_LONG_DATE = re.compile(
    r"^(?:[a-z]+\.?\s+)?(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})\s*,?\s*(?:a\s+)?(\d{1,2})\s*[:h]\s*(\d{2})(?::(\d{2}))?$")


@dataclass
class MoodleExport:
    """A Moodle preferences export in a neutral shape.

    ``responses``: one row per data row of the file (``response`` = its index, ``source_row`` = its line
    in the file, ``submitted_at`` or ``None`` when the format has no date, identity columns as written).
    ``choices``: one row per ranked choice (``rank`` as the file states it, ``choice`` = the label,
    decoded; ``column``/``value`` = where and what the file says, for messages).
    ``problems``: cells that could not be read (a rating that is not a number, an unreadable date); a line
    whose field count differs from the header's is in ``raw.row_errors``.
    """

    raw: RawTable
    format: str
    responses: pd.DataFrame
    choices: pd.DataFrame
    problems: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    rank_columns: dict[int, str] = field(default_factory=dict)

    def rank_column(self, rank: int) -> str:
        """The file's column of a rank (Feedback), else a French name for it."""
        return self.rank_columns.get(rank, f"rang {rank}")

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS[self.format]

    def describe(self) -> str:
        """One French sentence on what was read (for the report)."""
        return f"{self.raw.describe()} Format reconnu : {self.format_label}."


def moodle_value(text: str | None) -> str:
    """A cell as the learner typed it: without the ``'`` Moodle added in front of ``= + - @`` TAB CR LF
    (a lone ``-`` never gets one, so ``'-`` is kept), then with HTML entities decoded."""
    text = text or ""
    if len(text) >= 2 and text[0] == "'" and text[1] in _FORMULA_START and text != "'-":
        text = text[1:]
    return unescape(text)


def parse_moodle_date(text: str, formats: list[str] | None = None):
    """``(datetime, reason)``: Moodle's French long format (« mardi 21 octobre 2025, 14:05 »), else one of
    ``formats`` (default ``dd/mm/YYYY HH:MM:SS`` and ``dd/mm/YYYY HH:MM``)."""
    clean, _ = clean_text(text)
    if clean is None:
        return None, None
    match = _FRENCH_LONG_DATE.match(fold(clean))
    if match and match.group(2) in _FRENCH_MONTHS:
        day, month_name, year, hour, minute, second = match.groups()
        try:
            return datetime(int(year), _FRENCH_MONTHS[month_name], int(day), int(hour), int(minute),
                            int(second or 0)), None
        except ValueError:
            pass
    value, reason = parse_datetime(clean, formats or ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"])
    if reason:
        reason = (f"« {clean} » n'est pas une date reconnue "
                  "(attendu : « mardi 21 octobre 2025, 14:05 » ou jj/mm/aaaa hh:mm:ss)")
    return value, reason


def detect_format(columns: list[str]) -> str | None:
    """The Moodle export shape a header row belongs to, or ``None``."""
    if ratingallocate_choices(columns):
        return "ratingallocate"
    if any(_QUESTIONNAIRE.match(c) for c in columns):
        return "questionnaire"
    if any(_FEEDBACK_RANK.match(fold(unescape(c))) for c in columns):
        return "feedback"
    return None


def ratingallocate_choices(columns: list[str]) -> list[str]:
    """The choice titles of a ratingallocate export: each column followed by its `` - Text`` and
    `` - Allocation`` columns (a title may itself contain `` - ``: only the known suffixes are split)."""
    present = set(columns)
    return [c for c in columns if all(c + suffix in present for suffix in RATINGALLOCATE_SUFFIXES)]


def read_moodle_export(path: Path, *, source: dict | None = None, fields: dict | None = None,
                       limits: dict | None = None, display_name: str | None = None,
                       mapping_file: str = "mapping.yaml") -> MoodleExport:
    """Read a Moodle preferences export (CSV or XLSX), detect its shape and parse it.

    ``source`` (the mapping's ``applications.source``): ``format`` (``auto`` or one of the three),
    ``delimiter``, ``ranks_asked`` (ratingallocate: N), ``question`` (questionnaire: which ``Qnn_<nom>``),
    ``date_formats``. ``fields``: identity column labels replacing :data:`IDENTITY_LABELS`.
    A file that matches no shape stops the stage with a French message naming it.
    """
    source = source or {}
    name = display_name or path.name
    raw = read_table(path, delimiter=str(source.get("delimiter", "auto")), limits=limits, display_name=name)
    return parse_moodle_table(raw, source=source, fields=fields, mapping_file=mapping_file)


def parse_moodle_table(raw: RawTable, *, source: dict | None = None, fields: dict | None = None,
                       mapping_file: str = "mapping.yaml") -> MoodleExport:
    """:func:`read_moodle_export` on an already read table."""
    source = source or {}
    wanted = str(source.get("format") or "auto")
    detected = detect_format(raw.columns)
    if wanted != "auto":
        if wanted not in FORMAT_LABELS:
            raise ConfigError(f"Format d'export Moodle inconnu « {wanted} »", file=mapping_file,
                              hint="applications.source.format vaut auto, " + ", ".join(FORMAT_LABELS))
        if detected != wanted:
            raise InputFileError(f"Ce fichier n'a pas la forme d'un export {FORMAT_LABELS[wanted]}", file=raw.file,
                                 hint="Vérifiez l'export ou mettez applications.source.format: auto dans mapping.yaml")
    if detected is None:
        raise InputFileError(
            "Export Moodle des candidatures non reconnu : aucune colonne « Choix n°1 » (Feedback), "
            "« Qnn_…->… » (Questionnaire) ni « <titre> - Text » / « <titre> - Allocation » "
            "(Répartition équitable)", file=raw.file,
            hint="Téléchargez les réponses de l'activité Moodle au format CSV (ou XLSX), sans les modifier")
    labels = {k: {"column": v} for k, v in IDENTITY_LABELS.items()}
    labels.update({k: (v if isinstance(v, dict) else {"column": v}) for k, v in (fields or {}).items()})
    identity = resolve(raw, labels, [], mapping_file)
    parser = {"ratingallocate": _ratingallocate, "feedback": _feedback, "questionnaire": _questionnaire}[detected]
    choices, problems, notes, rank_columns = parser(raw, source)
    responses, date_problems = _responses(raw, identity, source)
    problems += date_problems
    choice_frame = pd.DataFrame(choices, columns=CHOICE_COLUMNS).astype(
        {"response": "int64", "source_row": "int64", "rank": "int64"})
    choice_frame = choice_frame.sort_values(["response", "rank", "column"], kind="stable").reset_index(drop=True)
    problem_frame = pd.DataFrame(problems, columns=PROBLEM_COLUMNS).sort_values(
        ["source_row", "column"], kind="stable").reset_index(drop=True)
    return MoodleExport(raw=raw, format=detected, responses=responses, choices=choice_frame,
                        problems=problem_frame, notes=notes, rank_columns=rank_columns)


def _responses(raw: RawTable, identity: dict[str, FieldSource], source: dict) -> tuple[pd.DataFrame, list[dict]]:
    indices = {name: raw.columns.index(src.columns[0]) for name, src in identity.items()}
    formats = source.get("date_formats")
    rows, problems = [], []
    for i, cells in enumerate(raw.rows):
        row = {"response": i, "source_row": raw.row_numbers[i], "submitted_at": None, "date_text": None}
        for name in IDENTITY:
            value = clean_text(moodle_value(cells[indices[name]]))[0] if name in indices else None
            row[name] = value
        if "submitted_at" in indices:
            text = cells[indices["submitted_at"]]
            row["date_text"] = text or None
            row["submitted_at"], reason = parse_moodle_date(text, formats)
            if reason:
                problems.append({"response": i, "source_row": raw.row_numbers[i],
                                 "column": identity["submitted_at"].label, "value": text, "reason": reason})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=RESPONSE_COLUMNS, dtype=object)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"])
    frame["response"] = frame["response"].astype("int64")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame, problems


def _choice(raw: RawTable, i: int, rank: int, label: str, column: str, value: str) -> dict:
    return {"response": i, "source_row": raw.row_numbers[i], "rank": rank, "choice": label, "column": column,
            "value": value}


def _problem(raw: RawTable, i: int, column: str, value: str, reason: str) -> dict:
    return {"response": i, "source_row": raw.row_numbers[i], "column": column, "value": value, "reason": reason}


def _feedback(raw: RawTable, source: dict):
    ranks = {}
    for index, column in enumerate(raw.columns):
        match = _FEEDBACK_RANK.match(fold(unescape(column)))
        if match:
            ranks.setdefault(int(match.group(1)), index)
    choices, problems = [], []
    for i, cells in enumerate(raw.rows):
        for rank, index in sorted(ranks.items()):
            label, _ = clean_text(moodle_value(cells[index]))
            if label:
                choices.append(_choice(raw, i, rank, label, raw.columns[index], cells[index]))
    return choices, problems, [], {rank: raw.columns[index] for rank, index in ranks.items()}


def _ratingallocate(raw: RawTable, source: dict):
    titles = ratingallocate_choices(raw.columns)
    columns = {t: raw.columns.index(t) for t in titles}
    ratings: list[list[tuple[int, str, str, str]]] = []
    problems = []
    for i, cells in enumerate(raw.rows):
        mine = []
        for title, index in columns.items():
            value = moodle_value(cells[index]).strip()
            if not value:  # unranked: empty rating, label « Unrated » (in English even on a French site)
                continue
            number, reason = parse_integer(value)
            if reason:
                problems.append(_problem(raw, i, title, value, f"note « {value} » illisible : ce choix est ignoré"))
                continue
            if number > 0:
                mine.append((number, unescape(title), title, value))
        ratings.append(mine)
    asked = source.get("ranks_asked")
    highest = max((r[0] for mine in ratings for r in mine), default=0)
    n = int(asked) if asked else highest
    origin = "nombre de rangs demandés, applications.source.ranks_asked" if asked else "note la plus haute du fichier"
    notes = [f"Rangs déduits des notes : rang = {n} − note + 1 ({n} = {origin})."]
    choices = []
    for i, mine in enumerate(ratings):
        for number, label, title, value in mine:
            if number > n:
                problems.append(_problem(raw, i, title, value, f"note {number} supérieure au nombre de rangs "
                                                               f"demandés ({n}) : ce choix est ignoré"))
                continue
            choices.append(_choice(raw, i, n - number + 1, clean_text(label)[0], title, value))
    return choices, problems, notes, {}


def _questionnaire(raw: RawTable, source: dict):
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, column in enumerate(raw.columns):
        match = _QUESTIONNAIRE.match(column)
        if match:
            groups.setdefault(f"Q{match.group(1)}_{match.group(2)}", []).append((index, match.group(3)))
    wanted = source.get("question")
    if wanted:
        chosen = [g for g in groups if fold(g) == fold(str(wanted)) or fold(g.split("_", 1)[1]) == fold(str(wanted))]
        if not chosen:
            raise InputFileError(f"Question de classement « {wanted} » absente de l'export (questions trouvées : "
                                 + ", ".join(groups) + ")", file=raw.file,
                                 hint="Corrigez applications.source.question dans mapping.yaml")
        question = chosen[0]
    else:
        question = _rank_question(raw, groups)
    notes = [f"Question de classement lue : {question}."] if len(groups) > 1 else []
    choices, problems = [], []
    for i, cells in enumerate(raw.rows):
        for index, label in groups[question]:
            value = moodle_value(cells[index]).strip()
            if not value or value == "-1":
                continue
            rank, reason = parse_integer(value)
            if reason or rank < 1:
                problems.append(_problem(raw, i, raw.columns[index], value,
                                         f"rang « {value} » illisible : ce choix est ignoré"))
                continue
            choices.append(_choice(raw, i, rank, clean_text(unescape(label))[0], raw.columns[index], value))
    return choices, problems, notes, {}


def _rank_question(raw: RawTable, groups: dict[str, list[tuple[int, str]]]) -> str:
    """The rank question among several ``Qnn_x->y`` groups: the one whose answers go beyond 0/1
    (a checkbox question writes 1/0), the one with most choices on a tie; first in the file after that."""
    def score(item):
        name, cols = item
        values = {moodle_value(raw.rows[i][index]).strip() for i in range(len(raw.rows)) for index, _ in cols}
        return (bool(values - {"", "0", "1"}), len(cols))
    return max(groups.items(), key=score)[0]

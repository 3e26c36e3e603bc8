"""Writers of the three Moodle preference-export shapes of FORMATS.md, byte for byte.

Moodle's CSV download (its ``dataformat`` writer) writes UTF-8 with a BOM, ``,`` and ``"``, ``\\n`` line
ends, and quotes a value the way PHP's ``fputcsv`` does: only when it holds the delimiter, a quote, a
backslash, a space, a TAB, a CR or a LF. Recent Moodle puts a ``'`` in front of a data value starting with
``= + - @`` TAB CR LF (never in front of a lone ``-``). French headers use the typographic apostrophe.

A response record is a dict: ``first_name``, ``last_name``, ``email``, ``idnumber`` (may be empty),
``username``, ``submitted_at`` (datetime), ``ranking`` (the choice label of each rank, ``None`` for a rank
left empty), optional ``comment`` and ``groups``. Tests build their fixtures with these writers and the demo
edition uses :func:`feedback_export`.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from ..io import fr

BOM = "\ufeff"
APOSTROPHE = "\u2019"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

FULL_NAME = f"Nom complet de l{APOSTROPHE}utilisateur"
IDNUMBER = f"Numéro d{APOSTROPHE}identification"
USERNAME = f"Nom d{APOSTROPHE}utilisateur"
EMAIL = "Adresse de courriel"


def php_csv_field(value: str, delimiter: str = ",") -> str:
    """One field as PHP ``fputcsv`` writes it (quoted only when needed, quotes doubled)."""
    if value and any(c in value for c in (delimiter, '"', "\\", " ", "\t", "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def moodle_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """A Moodle CSV download: BOM, ``,``, ``\\n``, fputcsv quoting; data values get Moodle's ``'`` guard."""
    lines = [",".join(php_csv_field(h) for h in header)]
    lines += [",".join(php_csv_field(formula_guard(v)) for v in row) for row in rows]
    return (BOM + "\n".join(lines) + "\n").encode("utf-8")


def formula_guard(value: str) -> str:
    """Moodle's guard against spreadsheet formulas: ``'`` before ``= + - @`` TAB CR LF, a lone ``-`` left alone."""
    return "'" + value if value.startswith(FORMULA_START) and value != "-" else value


def html_text(text: str) -> str:
    """A text answer as Moodle's Feedback exports it: HTML entities kept, new lines as three spaces."""
    return escape(text, quote=True).replace("&#x27;", "&#039;").replace("\r\n", "   ").replace("\n", "   ")


def french_long_date(when: datetime) -> str:
    """« mardi 21 octobre 2025, 14:05 » (Moodle's French ``strftimedatetime``)."""
    return f"{fr.weekday(when)} {when.day} {fr.MONTHS[when.month - 1]} {when.year}, {when:%H:%M}"


def full_name(record: dict) -> str:
    return f"{record['first_name']} {record['last_name']}"


# --- Feedback: one dropdown per rank ------------------------------------------------------------------
def feedback_header(ranks: int, *, labelled: bool = True, comment: str | None = "Commentaire (facultatif)") -> list[str]:
    header = [FULL_NAME, "Groupes", IDNUMBER, EMAIL, "Date"]
    header += [(f"(choix{k}) " if labelled else "") + f"Choix n°{k}" for k in range(1, ranks + 1)]
    return header + ([comment] if comment else [])


def feedback_export(records: list[dict], ranks: int, *, labelled: bool = True,
                    comment: str | None = "Commentaire (facultatif)") -> bytes:
    rows = []
    for r in records:
        ranking = (list(r["ranking"]) + [None] * ranks)[:ranks]
        row = [full_name(r), r.get("groups", ""), r.get("idnumber", ""), r.get("email", ""),
               french_long_date(r["submitted_at"])]
        row += [html_text(label) if label else "" for label in ranking]
        if comment:
            row.append(html_text(r.get("comment", "")))
        rows.append(row)
    return moodle_csv(feedback_header(ranks, labelled=labelled, comment=comment), rows)


# --- Répartition équitable (mod_ratingallocate), « Rank choices » strategy ----------------------------
def ratingallocate_export(records: list[dict], choices: list[str], ranks_asked: int, *,
                          identity: bool = True) -> bytes:
    """One row per user; per choice its rating (``N − rang + 1``), the rating's label and the allocation."""
    header = (["ID", USERNAME, IDNUMBER, "Département", "Institution", EMAIL] if identity else [])
    header += ["Prénom", "Nom de famille", "Groupes"]
    for title in choices:
        header += [title, f"{title} - Text", f"{title} - Allocation"]
    rows = []
    for n, r in enumerate(records, start=1):
        row = ([str(100 + n), r.get("username", ""), r.get("idnumber", ""), "", "", r.get("email", "")]
               if identity else [])
        row += [r["first_name"], r["last_name"], r.get("groups", "")]
        ranks = {label: k for k, label in enumerate(r["ranking"], start=1) if label}
        for title in choices:
            if title in ranks:
                row += [str(ranks_asked - ranks[title] + 1), f"{ranks[title]}. choix", ""]
            else:
                row += ["", "Unrated", ""]
        rows.append(row)
    return moodle_csv(header, rows)


# --- Questionnaire (mod_questionnaire), one rank question ---------------------------------------------
def questionnaire_export(records: list[dict], choices: list[str], *, question: str = "classement",
                         number: int = 1, checkbox: dict[str, list[str]] | None = None) -> bytes:
    """Rank values per ``Q01_<question>-><choice>`` column (``-1`` = N/A); ``checkbox`` adds a second,
    checkbox question ``Q02_<name>-><option>`` (``1``/``0``) to prove the rank question is told apart."""
    def flat(text: str) -> str:
        return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")

    header = ["Réponse", "Soumis le :", "Institution", "Département", "Cours", "Groupe", "ID", IDNUMBER,
              "Nom complet", USERNAME]
    header += [f"Q{number:02d}_{question}->{flat(c)}" for c in choices]
    name, options = next(iter((checkbox or {}).items()), (None, []))
    header += [f"Q{number + 1:02d}_{name}->{o}" for o in options]
    rows = []
    for n, r in enumerate(records, start=1):
        ranks = {label: k for k, label in enumerate(r["ranking"], start=1) if label}
        row = [str(n), r["submitted_at"].strftime("%d/%m/%Y %H:%M:%S"), "", "", "Stages collectifs 2025",
               r.get("groups", ""), str(100 + n), r.get("idnumber", ""), full_name(r), r.get("username", "")]
        row += [str(ranks.get(c, -1)) for c in choices]
        row += ["1" if o in r.get("checked", []) else "0" for o in options]
        rows.append([flat(v) for v in row])
    return moodle_csv(header, rows)

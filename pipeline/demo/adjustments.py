"""The demo commission's adjustments file: a fixed pair and a forbidden pair, each with its reason."""

from __future__ import annotations

import pandas as pd

from .formats import _csv_bytes

HEADER = ["Identifiant apprenant", "Code projet", "Type", "Motif"]
MAPPING = {"source": {"header_rows": 1, "delimiter": "auto"},
           "fields": {"learner_id": HEADER[0], "project_code": HEADER[1], "adjustment": HEADER[2], "reason": HEADER[3],
                      "value": "Valeur", "author": "Auteur", "date": "Date", "order": "Ordre"}}


def adjustments_csv(roster: pd.DataFrame, retained: pd.DataFrame, preferences: pd.DataFrame) -> bytes:
    """``;``-separated, UTF-8 with BOM, as a spreadsheet saves it."""
    import csv

    eje_projects = sorted(c for c, t in zip(retained["project_code"], retained["tracks_open"]) if "EJE" in list(t))
    eje = sorted(roster.loc[roster["track"] == "EJE", "learner_id"])
    firsts = preferences[preferences["rank"] == 1].sort_values("learner_id")
    excluded = firsts.iloc[len(firsts) // 2]
    rows = [
        [eje[3], eje_projects[-1], "fixer", "aménagement lié à un handicap : site de plain-pied proche du domicile"],
        [excluded["learner_id"], excluded["project_code"], "exclure", "stage précédent dans cette structure"],
    ]
    return _csv_bytes(HEADER, rows, delimiter=";", quoting=csv.QUOTE_MINIMAL, line_end="\r\n", encoding="utf-8", bom=True)

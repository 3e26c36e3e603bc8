"""An offer's own terms — hours, period — and where each comes from.

For each term the commission's decision (a ``decided_*`` column of the decision workbook, when the edition's
workbook has it) wins over the partner's form (a mapped field), which wins over the edition's default
(``conventions.hours``, ``calendar.start`` / ``calendar.end`` of edition.yaml). Conventions, evaluation
workbooks, the catalogue and the review all read an offer's terms through :func:`offer_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

import pandas as pd

from ..contract.config import Edition

SOURCES = {"commission": "décision de la commission", "form": "formulaire du partenaire",
           "edition": "valeur par défaut de l'édition"}

# The decision workbook's optional columns (edition.yaml commission.decided_terms: true).
DECIDED_TERMS = ["decided_hours", "decided_start", "decided_end"]

# term → (the commission's column, the form's field)
HOURS = ("decided_hours", "hours")
START = ("decided_start", "period_start")
END = ("decided_end", "period_end")


@dataclass(frozen=True)
class Terms:
    hours: float | None
    start: date
    end: date
    sources: dict  # term → key of SOURCES

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _given(value) -> bool:
    if value is None or isinstance(value, (list, tuple, str)) and not value:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def default_hours(edition: Edition) -> float | None:
    value = (edition.config.get("conventions") or {}).get("hours")
    return None if value in (None, "") else float(value)


def _pick(project: Mapping, names: tuple[str, str]):
    decided, form = names
    if _given(project.get(decided)):
        return project.get(decided), "commission"
    if _given(project.get(form)):
        return project.get(form), "form"
    return None, "edition"


def offer_terms(project: Mapping, edition: Edition) -> Terms:
    """The offer's hours and period: the commission's, else the form's, else the edition's."""
    hours, hours_from = _pick(project, HOURS)
    start, start_from = _pick(project, START)
    end, end_from = _pick(project, END)
    return Terms(hours=float(hours) if hours is not None else default_hours(edition),
                 start=_day(start) if start is not None else edition.when("start").date(),
                 end=_day(end) if end is not None else edition.when("end").date(),
                 sources={"hours": hours_from, "start": start_from, "end": end_from})


def decided_terms(edition: Edition) -> list[str]:
    """The decision workbook's term columns: all of :data:`DECIDED_TERMS` when ``commission.decided_terms``."""
    return list(DECIDED_TERMS) if (edition.config.get("commission") or {}).get("decided_terms") else []

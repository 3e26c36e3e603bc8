"""French display of values: the one formatter for everything a person reads (pages, e-mails, home page).

Numbers with a (no-break) space between thousands and a decimal comma (``24 118``, ``0,97``), shares as
percentages (``46 %``), dates ``jj/mm/aaaa``, booleans « oui »/« non », a missing value « non renseigné »
(or what the caller asks for: an empty table cell stays empty). Nothing here ever returns ``nan``,
``None``, ``True`` or a Python ``repr``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

SPACE = "\u00a0"  # no-break space: « 24 118 », « 46 % » never break across lines
MISSING = "non renseigné"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?$")


def is_missing(value) -> bool:
    """None, NaN, NaT, pandas NA or an empty/blank string."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (list, tuple, dict, set)) or getattr(value, "ndim", 0):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _scalar(value):
    """A numpy scalar as the Python value it holds."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) == 0:
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def integer(value) -> str:
    """``24118`` → ``24 118`` (no-break space), ``-1200`` → ``-1 200``."""
    n = int(round(float(value)))
    return f"{n:,d}".replace(",", SPACE)


def number(value, decimals: int = 2) -> str:
    """A number in French: grouped thousands, decimal comma, at most ``decimals`` decimals, no trailing zero
    (``0.97`` → ``0,97``, ``52.5`` → ``52,5``, ``105.0`` → ``105``)."""
    value = float(_scalar(value))
    if math.isnan(value):
        return MISSING
    rounded = round(value, decimals)
    if float(rounded).is_integer():
        return integer(rounded)
    whole, _, fraction = f"{abs(rounded):.{decimals}f}".partition(".")
    fraction = fraction.rstrip("0")
    sign = "-" if rounded < 0 else ""
    return f"{sign}{integer(int(whole))}" + (f",{fraction}" if fraction else "")


def percent(share, decimals: int = 0) -> str:
    """A share (0–1) as a percentage: ``0.4882`` → ``49 %``."""
    return f"{number(100 * float(_scalar(share)), decimals)}{SPACE}%"


def signed(value, decimals: int = 2) -> str:
    """A change with its sign: ``+3``, ``-0,12``, ``0``."""
    value = float(_scalar(value))
    text = number(value, decimals)
    return ("+" + text) if value > 0 else text


def day(value) -> str:
    """A date as ``02/12/2024`` (a date, datetime, pandas Timestamp or an ISO ``2024-12-02`` string)."""
    value = _as_datetime(value)
    return f"{value:%d/%m/%Y}"


def moment(value, *, with_time: bool = False) -> str:
    """A date and time as ``15/07/2025 14:32``; the date only at midnight unless ``with_time`` (a submission
    time against a deadline: « 16/07/2025 00:00 »)."""
    value = _as_datetime(value)
    if isinstance(value, datetime) and (with_time or value.hour or value.minute):
        return f"{value:%d/%m/%Y %H:%M}"
    return f"{value:%d/%m/%Y}"


def _as_datetime(value):
    if isinstance(value, str):
        match = _ISO_DATE.match(value.strip())
        if not match:
            raise ValueError(f"not an ISO date: {value!r}")
        y, m, d, hh, mm = match.groups()
        return datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0))
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


def long_day(value) -> str:
    """A date written out, as in a convention: « 1er décembre 2025 », « 15 mars 2026 »."""
    return f"{'1er' if value.day == 1 else value.day} {MONTHS[value.month - 1]} {value.year}"


def weekday(value) -> str:
    """The French name of a date's day of the week (« samedi »)."""
    return WEEKDAYS[value.weekday()]


def yes_no(value) -> str:
    return "oui" if bool(_scalar(value)) else "non"


def ordinal(rank: int) -> str:
    """``1`` → ``1er``, ``2`` → ``2e``."""
    return "1er" if int(rank) == 1 else f"{int(rank)}e"


def text(value, *, missing: str = MISSING, decimals: int = 2) -> str:
    """Any value as a person reads it: lists joined by commas, booleans « oui »/« non », numbers and dates in
    French, ISO dates converted, a missing value as ``missing``; a mapping as « clé : valeur » pairs."""
    value = _scalar(value)
    if isinstance(value, (list, tuple, set)) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1):
        items = list(value.tolist() if hasattr(value, "tolist") else value)
        shown = [text(v, missing="", decimals=decimals) for v in items]
        shown = [s for s in shown if s]
        return ", ".join(shown) if shown else missing
    if isinstance(value, dict):
        if not value:
            return missing
        return " ; ".join(f"{text(k, missing='?')} : {text(v, missing=missing, decimals=decimals)}" for k, v in value.items())
    if is_missing(value):
        return missing
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, (datetime, date)) or hasattr(value, "to_pydatetime"):
        return moment(value)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, float):
        return number(value, decimals)
    if isinstance(value, str):
        stripped = value.strip()
        if _ISO_DATE.match(stripped):
            return moment(stripped)
        return value
    return str(value)


def count(value, noun: str, plural_noun: str | None = None) -> str:
    """``count`` and the noun, singular for 0 and 1 as in French (« 1 soumission rejetée », « 24 118 heures »)."""
    n = int(_scalar(value))
    return f"{integer(n)} {agree(n, noun, plural_noun)}"


def typeset(text: str) -> str:
    """A sentence written in a settings file, with the no-break space of French typography before « % » after a
    number (« 90 % » never breaks across lines, as :func:`percent` writes it)."""
    return re.sub(r"(\d) %", "\\1" + SPACE + "%", text)


def span(low, high, noun: str | None = None, plural_noun: str | None = None, *, missing: str = "?") -> str:
    """A range as a person reads it: « 3 à 6 », « 4 » when both ends are equal; with ``noun``, agreeing with the
    upper end (« 1 apprenant », « 3 à 6 apprenants »); a missing end is ``missing`` (« ? à 6 apprenants »)."""
    if is_missing(_scalar(low)) or is_missing(_scalar(high)):
        shown = f"{text(low, missing=missing)} à {text(high, missing=missing)}"
        return f"{shown} {plural_noun or noun + 's'}" if noun else shown
    low, high = int(_scalar(low)), int(_scalar(high))
    shown = integer(high) if low == high else f"{integer(low)} à {integer(high)}"
    return f"{shown} {agree(high, noun, plural_noun)}" if noun else shown


def agree(value, noun: str, plural_noun: str | None = None) -> str:
    """The noun (or phrase) agreeing with a quantity as in French: singular below 2 (« 0 fermé », « 1,5 place »),
    else ``plural_noun`` (default: the noun and an s)."""
    value = _scalar(value)
    few = is_missing(value) or abs(float(value)) < 2
    return noun if few else (plural_noun or noun + "s")


def measure(value, kind: str, *, missing: str = MISSING) -> str:
    """A key figure by its kind (``params.yaml`` → ``review.indicators``): ``count``/``learners`` (integer),
    ``share`` (percentage), ``ratio`` (two decimals), ``hours`` (« 24 118 h »), ``bool`` (oui/non), ``date``."""
    value = _scalar(value)
    if is_missing(value):
        return missing
    if isinstance(value, str):  # already rendered (« < 5 »)
        return value
    if kind == "share":
        return percent(value)
    if kind == "hours":
        return f"{number(value, 1)}{SPACE}h"
    if kind == "ratio":
        return number(value, 2)
    if kind in ("count", "learners"):
        return integer(value) if float(value).is_integer() else number(value)
    if kind == "date":
        return day(value)
    return text(value, missing=missing)

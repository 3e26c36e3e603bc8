"""HTML fragments for stage reports. Every text from an input is escaped here, once.

Notebooks display these fragments; nbconvert puts them in the page as they are, so nothing that
reaches a report bypasses :func:`esc`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from html import escape

import numpy as np
import pandas as pd

from schemas.fields import all_fields


def esc(value) -> str:
    """Escaped display text of a value: lists joined, booleans in French, dates as jj/mm/aaaa hh:mm."""
    return escape(display(value), quote=True).replace("\n", "<br>")


def display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(display(v) for v in value)
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, (pd.Timestamp, datetime)):
        if pd.isna(value):
            return ""
        return value.strftime("%d/%m/%Y %H:%M") if (value.hour or value.minute) else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return (f"{value:.0f}" if value.is_integer() else f"{value:.2f}".rstrip("0")).replace(".", ",")
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return display(value.item())
    return str(value)


def table(frame: pd.DataFrame, labels: dict[str, str] | None = None, *, empty: str = "Aucune ligne.",
          numeric: tuple[str, ...] = (), css_class: str = "data") -> str:
    """An escaped HTML table; headers from ``labels``, else the field metadata's French labels."""
    if frame is None or len(frame) == 0:
        return f'<p class="empty">{escape(empty)}</p>'
    metadata = all_fields()
    labels = labels or {}
    heads = []
    for name in frame.columns:
        label = labels.get(name) or (metadata[name].label if name in metadata else str(name))
        heads.append(f"<th>{escape(label)}</th>")
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for name, value in zip(frame.columns, record):
            is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            cls = ' class="num"' if name in numeric or is_number else ""
            cells.append(f"<td{cls}>{esc(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table class="{css_class}"><thead><tr>{"".join(heads)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def figures(items: list[tuple[str, object]]) -> str:
    """Key figures as a row of boxes: ``[(French label, value), …]``."""
    boxes = "".join(f'<div class="figure"><div class="value">{esc(v)}</div><div class="label">{escape(k)}</div></div>'
                    for k, v in items)
    return f'<div class="figures">{boxes}</div>'


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` and the word, singular for 0 and 1 as in French (« 1 soumission rejetée »)."""
    return f"{count} {singular if abs(count) <= 1 else (plural_form or singular + 's')}"


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def bullets(items: list[str], *, css_class: str = "") -> str:
    if not items:
        return ""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<ul{cls}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def show(*fragments: str) -> None:
    """Display HTML fragments in the running notebook (and so in the report)."""
    from IPython.display import HTML, display as ipy_display

    ipy_display(HTML("\n".join(fragments)))

"""HTML fragments for stage reports. Every text from an input is escaped here, once.

Notebooks display these fragments; nbconvert puts them in the page as they are, so nothing that
reaches a report bypasses :func:`esc`.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from schemas.fields import all_fields

from . import fr


def esc(value, missing: str = "") -> str:
    """Escaped display text of a value: lists joined, booleans « oui »/« non », numbers and dates in French."""
    return escape(display(value, missing), quote=True).replace("\n", "<br>")


def display(value, missing: str = "") -> str:
    """A value as a person reads it (:func:`pipeline.io.fr.text`); a missing value is ``missing`` (an empty
    table cell by default, « non renseigné » where a fact is expected)."""
    return fr.text(value, missing=missing)


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


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def bullets(items: list[str], *, css_class: str = "") -> str:
    if not items:
        return ""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<ul{cls}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def home_link(href: str = "../index.html") -> str:
    """The link back to the edition's home page (every page a person opens from it has one)."""
    return f'<p class="home-link"><a href="{escape(href, quote=True)}">← Tableau de bord de l’édition</a></p>'


def facts(items: list[tuple[str, object]], *, missing: str = fr.MISSING) -> str:
    """A definition list of labelled facts; a missing value reads « non renseigné »."""
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{esc(v, missing)}</dd>" for k, v in items)
    return f'<dl class="facts">{rows}</dl>'


def show(*fragments: str) -> None:
    """Display HTML fragments in the running notebook (and so in the report)."""
    from IPython.display import HTML, display as ipy_display

    ipy_display(HTML("\n".join(fragments)))

"""A stage's key figures as a person reads them on the home page: labelled French values, the rank
profile as a small bar chart, the review's indicators by their kind (counts of learners under the
threshold shown « < 5 », as in every rendered page). Never a Python ``dict`` or ``list``."""

from __future__ import annotations

from html import escape

from ..io import fr
from ..repro.privacy import suppress, threshold

UNRANKED = "hors choix"


def rank_labels(count: int) -> list[str]:
    """``rank_profile`` is one count per rank, the last one being the learners placed outside their ranks."""
    return [f"{fr.ordinal(r + 1)} choix" for r in range(count - 1)] + [UNRANKED]


def rank_chart(profile: list) -> str:
    """The rank profile as a small horizontal bar chart (inline SVG, drawn here rather than by matplotlib:
    the home page is redrawn by every ``stagesco run`` and ``status``, which must not pay matplotlib's import
    and rendering, about 2 s, for one small chart)."""
    values = [int(v) for v in profile]
    labels = rank_labels(len(values))
    row, label_w, bar_w, top = 16, 70, 150, 18
    largest = max(values) if values and max(values) > 0 else 1
    width, height = label_w + bar_w + 50, top + row * len(values) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" font-family="DejaVu Sans, sans-serif" font-size="11">',
             '<text x="0" y="12" font-size="11">Choix obtenu (nombre d\'apprenants)</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * row
        bar = round(bar_w * value / largest, 1)
        parts.append(f'<text x="{label_w - 4}" y="{y + 11}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{bar}" height="{row - 4}" fill="#3b6e9e"/>'
                     f'<text x="{label_w + bar + 4}" y="{y + 11}">{escape(fr.number(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _shown(figure, kind: str, k: int) -> str:
    """A figure in French, a count of learners under the threshold shown « < k »."""
    return fr.measure(suppress(figure, k) if kind == "learners" else figure, kind)


def _indicator_items(value: dict, spec: dict, k: int) -> list[dict]:
    return [{"label": meta.get("label", key), "text": _shown(value[key], meta.get("kind", "count"), k)}
            for key, meta in spec.items() if key in value]


def _breakdown_items(value: dict, spec: dict, k: int) -> list[dict]:
    items = []
    for key, meta in spec.items():
        if key not in value:
            continue
        kind = meta.get("kind", "count")
        parts = []
        for category, figure in value[key].items():
            name = f"{fr.ordinal(int(category))} choix" if key == "rank_profile" and str(category).isdigit() else str(category)
            parts.append(f"{name} : {_shown(figure, kind, k)}")
        items.append({"label": meta.get("label", key), "text": " ; ".join(parts) or fr.MISSING})
    return items


def metric_entries(params_data: dict, metric_keys: list[str], metrics: dict) -> list[dict]:
    """One entry per metric the stage table lists: ``label``, ``text`` (French), optional ``chart`` (SVG) and
    ``items`` (labelled sub-figures, e.g. the review's indicators)."""
    labels = params_data.get("metric_labels") or {}
    review = params_data.get("review") or {}
    out = []
    for key in metric_keys:
        if key not in metrics:
            continue
        value = metrics[key]
        entry = {"label": labels.get(key, key.replace("_", " ")), "text": "", "chart": "", "items": []}
        if key == "rank_profile" and isinstance(value, list):
            entry["text"] = " ; ".join(f"{name} : {fr.integer(v)}" for name, v in zip(rank_labels(len(value)), value))
            entry["chart"] = rank_chart(value)
        elif key == "indicators" and isinstance(value, dict):
            entry["items"] = _indicator_items(value, review.get("indicators") or {}, threshold(params_data))
        elif key == "breakdowns" and isinstance(value, dict):
            entry["items"] = _breakdown_items(value, review.get("breakdowns") or {}, threshold(params_data))
        elif isinstance(value, list):
            entry["text"] = fr.text(value, missing="aucune")
        else:
            entry["text"] = fr.text(value)
        out.append(entry)
    return out

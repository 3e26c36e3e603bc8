"""The edition's home page ``outputs/<edition>/index.html``: calendar with today's position, each
stage's state and key figures, links to every report, workbook, e-mail draft and document.

It shows today's date, so it is not a DVC output: it is git-ignored and left out of byte-identity checks.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import jinja2

from ..contract import atomic
from ..contract.config import Edition
from ..contract.paths import HOME_PAGE, REPORT_CSS
from ..io import fr
from .figures import metric_entries
from .status import FAILED, StageStatus, next_action

TEMPLATES = Path(__file__).with_name("templates")  # the home page (index.html.j2)


def today() -> date:
    """Today, or ``STAGESCO_TODAY`` (AAAA-MM-JJ) to rehearse a moment of the campaign."""
    forced = os.environ.get("STAGESCO_TODAY")
    return datetime.strptime(forced, "%Y-%m-%d").date() if forced else date.today()


def calendar(edition: Edition, now: date) -> list[dict]:
    items = []
    labels = edition.params.data.get("calendar_labels") or {}
    for key in (edition.config.get("calendar") or {}):
        when = edition.when(key).date()
        items.append({"sort": when, "date": fr.day(when), "label": labels.get(key, key),
                      "when": "today" if when == now else "past" if when < now else "future"})
    items.sort(key=lambda i: i["sort"])
    if not any(i["when"] == "today" for i in items):
        position = sum(1 for i in items if i["when"] == "past")
        items.insert(position, {"sort": now, "date": fr.day(now), "label": "aujourd'hui", "when": "today"})
    return items


def stage_files(edition: Edition, status: StageStatus) -> list[dict]:
    folder = edition.outputs / status.stage.folder
    up = "../" * len(edition.outputs.relative_to(edition.root).parts)  # from the home page to the repository
    previous = [{"name": f"{Path(p).name} (périmé : dernière exécution réussie)", "href": up + quote(p)}
                for p in status.previous]
    if status.state == FAILED or not folder.is_dir():  # a failed stage's outputs are not its results
        return previous
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix in (".html", ".xlsx", ".docx")),
                   key=lambda p: (p.name != "report.html", p.suffix != ".html", p.name))
    out = [{"name": p.name, "href": quote(p.relative_to(edition.outputs).as_posix())} for p in files]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        count = sum(1 for f in sub.rglob("*") if f.is_file())
        drafts = sum(1 for f in sub.glob("*.eml"))
        href = quote(sub.relative_to(edition.outputs).as_posix()) + "/"
        if drafts:  # an outbox: its index.html lists every draft, rendered
            name = f"{sub.name}/ ({fr.count(drafts, 'courriel')} à relire puis envoyer)"
            out.append({"name": name, "href": href + ("index.html" if (sub / "index.html").is_file() else "")})
        else:
            out.append({"name": f"{sub.name}/ ({fr.count(count, 'document')})", "href": href})
    return previous + out


def stage_warnings(edition: Edition, status: StageStatus) -> list[str]:
    path = edition.outputs / status.stage.folder / "warnings.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []


def write_index(edition: Edition, statuses: list[StageStatus]) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    now = today()
    stages = [{"number": f"{s.stage.number:02d}", "label": s.stage.label, "state": s.state, "state_label": s.label,
               "detail": s.detail, "problems": s.problems, "metrics": metric_entries(edition.params.data, s.stage.metrics, s.metrics),
               "files": stage_files(edition, s), "warnings": stage_warnings(edition, s)} for s in statuses]
    page = env.get_template("index.html.j2").render(
        css=REPORT_CSS.read_text(encoding="utf-8"), edition_title=edition.title,
        edition_name=edition.name, today=fr.day(now), next_action=next_action(statuses),
        calendar=calendar(edition, now), stages=stages)
    path = edition.outputs / HOME_PAGE
    atomic.write_text(path, page)
    return path

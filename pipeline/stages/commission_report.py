"""Outputs of stage 30: retained projects, partner notifications, the catalogue, report fragments."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from ..contract import atomic
from ..io import extras, fr, html, mail, outbox
from ..io import tracks as track_words
from ..contract.config import Edition
from ..contract.errors import StagescoError
from ..contract.provenance import public_footer_html
from ..contract.paths import REPORT_CSS
from ..contract.stage import write_metrics
from ..io.workbook import Sheet, write_workbook
from . import STAGE_TEMPLATES
from .commission import CommissionResult, open_to, places_by_track
from . import sites, terms
from .eligibility import as_list

RETAINED_COLUMNS = ["project_code", "title", "structure_name", "city", "departement", "decided_team_min",
                    "decided_team_max", "tracks_open", "trainer", "hours", "eligibility_status", "motivation"]
PLACES_LABELS = {"track": "Filière", "projects": "Projets ouverts", "places_min": "Places (minimum)",
                 "places_max": "Places (maximum)", "learners": "Apprenants attendus",
                 "ratio": "Places par apprenant"}


def catalogue_order(retained: pd.DataFrame) -> pd.DataFrame:
    """The order learners see and rank projects in: by title, ignoring case and accents."""
    from ..io.normalise import fold

    return retained.assign(_t=retained["title"].map(fold)).sort_values(["_t", "project_code"]).drop(columns="_t")


def write_outputs(result: CommissionResult, edition: Edition, out: Path) -> list[dict]:
    retained = catalogue_order(result.retained)
    with atomic.atomic_path(out / "projets_retenus.parquet") as tmp:
        retained.reset_index(drop=True).to_parquet(tmp, index=False)
    sent = write_notifications(result, edition, out / "outbox")
    outbox.write_index(out / "outbox", title="Courriels aux partenaires", edition_title=edition.title,
                       intro="Un courriel par projet examiné, à son référent, à relire avant de les envoyer avec "
                             f"« stagesco send {edition.name} commission/outbox ».")
    write_workbook(out / "projets_retenus.xlsx", [
        Sheet("Projets retenus", retained[RETAINED_COLUMNS + list(extras.labels(edition, "workbooks"))].reset_index(drop=True),
              labels=extras.labels(edition, "workbooks")),
        Sheet("Décisions", result.decisions[["project_code", "title", "structure_name", "eligibility_status", "decision",
                                             "motivation", "source_row"]],
              labels={"source_row": "Ligne du classeur"}),
        Sheet("Courriels aux partenaires", pd.DataFrame(sent),
              labels={"file": "Fichier", "to": "Destinataire", "subject": "Objet", "status": "État"}),
    ])
    atomic.write_text(out / "catalogue.html", catalogue_html(result, edition))
    unsent = [f"{s['project_code']} : courriel {s['status']}" for s in sent if not s["file"]]
    write_metrics(out, result.metrics, result.warnings + unsent)
    return sent


def _fill(template: str, values: dict) -> str:
    class Missing(dict):
        def __missing__(self, key):
            raise StagescoError(f"Modèle de courriel : champ « {{{key}}} » inconnu",
                                file="edition.yaml", hint="Champs possibles : " + ", ".join(sorted(values)))

    return template.format_map(Missing(values))


def notification_values(row, edition: Edition) -> dict:
    school = edition.section("school")
    return {
        "structure": row.structure_name, "referent": html.display(row.referent_name, "Madame, Monsieur"), "title": row.title,
        "code": row.project_code, "team_min": html.display(row.decided_team_min), "team_max": html.display(row.decided_team_max),
        "tracks": track_words.phrase(as_list(row.tracks_open)) or "-", "trainer": html.display(row.trainer, "-"),
        "motivation": html.display(row.motivation, "-"), "presentation": fr.day(edition.when("presentation")),
        "start": fr.day(edition.when("start")), "end": fr.day(edition.when("end")), "school": school["name"],
    }


def write_notifications(result: CommissionResult, edition: Edition, outbox: Path) -> list[dict]:
    """One draft per project to its referent; the list of drafts (and of partners without an address)."""
    school = edition.section("school")
    templates = edition.section("commission")["notifications"]
    sender = mail.address(school["name"], school["email"])
    domain = school["email"].rsplit("@", 1)[-1]
    summary = []
    for row in result.decisions.sort_values("project_code").itertuples():
        key = "retained" if row.decision_code == "retained" else "not_retained"
        values = notification_values(row, edition)
        subject = _fill(templates[key]["subject"], values)
        file_name = f"{row.project_code}_{'retenu' if key == 'retained' else 'non-retenu'}.eml"
        try:
            to = mail.referent_address(row.referent_name, row.structure_name, row.referent_email)
        except StagescoError as exc:
            summary.append({"project_code": row.project_code, "file": "", "to": html.display(row.referent_email),
                            "subject": subject, "status": f"non rédigé : {exc.message}"})
            continue
        draft = mail.Draft(file_name=file_name, to=to, subject=subject, body=_fill(templates[key]["body"], values),
                           message_id=mail.message_id(edition.name, "commission", row.project_code, str(to), domain=domain))
        atomic.write_bytes(outbox / file_name, mail.render(draft, sender))
        summary.append({"project_code": row.project_code, "file": file_name, "to": str(to.addr_spec),
                        "subject": mail.header_text(subject), "status": "brouillon prêt"})
    return summary


def _text(value) -> str:
    """A text of the catalogue: empty when the form did not ask it (a missing value, never « nan »)."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def catalogue_html(result: CommissionResult, edition: Edition) -> str:
    """The catalogue published to learners: retained projects only, no learner data, no referent contact."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(STAGE_TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    types, competences = edition.labels("structure_types"), edition.labels("competences")
    projects = []
    for row in catalogue_order(result.retained).itertuples():
        record = row._asdict()
        own = terms.offer_terms(record, edition)
        hosts = sites.sites(record, own.hours)
        projects.append({
            "dates": f"du {fr.day(own.start)} au {fr.day(own.end)}",
            "hours": f"{html.display(own.hours)} heures" if own.hours is not None else "",
            "theme": str(record.get("theme") or "") if len(hosts) > 1 else "",
            "sites": [{"name": h.structure_name, "city": h.city or "",
                       "hours": f"{html.display(h.hours)} h" if h.hours is not None else ""} for h in hosts]
            if len(hosts) > 1 else [],
            "code": row.project_code, "title": row.title, "structure": row.structure_name,
            "structure_type": types.get(row.structure_type, row.structure_type or ""),
            "place": f"{_text(row.city)} ({_text(row.departement) or '?'})", "public": _text(row.public),
            "mediation": _text(row.mediation), "description": _text(row.description), "issue": _text(row.issue),
            "challenges": _text(row.challenges),
            "competences": "; ".join(f"{c} {competences.get(c, '')}".strip() for c in as_list(row.competences)),
            "tracks": track_words.phrase(as_list(row.tracks_open)),
            "team": fr.span(row.decided_team_min, row.decided_team_max, missing=""),
            "team_people": fr.span(row.decided_team_min, row.decided_team_max, "apprenant", missing=""),
            "extras": [{"label": e.label, "value": html.display(getattr(row, e.name, None), fr.MISSING)}
                       for e in extras.shown(edition, "catalogue")],
        })
    places = [{"track": t, "places": int(open_to(result.retained, t)["decided_team_max"].sum())}
              for t in edition.labels("tracks")]
    intro = (f"Voici les {len(projects)} projets retenus par la commission. Classez-les par ordre de préférence dans "
             "le formulaire Moodle en utilisant le code de chaque projet. Un projet n'ouvre que s'il réunit assez "
             "d'apprenants : classez-en plusieurs.")
    return env.get_template("catalogue.html.j2").render(
        edition_title=edition.title, edition_name=edition.name, css=REPORT_CSS.read_text(encoding="utf-8"),
        projects=projects, places=places, intro=intro,
        provenance=public_footer_html(edition, edition.params.stage("commission"), "commission/catalogue.html"))


# --- report fragments ---------------------------------------------------------------------------------
def summary(result: CommissionResult) -> str:
    m = result.metrics
    c = fr.count
    text = (f"La commission a examiné {c(m['projects'], 'projet')} : {c(m['retained'], 'retenu')}, "
            f"{c(m['not_retained'], 'non retenu', 'non retenus')}. Les projets retenus offrent de "
            f"{fr.integer(m['places_min'])} à {c(m['places_max'], 'place')}.")
    return html.figures([("projets examinés", m["projects"]), ("retenus", m["retained"]),
                         ("non retenus", m["not_retained"]), ("places (min – max)", f"{fr.integer(m['places_min'])} – {fr.integer(m['places_max'])}")]) \
        + html.paragraph(text)


def warnings_block(result: CommissionResult) -> str:
    if not result.warnings:
        return html.paragraph("Aucun point d'attention.")
    return html.bullets(result.warnings, css_class="note")


def decisions_table(result: CommissionResult) -> str:
    frame = result.decisions.sort_values(["decision_code", "project_code"])[
        ["project_code", "title", "structure_name", "eligibility_status", "decision", "decided_team_min", "decided_team_max",
         "tracks_open", "trainer", "motivation"]]
    return html.table(frame.reset_index(drop=True))


def places_table(result: CommissionResult, edition: Edition) -> str:
    return html.table(places_by_track(result, edition), labels=PLACES_LABELS)


def trainers_table(result: CommissionResult) -> str:
    retained = result.retained
    frame = retained.groupby("trainer").agg(projects=("project_code", "count"), places=("decided_team_max", "sum"),
                                            codes=("project_code", lambda s: ", ".join(sorted(s)))).reset_index()
    return html.table(frame, labels={"projects": "Projets suivis", "places": "Apprenants au plus", "codes": "Projets"})


def notifications_table(sent: list[dict]) -> str:
    return html.table(pd.DataFrame(sent), labels={"file": "Brouillon", "to": "Destinataire", "subject": "Objet",
                                                  "status": "État"})

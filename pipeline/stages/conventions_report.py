"""Outputs and report fragments of stage 60 ``conventions``.

The stage writes the conventions and the tracking workbook to fill even before the filled one comes
back (it lives in the edition's follow-up folder ``inputs/<edition>/suivi/``), so there is no deadlock:
until then every signature is reported missing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..contract import atomic
from ..io import fr, html
from ..contract.config import Edition
from ..contract.paths import relative
from ..contract.stage import write_metrics
from ..io.workbook import write_workbook
from . import conventions, signatures

TRACKING_FILE = "suivi_conventions.xlsx"  # the generated workbook (outputs); its filled copy: followup_files.tracking
LABELS = {"project_code": "Code projet", "convention": "Convention", "structure_name": "Structure", "status": "État", "details": "Ce qui manque ou ne va pas",
          "late": "En retard", "out_of_order": "Dans le désordre"}


def tracking_path(edition: Edition) -> Path:
    return edition.followup_path("tracking")


def run(edition: Edition, retained: pd.DataFrame, assignment: pd.DataFrame, roster: pd.DataFrame,
        out: Path, outcomes: pd.DataFrame | None = None) -> signatures.ConventionsResult | None:
    """DOCX conventions and the blank tracking workbook; the filled workbook read back when present.
    ``outcomes``: the learners' own placements (stage 40, placements mode), whose start dates set each
    convention's period and deadline."""
    for name, data in conventions.render_all(retained, assignment, roster, edition, outcomes).items():
        atomic.write_bytes(out / "conventions" / name, data)
    write_workbook(out / TRACKING_FILE, signatures.tracking_sheets(retained, assignment, edition, outcomes))
    path = tracking_path(edition)
    result = signatures.read_tracking(path, edition, retained, assignment, outcomes) if path.exists() else None
    opened = conventions.conventions_to_sign(retained, assignment)
    documents = len(conventions.settings(edition).documents)
    metrics = result.metrics if result else {"conventions": len(opened), "fully_signed": 0, "missing": len(opened),
                                             "signatures_missing": documents * len(opened), "late": 0, "out_of_order": 0,
                                             "signed_on_time": 0}
    metrics["tracking_received"] = result is not None
    notes = signatures.messages(result) if result else [f"classeur de suivi rempli non reçu ({relative(tracking_path(edition), edition.params.root)})"]
    write_metrics(out, metrics, notes)
    return result


def summary(result: signatures.ConventionsResult | None, edition: Edition) -> str:
    if result is None:
        return html.paragraph(f"Le classeur de suivi rempli n'est pas encore revenu : déposez-le sous "
                              f"{relative(tracking_path(edition), edition.params.root)} puis relancez. Toutes les signatures sont "
                              "comptées comme manquantes.")
    m = result.metrics
    return html.figures([("conventions", m["conventions"]), ("entièrement signées", m["fully_signed"]),
                         ("en retard", m["late"]), ("signées dans le désordre", m["out_of_order"])]) + html.paragraph(
        (f"Date limite des signatures : {fr.day(result.deadline)}. " if result.conventions["deadline"].nunique() <= 1 else
         f"Chaque convention a sa date limite : {fr.count(conventions.settings(edition).min_lead_days, 'jour')} avant "
         "le début du stage de son apprenant. ")
        + f"{fr.count(m['missing'], 'convention incomplète', 'conventions incomplètes')}, "
        f"{fr.count(m['signatures_missing'], 'signature manquante', 'signatures manquantes')}.")


def problems_block(result: signatures.ConventionsResult | None) -> str:
    if result is None:
        return ""
    lines = signatures.messages(result)
    return (html.bullets(lines, css_class="note") if lines else html.paragraph("Toutes les conventions sont signées à temps et dans l'ordre.")) \
        + html.bullets(result.warnings)


def table_block(result: signatures.ConventionsResult | None) -> str:
    if result is None:
        return ""
    several = bool((result.conventions["convention"] != result.conventions["project_code"]).any())
    cols = [c for c in ["convention" if several else "project_code", "structure_name", "status", "late", "out_of_order",
                        "details"] if c in result.conventions]
    return html.table(result.conventions[cols], labels=LABELS)

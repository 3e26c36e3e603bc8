"""Outputs and report fragments of stage 10 ``projects``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..contract import atomic
from ..io import charts, extras, fr, html
from ..contract.config import Edition
from .projects import ProjectsResult
from ..contract.stage import write_metrics
from ..io.workbook import Sheet, write_workbook

REJECT_LABELS = {"source_row": "Ligne du fichier", "column": "Colonne (libellé du fichier)", "value": "Valeur lue",
                 "reason": "Motif du rejet"}
SUPERSEDED_LABELS = {"source_row": "Ligne du fichier", "replaced_by_row": "Remplacée par la ligne",
                     "reason": "Motif"}
OVERVIEW = ["project_code", "structure_name", "departement", "title", "hours", "team_min", "team_max",
            "submitted_at", "source_row"]


def write_outputs(result: ProjectsResult, edition: Edition, out: Path) -> None:
    """``projets.parquet`` (codes), ``projets.xlsx`` (French labels), ``rejets.xlsx`` and ``metrics.json``."""
    with atomic.atomic_path(out / "projets.parquet") as tmp:
        result.projects.to_parquet(tmp, index=False)
    readable = result.projects.drop(columns=extras.hidden(edition, "workbooks"))
    types = edition.labels("structure_types")
    readable["structure_type"] = readable["structure_type"].map(lambda v: types.get(v, v) if isinstance(v, str) else v)
    write_workbook(out / "projets.xlsx", [Sheet("Projets reçus", readable, labels=extras.labels(edition, "workbooks"))])
    write_workbook(out / "rejets.xlsx", [
        Sheet("Rejets", result.rejected, labels=REJECT_LABELS),
        Sheet("Soumissions remplacées", result.superseded, labels=SUPERSEDED_LABELS),
    ])
    rejected = [f"ligne {r.source_row}, colonne « {r.column} » : {r.reason}" for r in result.rejected.itertuples()]
    write_metrics(out, result.metrics, rejected + result.notes)


def summary(result: ProjectsResult) -> str:
    m = result.metrics
    p = fr.count
    text = (f"{p(m['rows_read'], 'soumission lue', 'soumissions lues')} dans l'export : "
            f"{p(m['projects_accepted'], 'projet accepté', 'projets acceptés')} pour l'examen d'éligibilité, "
            f"{p(m['rows_rejected'], 'soumission rejetée', 'soumissions rejetées')} (valeurs illisibles ou manquantes, "
            f"détail ci-dessous) et {p(m['duplicates_superseded'], 'remplacée', 'remplacées')} par une soumission plus "
            f"récente du même projet. {fr.integer(m['rows_read'])} = {fr.integer(m['projects_accepted'])} + "
            f"{fr.integer(m['rows_rejected'])} + {fr.integer(m['duplicates_superseded'])}.")
    return (html.figures([(p(m["rows_read"], "soumission lue", "soumissions lues").split(" ", 1)[1], m["rows_read"]),
                          (p(m["projects_accepted"], "projet accepté", "projets acceptés").split(" ", 1)[1], m["projects_accepted"]),
                          (p(m["rows_rejected"], "soumission rejetée", "soumissions rejetées").split(" ", 1)[1], m["rows_rejected"]),
                          (p(m["duplicates_superseded"], "doublon remplacé", "doublons remplacés").split(" ", 1)[1],
                           m["duplicates_superseded"])])
            + html.paragraph(text) + html.paragraph(result.raw.describe()))


def by_departement_chart(result: ProjectsResult) -> str:
    counts = result.projects["departement"].fillna("inconnu").value_counts().sort_index()
    if counts.empty:
        return html.paragraph("Aucun projet accepté.")
    return charts.bar_chart([f"Département {d}" for d in counts.index], [int(v) for v in counts.values],
                            title="Projets acceptés par département du site")


def projects_table(result: ProjectsResult) -> str:
    return html.table(result.projects[OVERVIEW], empty="Aucun projet accepté.")


def rejected_table(result: ProjectsResult) -> str:
    return html.table(result.rejected, labels=REJECT_LABELS, empty="Aucune soumission rejetée.")


def superseded_table(result: ProjectsResult) -> str:
    cols = ["source_row", "project_code", "structure_name", "title", "submitted_at", "replaced_by_row", "reason"]
    frame = result.superseded[cols] if len(result.superseded) else pd.DataFrame()
    return html.table(frame, labels=SUPERSEDED_LABELS, empty="Aucune soumission remplacée.") + \
        html.bullets(result.notes, css_class="note")

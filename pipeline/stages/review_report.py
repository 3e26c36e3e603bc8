"""Outputs and report fragments of stage 80 ``review`` (le bilan)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io import charts, fr, html
from ..contract.config import Edition
from ..contract.stage import read_metrics, read_output, write_metrics
from ..io.workbook import Sheet, write_workbook
from . import review


def run(edition: Edition, out: Path) -> review.Review:
    """Gather the earlier stages' figures, compare with the earlier editions, write bilan.xlsx and metrics."""
    reads = edition.params.stage("review").reads  # the earlier stages' metrics.json the stage table lists
    metrics = {rel.split("/")[0]: read_metrics(edition, rel.split("/")[0]) for rel in reads if rel.endswith("/metrics.json")}
    result = review.compute(edition, metrics, read_output(edition, "projects/projets.parquet"),
                            read_output(edition, "commission/projets_retenus.parquet"),
                            read_output(edition, "applications/promotion.parquet"),
                            read_output(edition, "assignment/affectations.parquet"),
                            read_output(edition, "evaluation/resultats_competences.parquet"))
    write_workbook(out / "bilan.xlsx", workbook(result))
    notes = [] if result.earlier else [f"aucune édition antérieure de la campagne « {edition.campaign} » dans "
                                       "history/ : le bilan ne compare avec rien"]
    write_metrics(out, result.metrics, notes)
    return result


def editions_table(result: review.Review, *, technical: bool = False) -> pd.DataFrame:
    """The editions compared; ``technical`` adds the file each one's figures were read from."""
    records = result.records
    rows = []
    for i, r in enumerate(records):
        current = i == len(records) - 1
        row = {"Édition": r["edition"], "Intitulé": r["title"], "Début": fr.day(r["start"]) if r["start"] else "–",
               "Source": "les étapes 10 à 70 de cette édition" if current else "le bilan figé de cette édition à sa clôture"}
        if technical:
            row["Source technique"] = "outputs/<édition>/<étape>/ (étapes 10 à 70)" if current else f"history/{r['edition']}.json"
        rows.append(row)
    return pd.DataFrame(rows)


def workbook(result: review.Review) -> list[Sheet]:
    indicators = review.comparison(result)
    indicators["Source technique"] = review.comparison(result, rendered=False)["Source technique"]
    sheets = [Sheet("Indicateurs", indicators), Sheet("Éditions", editions_table(result, technical=True))]
    for key, spec in review.breakdown_specs(result).items():
        sheets.append(Sheet(spec["label"][:31], review.breakdown(result, key)))
    return sheets


# --- report fragments ---------------------------------------------------------------------------------
def summary(result: review.Review) -> str:
    names = ", ".join(f"{r['edition']} ({r['title']})" for r in result.earlier) or "aucune"
    return html.bullets(review.summary_sentences(result)) + html.paragraph(
        f"Éditions antérieures comparées : {names}. Les effectifs d'apprenants inférieurs à {result.threshold} sont "
        f"affichés « < {result.threshold} ».")


def indicators_block(result: review.Review) -> str:
    return html.table(review.comparison(result))


def charts_block(result: review.Review) -> str:
    records = result.records
    keys = ["projects_received", "projects_eligible", "projects_retained", "projects_opened"]
    labels = [result.spec["indicators"][k]["label"].replace("Projets ", "") for k in keys]
    projects = charts.grouped_bar_chart(labels, {r["edition"]: [r["indicators"].get(k) or 0 for k in keys] for r in records},
                                        title="Projets, par édition")
    shares = ["first_choice_share", "acquired_share"]
    share_chart = charts.grouped_bar_chart(
        ["1er choix obtenu", "compétences au niveau le plus haut"],
        {r["edition"]: [round(100 * float(r["indicators"].get(k) or 0)) for k in shares] for r in records},
        title="Parts (en %), par édition")
    places = charts.grouped_bar_chart(["places par apprenant"], {r["edition"]: [r["indicators"].get("places_per_learner") or 0]
                                                                 for r in records}, title="Places offertes par apprenant")
    return projects + share_chart + places


def breakdowns_block(result: review.Review) -> str:
    parts = []
    for key, spec in review.breakdown_specs(result).items():
        parts.append(f"<h3>{html.esc(spec['label'])}</h3>" + html.table(review.breakdown(result, key)))
    return "".join(parts)


def editions_block(result: review.Review) -> str:
    return html.table(editions_table(result))


def sources_annex(result: review.Review) -> str:
    """The technical origin of every figure (metric of a stage, table file, history record), for the analyst."""
    spec = result.spec.get("indicators") or {}
    frame = pd.DataFrame([{"Indicateur": s["label"], "Source technique": s.get("source", "")} for s in spec.values()])
    editions = editions_table(result, technical=True)[["Édition", "Source technique"]]
    return html.table(frame) + "<h3>Éditions comparées</h3>" + html.table(editions)

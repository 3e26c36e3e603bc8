"""Outputs and report fragments of stage 40 ``applications``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..contract import atomic
from ..io import charts, fr, html
from ..repro.privacy import OUTSIDE, LearnerView
from ..contract.stage import write_metrics
from ..io.workbook import Sheet, write_workbook
from .applications import (LABELS, NON_RESPONDENT_COLUMNS, REJECTED_COLUMNS, SUPERSEDED_COLUMNS, ApplicationsResult)
from . import pole
from .placements import OUTCOME_COLUMNS
from .placements_report import who_have, write_outcomes



def wide_preferences(result: ApplicationsResult, ranks: int) -> pd.DataFrame:
    """One row per learner of the roster: identity, track, then the project at each rank."""
    roster = result.roster[["learner_id", "last_name", "first_name", "track"]].copy()
    wide = result.preferences.pivot(index="learner_id", columns="rank", values="project_code")
    for rank in range(1, ranks + 1):
        roster[f"choice_{rank}"] = roster["learner_id"].map(wide[rank]) if rank in wide.columns else None
    return roster.sort_values(["last_name", "first_name", "learner_id"]).reset_index(drop=True)


def write_outputs(result: ApplicationsResult, out: Path, ranks: int) -> None:
    with atomic.atomic_path(out / "candidatures.parquet") as tmp:
        result.preferences.to_parquet(tmp, index=False)
    with atomic.atomic_path(out / "promotion.parquet") as tmp:
        result.roster.to_parquet(tmp, index=False)
    write_outcomes(pd.DataFrame(columns=OUTCOME_COLUMNS), out)  # no own placements in preferences mode
    choice_labels = {f"choice_{r}": f"Choix n°{r}" for r in range(1, ranks + 1)}
    write_workbook(out / "candidatures.xlsx", [
        Sheet("Candidatures", wide_preferences(result, ranks), labels={**LABELS, **choice_labels}),
        Sheet("Demande par projet", result.demand[result.demand_columns], labels=result.labels),
        Sheet("Sans candidature", result.non_respondents[NON_RESPONDENT_COLUMNS], labels=LABELS),
    ])
    write_workbook(out / "candidatures_rejets.xlsx", [
        Sheet("Rejets", result.rejected[REJECTED_COLUMNS], labels=LABELS),
        Sheet("Candidatures remplacées", result.superseded[SUPERSEDED_COLUMNS], labels=LABELS),
    ])
    short = [f"{r.project_code} : {fr.count(r.applicants, 'candidat')} pour un minimum de {r.team_min}"
             for r in result.demand[result.demand["under_minimum"]].itertuples()]
    write_metrics(out, result.metrics, short + result.notes)


def summary(result: ApplicationsResult) -> str:
    m = result.metrics
    n, c, a = fr.integer, fr.count, fr.agree
    text = (f"La promotion compte {c(m['learners'], 'apprenant')} : {n(m['respondents'])} "
            f"{who_have(m, 'une candidature valide')} ; ces derniers seront {result.policy_label}. "
            f"{c(m['submissions_read'], 'réponse lue', 'réponses lues')} dans l'export Moodle : "
            f"{c(m['submissions_valid'], 'retenue')}, {c(m['submissions_rejected'], 'rejetée')}, "
            f"{c(m['submissions_superseded'], 'remplacée')} par une réponse plus récente du même apprenant. "
            f"{n(m['choices_dropped'])} {a(m['choices_dropped'], 'choix a été écarté', 'choix ont été écartés')} "
            f"(les suivants remontent d'un rang).")
    return (html.figures([("apprenants", m["learners"]), ("avec candidature", m["respondents"]),
                          ("sans candidature", m["non_respondents"]), ("réponses rejetées", m["submissions_rejected"])])
            + html.paragraph(text) + html.paragraph(result.export.describe()) + by_school(result))


def by_school(result: ApplicationsResult) -> str:
    """A pôle de stages: pupils, with and without a candidature, per school and basin (nothing otherwise)."""
    if "school" not in result.roster.columns:
        return ""
    answered = set(result.preferences["learner_id"])
    rows = [{"school": school, "basin": basin, "learners": len(group),
             "respondents": int(group["learner_id"].isin(answered).sum())}
            for (school, basin), group in result.roster.groupby(["school", "basin"], sort=True)]
    frame = pd.DataFrame(rows).assign(non_respondents=lambda f: f["learners"] - f["respondents"])
    return "<h3>Par établissement</h3>" + html.table(pole.named(frame, result.names), labels={
        "school": "Établissement", "basin": "Bassin", "learners": "Élèves", "respondents": "Avec vœux",
        "non_respondents": "Sans vœux"})


def demand_block(result: ApplicationsResult) -> str:
    demand = result.demand.sort_values(["first_choices", "project_code"], ascending=[False, True])
    chart = charts.bar_chart([f"{c}" for c in demand["project_code"]], [int(v) for v in demand["first_choices"]],
                             title="Premiers choix par projet")
    short = demand[demand["under_minimum"]]
    note = html.bullets([f"{r.project_code} ({r.title}) : {fr.count(r.applicants, 'candidat')} pour un minimum de {r.team_min}"
                         for r in short.itertuples()], css_class="note") if len(short) else ""
    return chart + note + html.table(demand[result.demand_columns].reset_index(drop=True), labels=result.labels)


def learner_view(result: ApplicationsResult, edition) -> LearnerView:
    return LearnerView(edition, result.roster["learner_id"], "applications")


def rejected_block(result: ApplicationsResult, view: LearnerView) -> str:
    frame = view.frame(result.rejected[REJECTED_COLUMNS])
    if not view.names:  # a submission from outside the roster names a person: the workbook has the detail
        outside = frame["pseudonym"] == OUTSIDE
        frame.loc[outside, "value"] = "(masqué)"
        frame.loc[outside, "reason"] = "personne absente de la liste de la promotion (détail dans candidatures_rejets.xlsx)"
    return html.table(frame, labels=LABELS, empty="Aucun rejet.")


def superseded_block(result: ApplicationsResult, view: LearnerView) -> str:
    return html.table(view.frame(result.superseded[SUPERSEDED_COLUMNS]), labels=LABELS, empty="Aucune candidature remplacée.") \
        + html.bullets(result.notes, css_class="note")


def non_respondents_block(result: ApplicationsResult, view: LearnerView) -> str:
    return html.paragraph(f"{fr.count(len(result.non_respondents), 'apprenant')} sans candidature valide : ils seront "
                          f"{result.policy_label}.") + \
        html.table(view.frame(result.non_respondents[NON_RESPONDENT_COLUMNS]), labels=LABELS, empty="Tous les apprenants ont candidaté.")


def conflicts_block(result: ApplicationsResult, view: LearnerView) -> str:
    return html.table(view.frame(result.conflicts), labels=LABELS, empty="Aucun conflit d'intérêts repéré.")

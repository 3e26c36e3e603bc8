"""Outputs and report fragments of stage 40 in placements mode (:mod:`pipeline.stages.placements`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..contract import atomic
from ..contract.stage import write_metrics
from ..io import fr, html
from ..io.workbook import Sheet, write_workbook
from ..repro.privacy import LearnerView
from .applications import LABELS as APPLICATION_LABELS, NON_RESPONDENT_COLUMNS, REJECTED_COLUMNS, SUPERSEDED_COLUMNS
from .placements import LABELS as PLACEMENT_LABELS, OUTCOME_COLUMNS, PlacementsResult

OUTCOMES_FILE = "placements.parquet"
LABELS = {**APPLICATION_LABELS, **PLACEMENT_LABELS}
SHOWN = ["learner_id", "last_name", "first_name", "track", "project_code", "structure_name", "tutor_name", "start_date",
         "end_date", "source_row"]


def write_outcomes(outcomes: pd.DataFrame, out: Path) -> None:
    """``placements.parquet``: the placed and exempted learners (empty in preferences mode)."""
    frame = outcomes[OUTCOME_COLUMNS].copy()
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["source_row"] = frame["source_row"].astype("Int64")
    with atomic.atomic_path(out / OUTCOMES_FILE) as tmp:
        frame.to_parquet(tmp, index=False)


def placed_table(result: PlacementsResult) -> pd.DataFrame:
    placed = result.outcomes[result.outcomes["placement_status"] != "dispensé(e) de stage"]
    people = result.roster[["learner_id", "last_name", "first_name", "track"]]
    return placed.merge(people, on="learner_id", how="left")[SHOWN].reset_index(drop=True)


def exempted_table(result: PlacementsResult) -> pd.DataFrame:
    return result.exempted[["learner_id", "placement_reason", "source_row"]]


def write_outputs(result: PlacementsResult, out: Path) -> None:
    with atomic.atomic_path(out / "candidatures.parquet") as tmp:
        result.preferences.to_parquet(tmp, index=False)
    with atomic.atomic_path(out / "promotion.parquet") as tmp:
        result.roster.to_parquet(tmp, index=False)
    write_outcomes(result.outcomes, out)
    write_workbook(out / "candidatures.xlsx", [
        Sheet("Placements", placed_table(result), labels=LABELS),
        Sheet("Dispensés", exempted_table(result), labels=LABELS),
        Sheet("Sans placement", result.non_respondents[NON_RESPONDENT_COLUMNS], labels=LABELS),
    ])
    write_workbook(out / "candidatures_rejets.xlsx", [
        Sheet("Rejets", result.rejected[REJECTED_COLUMNS], labels=LABELS),
        Sheet("Candidatures remplacées", pd.DataFrame(columns=SUPERSEDED_COLUMNS), labels=LABELS),
    ])
    missing = [f"{r.learner_id} : {r.reason}" for r in result.non_respondents.itertuples() if "« fix »" not in r.reason]
    write_metrics(out, result.metrics, [f"Apprenant sans placement — {m}" for m in missing] + result.notes)


def who_have(m: dict, what: str, later: str = "") -> str:
    """« 24 ont <what> et 2 n'en ont pas<later> (26 = 24 + 2) », from the metrics ``respondents``,
    ``non_respondents`` and ``learners`` of stage 40 (candidatures or placements)."""
    n, yes, no = fr.integer, m["respondents"], m["non_respondents"]
    none = fr.agree(no, "n'en a", "n'en ont")
    return (f"{fr.agree(yes, 'a', 'ont')} {what} et {n(no)} {none} pas{later} "
            f"({n(m['learners'])} = {n(yes)} + {n(no)})")


def summary(result: PlacementsResult) -> str:
    m = result.metrics
    n, c = fr.integer, fr.count
    text = (f"La liste de la promotion compte {c(m['roster_rows_read'], 'ligne')} : {c(m['learners'], 'apprenant')} à "
            f"placer, {c(m['exempted'], 'dispensé')} de stage et {c(m['roster_rows_rejected'], 'ligne rejetée', 'lignes rejetées')} "
            f"({n(m['roster_rows_read'])} = {n(m['learners'])} + {n(m['exempted'])} + {n(m['roster_rows_rejected'])}). "
            f"Le fichier des placements compte {c(m['rows_read'], 'ligne')} : {c(m['placements_accepted'], 'acceptée')} et "
            f"{c(m['submissions_rejected'], 'rejetée')}. {c(m['respondents'], 'apprenant')} "
            f"{who_have(m, 'un placement', ' encore')}.")
    return (html.figures([("apprenants à placer", m["learners"]), ("dispensés", m["exempted"]),
                          ("avec placement", m["respondents"]), ("sans placement", m["non_respondents"]),
                          ("lignes rejetées", m["submissions_rejected"])])
            + html.paragraph(text) + html.paragraph(result.placements_raw.describe()))


def learner_view(result: PlacementsResult, edition) -> LearnerView:
    ids = pd.concat([result.roster["learner_id"], result.exempted["learner_id"]])
    return LearnerView(edition, ids, "applications")


def placed_block(result: PlacementsResult, view: LearnerView) -> str:
    return html.table(view.frame(placed_table(result)), labels=LABELS, empty="Aucun placement accepté.")


def exempted_block(result: PlacementsResult, view: LearnerView) -> str:
    return html.table(view.frame(exempted_table(result)), labels=LABELS, empty="Aucun apprenant dispensé.")


def non_respondents_block(result: PlacementsResult, view: LearnerView) -> str:
    return html.table(view.frame(result.non_respondents[NON_RESPONDENT_COLUMNS]), labels=LABELS,
                      empty="Chaque apprenant à placer a un placement.")


def rejected_block(result: PlacementsResult, view: LearnerView) -> str:
    return html.table(view.frame(result.rejected[REJECTED_COLUMNS]), labels=LABELS, empty="Aucun rejet.")

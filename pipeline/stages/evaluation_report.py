"""Outputs and report fragments of stage 70 ``evaluation``.

The stage writes the blank evaluation workbooks to send to the référents even before any filled one
comes back (no deadlock: until then every grade is counted missing). The filled workbooks and the jurors'
list live in the edition's follow-up folder (``followup_files`` in params.yaml); the juries are formed as
soon as the list is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..contract import atomic
from ..io import charts, fr, html
from ..contract.config import Edition
from ..contract.paths import relative
from ..contract.stage import write_metrics
from ..io.workbook import Sheet, write_workbook
from . import evaluation, juries

LABELS = {"competence": "Compétence", "competence_label": "Intitulé", "missing": "Non évalué",
          "grades_missing": "Évaluations manquantes", "juror_name": "Juré", "juror_structure": "Structure du juré",
          "juror_email": "Courriel du juré", "projects": "Projets", "project_codes": "Codes des projets",
          "jurors": "Jurés", "level": "Niveau", "file": "Fichier", "source_row": "Ligne"}
NO_JURY = ("Cette édition ne forme pas de jury de restitution (evaluation.jurors_per_project : 0) : aucune liste de "
           "jurés volontaires n'est attendue.")


@dataclass
class EvaluationStage:
    evaluation: evaluation.EvaluationResult
    juries: juries.JuryResult | None  # None until the jurors' list is in the follow-up folder
    settings: evaluation.EvaluationSettings
    jurors_file: str

    @property
    def metrics(self) -> dict:
        jury = self.juries.metrics if self.juries else {"juries_complete": 0, "juries_incomplete": 0, "jurors": 0,
                                                        "jury_load_max": 0, "jury_load_min": 0}
        return {**self.evaluation.metrics, **jury, "jurors_received": self.juries is not None}

    @property
    def no_jury(self) -> bool:
        """The edition forms no jury at all (``evaluation.jurors_per_project: 0``)."""
        return self.settings.jurors_per_project == 0

    @property
    def warnings(self) -> list[str]:
        if self.no_jury:
            jury = []
        elif self.juries is None:
            jury = [f"liste des jurés volontaires non reçue ({self.jurors_file})"]
        else:
            jury = [f"jurys : {reason}" for reason in self.juries.reasons]
        return self.evaluation.warnings + jury


def run(edition: Edition, retained: pd.DataFrame, assignment: pd.DataFrame, roster: pd.DataFrame,
        out: Path) -> EvaluationStage:
    """Blank workbooks, the filled ones read back, the juries, and the stage's tables and metrics."""
    for name, sheets in evaluation.blank_workbooks(retained, assignment, roster, edition).items():
        write_workbook(out / "evaluations" / name, sheets)
    result = evaluation.ingest(edition, retained, assignment, roster)
    jurors_path = edition.followup_path(juries.VOLUNTEERS_KEY)
    wanted = evaluation.settings(edition).jurors_per_project > 0
    jury = juries.ingest(edition, retained, assignment) if wanted and jurors_path.exists() else None
    stage = EvaluationStage(result, jury, evaluation.settings(edition), relative(jurors_path, edition.params.root))
    with atomic.atomic_path(out / "resultats_competences.parquet") as tmp:
        result.results.to_parquet(tmp, index=False)
    write_workbook(out / "resultats_competences.xlsx", [
        Sheet("Par apprenant", evaluation.per_learner(result), labels=LABELS),
        Sheet("Par compétence", evaluation.by_competence(result, stage.settings), labels=LABELS),
        Sheet("Détail", result.results.drop(columns=["level_rank"]), labels=LABELS),
    ])
    write_workbook(out / "jurys.xlsx", jury_sheets(stage))
    write_metrics(out, stage.metrics, stage.warnings)
    return stage


def jury_sheets(stage: EvaluationStage) -> list[Sheet]:
    if stage.juries is None:
        state = (NO_JURY if stage.no_jury else
                 f"Liste des jurés volontaires non reçue : déposez-la sous {stage.jurors_file} puis relancez.")
        note = pd.DataFrame([{"item": "État", "value": state}])
        return [Sheet("Jurys", note, labels={"item": "Rubrique", "value": "Contenu"})]
    return [Sheet("Jurys", stage.juries.juries, labels=LABELS),
            Sheet("Projets", stage.juries.projects_table, labels=LABELS),
            Sheet("Charge des jurés", stage.juries.loads, labels=LABELS)]


# --- report fragments ---------------------------------------------------------------------------------
def summary(stage: EvaluationStage) -> str:
    m = stage.metrics
    text = (f"{fr.count(m['learners_evaluated'], 'apprenant évalué', 'apprenants évalués')} sur "
            f"{fr.integer(m['learners'])} ; {fr.count(m['grades_entered'], 'évaluation saisie', 'évaluations saisies')} "
            f"sur {fr.count(m['grades_expected'], 'attendue')}, {fr.count(m['grades_missing'], 'manquante')} ; "
            f"{fr.count(m['evaluations_missing'], 'classeur de référent non reçu', 'classeurs de référent non reçus')}. "
            "Niveaux : "
            + " / ".join(stage.settings.levels) + ".")
    if stage.juries is not None:
        text += (f" Jurys : {fr.count(m['juries_complete'], 'projet')} avec un jury complet "
                 f"({fr.count(stage.juries.required, 'juré')}), {fr.count(m['juries_incomplete'], 'incomplet')} ; "
                 f"{fr.count(m['jurors'], 'volontaire')}, chacun sur {fr.integer(m['jury_load_min'])} "
                 f"à {fr.count(m['jury_load_max'], 'projet')}.")
    elif stage.no_jury:
        text += " " + NO_JURY
    else:
        text += (f" Sans liste de jurés volontaires ({stage.jurors_file}), aucun jury n'est formé : l'étape a préparé "
                 "les classeurs d'évaluation et fait la synthèse des évaluations reçues.")
    if m["learners"] and not m["grades_entered"]:
        text += (" Aucune évaluation reçue : les résultats par compétence restent vides ; les classeurs à envoyer aux "
                 "référents sont dans le dossier evaluations/ de l'étape.")
    return html.figures([("apprenants évalués", f"{fr.integer(m['learners_evaluated'])} / {fr.integer(m['learners'])}"),
                         ("évaluations manquantes", m["grades_missing"]),
                         ("jurys complets", m["juries_complete"])]) + html.paragraph(text)


def followup_block(stage: EvaluationStage) -> str:
    lines = stage.warnings
    return html.bullets(lines, css_class="note") if lines else html.paragraph(
        "Toutes les évaluations sont revenues complètes et tous les jurys sont complets.")


def competence_block(stage: EvaluationStage) -> str:
    table = evaluation.by_competence(stage.evaluation, stage.settings)
    if not len(table):
        return html.paragraph("Aucune compétence à évaluer.")
    acquired = stage.settings.levels[-1]
    chart = charts.bar_chart(list(table["competence"]), [int(v) for v in table[acquired]],
                             title=f"Apprenants évalués « {acquired} », par compétence")
    return chart + html.table(table, labels=LABELS)


def juries_block(stage: EvaluationStage) -> str:
    if stage.no_jury:
        return html.paragraph(NO_JURY)
    if stage.juries is None:
        return html.paragraph(f"La liste des jurés volontaires n'est pas encore là : déposez-la sous "
                              f"{stage.jurors_file} (colonnes Nom ; Structure ; Courriel) puis relancez.")
    reasons = html.bullets(stage.juries.reasons, css_class="note")
    return (reasons + html.paragraph("Aucun juré ne siège pour un projet de sa propre structure ni pour un projet "
                                     "dont il est le référent ; les charges sont aussi équilibrées que possible (écart minimal entre le plus et le moins chargé).")
            + html.table(stage.juries.juries, labels=LABELS) + "<h3>Charge des jurés</h3>"
            + html.table(stage.juries.loads, labels=LABELS))

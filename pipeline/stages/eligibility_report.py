"""Outputs of stage 20: the eligibility workbook, the commission's decision workbook, the dossier."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from ..contract import atomic
from ..io import charts, extras, fr, html
from ..io import tracks as track_words
from ..contract.config import Edition
from ..contract.stage import write_metrics
from ..io.workbook import Sheet, write_workbook
from .eligibility import EligibilityResult, as_list
from .terms import decided_terms

STATUS_ORDER = {"eligible": 0, "review": 1, "not_eligible": 2}
DECISION_FACTS = ["project_code", "structure_name", "city", "departement", "title", "eligibility_status",
                  "status_reasons", "hours", "team_min", "team_max", "tracks"]
DECISION_INPUTS = ["decision", "decided_team_min", "decided_team_max", "tracks_open", "trainer", "motivation"]


def ordered(result: EligibilityResult) -> pd.DataFrame:
    """Projects in dossier order: eligible, to review, not eligible; then by title."""
    table = result.projects.copy()
    table["_order"] = table["status_code"].map(STATUS_ORDER)
    table["_title"] = table["title"].str.lower()
    return table.sort_values(["_order", "_title", "project_code"]).drop(columns=["_order", "_title"])


def write_outputs(result: EligibilityResult, edition: Edition, out: Path) -> None:
    with atomic.atomic_path(out / "eligibilite.parquet") as tmp:
        result.projects.to_parquet(tmp, index=False)
    with atomic.atomic_path(out / "regles.parquet") as tmp:
        result.results.to_parquet(tmp, index=False)
    write_workbook(out / "eligibilite.xlsx", [eligibility_sheet(result, edition), rules_sheet(result)])
    write_workbook(out / "decisions_commission.xlsx", decision_sheets(result, edition))
    review = result.projects[result.projects["status_code"] == "review"]
    write_metrics(out, result.metrics, [f"{r.project_code} à examiner : {r.status_reasons}" for r in review.itertuples()])


def eligibility_sheet(result: EligibilityResult, edition: Edition) -> Sheet:
    """One row per project, one result column and one reason column per rule, colour-coded."""
    table = ordered(result)
    frame = table[["project_code", "structure_name", "title", "departement", "eligibility_status"]].copy()
    labels, fills = {}, {}
    colours = edition.vocabulary.get("result_colours", {})
    wide = result.results.pivot(index="project_code", columns="rule_id", values=["result", "reason"])
    for rule in result.rules:
        frame[f"res_{rule.id}"] = frame["project_code"].map(wide[("result", rule.id)])
        frame[f"why_{rule.id}"] = frame["project_code"].map(wide[("reason", rule.id)])
        labels[f"res_{rule.id}"] = rule.label
        labels[f"why_{rule.id}"] = f"Motif — {rule.label}"
        fills[f"res_{rule.id}"] = colours
    fills["eligibility_status"] = colours
    return Sheet("Éligibilité", frame.reset_index(drop=True), labels=labels, fills=fills)


def rules_sheet(result: EligibilityResult) -> Sheet:
    """The rules as configured, with the sentence of the call each comes from."""
    kinds = {"hard": "impérative", "indicator": "indicateur", "judgement": "appréciation de la commission"}
    frame = pd.DataFrame([{"rule_label": r.label, "rule_kind": kinds[r.kind], "source": r.source} for r in result.rules])
    return Sheet("Règles de l'appel", frame, labels={"source": "Texte de l'appel"})


def decision_sheets(result: EligibilityResult, edition: Edition) -> list[Sheet]:
    """The workbook the commission fills: facts locked, decision columns with dropdowns."""
    vocab = edition.vocabulary
    trainers = list(edition.section("commission").get("trainers") or [])
    table = ordered(result)
    inputs = DECISION_INPUTS + decided_terms(edition)
    frame = table[DECISION_FACTS].reset_index(drop=True).copy()
    for name in inputs:
        frame[name] = None
    decisions = list(vocab["decisions"].values())
    tracks = track_words.choices(edition.tracks)
    sheet = Sheet("Décisions", frame, labels={"team_min": "Effectif minimum proposé", "team_max": "Effectif maximum proposé",
                                              "tracks": "Filières proposées"},
                  dropdowns={"decision": decisions, "tracks_open": tracks, "trainer": trainers},
                  editable=inputs, whole_numbers={"decided_team_min": (1, 50), "decided_team_max": (1, 50)},
                  fills={"eligibility_status": vocab.get("result_colours", {})})
    guide = pd.DataFrame({"column": [
        "Décision de la commission", "Effectif minimum / maximum retenu", "Filières ouvertes", "Formateur référent",
        "Motivation de la décision", "Enregistrement"], "how": [
        f"Choisir dans la liste : {', '.join(decisions)}. Aucune ligne ne doit rester « {vocab['decisions']['pending']} » "
        "ni vide pour que l'étape suivante s'exécute.",
        "Nombres entiers, minimum inférieur ou égal au maximum ; obligatoires pour un projet retenu.",
        f"Choisir dans la liste : {', '.join(tracks)} ; obligatoire pour un projet retenu.",
        "Choisir dans la liste des formateurs de l'édition ; obligatoire pour un projet retenu.",
        "Obligatoire pour un projet non éligible que la commission retient, et pour un projet non retenu "
        "(elle est reprise dans le courriel au partenaire).",
        f"Enregistrer le classeur au format .xlsx sous le nom prévu dans inputs/{edition.name}/ puis relancer stagesco.",
    ]})
    if decided_terms(edition):
        guide.loc[len(guide)] = ["Volume horaire, début et fin retenus",
                                 "Facultatifs : laisser vide pour garder ceux de l'offre ; un nombre d'heures, des dates "
                                 "jj/mm/aaaa. Les conventions reprennent ces valeurs."]
    return [sheet, Sheet("Consignes", guide, labels={"column": "Colonne", "how": "Comment la remplir"})]


# --- the dossier (report fragments) ------------------------------------------------------------------
def summary(result: EligibilityResult) -> str:
    m = result.metrics
    c = fr.count
    text = (f"{c(m['projects'], 'projet accepté', 'projets acceptés')} au dépôt "
            f"{fr.agree(m['projects'], 'a été examiné', 'ont été examinés')} au regard des règles de l'appel : "
            f"{c(m['eligible'], 'éligible')}, {c(m['not_eligible'], 'non éligible', 'non éligibles')} (au moins une règle "
            f"impérative non respectée) et {fr.integer(m['to_review'])} à examiner (une donnée manque pour juger). Les indicateurs et les "
            "questions posées à la commission ne changent pas ce statut.")
    return html.figures([("projets examinés", m["projects"]), ("éligibles", m["eligible"]),
                         ("non éligibles", m["not_eligible"]), ("à examiner", m["to_review"])]) + html.paragraph(text)


def breakdowns(result: EligibilityResult, edition: Edition) -> str:
    table = result.projects
    statuses = edition.vocabulary["eligibility_status"]

    def crosstab(keys: pd.Series, label: str) -> str:
        frame = pd.crosstab(keys, table["status_code"]).reindex(columns=list(statuses), fill_value=0)
        frame.columns = [statuses[c] for c in frame.columns]
        frame.insert(0, label, frame.index)
        frame["total"] = frame[[statuses[c] for c in statuses]].sum(axis=1)
        return html.table(frame.reset_index(drop=True), labels={"total": "Total"})

    types = edition.labels("structure_types")
    by_type = table["structure_type"].map(lambda v: types.get(v, v) if isinstance(v, str) else "non renseigné")
    tracks = table["tracks"].map(lambda v: track_words.phrase(as_list(v)) or "non renseignée")
    competences = edition.labels("competences")
    counts = {code: int(table["competences"].map(lambda v, c=code: c in as_list(v)).sum()) for code in competences}
    chart = charts.bar_chart([f"{c} {competences[c][:45]}{'…' if len(competences[c]) > 45 else ''}" for c in counts],
                             list(counts.values()), title="Projets visant chaque compétence")
    return ("<h3>Par département</h3>" + crosstab(table["departement"].fillna("inconnu"), "Département")
            + "<h3>Par type de structure</h3>" + crosstab(by_type, "Type de structure")
            + "<h3>Par filière visée</h3>" + crosstab(tracks, "Filières visées")
            + "<h3>Compétences visées</h3>" + chart)


def index(result: EligibilityResult) -> str:
    """The list of projects, each linking to its card."""
    rows = []
    for row in ordered(result).itertuples():
        rows.append(f'<tr><td><a href="#{escape(row.project_code)}">{escape(row.project_code)}</a></td>'
                    f"<td>{html.esc(row.title)}</td><td>{html.esc(row.structure_name)}</td>"
                    f'<td class="status {row.status_code}">{html.esc(row.eligibility_status)}</td></tr>')
    return ('<div class="table-wrap" id="liste-des-projets"><table class="data"><thead><tr><th>Code projet</th>'
            f'<th>Titre du projet</th><th>Structure</th><th>Éligibilité</th></tr></thead><tbody>{"".join(rows)}</tbody>'
            '</table></div>')


def cards(result: EligibilityResult, edition: Edition) -> str:
    """One readable card per project, anchored by its code."""
    types, competences, tracks = edition.labels("structure_types"), edition.labels("competences"), edition.labels("tracks")
    by_project = {code: frame for code, frame in result.results.groupby("project_code", sort=False)}
    out = []
    for row in ordered(result).itertuples():
        shown = lambda v: html.display(v, fr.MISSING)  # noqa: E731 - a missing value reads « non renseigné »
        referent = shown(row.referent_name) + (f", {row.referent_function}" if not fr.is_missing(row.referent_function) else "")
        facts = [
            ("Structure", f"{shown(row.structure_name)} — {types.get(row.structure_type, row.structure_type) if not fr.is_missing(row.structure_type) else 'type non renseigné'}"),
            ("Lieu", f"{html.display(row.city, 'commune non renseignée')} ({html.display(row.departement, '?')})"),
            ("Référent", referent),
            ("Problématique", row.issue), ("Public accompagné", row.public), ("Médiation", row.mediation),
            ("Description", row.description), ("Défis proposés", row.challenges), ("Moyens", row.resources),
            ("Compétences visées", "; ".join(f"{c} {competences.get(c, '(code inconnu)')}" for c in as_list(row.competences)) or "aucune"),
            ("Filières visées", ", ".join(tracks.get(t, t) for t in as_list(row.tracks)) or "non renseignées"),
            ("Effectif proposé", fr.span(row.team_min, row.team_max, "apprenant")),
            ("Volume horaire", f"{html.display(row.hours, '?')} h"), ("Période", row.period),
        ] + [(extra.label, getattr(row, extra.name, None)) for extra in extras.shown(edition, "dossier")]
        dl = html.facts(facts)
        rules = by_project[row.project_code]
        lines = "".join(f'<tr><td>{html.esc(r.rule_label)}</td><td class="status {r.outcome}">{html.esc(r.result)}</td>'
                        f"<td>{html.esc(r.reason)}</td></tr>" for r in rules.itertuples())
        out.append(
            f'<section class="card" id="{escape(row.project_code)}"><h3>{escape(row.project_code)} — {html.esc(row.title)}</h3>'
            f'<p class="badge status {row.status_code}">{html.esc(row.eligibility_status)}</p>'
            f'{dl}'
            f'<table class="data rules"><thead><tr><th>Règle</th><th>Résultat</th><th>Motif</th></tr></thead>'
            f'<tbody>{lines}</tbody></table><p class="back"><a href="#liste-des-projets">Retour à la liste</a></p></section>')
    return "".join(out)

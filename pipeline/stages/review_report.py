"""Outputs and report fragments of stage 80 ``review`` (le bilan)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io import charts, fr, html
from ..contract.config import Edition
from ..contract.stage import read_metrics, read_output, write_metrics
from ..io.workbook import Sheet, write_workbook
from ..repro.privacy import suppress
from . import actions, review, review_pole


def run(edition: Edition, out: Path) -> review.Review:
    """Gather the earlier stages' figures, compare with the earlier editions, write bilan.xlsx and metrics."""
    reads = edition.params.stage("review").reads  # the earlier stages' metrics.json the stage table lists
    metrics = {rel.split("/")[0]: read_metrics(edition, rel.split("/")[0]) for rel in reads if rel.endswith("/metrics.json")}
    tables = {rel: read_output(edition, rel) for rel in ("projects/projets.parquet", "commission/projets_retenus.parquet",
                                                         "applications/promotion.parquet", "assignment/affectations.parquet")}
    projects, retained, roster, assignment = tables.values()
    result = review.compute(edition, metrics, projects, retained, roster, assignment,
                            read_output(edition, "evaluation/resultats_competences.parquet"))
    notes = [] if result.earlier else [f"aucune édition antérieure de la campagne « {edition.campaign} » dans "
                                       "history/ : le bilan ne compare avec rien"]
    register = None
    if review_pole.has_data(edition, roster, assignment):
        register = actions.read(edition)
        result.pole = review_pole.compute(edition, register, projects, retained, roster, assignment,
                                          metrics.get("conventions") or {}, result.earlier)
        notes += pole_notes(result, register)
    result.register = register
    write_workbook(out / "bilan.xlsx", workbook(result, register))
    run_metrics = result.metrics
    if register is not None:
        run_metrics["actions_register"] = register.metrics
    write_metrics(out, run_metrics, notes)
    return result


def pole_notes(result: review.Review, register) -> list[str]:
    """The points of attention of the pôle's bilan: rows of the register rejected, figures it lacks."""
    notes = list(register.notes) if register is not None else []
    if register is None:
        notes.append("aucun registre des actions du pôle (fichier actions) : le bilan du pôle ne compte pas ses actions")
    elif len(register.rejected):
        rows = register.metrics["rows_rejected"]
        notes.append(f"registre des actions : {fr.count(rows, 'ligne rejetée', 'lignes rejetées')} sur {fr.integer(register.rows_read)} "
                     "(motifs dans le bilan, feuille « Actions rejetées »)")
    if result.pole["indicators"]["partners_new"] is None:
        notes.append("aucune édition antérieure du pôle ne garde ses partenaires : nouveaux et anciens partenaires ne "
                     "sont pas distingués")
    return notes


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


SHEET_NAME = 31  # Excel's limit on a sheet's name


def sheet_name(spec: dict, prefix: str = "") -> str:
    """A breakdown's sheet in bilan.xlsx: its ``sheet`` name (params.yaml), else its label, cut at a word with
    « … » when Excel's 31 characters cannot hold it."""
    name = prefix + str(spec.get("sheet") or spec["label"])
    if len(name) <= SHEET_NAME:
        return name
    head = name[:SHEET_NAME - 1]
    if name[SHEET_NAME - 1].isalnum():  # a word cut in the middle is dropped
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:—(") + "…"


def workbook(result: review.Review, register=None) -> list[Sheet]:
    indicators = review.comparison(result)
    indicators["Source technique"] = review.comparison(result, rendered=False)["Source technique"]
    sheets = [Sheet("Indicateurs", indicators), Sheet("Éditions", editions_table(result, technical=True))]
    for key, spec in review.breakdown_specs(result).items():
        sheets.append(Sheet(sheet_name(spec), review.breakdown(result, key)))
    if result.pole is not None:
        sheets += pole_sheets(result, register)
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
    pole = ""
    if result.pole is not None:  # the pôle's figures, only for an edition that has them
        specs = (result.spec.get(review.POLE) or {}).get("indicators") or {}
        pole = "<h3>Bilan du pôle de stages</h3>" + html.table(pd.DataFrame(
            [{"Indicateur": s["label"], "Source technique": s.get("source", "")} for s in specs.values()]))
    return html.table(frame) + pole + "<h3>Éditions comparées</h3>" + html.table(editions)


# --- the pôle's bilan (only for an edition that has its data) ---------------------------------------------
REGISTER_LABELS = {"action_kind": "Nature de l'action", "agreement": "Accord ou convention obtenu"}


def register_table(result: review.Review) -> pd.DataFrame:
    """The accepted actions, kinds and agreements in the edition's words."""
    table = result.register.table.copy()
    table["action_kind"] = table["action_kind"].map(actions.vocabulary(result.edition, actions.KINDS))
    table["agreement"] = table["agreement"].map(result.edition.labels(actions.AGREEMENTS))
    return table


def pole_sheets(result: review.Review, register) -> list[Sheet]:
    spec = result.spec.get(review.POLE) or {}
    indicators = review.comparison(result, part=review.POLE)
    indicators["Source technique"] = review.comparison(result, rendered=False, part=review.POLE)["Source technique"]
    sheets = [Sheet("Pôle — indicateurs", indicators)]
    for key, item in (spec.get("breakdowns") or {}).items():
        if key in result.pole["breakdowns"]:
            sheets.append(Sheet(sheet_name(item, "Pôle — "), review.breakdown(result, key, part=review.POLE)))
    if register is not None:
        sheets.append(Sheet("Registre des actions", register_table(result), labels=REGISTER_LABELS))
        sheets.append(Sheet("Actions rejetées", register.rejected, labels=actions.REJECTED_LABELS))
    return sheets


def pole_sentences(result: review.Review) -> list[str]:
    """The pôle's bilan in a few sentences (French), with the previous edition of the pôle when there is one."""
    now, b = result.pole["indicators"], result.pole["breakdowns"]
    earlier = [r for r in result.earlier if r.get(review.POLE)]
    before = earlier[-1] if earlier else None
    prev = (before or {}).get(review.POLE, {}).get("indicators", {})

    def versus(key: str) -> str:
        if before is None or prev.get(key) is None:
            return ""
        return f" (contre {fr.integer(prev[key])} en {before['edition']})"

    n, k = fr.integer, result.threshold
    lines = []
    if now["actions"] is not None:
        kinds = ", ".join(f"{n(v)} « {label} »" for label, v in b["actions_by_kind"].items() if v)
        lines.append(f"{fr.count(now['actions'], 'action menée', 'actions menées')}{versus('actions')}"
                     + (f", dont {kinds}" if kinds else "") + f" ; {fr.count(now['participants'], 'participant')}.")
        lines.append(f"{fr.count(now['agreements'], 'accord ou convention de partenariat obtenu', 'accords ou conventions de partenariat obtenus')}"
                     f"{versus('agreements')}.")
    partners = fr.count(now['partners'], 'partenaire')
    if now["partners_new"] is not None:
        partners += (f", dont {fr.count(now['partners_new'], 'nouveau', 'nouveaux')} et "
                     f"{fr.count(now['partners_returning'], 'déjà partenaire', 'déjà partenaires')} d'une édition antérieure")
    lines.append(partners + ".")
    lines.append(f"{fr.count(now['offers'], 'offre retenue', 'offres retenues')} pour "
                 f"{fr.count(now['places'], 'place')}{versus('places')} ; "
                 f"{fr.measure(suppress(now['placed'], k), 'learners')} élèves placés sur "
                 f"{fr.measure(suppress(now['pupils'], k), 'learners')} ; "
                 f"{fr.count(now['conventions_signed'], 'convention de stage entièrement signée', 'conventions de stage entièrement signées')}.")
    return lines


def _chart(result: review.Review, key: str, title: str) -> str:
    """A grouped bar chart of one of the pôle's breakdowns, one bar per edition; a breakdown of pupils leaves out
    the categories a small count would reveal (and says so)."""
    table = review.breakdown(result, key, part=review.POLE)
    if table.empty:
        return ""
    editions = [c for c in table.columns if c != "Catégorie"]
    shown = table[table[editions].apply(lambda row: all(not isinstance(v, str) or v == "–" for v in row), axis=1)]
    hidden = len(table) - len(shown)
    chart = "" if shown.empty else charts.grouped_bar_chart(
        list(shown["Catégorie"]), {e: [0 if v == "–" else v for v in shown[e]] for e in editions}, title=title)
    if hidden:
        chart += html.paragraph(f"{fr.count(hidden, 'catégorie')} à l'effectif inférieur à {result.threshold} "
                                f"non {fr.agree(hidden, 'représentée')} dans le graphique.")
    return chart


def pole_block(result: review.Review) -> str:
    """The pôle's bilan (seed 003): its figures beside the earlier editions of the same pôle, as tables and
    charts; nothing for an edition without a pôle's data (the page is then as before)."""
    if result.pole is None:
        return ""
    spec = result.spec.get(review.POLE) or {}
    earlier = [r["edition"] for r in result.earlier if r.get(review.POLE)]
    compared = (f"Comparé aux éditions antérieures du même pôle : {', '.join(earlier)}." if earlier else
                "Aucune édition antérieure du même pôle n'a de bilan du pôle : pas de comparaison.")
    parts = ["<h2>Bilan du pôle de stages</h2>", html.bullets(pole_sentences(result)), html.paragraph(compared),
             "<h3>Indicateurs du pôle, édition par édition</h3>", html.table(review.comparison(result, part=review.POLE))]
    for key, item in (spec.get("breakdowns") or {}).items():
        if key not in result.pole["breakdowns"]:
            continue
        parts.append(f"<h3>{html.esc(item['label'])}</h3>" + html.table(review.breakdown(result, key, part=review.POLE)))
        if item.get("chart"):
            parts.append(_chart(result, key, item["label"]))
    register = result.register
    if register is not None:
        rejected = register.metrics["rows_rejected"]
        parts.append(html.paragraph(
            f"Registre des actions ({register.file}) : {fr.count(register.rows_read, 'ligne lue', 'lignes lues')}, "
            f"{fr.count(len(register.table), 'action retenue', 'actions retenues')}, "
            f"{fr.count(rejected, 'ligne rejetée', 'lignes rejetées')}"
            + (" (motifs dans bilan.xlsx, feuille « Actions rejetées »)." if rejected else ".")))
    return "".join(parts)

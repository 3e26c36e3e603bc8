"""Outputs and report fragments of stage 50 ``assignment``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from schemas.fields import labels

from ..contract import atomic
from ..io import charts, fr, html, mail, outbox
from ..repro.privacy import LearnerView
from ..contract.config import Edition
from ..contract.errors import StagescoError
from ..contract.stage import write_metrics
from ..io.workbook import Sheet, write_workbook
from . import pole
from .assignment import KIND_WORDS, OTHER_BASIN, AssignmentResult, rank_text

# the fields' own labels (schemas/fields.yaml), then this report's columns and its wording of a few fields
LABELS = {**labels(["pseudonym", "learner_id", "last_name", "first_name", "email", "track", "project_code", "title",
                    "basin", "school"]),
          "rank": "Rang obtenu", "rank_label": "Choix obtenu", "explanation": "Pourquoi pas un meilleur choix",
          "size": "Effectif", "team_min": "Minimum", "team_max": "Maximum", "status": "État",
          "applicants": "Candidats", "reason": "Motif", "kind": "Type", "departement": "Département du projet",
          "learners": "Apprenants", "first": "1er choix", "top3": "Dans les 3 premiers", "unranked": "Non classé",
          "mean_rank": "Rang moyen"}
TABLE_COLUMNS = ["learner_id", "last_name", "first_name", "track", "project_code", "title", "rank_label", "explanation"]


def fill_table(result: AssignmentResult, retained: pd.DataFrame, applicants: pd.Series) -> pd.DataFrame:
    sizes = result.table["project_code"].value_counts()
    frame = retained[["project_code", "title", "decided_team_min", "decided_team_max"]].copy()
    sizes_decided = {p.id: (p.min_size, p.max_size) for p in result.instance.projects}  # after the adjustments
    frame["decided_team_min"] = [sizes_decided[c][0] for c in frame["project_code"]]
    frame["decided_team_max"] = [sizes_decided[c][1] for c in frame["project_code"]]
    frame["size"] = frame["project_code"].map(sizes).fillna(0).astype(int)
    frame["applicants"] = frame["project_code"].map(applicants).fillna(0).astype(int)
    frame["status"] = ["ouvert" if code in result.solution.opened else "fermé" for code in frame["project_code"]]
    return frame.rename(columns={"decided_team_min": "team_min", "decided_team_max": "team_max"}).sort_values("project_code")


def write_outputs(result: AssignmentResult, edition: Edition, retained: pd.DataFrame, applicants: pd.Series,
                  out: Path) -> list[dict]:
    with atomic.atomic_path(out / "affectations.parquet") as tmp:
        result.table.to_parquet(tmp, index=False)
    sheets = [Sheet("Affectations", result.table[TABLE_COLUMNS], labels=LABELS),
              Sheet("Projets", fill_table(result, retained, applicants), labels=LABELS)]
    for code in sorted(result.solution.opened):
        team = result.table[result.table["project_code"] == code]
        sheets.append(Sheet(f"Équipe {code}", team[["learner_id", "last_name", "first_name", "track", "rank_label"]]
                            .sort_values(["last_name", "first_name"]), labels=LABELS))
    if result.unplaced is not None:  # a pôle de stages: the pupils left without a placement, then each school's own
        sheets.insert(1, Sheet("Élèves sans stage", pole.named(result.unplaced, result.names), labels=pole.UNPLACED_LABELS))
        write_school_workbooks(result, edition, retained, out / "outbox" / SCHOOL_FOLDER)
    write_workbook(out / "affectations.xlsx", sheets)
    sent = write_learner_mails(result, edition, retained, out / "outbox")
    partners = write_closed_mails(result, edition, retained, applicants, out / "outbox")
    outbox.write_index(out / "outbox", title="Courriels de l'affectation", edition_title=edition.title,
                       intro="Un courriel par apprenant (son seul résultat) et un courriel au partenaire de chaque projet "
                             "fermé, à relire avant de les envoyer avec « stagesco send " + edition.name + " assignment/outbox ».")
    closed = [f"projet {code} fermé (pas assez de candidats pour son minimum)" for code in result.solution.closed]
    unsent = [f"{s['learner_id']} : courriel {s['status']}" for s in sent if not s["file"]]
    unsent += [f"{p['project_code']} : courriel au partenaire {p['status']}" for p in partners if not p["file"]]
    if result.unplaced is not None and len(result.unplaced):  # a pôle: fewer places than pupils
        unsent.append(f"{fr.count(len(result.unplaced), 'élève')} sans stage faute de places : chacun est listé, avec le "
                      "pourquoi et les offres de son bassin encore ouvertes, dans le classeur de son établissement")
    write_metrics(out, result.metrics, closed + unsent + ([] if result.solution.optimal else [result.solution.status]))
    return sent


SCHOOL_FOLDER = "etablissements"  # in the outbox: one workbook per school of a pôle, to send to that school
SCHOOL_COLUMNS = ["learner_id", "last_name", "first_name", "track", "project_code", "title", "structure_name", "city",
                  "rank_label"]


def write_school_workbooks(result: AssignmentResult, edition: Edition, retained: pd.DataFrame, folder: Path) -> None:
    """``<school code>.xlsx`` for each school of the edition: its own pupils only — placed (with their host) and
    unplaced (with why and the open offers of their basin)."""
    placed = result.table.merge(retained[["project_code", "structure_name", "city"]], on="project_code", how="left")
    labels = {**LABELS, "structure_name": "Structure d'accueil", "city": "Commune"}
    for code in sorted(pole.directory(edition)):
        mine = placed[placed["school"] == code].sort_values(["last_name", "first_name"])
        missing = pole.named(result.unplaced[result.unplaced["school"] == code], result.names)
        write_workbook(folder / f"{code}.xlsx", [Sheet("Élèves placés", mine[SCHOOL_COLUMNS], labels=labels),
                                                 Sheet("Élèves sans stage", missing, labels=pole.UNPLACED_LABELS)])


def unplaced_block(result: AssignmentResult, view: LearnerView) -> str:
    """A pôle's pupils without a placement, with why and the open offers of their basin; counts per basin and school."""
    m = result.metrics
    names = result.names
    counts = pd.DataFrame([{"group": names.get(key, {}).get(value) or f"{kind} {value}", "placed": m[f"placed_by_{key}"][value],
                            "unplaced": m[f"unplaced_by_{key}"][value]}
                           for key, kind in (("basin", "Bassin"), ("school", "Établissement"))
                           for value in m.get(f"placed_by_{key}", {})])
    return (html.table(counts, labels={"group": "Bassin ou établissement", "placed": "Élèves placés",
                                       "unplaced": "Élèves sans stage"})
            + html.table(view.frame(pole.named(result.unplaced, names)), labels=pole.UNPLACED_LABELS,
                         empty="Tous les élèves ont un stage."))


def write_learner_mails(result: AssignmentResult, edition: Edition, retained: pd.DataFrame, outbox: Path) -> list[dict]:
    """One draft per learner with only their own result."""
    school = edition.section("school")
    template = edition.section("assignment")["notification"]
    sender = mail.address(school["name"], school["email"])
    domain = school["email"].rsplit("@", 1)[-1]
    trainers = dict(zip(retained["project_code"], retained["trainer"]))
    summary = []
    for row in result.table.itertuples():
        explanation = ("Les choix que vous aviez classés avant celui-ci n'ont pas pu vous être attribués :\n"
                       + "\n".join(f"- {line}" for line in row.explanation.split("\n"))) if row.rank > 1 else ""
        values = {"first_name": row.first_name, "last_name": row.last_name, "title": row.title, "code": row.project_code,
                  "rank_label": row.rank_label, "explanation": explanation, "trainer": trainers.get(row.project_code) or "-",
                  "start": fr.day(edition.when("start")), "end": fr.day(edition.when("end")),
                  "school": school["name"]}
        try:
            to = mail.address(f"{row.first_name} {row.last_name}", row.email)
        except StagescoError as exc:
            summary.append({"learner_id": row.learner_id, "file": "", "status": f"non rédigé : {exc.message}"})
            continue
        draft = mail.Draft(f"{row.learner_id}.eml", to, template["subject"].format(**values),
                           template["body"].format(**values),
                           mail.message_id(edition.name, "affectation", row.learner_id, domain=domain))
        atomic.write_bytes(outbox / draft.file_name, mail.render(draft, sender))
        summary.append({"learner_id": row.learner_id, "file": draft.file_name, "status": "brouillon prêt"})
    return summary


def closed_reason(code: str, retained: pd.DataFrame, applicants: pd.Series) -> str:
    """Why a retained project did not open, in one French sentence (its partner's e-mail and the report)."""
    mins = dict(zip(retained["project_code"], retained["decided_team_min"]))
    count = int(applicants.get(code, 0))
    return (f"{fr.count(count, 'apprenant')} l'{'ont classé parmi leurs' if count > 1 else 'a classé parmi ses'} choix, "
            f"pour un effectif minimum "
            f"de {fr.integer(mins[code])} fixé par la commission ; l'ouvrir aurait obligé à y placer des apprenants qui "
            "ne l'avaient pas choisi")


def write_closed_mails(result: AssignmentResult, edition: Edition, retained: pd.DataFrame, applicants: pd.Series,
                       outbox: Path) -> list[dict]:
    """One draft to the partner of each project closed at assignment, saying so and why
    (``assignment.closed_notification`` of edition.yaml)."""
    template = (edition.section("assignment") or {}).get("closed_notification")
    if not result.solution.closed:
        return []
    if not template:
        return [{"project_code": code, "file": "", "status": "non rédigé : modèle assignment.closed_notification "
                 "absent de edition.yaml"} for code in sorted(result.solution.closed)]
    school = edition.section("school")
    sender = mail.address(school["name"], school["email"])
    domain = school["email"].rsplit("@", 1)[-1]
    rows = retained.set_index("project_code")
    summary = []
    for code in sorted(result.solution.closed):
        row = rows.loc[code]
        values = {"referent": html.display(row.get("referent_name"), "Madame, Monsieur"), "structure": row["structure_name"],
                  "title": row["title"], "code": code, "reason": closed_reason(code, retained, applicants),
                  "applicants": fr.integer(int(applicants.get(code, 0))), "team_min": fr.integer(row["decided_team_min"]),
                  "start": fr.day(edition.when("start")), "school": school["name"]}
        try:
            to = mail.referent_address(row.get("referent_name"), row["structure_name"], row.get("referent_email"))
        except StagescoError as exc:
            summary.append({"project_code": code, "file": "", "status": f"non rédigé : {exc.message}"})
            continue
        draft = mail.Draft(f"{code}_ferme.eml", to, template["subject"].format(**values), template["body"].format(**values),
                           mail.message_id(edition.name, "affectation-fermeture", code, str(to), domain=domain))
        atomic.write_bytes(outbox / draft.file_name, mail.render(draft, sender))
        summary.append({"project_code": code, "file": draft.file_name, "status": "brouillon prêt"})
    return summary


# --- report fragments ---------------------------------------------------------------------------------
def summary(result: AssignmentResult) -> str:
    m, s = result.metrics, result.solution
    profile = ", ".join(f"{fr.integer(n)} au {rank_text(r + 1, result.instance.ranks)}" for r, n in enumerate(s.rank_profile[:-1]) if n)
    text = (f"{fr.count(m['assigned'], 'apprenant affecté', 'apprenants affectés')} sur {fr.integer(m['learners'])} ; "
            f"{fr.count(m['projects_opened'], 'projet ouvert', 'projets ouverts')}, "
            f"{fr.count(m['projects_closed'], 'fermé', 'fermés')}. Répartition : {profile}"
            + (f", {fr.integer(s.rank_profile[-1])} sur un projet qu'ils n'avaient pas classé" if s.rank_profile[-1] else "")
            + f". Objectif : {objective_label(result.instance.objective)}. Solveur : {s.status}. Graine du tirage au sort "
            f"départageant les ex aequo : {result.instance.seed}. Aucun échange de projets entre deux apprenants ne "
            "permettrait à l'un et l'autre d'obtenir un meilleur choix." if not result.swaps else
            f". {fr.count(len(result.swaps), 'échange améliorerait', 'échanges amélioreraient')} deux apprenants.")
    return html.figures([("apprenants affectés", f"{fr.integer(m['assigned'])} / {fr.integer(m['learners'])}"),
                         ("au 1er choix", fr.percent(m["first_choice_share"])),
                         ("projets ouverts", m["projects_opened"]), ("projets fermés", m["projects_closed"])]) \
        + html.paragraph(text)


def objective_label(objective: str) -> str:
    return {"egalitarian": "égalitaire (le moins d'apprenants possible au pire rang, puis au rang suivant…)",
            "rank_maximal": "maximum de premiers choix, puis de deuxièmes…",
            "sum_of_ranks": "somme des rangs minimale"}[objective]


def profile_chart(result: AssignmentResult) -> str:
    labels = [rank_text(r, result.instance.ranks) for r in range(1, result.instance.ranks + 2)]
    return charts.bar_chart(labels, list(result.solution.rank_profile), title="Choix obtenu par les apprenants")


def fill_block(result: AssignmentResult, retained: pd.DataFrame, applicants: pd.Series) -> str:
    return html.table(fill_table(result, retained, applicants).reset_index(drop=True), labels=LABELS)


def closed_block(result: AssignmentResult, retained: pd.DataFrame, applicants: pd.Series) -> str:
    if not result.solution.closed:
        return html.paragraph("Tous les projets retenus sont ouverts.")
    return html.bullets([f"{code} : {closed_reason(code, retained, applicants)} (son partenaire en est informé par un "
                         "courriel du dossier outbox/)." for code in sorted(result.solution.closed)])


def fairness_block(result: AssignmentResult, retained: pd.DataFrame) -> str:
    table = result.table.merge(retained[["project_code", "departement"]], on="project_code", how="left")
    ranks = result.instance.ranks

    def summarise(key: str) -> pd.DataFrame:
        rows = []
        for value, group in table.groupby(key, sort=True):
            rows.append({key: value, "learners": len(group), "first": int((group["rank"] == 1).sum()),
                         "top3": int((group["rank"] <= 3).sum()), "unranked": int((group["rank"] > ranks).sum()),
                         "mean_rank": round(float(group["rank"].clip(upper=ranks + 1).mean()), 2)})
        return pd.DataFrame(rows)

    pole_parts = "".join(f"<h3>{title}</h3>" + html.table(pole.named(summarise(key), result.names), labels=LABELS)
                         for key, title in (("basin", "Par bassin"), ("school", "Par établissement")) if key in table)
    return ("<h3>Par filière</h3>" + html.table(summarise("track"), labels=LABELS)
            + "<h3>Par département du projet</h3>" + html.table(summarise("departement"), labels=LABELS) + pole_parts)


def learner_view(result: AssignmentResult, edition: Edition) -> LearnerView:
    return LearnerView(edition, [learner.id for learner in result.instance.learners] + list(result.withdrawn), "assignment")


def adjustments_block(result: AssignmentResult, view: LearnerView) -> str:
    pairs = [{"learner_id": p.learner, "project_code": p.project, "kind": "fixée", "reason": p.reason} for p in result.instance.fixed]
    basin = [p for p in result.instance.forbidden if p.reason.startswith(OTHER_BASIN)]
    pairs += [{"learner_id": p.learner, "project_code": p.project, "kind": "exclue", "reason": p.reason}
              for p in result.instance.forbidden if not p.reason.startswith(OTHER_BASIN)]
    table = html.table(view.frame(pd.DataFrame(pairs)), labels=LABELS, empty="Aucun ajustement.")
    if basin:  # a pôle: every pupil × every offer of another basin, said once rather than listed
        excluded = fr.count(len(basin), "paire élève–offre d'un autre bassin exclue",
                            "paires élève–offre d'un autre bassin exclues")
        table = html.paragraph(f"Chaque élève n'est affecté qu'à une offre de son bassin (applications.same_basin) : "
                               f"{excluded}, {fr.agree(len(basin), 'non listée', 'non listées')} ici.") + table
    if result.adjustments_file:
        return table
    employer = " Seules les exclusions liées à l'employeur de l'apprenant s'appliquent." if pairs else ""
    return html.paragraph("Aucun ajustement consigné (l'édition n'a pas de fichier d'ajustements) : l'affectation suit "
                          f"les seules candidatures.{employer}") + (table if pairs else "")


def decisions_block(result: AssignmentResult, view: LearnerView) -> str:
    """Every row of the adjustments file, in its order, with its reason (and, for the rows the meeting
    adopted, its value, author and date): what stage 50 applied over stage 30's decisions."""
    rows = result.adjustments if result.adjustments is not None else pd.DataFrame()
    if not len(rows):
        return html.paragraph("Aucun ajustement dans le fichier de la commission.")
    frame = pd.DataFrame({"order": [o or str(i) for i, o in enumerate(rows["order"], 1)],
                          "kind": [KIND_WORDS.get(k, k) for k in rows["kind"]],
                          "learner_id": rows["learner_id"], "project_code": rows["project_code"],
                          "value": rows["value"], "reason": rows["reason"], "author": rows["author"], "date": rows["date"]})
    shown = view.frame(frame)
    if "pseudonym" in shown.columns:  # a project's adjustment names no learner
        shown["pseudonym"] = [code if lid else "" for code, lid in zip(shown["pseudonym"], frame["learner_id"])]
    labels = {**LABELS, "order": "Ordre", "value": "Valeur", "author": "Auteur", "date": "Date", "pseudonym": "Apprenant"}
    return html.table(shown, labels=labels)


def learners_block(result: AssignmentResult, view: LearnerView) -> str:
    columns = ["learner_id", "last_name", "first_name", "track", "project_code", "rank_label", "explanation"]
    table = html.table(view.frame(result.table[columns]), labels=LABELS)
    if result.unplaced is None:
        return table
    return table + "<h3>Élèves sans stage</h3>" + unplaced_block(result, view)


def publication_block(result: AssignmentResult, view: LearnerView) -> str:
    if result.published is None:
        return html.paragraph("Affectation pas encore publiée (aucun classeur dans le dossier publication/) : "
                              "elle est calculée selon l'objectif de l'édition.")
    reasons = {}
    if result.adjustments is not None and len(result.adjustments):
        withdrawn = result.adjustments[result.adjustments["kind"] == "withdrawn"]
        reasons = dict(zip(withdrawn["learner_id"], withdrawn["reason"]))
    gone = pd.DataFrame([{"learner_id": lid, "project_code": result.published.get(lid, ""), "reason": reasons.get(lid, "")}
                         for lid in result.withdrawn])
    moved = result.table[result.table["learner_id"].isin(result.solution.moved)]
    moves = pd.DataFrame([{"learner_id": r.learner_id, "kind": result.published[r.learner_id], "project_code": r.project_code,
                           "rank_label": r.rank_label} for r in moved.itertuples()])
    text = (f"Affectation publiée reprise : {fr.count(len(result.withdrawn), 'retrait')} ; "
            + (f"{fr.count(len(moved), 'apprenant change', 'apprenants changent')} de projet, le moins possible pour "
               "respecter les effectifs."
               if len(moved) else "tous les autres apprenants gardent leur projet publié."))
    labels = {**LABELS, "kind": "Projet publié", "project_code": "Nouveau projet", "reason": "Motif du retrait"}
    return (html.paragraph(text) + "<h3>Retraits</h3>"
            + html.table(view.frame(gone), labels={**LABELS, "project_code": "Projet publié", "reason": "Motif du retrait"},
                         empty="Aucun retrait.")
            + "<h3>Changements de projet</h3>" + html.table(view.frame(moves), labels=labels, empty="Aucun changement."))

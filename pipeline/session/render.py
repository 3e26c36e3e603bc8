"""The meeting page's HTML fragments (French, escaped once by :mod:`pipeline.io.html`): the current
assignment, a trial beside it, the adjustments adopted so far. Learners appear under their pseudonym,
with their name only when the session was opened with ``--noms``."""

from __future__ import annotations

from html import escape

import pandas as pd

from ..cockpit.figures import rank_chart, rank_labels
from ..io import fr, html
from ..repro.pseudonyms import pseudonyms
from .meeting import Meeting, Trial


class Names:
    """How the page names a learner: pseudonym, or « Prénom Nom (pseudonyme) » behind the switch."""

    def __init__(self, meeting: Meeting, show_names: bool):
        self.codes = pseudonyms(meeting.edition, sorted(meeting.learner_ids))
        people = meeting.roster.set_index("learner_id")
        self.names = {lid: f"{people.loc[lid, 'first_name']} {people.loc[lid, 'last_name']}" for lid in people.index}
        self.show_names = show_names

    def __call__(self, learner_id: str) -> str:
        code = self.codes.get(learner_id, learner_id)
        return f"{self.names[learner_id]} ({code})" if self.show_names else code


def status_text(optimal: bool, status: str) -> str:
    """The solver's own French status (it says whether the optimum is proven), or a warning when it is not."""
    if optimal:
        return status[:1].upper() + status[1:] if status else "Optimum prouvé"
    return "Optimum NON prouvé" + (f" : {status}" if status else "")


def profile_text(profile: list[int]) -> str:
    return " ; ".join(f"{label} : {fr.integer(v)}" for label, v in zip(rank_labels(len(profile)), profile))


def current_block(meeting: Meeting, who: Names) -> str:
    s = meeting.solution
    rows = meeting.project_rows()
    closed = [r for r in rows if r["closed"]]
    parts = ['<div class="sc-current">', "<h3>Affectation actuelle</h3>",
             f'<div class="sc-chart">{rank_chart(meeting.profile())}</div>',
             f'<p class="sc-profile">{escape(profile_text(meeting.profile()))}</p>',
             f'<p class="sc-status">{escape(status_text(s.optimal, s.status))} ; '
             f'{escape(fr.count(len(s.assignment), "apprenant"))} affecté(e)s, '
             f'{escape(fr.count(len(s.opened), "projet ouvert", "projets ouverts"))}</p>',
             "<h4>Projets fermés</h4>"]
    if closed:
        parts.append(html.bullets([f"{r['project_code']} — {r['title']}"
                                   + (" (fermé par la commission)" if r["closed_by_commission"] else
                                      " (minimum non atteint)") for r in closed]))
    else:
        parts.append(html.paragraph("Aucun projet fermé."))
    far = meeting.far()
    parts.append("<h4>Apprenants loin de leurs choix (3e choix ou au-delà)</h4>")
    parts.append(html.table(pd.DataFrame([{"Apprenant": who(lid), "Projet": pid,
                                            "Choix obtenu": _rank(meeting, rank)} for lid, pid, rank in far]),
                            empty="Aucun apprenant au-delà de son 2e choix."))
    teams = pd.DataFrame([{"Projet": r["project_code"], "Titre": r["title"],
                           "Effectif": f"{r['min']}–{r['max']}" if r["max"] else "fermé",
                           "Filières ouvertes": ", ".join(r["tracks"]),
                           "Équipe": f"{len(r['team'])} : " + ", ".join(who(lid) for lid in r["team"]) if r["team"] else "—"}
                          for r in rows])
    parts += ["<h4>Équipes</h4>", html.table(teams), "</div>"]
    return "".join(parts)


def _rank(meeting: Meeting, rank: int) -> str:
    from ..stages.assignment import rank_text

    return rank_text(rank, meeting.ranks)


def trial_block(meeting: Meeting, trial: Trial, who: Names, number: int = 1) -> str:
    """A tried change (``number``: the how-manieth try of the session) beside the current assignment."""
    head = f"<h3>Essai n° {number} : {escape(trial.change.describe(who))}</h3>"
    timing = f'<p class="sc-time">Calculé en {escape(fr.number(trial.seconds, 2))} s</p>'
    if not trial.possible:
        return (f'<div class="sc-trial sc-impossible" data-trial="{number}">{head}<p class="sc-message"><strong>{escape(trial.message)}'
                "</strong> :</p>" + html.bullets(trial.problems) + timing + "</div>")
    charts = (f'<div class="sc-side"><div><h4>Avant</h4>{rank_chart(trial.before)}'
              f'<p class="sc-before">{escape(profile_text(trial.before))}</p></div>'
              f'<div><h4>Après</h4>{rank_chart(trial.after)}'
              f'<p class="sc-after">{escape(profile_text(trial.after))}</p></div></div>')
    status = f'<p class="sc-status">{escape(status_text(trial.optimal, trial.status))}</p>'
    moves = pd.DataFrame([{"Apprenant": who(m.learner), "Avant": f"{m.before} ({_rank(meeting, m.rank_before)})",
                           "Après": f"{m.after} ({_rank(meeting, m.rank_after)})", "Pourquoi": "\n".join(m.why)}
                          for m in trial.moves])
    count = fr.count(len(trial.moves), "apprenant change", "apprenants changent")
    if trial.change.kind == "withdrawn" and trial.change.learner in meeting.solution.assignment:
        left = meeting.solution.assignment[trial.change.learner]
        status += html.paragraph(f"{who(trial.change.learner)} quitte le projet {left} (retrait) ; sa place se libère.")
    pending = "" if trial.explained or not trial.moves else \
        '<p class="sc-pending">Explications détaillées en cours de calcul…</p>'
    body = (f'<h4 class="sc-moves-title">{escape(count)} de projet</h4>'
            + html.table(moves, empty="Personne ne change de projet.", css_class="data sc-moves") + pending)
    return f'<div class="sc-trial" data-trial="{number}">{head}{charts}{status}{body}{timing}</div>'


def adjustments_block(meeting: Meeting, who: Names) -> str:
    rows = meeting.file.rows()
    learner = meeting.file.labels["learner_id"]
    for row in rows:  # pseudonym (or name behind the switch), never the school's identifier
        if row.get(learner, "").strip() in who.codes:
            row[learner] = who(row[learner].strip())
    frame = pd.DataFrame(rows)
    return ('<div class="sc-adjustments"><h3>Ajustements adoptés (fichier '
            f"{escape(meeting.file.name)})</h3>" + html.table(frame, empty="Aucun ajustement.") + "</div>")


STYLE = """<style>
.sc-side { display: flex; gap: 2em; }
.sc-trial { border-left: 4px solid #3b6e9e; padding-left: 1em; }
.sc-impossible { border-left-color: #b03a2e; }
.sc-page table { border-collapse: collapse; font-size: 90%; }
.sc-page td, .sc-page th { border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; text-align: left; }
</style>"""

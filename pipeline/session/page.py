"""The meeting page as ipywidgets (served by Voilà from ``notebooks/session.ipynb``): a form to try one
change, its result beside the current assignment, « Adopter » and « Annuler le dernier ajustement ».

Each widget carries a ``sc-…`` CSS class, so that the browser test finds it by name."""

from __future__ import annotations

import os
import threading
from datetime import date
from html import escape

import ipywidgets as w

from ..contract.config import Edition
from ..contract.errors import StagescoError
from . import render
from .meeting import Change, Meeting, Trial

ENV_EDITION = "STAGESCO_SESSION_EDITION"
ENV_NAMES = "STAGESCO_SESSION_NAMES"
KIND_CHOICES = [("Effectif (minimum et maximum)", "capacity"), ("Filières ouvertes", "tracks"),
                ("Fermer le projet", "close"), ("Rouvrir le projet", "open"), ("Placer un apprenant (fixer)", "fixed"),
                ("Exclure un apprenant du projet", "forbidden"), ("Retrait d'un apprenant", "withdrawn")]
LEARNER_KINDS = ("fixed", "forbidden", "withdrawn")


def _tagged(widget, name: str):
    widget.add_class(f"sc-{name}")
    return widget


class SessionPage:
    def __init__(self, meeting: Meeting, show_names: bool = False):
        self.meeting = meeting
        self.who = render.Names(meeting, show_names)
        self.trial: Trial | None = None
        self.tries = 0
        projects = [(f"{r['project_code']} — {r['title']}", r["project_code"]) for r in meeting.project_rows()]
        learners = sorted(((self.who(lid), lid) for lid in meeting.learner_ids), key=lambda item: item[0])
        wide = dict(layout=w.Layout(width="40em"), style={"description_width": "7em"})  # one Layout per widget
        self.kind = _tagged(w.Dropdown(options=KIND_CHOICES, description="Changement", **wide), "kind")
        wide["layout"] = w.Layout(width="40em")
        self.project = _tagged(w.Dropdown(options=projects, description="Projet", **wide), "project")
        wide["layout"] = w.Layout(width="40em")
        self.learner = _tagged(w.Dropdown(options=learners, description="Apprenant", **wide), "learner")
        narrow = {"style": {"description_width": "7em"}}
        self.low = _tagged(w.BoundedIntText(min=0, max=999, description="Minimum", layout=w.Layout(width="14em"),
                                            **narrow), "min")
        self.high = _tagged(w.BoundedIntText(min=0, max=999, description="Maximum", layout=w.Layout(width="14em"),
                                             **narrow), "max")
        self.tracks = {code: _tagged(w.Checkbox(description=f"{code} — {label}", indent=False), f"track-{code}")
                       for code, label in meeting.edition.tracks.items()}
        self.reason = _tagged(w.Text(description="Motif", placeholder="motif de la décision (obligatoire)",
                                     layout=w.Layout(width="40em"), **narrow), "reason")
        self.author = _tagged(w.Text(description="Initiales", placeholder="ex. MD", layout=w.Layout(width="14em"),
                                     **narrow), "author")
        self.try_button = _tagged(w.Button(description="Essayer", button_style="primary"), "try")
        self.adopt_button = _tagged(w.Button(description="Adopter", button_style="success", disabled=True), "adopt")
        self.undo_button = _tagged(w.Button(description="Annuler le dernier ajustement", button_style="warning",
                                            layout=w.Layout(width="auto")), "undo")
        self.result = _tagged(w.HTML(), "result")
        self.current = _tagged(w.HTML(), "current-view")
        self.adopted = _tagged(w.HTML(), "adopted")
        self.notice = _tagged(w.HTML(), "notice")
        self.kind.observe(lambda _: self._show_fields(), "value")
        self.project.observe(lambda _: self._prefill(), "value")
        self.try_button.on_click(lambda _: self.on_try())
        self.adopt_button.on_click(lambda _: self.on_adopt())
        self.undo_button.on_click(lambda _: self.on_undo())
        self.capacity_box = w.HBox([self.low, self.high])
        self.tracks_box = w.HBox([w.Label("Filières ouvertes", layout=w.Layout(width="7em")), *self.tracks.values()])
        title = meeting.edition.config.get("title") or meeting.edition.name
        privacy = ("Noms affichés (séance ouverte avec --noms)" if show_names else
                   "Apprenants sous pseudonyme (noms masqués ; « stagesco session … --noms » pour les afficher)")
        self.widget = _tagged(w.VBox([
            w.HTML(render.STYLE + f"<h2>Séance de la commission — {escape(str(title))}</h2>"
                   f"<p>{escape(privacy)}</p>"),
            w.HTML("<h3>Essayer un changement</h3>"), self.kind, self.project, self.learner, self.capacity_box,
            self.tracks_box, self.reason, w.HBox([self.try_button, self.author, self.adopt_button, self.undo_button]),
            self.notice, self.result, self.adopted, self.current]), "page")
        self._show_fields()
        self._prefill()
        self._refresh()

    # --- form -------------------------------------------------------------------------------------------------
    def _show_fields(self) -> None:
        kind = self.kind.value
        self.learner.layout.display = "" if kind in LEARNER_KINDS else "none"
        self.project.layout.display = "none" if kind == "withdrawn" else ""
        self.capacity_box.layout.display = "" if kind == "capacity" else "none"
        self.tracks_box.layout.display = "" if kind == "tracks" else "none"

    def _prefill(self) -> None:
        project = self.meeting.instance.project(self.project.value)
        if project.max_size:
            self.low.value, self.high.value = project.min_size, project.max_size
        for code, box in self.tracks.items():
            box.value = code in project.tracks

    def change(self) -> Change:
        kind = self.kind.value
        value = ""
        if kind == "capacity":
            value = f"{self.low.value}-{self.high.value}"
        elif kind == "tracks":
            value = ", ".join(code for code, box in self.tracks.items() if box.value)
        return Change(kind=kind, project="" if kind == "withdrawn" else self.project.value,
                      learner=self.learner.value if kind in LEARNER_KINDS else "", value=value, reason=self.reason.value)

    # --- actions ----------------------------------------------------------------------------------------------
    def on_try(self) -> None:
        self.notice.value = ""
        trial = self.trial = self.meeting.try_change(self.change())
        self.tries += 1
        self.result.value = render.trial_block(self.meeting, trial, self.who, self.tries)
        self.adopt_button.disabled = not trial.possible
        if trial.possible and trial.moves:  # the detailed reasons follow, without holding the page
            threading.Thread(target=self._explain, args=(trial,), daemon=True).start()

    def _explain(self, trial: Trial) -> None:
        number = self.tries
        self.meeting.explain_moves(trial)
        if self.trial is trial:
            self.result.value = render.trial_block(self.meeting, trial, self.who, number)

    def on_adopt(self) -> None:
        if self.trial is None:
            return
        try:
            self.meeting.adopt(self.trial, self.author.value, date.today().strftime("%d/%m/%Y"))
        except StagescoError as error:
            self.notice.value = f'<p class="sc-error"><strong>{escape(error.message)}</strong> — ' \
                                f"{escape(error.hint or '')}</p>"
            return
        done = self.trial.change.describe(self.who)
        self.trial = None
        self.adopt_button.disabled = True
        self.result.value = ""
        self.reason.value = ""
        self._refresh()  # the page shows the new assignment before it says « Adopté »
        self.notice.value = (f'<p class="sc-done">Adopté : {escape(done)} '
                             f"(inscrit dans {escape(self.meeting.file.name)})</p>")

    def on_undo(self) -> None:
        try:
            row = self.meeting.undo()
        except StagescoError as error:
            self.notice.value = f'<p class="sc-error"><strong>{escape(error.message)}</strong></p>'
            return
        learner = self.meeting.file.labels["learner_id"]
        if row and row.get(learner, "").strip() in self.who.codes:  # never the school's identifier on the page
            row[learner] = self.who(row[learner].strip())
        text = " ; ".join(v for v in row.values() if v) if row else ""
        self.trial = None
        self.adopt_button.disabled = True
        self.result.value = ""
        self._refresh()
        self.notice.value = f'<p class="sc-done">Dernier ajustement annulé : {escape(text)}</p>'

    def _refresh(self) -> None:
        self.current.value = render.current_block(self.meeting, self.who)
        self.adopted.value = render.adjustments_block(self.meeting, self.who)


def session_page(edition: str | None = None, show_names: bool | None = None):
    """The meeting page of ``edition`` (by default the one ``stagesco session`` passes to Voilà through the
    environment, with its names switch)."""
    name = edition or os.environ.get(ENV_EDITION)
    if not name:
        raise StagescoError("Aucune édition indiquée", hint="Ouvrez la séance par « stagesco session <édition> »")
    names = show_names if show_names is not None else os.environ.get(ENV_NAMES) == "1"
    return SessionPage(Meeting(Edition.load(name)), show_names=names).widget

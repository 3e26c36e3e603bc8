"""The commission's meeting: the current assignment, a change tried against it, adopted or undone.

The stage tables are read once from ``outputs/`` (never written); each try re-solves the edition's
instance with the adjustments file's rows plus the tried one, through the same functions as stage 50
(:func:`pipeline.stages.assignment.build_instance`), so that ``stagesco run`` finds what the meeting saw.
Only the learners who move are explained (explaining everyone costs seconds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from ..assign.explain import explain
from ..assign.model import InfeasibleAssignment, Instance, InvalidInstance, Solution
from ..assign.solver import solve
from ..contract.config import Edition
from ..contract.errors import StagescoError
from ..contract.stage import read_output
from ..stages.assignment import (KIND_WORDS, PROJECT_KINDS, build_instance, capacity_value, rank_text,
                                 read_adjustments, settings, tracks_value)
from ..stages.eligibility import as_list
from .record import AdjustmentsFile


@dataclass(frozen=True)
class Change:
    """One change the commission tries: ``kind`` one of stage 50's kinds (capacity, tracks, open, close,
    fixed, forbidden, withdrawn), on ``project`` and/or ``learner``, with its ``value`` and ``reason``."""
    kind: str
    project: str = ""
    learner: str = ""
    value: str = ""
    reason: str = ""

    def describe(self, who=lambda learner: learner) -> str:
        """The change in French, for the page."""
        if self.kind == "capacity":
            low, high = capacity_value(self.value) or (0, 0)
            return f"effectif de {self.project} : minimum {low}, maximum {high}"
        if self.kind == "tracks":
            return f"filières ouvertes sur {self.project} : {', '.join(tracks_value(self.value))}"
        if self.kind == "open":
            return f"rouvrir le projet {self.project}"
        if self.kind == "close":
            return f"fermer le projet {self.project}"
        if self.kind == "fixed":
            return f"placer {who(self.learner)} sur {self.project}"
        if self.kind == "forbidden":
            return f"exclure {who(self.learner)} de {self.project}"
        return f"retrait de {who(self.learner)}"


@dataclass
class Move:
    learner: str
    before: str  # project
    after: str
    rank_before: int
    rank_after: int
    why: list[str] = field(default_factory=list)  # French


@dataclass
class Trial:
    """What a change would do; ``problems`` (French) when it makes the assignment impossible."""
    change: Change
    before: list[int]
    after: list[int] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    optimal: bool = False
    status: str = ""
    closed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    solution: Solution | None = None
    instance: Instance | None = None
    adjustments: pd.DataFrame | None = None
    explained: bool = False  # the detailed reasons of the movers who lose ranks are in ``Move.why``

    @property
    def possible(self) -> bool:
        return not self.problems and self.solution is not None


class Meeting:
    """The edition's current assignment (stage 40's tables, stage 30's retained projects and the
    adjustments file) and the commission's tries."""

    def __init__(self, edition: Edition):
        self.edition = edition
        self.retained = read_output(edition, "commission/projets_retenus.parquet")
        # plain Python values: building an instance per try iterates them (Arrow strings are slow to iterate)
        self.roster = read_output(edition, "applications/promotion.parquet").astype(object)
        self.preferences = read_output(edition, "applications/candidatures.parquet").astype(object)
        self.cfg = settings(edition)
        self.file = AdjustmentsFile(edition)
        self.learner_ids = set(self.roster["learner_id"])
        self.project_ids = set(self.retained["project_code"])
        self.titles = dict(zip(self.retained["project_code"], self.retained["title"]))
        self.reload()

    # --- the current state ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the adjustments file and solve: the assignment ``stagesco run`` would produce."""
        self.stamp = self.file.stamp()
        self.adjustments = read_adjustments(self.edition, self.learner_ids, self.project_ids)
        self.instance = build_instance(self.edition, self.retained, self.roster, self.preferences, self.adjustments,
                                       self.cfg)
        self.solution = solve(self.instance, time_limit=self.cfg["time_limit"])

    @property
    def ranks(self) -> int:
        return self.cfg["ranks"]

    def profile(self) -> list[int]:
        return list(self.solution.rank_profile)

    def project_rows(self) -> list[dict]:
        """Per retained project: sizes, open tracks and team (ids), in code order."""
        teams = {p.id: self.solution.team(p.id) for p in self.instance.projects}
        rows = []
        for project in self.instance.projects:
            rows.append({"project_code": project.id, "title": self.titles[project.id], "min": project.min_size,
                         "max": project.max_size, "tracks": [t for t in self.edition.tracks if t in project.tracks],
                         "team": teams[project.id], "closed": project.id in self.solution.closed,
                         "closed_by_commission": project.max_size == 0})
        return rows

    def far(self, worst: int = 3) -> list[tuple[str, str, int]]:
        """(learner, project, rank) of the learners placed at their ``worst``-th choice or beyond."""
        return [(lid, self.solution.assignment[lid], rank) for lid, rank in sorted(self.solution.ranks.items())
                if rank >= worst]

    def tracks_of(self, project: str) -> list[str]:
        row = self.retained.loc[self.retained["project_code"] == project].iloc[0]
        return as_list(row.tracks_open)

    # --- trying, adopting, undoing --------------------------------------------------------------------------
    def check(self, change: Change) -> list[str]:
        """What makes the change unreadable (French), before any solve."""
        problems = []
        if change.kind not in KIND_WORDS:
            problems.append(f"type de changement « {change.kind} » inconnu")
        if change.kind != "withdrawn" and change.project not in self.project_ids:
            problems.append(f"projet « {change.project} » non retenu")
        if change.kind not in PROJECT_KINDS and change.learner not in self.learner_ids:
            problems.append("choisissez un apprenant de la promotion")
        if change.kind == "capacity" and capacity_value(change.value) is None:
            problems.append("effectif illisible : le minimum doit être un entier inférieur ou égal au maximum")
        if change.kind == "tracks" and not tracks_value(change.value):
            problems.append("cochez au moins une filière")
        if not change.reason.strip():
            problems.append("le motif est obligatoire")
        return problems

    def row_of(self, change: Change) -> dict:
        return {"learner_id": change.learner if change.kind not in PROJECT_KINDS else "",
                "project_code": change.project, "kind": change.kind, "reason": change.reason.strip(),
                "source_row": 0, "value": change.value, "author": "", "date": "", "order": ""}

    def try_change(self, change: Change) -> Trial:
        """Re-solve with the change added after the adjustments file's rows; explain who moves."""
        start = time.perf_counter()
        if self.file.stamp() != self.stamp:  # adopted from another page of the same session since
            self.reload()
        trial = Trial(change=change, before=self.profile())
        trial.problems = self.check(change)
        if trial.problems:
            trial.message = "Changement incomplet"
            trial.seconds = time.perf_counter() - start
            return trial
        adjustments = pd.concat([self.adjustments, pd.DataFrame([self.row_of(change)])], ignore_index=True)
        try:
            instance = build_instance(self.edition, self.retained, self.roster, self.preferences, adjustments, self.cfg)
            solution = solve(instance, time_limit=self.cfg["time_limit"])
        except InfeasibleAssignment as error:
            trial.message, trial.problems = "Ce changement rend l'affectation impossible", error.conflicts or [error.message]
        except (InvalidInstance, StagescoError) as error:
            trial.message, trial.problems = "Ce changement est impossible", [error.message]
        else:
            trial.solution, trial.instance, trial.adjustments = solution, instance, adjustments
            trial.after, trial.optimal, trial.status = list(solution.rank_profile), bool(solution.optimal), solution.status
            trial.closed = list(solution.closed)
            for lid in sorted(solution.assignment):
                before = self.solution.assignment.get(lid, "")
                if before != solution.assignment[lid]:
                    move = Move(lid, before, solution.assignment[lid], self.solution.ranks.get(lid, 0), solution.ranks[lid])
                    move.why = self._why(change, instance, move)
                    trial.moves.append(move)
        trial.seconds = time.perf_counter() - start
        return trial

    def explain_moves(self, trial: Trial) -> None:
        """Add to each mover who gets a worse choice why no better one was possible (a re-solve per
        project they preferred, shared between interchangeable learners: seconds when many move)."""
        losers = [m.learner for m in trial.moves if m.rank_after > m.rank_before]
        if trial.possible and losers:
            reasons = explain(trial.instance, trial.solution, learners=losers, time_limit=self.cfg["time_limit"])
            closed = {p.id for p in trial.instance.projects if p.max_size == 0}
            for move in trial.moves:
                move.why += [f"{r.project} ({rank_text(r.rank, self.ranks)}) : "
                             + ("fermé par la commission" if r.project in closed else r.text)
                             for r in reasons.get(move.learner, [])]
        trial.explained = True

    def _why(self, change: Change, instance: Instance, move: Move) -> list[str]:
        """Why this learner moves, from the change itself (no re-solve)."""
        project, lines = change.project, []
        if change.learner == move.learner:
            lines.append({"fixed": f"placé(e) sur {project} par la commission",
                          "forbidden": f"exclu(e) de {project} par la commission"}.get(change.kind, "concerné(e) par le changement"))
        elif change.kind == "close" and move.before == project:
            lines.append(f"son projet {project} est fermé par la commission")
        elif change.kind in ("capacity", "tracks", "open") and project in (move.before, move.after):
            target = instance.project(project)
            what = (f"effectif de {project} porté à {target.min_size}–{target.max_size}" if change.kind == "capacity" else
                    f"filières ouvertes sur {project} : {', '.join(t for t in self.edition.tracks if t in target.tracks)}"
                    if change.kind == "tracks" else f"projet {project} rouvert")
            lines.append(what)
        else:
            lines.append("effet en cascade : une place s'est libérée ou a été prise sur un projet qu'il ou elle a classé")
        if move.rank_after < move.rank_before:
            lines.append(f"obtient un meilleur choix : {rank_text(move.rank_after, self.ranks)} au lieu du "
                         f"{rank_text(move.rank_before, self.ranks)}")
        elif move.rank_after > move.rank_before:
            lines.append(f"passe de son {rank_text(move.rank_before, self.ranks)} à son "
                         f"{rank_text(move.rank_after, self.ranks)}")
        else:
            lines.append(f"même rang ({rank_text(move.rank_after, self.ranks)}) sur un autre projet : la répartition "
                         "optimale a changé")
        return lines

    def adopt(self, trial: Trial, author: str, day: str) -> None:
        """Append the tried change to the adjustments file; the trial becomes the current assignment."""
        if not trial.possible:
            raise StagescoError("Seul un changement possible peut être adopté", hint="Essayez-en un autre")
        if not author.strip():
            raise StagescoError("Initiales de l'auteur manquantes", hint="Saisissez vos initiales avant d'adopter")
        change = trial.change
        self.file.append(kind=KIND_WORDS[change.kind], learner=self.row_of(change)["learner_id"], project=change.project,
                         value=change.value, reason=change.reason.strip(), author=author.strip(), day=day)
        self.reload()

    def undo(self) -> dict | None:
        """Remove the adjustments file's last row; returns it (labels → values), or None when empty."""
        row = self.file.remove_last()
        self.reload()
        return row

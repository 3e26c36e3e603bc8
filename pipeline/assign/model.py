"""The assignment problem as plain data: an instance, a solution, and the errors a user reads (in French).

Identifiers are strings. A learner's rank for a project is its position in their preference list
(1 = first choice); a project outside the list counts as ``ranks + 1`` ("non classé").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from pipeline.contract.errors import StagescoError

OBJECTIVES = ("egalitarian", "rank_maximal", "sum_of_ranks")


class InvalidInstance(StagescoError):
    """The instance itself is malformed (unknown identifier, sizes min > max, list too long...)."""


class InfeasibleAssignment(StagescoError):
    """No assignment satisfies every constraint; ``conflicts`` lists, in French, the constraints that clash."""

    def __init__(self, conflicts: list[str]):
        self.conflicts = list(conflicts)
        super().__init__("Aucune affectation possible", problems=self.conflicts)


class AssignmentTimeout(StagescoError):
    """The solver found no assignment within its time limit (infeasibility not proven either)."""


@dataclass(frozen=True)
class Learner:
    id: str
    track: str
    preferences: tuple[str, ...] = ()  # best first; empty for a non-respondent


@dataclass(frozen=True)
class Project:
    id: str
    min_size: int
    max_size: int
    tracks: frozenset[str]
    track_min: Mapping[str, int] = field(default_factory=dict)  # an opened project holds at least this many per track


@dataclass(frozen=True)
class Pair:
    """A commission decision on a (learner, project) pair: fixed or forbidden, with its reason."""
    learner: str
    project: str
    reason: str


@dataclass(frozen=True)
class Instance:
    learners: tuple[Learner, ...]
    projects: tuple[Project, ...]
    ranks: int  # R, the number of choices asked
    fixed: tuple[Pair, ...] = ()
    forbidden: tuple[Pair, ...] = ()
    seed: int = 0
    objective: str = "egalitarian"
    tracks: tuple[str, ...] = ()  # the cohort's tracks (edition data); empty: those the learners and projects name
    # partial placement (fewer places than learners): a learner may stay without a project; the first level then
    # minimises the number of unplaced learners, the objective and the lottery apply among the placed
    allow_unplaced: bool = False

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise InvalidInstance("Données d'affectation invalides : " + " ; ".join(problems))

    @cached_property
    def track_codes(self) -> tuple[str, ...]:
        """The tracks in the edition's order, or (none declared) those named by learners and projects, sorted."""
        if self.tracks:
            return tuple(self.tracks)
        return tuple(sorted({lr.track for lr in self.learners} | {t for p in self.projects for t in p.tracks}))

    @property
    def unranked(self) -> int:
        return self.ranks + 1

    def learner(self, learner_id: str) -> Learner:
        return self._learners[learner_id]

    def project(self, project_id: str) -> Project:
        return self._projects[project_id]

    @cached_property
    def _learners(self) -> dict[str, Learner]:
        return {learner.id: learner for learner in self.learners}

    @cached_property
    def _projects(self) -> dict[str, Project]:
        return {project.id: project for project in self.projects}

    def rank(self, learner: Learner, project_id: str) -> int:
        """1..R for a listed project, R+1 otherwise."""
        if project_id in learner.preferences:
            return learner.preferences.index(project_id) + 1
        return self.unranked


@dataclass(frozen=True)
class Solution:
    assignment: dict[str, str]  # learner -> project (every learner, unless ``Instance.allow_unplaced``)
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    ranks: dict[str, int]  # learner -> rank (R+1 = non classé)
    rank_profile: tuple[int, ...]  # counts of placed learners at rank 1..R, then unranked (length R+1)
    worst_rank: int
    objective: str
    # smaller is better, compared lexicographically; see solver.objective_vector (with allow_unplaced, the number of
    # unplaced learners comes first)
    objective_vector: tuple[int, ...]
    lottery_value: int  # the last level: total lottery weight of the aggregated solution (draw ``lottery_draw``)
    lottery_draw: int  # 0 unless the first draw left a tie (then redrawn, see solver)
    optimal: bool
    gap: float  # 0.0 when optimal; else relative gap of the first level not proven
    status: str  # French
    solve_time: float  # seconds, wall clock
    moved: tuple[str, ...] = ()  # keep-published mode: learners not at their published project
    unplaced: tuple[str, ...] = ()  # allow_unplaced: learners without a project (absent from ``assignment``)

    def team(self, project_id: str) -> list[str]:
        return sorted(lid for lid, pid in self.assignment.items() if pid == project_id)


def _validate(instance: Instance) -> list[str]:
    problems: list[str] = []
    if instance.objective not in OBJECTIVES:
        problems.append(f"objectif « {instance.objective} » inconnu (attendu : {', '.join(OBJECTIVES)})")
    if instance.ranks < 1:
        problems.append(f"nombre de choix demandés {instance.ranks} (au moins 1)")
    projects = {p.id for p in instance.projects}
    learners = {lr.id for lr in instance.learners}
    if len(projects) != len(instance.projects):
        problems.append("identifiant de projet en double")
    if len(learners) != len(instance.learners):
        problems.append("identifiant d'apprenant en double")
    for p in instance.projects:
        if not 0 <= p.min_size <= p.max_size:
            problems.append(f"projet {p.id} : effectif minimum {p.min_size} et maximum {p.max_size}")
        unknown = set(p.tracks) - set(instance.track_codes)
        if unknown:
            problems.append(f"projet {p.id} : filière inconnue {', '.join(sorted(unknown))}")
        for track, count in p.track_min.items():
            if count > 0 and track not in p.tracks:
                problems.append(f"projet {p.id} : minimum de {count} {track} mais filière {track} non ouverte")
    for lr in instance.learners:
        if lr.track not in instance.track_codes:
            problems.append(f"apprenant {lr.id} : filière inconnue « {lr.track} »")
        if len(lr.preferences) > instance.ranks:
            problems.append(f"apprenant {lr.id} : {len(lr.preferences)} choix pour {instance.ranks} demandés")
        if len(set(lr.preferences)) != len(lr.preferences):
            problems.append(f"apprenant {lr.id} : un projet classé deux fois")
        for pid in lr.preferences:
            if pid not in projects:
                problems.append(f"apprenant {lr.id} : projet inconnu {pid}")
    for kind, pairs in (("fixée", instance.fixed), ("exclue", instance.forbidden)):
        for pair in pairs:
            if pair.learner not in learners or pair.project not in projects:
                problems.append(f"paire {kind} ({pair.learner}, {pair.project}) : identifiant inconnu")
    return problems

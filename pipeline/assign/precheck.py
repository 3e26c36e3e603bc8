"""Why no assignment exists, in French: quick pre-checks, then a diagnosis by relaxation.

:func:`precheck` catches the common reasons (capacities, tracks, contradictory commission pairs) without
solving anything; when an instance passes them and still has no assignment, :func:`_diagnose` re-solves it
without each family of constraints to name the one that makes it infeasible.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Callable

from pipeline.assign.model import AssignmentTimeout, Instance


def precheck(instance: Instance) -> list[str]:
    """French descriptions of the common reasons why no assignment exists (empty when none is found)."""
    conflicts: list[str] = []
    projects = {p.id: p for p in instance.projects}
    forbidden = {(pair.learner, pair.project): pair.reason for pair in instance.forbidden}
    by_learner: dict[str, list[str]] = defaultdict(list)
    for pair in instance.fixed:
        if pair.project not in by_learner[pair.learner]:
            by_learner[pair.learner].append(pair.project)
    fixed_count: Counter = Counter()
    for learner_id, targets in sorted(by_learner.items()):
        learner = instance.learner(learner_id)
        if len(targets) > 1:
            conflicts.append(f"l'apprenant {learner_id} est fixé sur plusieurs projets ({', '.join(targets)})")
        for pid in targets:
            fixed_count[pid] += 1
            if (learner_id, pid) in forbidden:
                conflicts.append(f"l'apprenant {learner_id} est à la fois fixé sur le projet {pid} et exclu de ce "
                                 f"projet ({forbidden[learner_id, pid]})")
            if learner.track not in projects[pid].tracks:
                conflicts.append(f"l'apprenant {learner_id} ({learner.track}) est fixé sur le projet {pid}, qui "
                                 f"n'est pas ouvert aux {learner.track}")
    for pid, count in sorted(fixed_count.items()):
        if count > projects[pid].max_size:
            conflicts.append(f"{count} apprenants fixés sur le projet {pid} pour un maximum de "
                             f"{projects[pid].max_size}")
    n_learners = len(instance.learners)
    by_track = Counter(learner.track for learner in instance.learners)
    forbidden_per_track: Counter = Counter()  # (project, track) -> excluded learners of that track
    for (learner_id, pid) in forbidden:
        forbidden_per_track[pid, instance.learner(learner_id).track] += 1
    if not instance.allow_unplaced:  # (else a learner without a place stays unplaced)
        conflicts += _places_for_all(instance, by_track, forbidden_per_track)
    must_open = sorted(pid for pid in fixed_count)
    if must_open:
        need = sum(projects[pid].min_size for pid in must_open)
        if need > n_learners:
            conflicts.append(f"les projets à ouvrir obligatoirement (apprenants fixés : {', '.join(must_open)}) "
                             f"demandent au moins {need} apprenants (somme des minimums) pour {n_learners} apprenants")
        for track in instance.track_codes:
            need_track = sum(projects[pid].track_min.get(track, 0) for pid in must_open)
            if need_track > by_track[track]:
                conflicts.append(f"les projets à ouvrir obligatoirement ({', '.join(must_open)}) demandent au moins "
                                 f"{need_track} apprenants {track} pour {by_track[track]} apprenants {track}")
    if not instance.allow_unplaced:
        conflicts += _excluded_everywhere(instance, forbidden, projects, set(by_learner))
    return conflicts


def _places_for_all(instance: Instance, by_track: Counter, forbidden_per_track: Counter) -> list[str]:
    """The reasons why the places cannot hold every learner (capacities, tracks, minimums)."""
    conflicts: list[str] = []
    n_learners = len(instance.learners)
    capacity = sum(p.max_size for p in instance.projects)
    if n_learners > capacity:
        conflicts.append(f"{n_learners} apprenants mais seulement {capacity} places maximum au total")
    for track in instance.track_codes:
        count = by_track[track]
        open_to = [p for p in instance.projects if track in p.tracks]
        if count and not open_to:
            conflicts.append(f"{count} apprenant{'s' if count > 1 else ''} {track} mais aucun projet n'est "
                             f"ouvert aux {track}")
            continue
        track_capacity = sum(p.max_size for p in open_to)
        if count > track_capacity:
            conflicts.append(f"{count} apprenants {track} mais seulement {track_capacity} places maximum dans les "
                             f"projets ouverts aux {track}")
        reachable = [p for p in open_to if _can_reach_minimum(p, by_track, forbidden_per_track)]
        if count and open_to and not reachable:
            detail = ", ".join(f"{p.id} : minimum {p.min_size}" for p in open_to[:5])
            conflicts.append(f"{count} apprenant{'s' if count > 1 else ''} {track} mais aucun projet ouvert aux "
                             f"{track} ne peut atteindre son effectif minimum ({detail})")
    return conflicts


def _excluded_everywhere(instance: Instance, forbidden: dict, projects: dict, fixed_learners: set[str]) -> list[str]:
    """The learners excluded from every project open to their track."""
    conflicts: list[str] = []
    open_count = Counter(t for p in instance.projects for t in p.tracks)
    banned: Counter = Counter()  # learner -> forbidden projects open to their track
    for (learner_id, pid) in forbidden:
        if instance.learner(learner_id).track in projects[pid].tracks:
            banned[learner_id] += 1
    for learner in instance.learners:
        if learner.id in fixed_learners or not banned[learner.id]:
            continue
        if banned[learner.id] == open_count[learner.track] and open_count[learner.track]:
            conflicts.append(f"l'apprenant {learner.id} n'a aucun projet possible : tous les projets ouverts aux "
                             f"{learner.track} lui sont exclus")
    return conflicts


def _can_reach_minimum(project, by_track: Counter, forbidden_per_track: Counter) -> bool:
    """Enough learners of the project's tracks, not excluded from it, for its minimum(s)."""
    per_track = {t: by_track[t] - forbidden_per_track[project.id, t] for t in project.tracks}
    return sum(per_track.values()) >= max(project.min_size, 1) and all(
        per_track.get(t, 0) >= need for t, need in project.track_min.items())

def _diagnose(instance: Instance, feasible: Callable[[Instance], bool]) -> list[str]:
    """Which family of constraints, once dropped, makes an assignment possible (French); ``feasible`` tells
    whether a relaxed instance (that passes the pre-checks) has an assignment (a relaxation it cannot decide
    in time, raising :class:`AssignmentTimeout`, is not named)."""
    relaxations = {
        "sans les effectifs minimums des projets": replace(instance, projects=tuple(
            replace(p, min_size=0, track_min={}) for p in instance.projects)),
        "sans les exclusions": replace(instance, forbidden=()),
        "sans les affectations fixées": replace(instance, fixed=()),
    }
    possible = []
    for label, relaxed in relaxations.items():
        if precheck(relaxed):
            continue
        try:
            if feasible(relaxed):
                possible.append(label)
        except AssignmentTimeout:  # not decided in time: not named
            continue
    message = ("aucune affectation ne respecte à la fois les effectifs minimum et maximum des projets, les "
               "filières ouvertes et les paires fixées ou exclues")
    if possible:
        message += f" (une affectation existerait {' ou '.join(possible)})"
    return [message]

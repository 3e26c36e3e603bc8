"""An independent checker: re-verifies a solution from the instance alone (shares no code with the solver)."""

from __future__ import annotations

from collections import Counter

from pipeline.assign.model import Instance, Solution


def rank_profile(instance: Instance, assignment: dict[str, str]) -> tuple[int, ...]:
    """Counts of learners at rank 1..R, then unranked (R+1), recomputed from the preference lists."""
    counts = [0] * (instance.ranks + 1)
    for learner in instance.learners:
        if learner.id not in assignment:  # unplaced (allow_unplaced)
            continue
        project = assignment[learner.id]
        prefs = list(learner.preferences)
        counts[prefs.index(project) if project in prefs else instance.ranks] += 1
    return tuple(counts)


def violations(instance: Instance, solution: Solution) -> list[str]:
    """Every constraint the solution breaks, in French; an empty list means the solution is feasible."""
    problems: list[str] = []
    projects = {p.id: p for p in instance.projects}
    learners = {lr.id: lr for lr in instance.learners}
    assignment = solution.assignment
    unplaced = set(solution.unplaced)
    if unplaced and not instance.allow_unplaced:
        return [f"apprenants annoncés non placés {sorted(unplaced)} sans placement partiel autorisé"]
    if set(assignment) | unplaced != set(learners) or set(assignment) & unplaced:
        missing = sorted(set(learners) - set(assignment) - unplaced)
        extra = sorted(set(assignment) - set(learners))
        both = sorted(set(assignment) & unplaced)
        return [f"apprenants non affectés : {missing}, affectés en trop : {extra}, affectés et non placés : {both}"]
    fixed = {pair.learner for pair in instance.fixed}
    if unplaced & fixed:
        problems.append(f"apprenants fixés mais non placés : {sorted(unplaced & fixed)}")
    for lid, pid in assignment.items():
        if pid not in projects:
            problems.append(f"{lid} affecté à un projet inconnu {pid}")
        elif learners[lid].track not in projects[pid].tracks:
            problems.append(f"{lid} ({learners[lid].track}) sur {pid}, non ouvert à sa filière")
    if problems:
        return problems
    for pair in instance.forbidden:
        if assignment.get(pair.learner) == pair.project:
            problems.append(f"{pair.learner} sur {pair.project} malgré l'exclusion ({pair.reason})")
    for pair in instance.fixed:
        if assignment.get(pair.learner) != pair.project:
            problems.append(f"{pair.learner} n'est pas sur {pair.project} où il est fixé ({pair.reason})")
    sizes = Counter(assignment.values())
    per_track = Counter((pid, learners[lid].track) for lid, pid in assignment.items())
    for pid, project in projects.items():
        size = sizes[pid]
        if size and not project.min_size <= size <= project.max_size:
            problems.append(f"{pid} ouvert avec {size} apprenants hors de [{project.min_size}, {project.max_size}]")
        for track, need in project.track_min.items():
            if size and per_track[pid, track] < need:
                problems.append(f"{pid} ouvert avec {per_track[pid, track]} {track} pour un minimum de {need}")
    banned = {(pair.learner, pair.project) for pair in instance.forbidden}
    for lid in sorted(unplaced):  # one more learner on an opened project with room keeps every minimum
        room = [pid for pid, p in projects.items() if sizes[pid] and sizes[pid] < p.max_size
                and learners[lid].track in p.tracks and (lid, pid) not in banned]
        if room:
            problems.append(f"{lid} non placé alors que le projet ouvert {room[0]} a encore de la place")
    opened = sorted(pid for pid in projects if sizes[pid])
    if sorted(solution.opened) != opened:
        problems.append(f"projets ouverts annoncés {sorted(solution.opened)}, réels {opened}")
    if sorted(solution.closed) != sorted(pid for pid in projects if not sizes[pid]):
        problems.append("liste des projets fermés incohérente")
    profile = rank_profile(instance, assignment)
    if tuple(solution.rank_profile) != profile:
        problems.append(f"profil des rangs annoncé {tuple(solution.rank_profile)}, recalculé {profile}")
    if set(solution.ranks) != set(assignment):
        problems.append("rangs annoncés pour d'autres apprenants que les affectés")
    for lid, rank in solution.ranks.items():
        if lid not in assignment:
            continue
        prefs = list(learners[lid].preferences)
        real = prefs.index(assignment[lid]) + 1 if assignment[lid] in prefs else instance.ranks + 1
        if rank != real:
            problems.append(f"rang de {lid} annoncé {rank}, réel {real}")
    worst = max((r for r, n in enumerate(profile, 1) if n), default=0)
    if solution.worst_rank != worst:
        problems.append(f"pire rang annoncé {solution.worst_rank}, réel {worst}")
    if solution.optimal and solution.gap != 0.0:
        problems.append(f"solution annoncée optimale avec un écart {solution.gap}")
    return problems

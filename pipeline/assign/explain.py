"""Why each learner did not get a better choice (French), and a check that no two learners gain by swapping.

For every project a learner ranked above the one they got, the reason is structural when one holds (track
not open, exclusion, fixed elsewhere, project closed for lack of applicants); otherwise it is computed:
the instance is re-solved with the learner forced onto that project and the objective levels are compared
with the solution's, level by level, stopping at the first that differs. Only those re-solves cost time (a few
milliseconds each on the flow path); interchangeable learners (same track, list and exclusions, not fixed)
forced onto the same project share one re-solve.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from pipeline.assign.model import InfeasibleAssignment, Instance, Pair, Solution
from pipeline.assign.solver import Counterfactual, counterfactual
from pipeline.io import fr


@dataclass(frozen=True)
class Reason:
    learner: str
    project: str  # a project the learner ranked above the one they got
    rank: int  # its rank in their list
    kind: str  # filiere | exclusion | fixe | ferme | contrefactuel | impossible | tirage
    text: str  # French, true of the solution
    forced_vector: tuple[int, ...] = ()  # levels of the re-solve with the learner forced there (computed kinds)


def explain(instance: Instance, solution: Solution, *, learners: list[str] | None = None,
            time_limit: float = 30.0) -> dict[str, list[Reason]]:
    """Reasons per learner (all learners by default), best-ranked project first."""
    projects = {p.id: p for p in instance.projects}
    forbidden = {(pair.learner, pair.project): pair.reason for pair in instance.forbidden}
    fixed = {pair.learner: pair for pair in instance.fixed}
    applicants = _applicants(instance, forbidden, fixed)
    sizes = Counter(solution.assignment.values())
    banned: dict[str, set[str]] = defaultdict(set)
    for learner_id, pid in forbidden:
        banned[learner_id].add(pid)
    cache: dict[tuple, Counterfactual | InfeasibleAssignment] = {}
    reasons: dict[str, list[Reason]] = {}
    for learner_id in learners or [lr.id for lr in instance.learners]:
        learner = instance.learner(learner_id)
        got = solution.ranks.get(learner_id, instance.unranked + 1)  # unplaced: every listed project was better
        reasons[learner_id] = []
        for rank, pid in enumerate(learner.preferences[:got - 1], 1):
            project = projects[pid]
            if learner.track not in project.tracks:
                reason = Reason(learner_id, pid, rank, "filiere", f"filière {learner.track} non ouverte sur ce projet")
            elif (learner_id, pid) in forbidden:
                reason = Reason(learner_id, pid, rank, "exclusion", f"exclusion : {forbidden[learner_id, pid]}")
            elif learner_id in fixed:
                pair = fixed[learner_id]
                reason = Reason(learner_id, pid, rank, "fixe", f"affectation fixée sur {pair.project} : {pair.reason}")
            elif sizes[pid] == 0 and (short := _short_of_minimum(project, applicants[pid])):
                reason = Reason(learner_id, pid, rank, "ferme", f"projet fermé : {short}")
            else:
                # interchangeable learners (same track, list and exclusions, none fixed) share the re-solve
                key = (learner.track, learner.preferences, frozenset(banned[learner_id]), pid)
                reason = _computed(instance, solution, learner_id, pid, rank, sizes[pid], time_limit, cache, key)
            reasons[learner_id].append(reason)
    return reasons


def improving_swaps(instance: Instance, solution: Solution) -> list[tuple[str, str]]:
    """Pairs of learners who could exchange projects and both get a better rank (none at an optimum).

    A swap must keep both learners on projects open to their track, not excluded, neither may be fixed, and
    both teams must keep their per-track minimums.
    """
    projects = {p.id: p for p in instance.projects}
    forbidden = {(pair.learner, pair.project) for pair in instance.forbidden}
    fixed = {pair.learner for pair in instance.fixed}
    assignment = solution.assignment

    def wants(learner_id: str) -> list[str]:
        """Projects the learner could take and ranks strictly above their own."""
        learner = instance.learner(learner_id)
        better = learner.preferences[:solution.ranks[learner_id] - 1]
        return [p for p in better if learner.track in projects[p].tracks and (learner_id, p) not in forbidden]

    candidates: dict[tuple[str, str], list[str]] = defaultdict(list)  # (has, wants) -> learners
    for learner_id in sorted(assignment):
        if learner_id not in fixed:
            for pid in wants(learner_id):
                candidates[assignment[learner_id], pid].append(learner_id)
    def keeps_track_minimums(a: str, b: str) -> bool:
        """Exchanging learners of different tracks must leave both teams at their per-track minimums."""
        ta, tb = instance.learner(a).track, instance.learner(b).track
        if ta == tb:
            return True
        for leaving, project in ((ta, assignment[a]), (tb, assignment[b])):
            need = projects[project].track_min.get(leaving, 0)
            have = sum(1 for lid, pid in assignment.items() if pid == project and instance.learner(lid).track == leaving)
            if have - 1 < need:
                return False
        return True

    swaps = []
    for (has, want), group in sorted(candidates.items()):
        if has < want:
            swaps += [(a, b) for a in group for b in candidates.get((want, has), []) if keeps_track_minimums(a, b)]
    return swaps


def _applicants(instance: Instance, forbidden: dict, fixed: dict[str, Pair]) -> dict[str, Counter]:
    """Per project, learners who listed it and could go there, by track."""
    projects = {p.id: p for p in instance.projects}
    counts: dict[str, Counter] = defaultdict(Counter)
    for learner in instance.learners:
        for pid in learner.preferences:
            if (learner.track in projects[pid].tracks and (learner.id, pid) not in forbidden
                    and fixed.get(learner.id, Pair(learner.id, pid, "")).project == pid):
                counts[pid][learner.track] += 1
    return counts


def _short_of_minimum(project, applicants: Counter) -> str | None:
    total = sum(applicants.values())
    if total < project.min_size:
        return f"{fr.count(total, 'candidature')} pour un minimum de {project.min_size}"
    for track, need in sorted(project.track_min.items()):
        if applicants[track] < need:
            return f"{fr.count(applicants[track], 'candidature')} {track} pour un minimum de {need} {track}"
    return None


def _computed(instance: Instance, solution: Solution, learner_id: str, pid: str, rank: int, size: int,
              time_limit: float, cache: dict, key: tuple) -> Reason:
    if key not in cache:
        forced = replace(instance, fixed=instance.fixed + (Pair(learner_id, pid, "contrefactuel"),))
        try:
            cache[key] = counterfactual(forced, solution.objective_vector, time_limit=time_limit)
        except InfeasibleAssignment as error:
            cache[key] = error
    result = cache[key]
    if isinstance(result, InfeasibleAssignment):
        return Reason(learner_id, pid, rank, "impossible", f"impossible de vous y placer : {result.message}")
    project = instance.project(pid)
    full = f"le projet {pid} est complet ({size}/{project.max_size}) et " if size == project.max_size else ""
    level = next((k for k, (a, b) in enumerate(zip(result.vector, solution.objective_vector)) if a != b), None)
    if level is None:
        return Reason(learner_id, pid, rank, "tirage",
                      f"à niveau de satisfaction égal, le tirage au sort (graine {instance.seed}) a retenu une "
                      f"autre répartition", result.vector)
    before, after = solution.objective_vector[level], result.vector[level]
    closed = sorted(set(solution.opened) - result.opened)
    example = f" (par exemple en fermant le projet {', '.join(closed)})" if closed else ""
    text = f"{full}vous placer sur {pid} {_consequence(instance, solution, learner_id, level, before, after)}"
    return Reason(learner_id, pid, rank, "contrefactuel", text + example, result.vector)


def _consequence(instance: Instance, solution: Solution, learner_id: str, level: int, before: int,
                 after: int) -> str:
    if instance.allow_unplaced:  # the first level counts the unplaced learners
        if level == 0:
            return f"laisserait {fr.count(after - before, 'autre apprenant', 'autres apprenants')} sans placement"
        level -= 1
    if instance.objective == "sum_of_ranks":
        return (f"augmenterait la somme des rangs de {fr.integer(after - before)} "
                f"(de {fr.integer(before)} à {fr.integer(after)})")
    if instance.objective == "rank_maximal":
        return (f"ferait passer de {fr.integer(-before)} à {fr.integer(-after)} le nombre d'apprenants obtenant leur "
                f"{fr.ordinal(level + 1)} choix")
    rank = instance.unranked - level
    others = after - before
    if rank > solution.ranks.get(learner_id, instance.unranked + 1):
        own = "son" if others == 1 else "leur"
        fate = (f"à n'obtenir aucun de {'ses' if others == 1 else 'leurs'} choix" if rank == instance.unranked
                else f"à descendre à {own} {fr.ordinal(rank)} choix")
        return f"obligerait {fr.count(others, 'autre apprenant', 'autres apprenants')} {fate}"
    what = "sans aucun de leurs choix" if rank == instance.unranked else f"à leur {fr.ordinal(rank)} choix"
    return f"ferait passer de {fr.integer(before)} à {fr.integer(after)} le nombre d'apprenants {what}"

"""Independent groups solved side by side: one instance per group (a pôle's basins), one worker process per core.

Learners never cross a group (a pupil goes only to the offers of their basin), so a pooled instance is the
disjoint union of its groups' instances and its lexicographic optimum is the union of theirs: each level is a
sum over the groups, and the least sum of independent terms is the sum of their least values, level after level.
:func:`split_by_group` cuts a pooled instance into its groups (with a clear error for a learner who lists a
project of another group); :func:`solve_by_group` solves them in parallel worker processes, largest first,
and returns the solutions in the groups' order whatever the order in which the workers finish, so a run is as
deterministic as each group's own solve.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from time import perf_counter
from typing import Mapping

from pipeline.assign.model import InfeasibleAssignment, Instance, InvalidInstance, Solution
from pipeline.assign.solver import solve


@dataclass(frozen=True)
class GroupRun:
    """One group's solution, with the wall time and peak memory (MiB) of the worker process that solved it."""
    solution: Solution
    time: float
    peak_mib: float


def split_by_group(instance: Instance, learner_group: Mapping[str, str],
                   project_group: Mapping[str, str]) -> dict[str, Instance]:
    """The instance cut into one instance per group (groups in order of first appearance among the projects,
    then the learners); fixed and forbidden pairs follow their learner. Raises :class:`InvalidInstance` (French)
    when a learner or project has no group, or a learner lists, or is fixed on, a project of another group."""
    problems = [f"apprenant {lr.id} sans groupe" for lr in instance.learners if lr.id not in learner_group]
    problems += [f"projet {p.id} sans groupe" for p in instance.projects if p.id not in project_group]
    if not problems:
        for lr in instance.learners:
            other = [pid for pid in lr.preferences if project_group[pid] != learner_group[lr.id]]
            if other:
                problems.append(f"apprenant {lr.id} ({learner_group[lr.id]}) : choix hors de son groupe "
                                f"({', '.join(f'{pid} : {project_group[pid]}' for pid in other)})")
        for pair in instance.fixed:
            if project_group[pair.project] != learner_group[pair.learner]:
                problems.append(f"apprenant {pair.learner} fixé sur {pair.project}, hors de son groupe")
    if problems:
        raise InvalidInstance("Répartition par groupe impossible : " + " ; ".join(problems[:20])
                              + (f" ; et {len(problems) - 20} autres" if len(problems) > 20 else ""))
    names = list(dict.fromkeys([project_group[p.id] for p in instance.projects]
                               + [learner_group[lr.id] for lr in instance.learners]))
    parts: dict[str, tuple[list, list, list, list]] = {name: ([], [], [], []) for name in names}
    for lr in instance.learners:
        parts[learner_group[lr.id]][0].append(lr)
    for p in instance.projects:
        parts[project_group[p.id]][1].append(p)
    for pair in instance.fixed:
        parts[learner_group[pair.learner]][2].append(pair)
    for pair in instance.forbidden:  # an exclusion from another group's project has no object there
        if project_group[pair.project] == learner_group[pair.learner]:
            parts[learner_group[pair.learner]][3].append(pair)
    out = {name: replace(instance, learners=tuple(learners), projects=tuple(projects), fixed=tuple(fixed),
                         forbidden=tuple(forbidden))
           for name, (learners, projects, fixed, forbidden) in parts.items()}
    return out


def solve_by_group(groups: Mapping[str, Instance], *, time_limit: float = 30.0, backend: str = "flow",
                   workers: int | None = None) -> dict[str, GroupRun]:
    """Each group's solution (``time_limit`` per group), solved in ``workers`` processes (default: one per
    core; 1 solves in this process). Raises :class:`InfeasibleAssignment` naming every group without an
    assignment, with its conflicts."""
    names = list(groups)
    workers = min(workers or os.cpu_count() or 1, max(1, len(names)))
    order = sorted(names, key=lambda name: -len(groups[name].learners))  # largest first: balanced workers
    results: dict[str, GroupRun | list[str]] = {}
    if workers == 1:
        for name in order:
            results[name] = _run(groups[name], time_limit, backend)
    else:
        context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {name: pool.submit(_run, groups[name], time_limit, backend) for name in order}
            results = {name: future.result() for name, future in futures.items()}
    failed = [name for name in names if isinstance(results[name], list)]
    if failed:
        raise InfeasibleAssignment([f"{name} : {conflict}" for name in failed for conflict in results[name]])
    return {name: results[name] for name in names}


def _run(instance: Instance, time_limit: float, backend: str) -> GroupRun | list[str]:
    """A group's run, or its conflicts when it has no assignment (returned, not raised, so that every group's
    conflicts are reported together: the error's own arguments would not survive the trip between processes)."""
    start = perf_counter()
    try:
        solution = solve(instance, time_limit=time_limit, backend=backend)
    except InfeasibleAssignment as error:
        return error.conflicts
    return GroupRun(solution, perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

"""The assignment solver: every learner on exactly one project, lexicographically optimal, proven, unique.

With ``Instance.allow_unplaced`` (fewer places than learners) a learner may stay without a project: a first
level then minimises the number of unplaced learners, and the objective and the lottery apply among the placed
(``Solution.unplaced`` lists the others). Independent groups (a pôle's basins) are solved side by side by
:func:`pipeline.assign.groups.solve_by_group`.

This module is the entry point; the work is done by:

* :mod:`pipeline.assign.precheck`: the common reasons why no assignment exists, in French, and the diagnosis
  of an infeasible instance by re-solving without each family of constraints;
* :mod:`pipeline.assign.network`: interchangeable learners aggregated into classes, and the lottery numbers;
* :mod:`pipeline.assign.objective`: the objective as lexicographic levels, and the :class:`Solution`;
* :mod:`pipeline.assign.flowmodel` and :mod:`pipeline.assign.branch`: the default path (``backend="flow"``),
  min-cost flows level by level with branch and bound on the projects' minimum sizes;
* :mod:`pipeline.assign.mip`: any other backend name, a pywraplp MIP solved level by level;
* :mod:`pipeline.assign.lottery`: the seeded lottery that makes the optimum unique, and its proof;
* :mod:`pipeline.assign.counterfactual`: the rank levels of a re-solve, for the explanations.

The flow path returns the same solution as the MIP whenever the lottery minimiser is proven unique, and hands
over to the MIP only when it cannot decide that uniqueness itself (rare, small instances only; the status then
says "repli sur le MIP").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from pipeline.assign.branch import MIP_FALLBACK_LEARNERS, _flow_solve
from pipeline.assign.counterfactual import Counterfactual, counterfactual
from pipeline.assign.lexflow import GROUP_LEVELS
from pipeline.assign.lottery import MAX_DRAWS, UNIQUENESS_TIME
from pipeline.assign.mip import _solve
from pipeline.assign.model import Instance, Solution
from pipeline.assign.network import LOTTERY_RANGE, Klass, Network, build_network, draw
from pipeline.assign.objective import OBJECTIVE_LABELS, objective_vector
from pipeline.assign.precheck import precheck

__all__ = ["BACKENDS", "GROUP_LEVELS", "LOTTERY_RANGE", "MAX_DRAWS", "MIP_FALLBACK_LEARNERS", "OBJECTIVE_LABELS",
           "UNIQUENESS_TIME", "Counterfactual", "Klass", "Network", "build_network", "counterfactual", "draw",
           "objective_vector", "precheck", "solve", "solve_keep_published"]

BACKENDS = ("flow", "SCIP", "CBC", "CP-SAT")  # "flow": min-cost flow + branch and bound (default); else a MIP


def solve(instance: Instance, *, time_limit: float = 30.0, backend: str = "flow") -> Solution:
    """The unique optimal assignment of ``instance`` (see the module docstring).

    ``backend="flow"`` (default) solves min-cost flows with branch and bound on the projects' minimums;
    ``time_limit`` then bounds the whole search (seconds; the deadline is checked before each level once a
    first flow exists, and the heuristic rounds that make a first assignment may take half the limit more): when
    it is up, the best assignment found is returned with
    ``optimal=False`` and its ``gap`` (a feasible instance always gets an assignment, see
    :mod:`pipeline.assign.incumbent`). Any other backend is a pywraplp MIP solver (``"SCIP"``...),
    ``time_limit`` being per level (:class:`AssignmentTimeout` when a level finds no solution in time). The
    flow path hands over to the MIP (SCIP) in the one case it cannot decide, the status then says so. Raises :class:`InfeasibleAssignment` (French, naming the
    conflicting constraints) when no assignment exists.
    """
    return _dispatch(instance, {}, time_limit, backend)


def _dispatch(instance: Instance, homes: dict[str, str], time_limit: float, backend: str) -> Solution:
    if backend != "flow":
        return _solve(instance, homes, time_limit, backend)
    solution = _flow_solve(instance, homes, time_limit)
    if solution is not None:
        return solution
    solution = _solve(instance, homes, time_limit, "SCIP")
    return replace(solution, status=solution.status + " ; repli sur le MIP (SCIP) : unicité indécidable par le flot")


def solve_keep_published(instance: Instance, published: Mapping[str, str], withdrawn: Iterable[str], *,
                         time_limit: float = 30.0, backend: str = "flow") -> Solution:
    """Re-solve after withdrawals, keeping everyone else at their published project as far as possible.

    The withdrawn learners leave the instance (with their fixed/forbidden pairs); the first level minimises
    the number of remaining learners moved from ``published``, then the instance's objective and lottery
    apply. ``Solution.moved`` lists who moves.
    """
    gone = set(withdrawn)
    kept = replace(instance,
                   learners=tuple(lr for lr in instance.learners if lr.id not in gone),
                   fixed=tuple(pair for pair in instance.fixed if pair.learner not in gone),
                   forbidden=tuple(pair for pair in instance.forbidden if pair.learner not in gone))
    homes = {lid: pid for lid, pid in published.items() if lid not in gone}
    return _dispatch(kept, homes, time_limit, backend)

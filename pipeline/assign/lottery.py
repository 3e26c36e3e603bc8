"""The seeded lottery that makes the optimal assignment unique, and the proof that it does.

The LAST level of the objective is a seeded lottery. Every aggregated arc (class -> project, hub -> project) gets
an integer weight in [1, 2**24] drawn from BLAKE2b(seed, draw, arc) (:func:`pipeline.assign.network.draw`);
among the rank-optimal solutions the solver minimises the total weight. By the isolation lemma the minimiser is
unique with probability at least 1 - #arcs / 2**24; the solver then tries to *prove* it:

* on the MIP path (:func:`_lottery`) it asks for another solution with the same levels and lottery value in
  which some used arc carries fewer learners (any different solution has one, since class and hub totals are
  fixed). Proven infeasible: unique. Found: the weights are redrawn with the next draw number. Not decided
  within ``UNIQUENESS_TIME``: the status says so (the draw-0 minimiser is kept);
* on the flow path (:func:`_unique`) it looks for a cycle in the residual graph of the optimal face, first
  with the leaf's opened set frozen, then with the opened set free; when only the latter has one, the MIP
  decides.

Inside a class, learners are ordered by their own lottery number (BLAKE2b(seed, learner id)) and take the
class's places best rank first; hub places go to hub learners in lottery order, projects in lottery order
(:func:`_place`). Same inputs and seed therefore give the same assignment on any machine when the status says
"unique"; the solver is also single-threaded, so a run is repeatable on one machine in any case.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Iterable, Mapping

from pipeline.assign import flow as fl
from pipeline.assign.network import Network, draw

if TYPE_CHECKING:
    from pipeline.assign.branch import _Node
    from pipeline.assign.flowmodel import _FlowModel
    from pipeline.assign.mip import _Lexicographic, _Model

MAX_DRAWS = 5
UNIQUENESS_TIME = 2.0  # seconds for the uniqueness proof of each draw


def _lottery(model: _Model, lex: _Lexicographic) -> tuple[int, int, bool | None]:
    """Minimise the seeded lottery among the optimal solutions; prove the minimiser unique, else redraw.

    Returns (lottery value, draw number, unique) with ``unique`` None when the proof ran out of time.
    """
    m = model.solver
    infinity = m.infinity()
    for draw_index in range(MAX_DRAWS):
        terms = model.lottery(draw_index)
        status, value, _ = lex.minimise(terms)
        if status != "OPTIMAL":
            lex.optimal = False
            lex.notes.append("tirage au sort non prouvé optimal")
            return value, draw_index, False
        values = dict(lex.values)
        same_draw = lex.fix(terms, value, value)
        lowered = []  # lowered[a] = 1 forces used arc a to carry fewer learners than in this solution
        for var in model.variables:
            used = values[var.index()]
            if used > 0:
                flag = m.BoolVar("")
                lex.fix([(var, 1), (flag, var.ub() - used + 1)], -infinity, var.ub())
                lowered.append(flag)
        some = lex.fix([(flag, 1) for flag in lowered], 1, infinity)
        budget, lex.time_limit = lex.time_limit, min(lex.time_limit, UNIQUENESS_TIME)
        other, _, _ = lex.minimise([])
        lex.values, lex.time_limit = values, budget
        if other == "INFEASIBLE":
            return value, draw_index, True
        if other not in ("OPTIMAL", "FEASIBLE"):
            return value, draw_index, None
        some.SetBounds(0, infinity)
        same_draw.SetBounds(-infinity, infinity)
    return value, MAX_DRAWS - 1, False

def _place(net: Network, class_arcs: Iterable[tuple[int, str, int, int]],
           hub_arcs: Iterable[tuple[str, str, int]], unplaced: Mapping[int, int] | None = None) -> dict[str, str]:
    """Learners onto the aggregated solution: within a class, lottery order takes the best-ranked places.

    ``class_arcs``: (class index, project, rank, learners); ``hub_arcs``: (track, project, learners);
    ``unplaced``: class index -> learners of the class left without a project (allow_unplaced), the last ones
    of the class in lottery order; they are absent from the returned plan.
    """
    unplaced = unplaced or {}
    seed = net.instance.seed
    order = {p.id: draw(seed, "project", p.id) for p in net.instance.projects}
    plan = dict(net.fixed)
    seats: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for index, pid, rank, count in class_arcs:
        if count:
            seats[index] += [(rank, order[pid], pid)] * count
    pool: dict[str, list[str]] = defaultdict(list)
    for index, klass in enumerate(net.classes):
        places = seats.get(index)
        members = klass.members
        if unplaced.get(index):
            members = members[:len(members) - unplaced[index]]
        if not places:
            pool[klass.track] += members
        elif len(places) == 1:
            plan[members[0]] = places[0][2]
            if len(members) > 1:
                pool[klass.track] += members[1:]
        else:
            places.sort()
            plan.update((lid, place[2]) for lid, place in zip(members, places))
            pool[klass.track] += members[len(places):]
    hub_places: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for track, pid, count in hub_arcs:
        if count:
            hub_places[track] += [(order[pid], pid)] * count
    for track, learners in pool.items():
        learners.sort(key=lambda lid: (draw(seed, "learner", lid), lid))
        places = sorted(hub_places[track])
        plan.update((lid, place[1]) for lid, place in zip(learners, places))
    return {lr.id: plan[lr.id] for lr in net.instance.learners if lr.id in plan}

def _unique(model: _FlowModel, node: _Node) -> bool | None:
    """Whether the leaf's optimal flow is the only optimal assignment (None: cannot tell without the MIP)."""
    n, t, h = model.n_nodes, model.tail, model.head
    exact_lo, exact_cap = node.lo.copy(), node.cap.copy()
    projects = model.net.instance.projects
    for i in model.binary:
        if i in node.decisions:
            continue
        arc = model.size_arc[i]
        if node.flow[arc]:
            exact_lo[arc] = max(exact_lo[arc], projects[i].min_size)
            for track, need in model.needs[i].items():
                exact_lo[model.track_arc[i, track]] = max(exact_lo[model.track_arc[i, track]], need)
        else:
            exact_cap[arc] = 0
    if fl.has_cycle(n, t, h, exact_lo, exact_cap, node.flow):
        return False  # another feasible optimum with the same opened projects
    if not fl.has_cycle(n, t, h, node.lo, node.cap, node.flow):
        return True
    return None  # other optima exist only by opening/closing projects: let the MIP decide

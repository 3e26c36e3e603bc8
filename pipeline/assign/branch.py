"""The min-cost-flow path (default): lexicographic levels by min-cost flows, minimum sizes by branch and bound.

Each lexicographic level is solved on the network of :mod:`pipeline.assign.flowmodel` by OR-tools' min-cost
flow; optimal dual prices then fix every arc whose reduced cost is non-zero (complementary slackness), so the next
level is optimised over exactly the optimal flows of the previous ones (see :mod:`pipeline.assign.flow`). One
min-cost flow per level (measured faster than weighting unit levels together, see ``GROUP_LEVELS``). A unit level
(costs in {0, 1} or {0, -1}) is solved by the primal-dual method, a few OR-tools max flows warm-started from the
previous level's flow, which also yields the dual prices; other levels and the lottery by OR-tools' min-cost
flow (measured at 100 000 learners: a unit level in 0.3-0.9 s instead of up to 4 s).

Minimum sizes are handled by branch and bound: every project whose minimum matters starts relaxed to [0, max];
a project whose flow falls strictly between 0 and its minimum (or misses a per-track minimum) is branched on
(closed / opened with its minimums as lower bounds), best bound first, the bound being the relaxation's
lexicographic vector, lottery included. A child is solved inside its parent's optimal face when it fits there
(same rank levels, only the lottery to solve); otherwise its rank levels are strictly worse and it waits with
that stronger bound. The lottery is the same as the MIP's (same weights on the same aggregated arcs), so when the
minimiser is proven unique both paths return the same assignment. When the flow path cannot decide uniqueness
itself (rare, small instances only), :func:`_flow_solve` returns None and the caller hands over to the MIP.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from pipeline.assign import flow as fl
from pipeline.assign.flowmodel import _FlowModel
from pipeline.assign.lottery import MAX_DRAWS, _place, _unique
from pipeline.assign.model import AssignmentTimeout, InfeasibleAssignment, Instance, Solution
from pipeline.assign.network import build_network
from pipeline.assign.objective import _solution
from pipeline.assign.precheck import _diagnose, precheck

MIP_FALLBACK_LEARNERS = 2000  # above, an undecided uniqueness is reported as such rather than handed to the MIP
GROUP_LEVELS = False  # weight several unit levels into one min-cost flow (fewer, but slower, solves)


@dataclass
class _Node:
    vector: tuple[int, ...]
    flow: np.ndarray
    lo: np.ndarray
    cap: np.ndarray
    decisions: dict[int, bool]
    ranks: int = 0  # how many entries of ``vector`` are rank levels
    # the optimal flows of the rank levels: lower bounds, then the arcs still free and their capacities
    face: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def light(self) -> _Node:
        """What the children need (the face), without the per-arc arrays of this node's own solution."""
        empty = np.zeros(0, np.int64)
        return _Node(self.vector, empty, empty, empty, self.decisions, self.ranks, self.face)


def _lex_flow(model: _FlowModel, lo: np.ndarray, cap: np.ndarray, levels: list, draw_index: int | None,
              worse, prefix: tuple[int, ...] = ()) -> _Node | None | bool:
    """Solve the levels (then the lottery of ``draw_index``) one group after the other on (lo, cap).

    Returns the node (``lo``/``cap`` restricted to the optimal flows), None when infeasible, or False as soon
    as the values so far make ``worse(values)`` true.
    """
    n, t, h = model.n_nodes, model.tail, model.head
    base = model.n_free + 1
    limit = 2**61 // max(n + 2, model.n_free + 1)  # OR-tools scales costs by the number of nodes
    values: list[int] = list(prefix)
    flow = None
    i = 0
    todo = len(levels) + (draw_index is not None)
    face = (lo, cap)
    while i < todo:
        if i == len(levels):
            face = (lo, cap)
        if i < len(levels):
            g = 1
            while (GROUP_LEVELS and levels[i][3] and i + g < len(levels) and levels[i + g][3]
                   and base ** (g + 1) <= limit):
                g += 1
            group = levels[i:i + g]
            cost = np.zeros(t.size, np.int64)
            for label, level_cost, _, _ in group:
                cost = cost * base + level_cost
        else:
            g, group = 1, None
            free = np.flatnonzero(cap > lo)
            cost = np.zeros(t.size, np.int64)
            cost[free] = model.lottery(draw_index, free)
        d = None
        if group is not None and len(group) == 1 and group[0][3]:
            # unit costs: a few max flows, warm-started from the previous level's flow (see flow.py)
            try:
                flow, d = fl.min_cost_flow_by_max_flows(n, t, h, lo, cap, cost, model.supply, flow)
            except fl.Infeasible:
                return None
        elif not (flow is not None and cost.min() >= 0 and cost @ flow == cost @ lo):
            # (else the current flow already meets the trivial bound: optimal as it is)
            try:
                flow = fl.min_cost_flow(n, t, h, lo, cap, cost, model.supply)
            except fl.Infeasible:
                return None
        if group is None:
            used = np.flatnonzero(flow)
            values.append(int(model.lottery(draw_index, used) @ flow[used]))
        else:
            values += [int(level_cost @ flow) + constant for _, level_cost, constant, _ in group]
        if worse is not None and worse(values):
            return False
        i += g
        if d is None:
            d = fl.potentials(n, t, h, lo, cap, flow, cost)
        # (the restricted network also serves the children)
        lo, cap = fl.restrict(t, h, lo, cap, flow, cost, d)
    if flow is None:  # no level at all: feasibility only
        try:
            flow = fl.min_cost_flow(n, t, h, lo, cap, np.zeros(t.size, np.int64), model.supply)
        except fl.Infeasible:
            return None
        if worse is not None and worse(values):
            return False
    if i == len(levels):
        face = (lo, cap)
    free = np.flatnonzero(face[1] > face[0]).astype(np.int32)
    return _Node(tuple(values), flow, lo, cap, {}, len(prefix) + len(levels),
                 (face[0].astype(np.int32), free, face[1][free].astype(np.int32)))


_WORSE = object()  # a node's rank levels are strictly worse than its parent's (see _evaluate)


def _evaluate(model: _FlowModel, decisions: dict[int, bool], parent: _Node | None, levels: list,
              draw_index: int | None, worse) -> _Node | None | bool | object:
    """A node's relaxation. When the parent's optimal flows for the rank levels include one that meets the
    node's extra bounds, the node has the same rank levels and its optimal flows are exactly those: only the
    lottery (or feasibility) is solved, on that much smaller network. When none does, the node's rank levels
    are strictly worse than the parent's: :data:`_WORSE` is returned without solving (the caller re-queues
    the node with that stronger bound and evaluates it in full only if it is still needed)."""
    limits = model.bounds(decisions)
    if limits is None:
        return None
    if parent is not None and parent.face is not None:
        face_lo, free, free_cap = parent.face
        face_cap = face_lo.astype(np.int64)
        face_cap[free] = free_cap
        lo = np.maximum(limits[0], face_lo)
        cap = np.minimum(limits[1], face_cap)
        if (lo <= cap).all():
            node = _lex_flow(model, lo, cap, [], draw_index, worse, parent.vector[:parent.ranks])
            if node is not None:
                return node
        return _WORSE
    return _lex_flow(model, *limits, levels, draw_index, worse)


def _successor(ranks: tuple[int, ...]) -> tuple[int, ...]:
    """The least integer vector strictly greater than ``ranks`` in every longer extension's order: a lower
    bound for any vector whose first ``len(ranks)`` entries are lexicographically greater than ``ranks``."""
    return ranks[:-1] + (ranks[-1] + 1,) if ranks else ranks


@dataclass
class _FlowResult:
    node: _Node | None
    optimal: bool
    gap: float
    unique: bool | None  # None: not decided by the flow path
    nodes: int


def _branch_and_bound(model: _FlowModel, levels: list, draw_index: int | None, deadline: float,
                      ties: bool) -> _FlowResult:
    """Lexicographic optimum over the opened sets, best bound first. With ``ties``, nodes whose bound equals
    the incumbent are explored too, so that another optimum with a different opened set is detected.

    A child is first evaluated inside its parent's optimal face (cheap); when that face cannot hold it, its
    bound becomes the successor of the parent's rank levels and it is re-queued for a full evaluation, which
    happens only if no incumbent beats that bound first. Violated projects that every optimal flow of the
    parent opens are branched on together: one child opens them all (inside the face), and child k closes
    the k-th of them after opening the previous ones (outside the face: queued with the successor bound)."""
    heap: list[tuple[tuple[int, ...], int, dict[int, bool], _Node | None]] = [((), 0, {}, None)]
    counter = 1
    best: _Node | None = None
    tie = False
    explored = 0

    def push(bound, decisions, parent):
        nonlocal counter
        heapq.heappush(heap, (bound, counter, decisions, parent))
        counter += 1

    while heap:
        bound, _, decisions, parent = heapq.heappop(heap)
        if best is not None and (bound > best.vector or (not ties and bound >= best.vector)):
            break
        if perf_counter() > deadline and best is not None:
            level = next((k for k, (a, b) in enumerate(zip(best.vector, bound)) if a != b), None)
            gap = 0.0 if level is None else abs(best.vector[level] - bound[level]) / max(1, abs(best.vector[level]))
            return _FlowResult(best, False, gap, None, explored)
        if perf_counter() > deadline:
            raise AssignmentTimeout("aucune affectation trouvée dans le temps imparti (flot, séparation et "
                                    "évaluation)")
        if best is None:
            worse = None
        elif ties:
            worse = lambda values, ref=best.vector: tuple(values) > ref[:len(values)]  # noqa: E731
        else:
            worse = lambda values, ref=best.vector: tuple(values) >= ref[:len(values)] and (  # noqa: E731
                tuple(values) > ref[:len(values)] or len(values) == len(ref))
        node = _evaluate(model, decisions, parent, levels, draw_index, worse)
        if node is _WORSE:
            if parent.ranks:
                push(max(bound, _successor(parent.vector[:parent.ranks])), decisions, None)
            else:
                push(bound, decisions, None)
            continue
        explored += 1
        if not node:
            continue
        node.decisions = decisions
        broken = model.violations(node.flow, decisions)
        if not broken:
            if best is None or node.vector < best.vector:
                best, tie = node, False
            elif node.vector == best.vector and not np.array_equal(node.flow, best.flow):
                tie = True
            continue
        light = node.light()
        forced = _forced_open(model, node, broken)
        if forced and node.ranks:
            outside = _successor(node.vector[:node.ranks])
            for k, project in enumerate(forced):
                push(outside, {**decisions, **{i: True for i in forced[:k]}, project: False}, None)
            push(node.vector, {**decisions, **{i: True for i in forced}}, light)
            continue
        project = broken[0]
        for opened in (False, True):
            push(node.vector, {**decisions, project: opened}, light)
    if best is None:
        return _FlowResult(None, True, 0.0, None, explored)
    unique = None
    if draw_index is not None:
        unique = False if tie else _unique(model, best)
    return _FlowResult(best, True, 0.0, unique, explored)


def _forced_open(model: _FlowModel, node: _Node, projects: list[int]) -> list[int]:
    """Those of ``projects`` that every optimal flow of the node's rank levels keeps open."""
    face_lo, free, free_cap = node.face
    face_cap = face_lo.astype(np.int64)
    face_cap[free] = free_cap
    arcs = [model.size_arc[i] for i in projects]
    closable = fl.reducible(model.n_nodes, model.tail, model.head, face_lo.astype(np.int64), face_cap, node.flow,
                            arcs)
    return [i for i, ok in zip(projects, closable.tolist()) if not ok]

def _flow_solve(instance: Instance, homes: dict[str, str], time_limit: float) -> Solution | None:
    """The flow path; None when it cannot decide uniqueness (the caller then runs the MIP)."""
    start = perf_counter()
    conflicts = precheck(instance)
    if conflicts:
        raise InfeasibleAssignment(conflicts)
    net = build_network(instance, homes)
    model = _FlowModel(net)
    levels = model.levels(bool(homes))
    deadline = start + time_limit
    unique: bool | None = False
    result = None
    draw_index = 0
    for draw_index in range(MAX_DRAWS):
        result = _branch_and_bound(model, levels, draw_index, deadline, ties=True)
        if result.node is None:
            raise InfeasibleAssignment(_diagnose(instance, lambda relaxed: _flow_feasible(relaxed, time_limit)))
        unique = result.unique
        if unique is None and result.optimal and len(instance.learners) <= MIP_FALLBACK_LEARNERS:
            return None
        if unique is not False or not result.optimal:
            break
    node = result.node
    plan = _flow_assignment(model, node.flow)
    vector, lottery_value = node.vector[:-1], node.vector[-1]
    notes = [] if result.optimal else ["séparation et évaluation interrompue par la limite de temps"]
    if unique is False and result.optimal:
        notes.append(f"plusieurs optimums subsistent après {MAX_DRAWS} tirages")
    return _solution(instance, plan, homes, tuple(vector), lottery_value, draw_index, result.optimal, result.gap,
                     unique, notes, start)


def _flow_assignment(model: _FlowModel, flow: np.ndarray) -> dict[str, str]:
    net, projects = model.net, model.net.instance.projects
    arcs = np.flatnonzero((flow > 0) & (model.kind == model.ARC))
    ranks = model.rank[arcs].tolist()
    class_arcs = [(c, projects[p].id, r, f) for c, p, r, f in
                  zip(model.tail[arcs].tolist(), model.proj[arcs].tolist(), ranks, flow[arcs].tolist())]
    hubs = np.flatnonzero((flow > 0) & (model.kind == model.HUB))
    hub_arcs = [(model._hub_track(t), projects[p].id, f) for t, p, f in
                zip(model.tail[hubs].tolist(), model.proj[hubs].tolist(), flow[hubs].tolist())]
    return _place(net, class_arcs, hub_arcs)


def _flow_sizes(model: _FlowModel, flow: np.ndarray) -> dict[str, int]:
    net = model.net
    return {p.id: net.fixed_size[p.id] + int(flow[model.size_arc[i]]) for i, p in enumerate(net.instance.projects)}

def _flow_feasible(instance: Instance, time_limit: float) -> bool:
    model = _FlowModel(build_network(instance))
    return _branch_and_bound(model, [], None, perf_counter() + time_limit, ties=False).node is not None

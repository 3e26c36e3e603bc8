"""The min-cost-flow path (default): minimum sizes by branch and bound over the opened projects.

Each node solves the lexicographic levels by min-cost flows (:mod:`pipeline.assign.lexflow`). Minimum sizes
are handled by branch and bound: every project whose minimum matters starts relaxed to [0, max];
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
from pipeline.assign.incumbent import dive
from pipeline.assign.lexflow import _STOPPED, FREE, _lex_flow, _Node
from pipeline.assign.lottery import MAX_DRAWS, _place, _unique
from pipeline.assign.model import AssignmentTimeout, InfeasibleAssignment, Instance, Solution
from pipeline.assign.network import build_network
from pipeline.assign.objective import _solution
from pipeline.assign.precheck import _diagnose, precheck

MIP_FALLBACK_LEARNERS = 2000  # above, an undecided uniqueness is reported as such rather than handed to the MIP
DIVE_AT = 0.5  # share of the time limit after which a search without a feasible leaf dives for one
# time granted past the limit to the guided rounds of the dive (see incumbent.dive: at 100 000 learners of the
# minimums family the instant repair leaves 21 learners unranked, the two guided rounds none, in about 6 s of CPU):
# half the limit, at most DIVE_GRACE_MAX seconds, and no round starts that would end past it; a 10 s limit thus
# answers in 11-14 s on an idle machine
DIVE_GRACE = 0.5
DIVE_GRACE_MAX = 5.0


EXACT_DEFERRAL = True  # a deferred node waits with its exact bound (bisection), not the quick test's weaker one
_WORSE = object()  # a node's rank levels are strictly worse than its parent's (see _evaluate)


@dataclass(frozen=True)
class _Deferred:
    """A node outside its parent's face whose first ``low + 1`` levels are its parent's and whose next level is
    strictly worse (found by :func:`_warm`'s bisection): ``bound`` says so; the node waits with it and, if it is
    still needed, is solved from level ``low + 1`` without a new bisection."""
    bound: tuple[int, ...]
    low: int | None  # None: not known yet, only that the face of level ``high`` does not meet the node
    high: int


def _evaluate(model: _FlowModel, decisions: dict[int, bool], parent: _Node | None, inside: bool | _Deferred,
              levels: list, draw_index: int | None, worse, deadline: float | None = None,
              partial: list | None = None, next_bound: tuple[int, ...] | None = None) -> _Node | None | bool | object:
    """A node's relaxation (``partial``: see :func:`pipeline.assign.lexflow._lex_flow`, root only).
    ``inside``: when the parent's optimal flows for the rank levels include one that
    meets the node's extra bounds, the node has the same rank levels and its optimal flows are exactly those:
    only the lottery (or feasibility) is solved, on that much smaller network. When none does, the node's rank
    levels are strictly worse than the parent's: :data:`_WORSE` is returned without solving (the caller
    re-queues the node with that stronger bound and evaluates it, not ``inside``, only if it is still needed:
    see :func:`_warm`). ``next_bound``: the best bound waiting in the queue; a node that :func:`_warm` finds
    worse than it is returned as :class:`_Deferred` (and comes back with it as ``inside``)."""
    limits = model.bounds(decisions)
    if limits is None:
        return None
    if parent is not None and inside is True and parent.face is not None:
        face_lo, free, free_cap = parent.face
        face_cap = face_lo.astype(np.int64)
        face_cap[free] = free_cap
        lo = np.maximum(limits[0], face_lo)
        cap = np.minimum(limits[1], face_cap)
        if (lo <= cap).all():
            fixed_at = None
            if parent.fixed_at is not None:
                fixed_at = np.where(limits[0] == limits[1], -1, parent.fixed_at).astype(np.int8)
            node = _lex_flow(model, lo, cap, [], draw_index, worse, parent.vector[:parent.ranks], deadline,
                             fixed_at, prices=parent.prices)
            if node is not None:
                return node
        return _WORSE
    if parent is not None and parent.fixed_at is not None and parent.ranks == len(levels) and draw_index is not None:
        # (only with a lottery: without one, which of several optimal flows comes out depends on the path, and
        # the counterfactuals quote it)
        return _warm(model, limits, parent, levels, draw_index, worse, deadline,
                     inside if isinstance(inside, _Deferred) else None, next_bound)
    return _lex_flow(model, *limits, levels, draw_index, worse, deadline=deadline, partial=partial)


def _warm(model: _FlowModel, limits: tuple[np.ndarray, np.ndarray], parent: _Node, levels: list,
          draw_index: int | None, worse, deadline: float | None, known: _Deferred | None = None,
          next_bound: tuple[int, ...] | None = None) -> _Node | None | bool | object | _Deferred:
    """A node outside its parent's optimal face, solved from the deepest level it still shares with its parent.

    The parent's optimal flows for its first k+1 levels are its bounds with the arcs fixed at levels 0..k
    (``parent.fixed_at``). When the node's bounds meet them, the node has the parent's values for those
    levels and its optimal flows for them are exactly that intersection: only the levels after k remain to be
    solved, on a network with those arcs fixed. The deepest such k is found by bisection (one feasibility flow
    per step; feasibility only shrinks as k grows); k = -1 is a full solve. The node's level k + 1 is then
    strictly worse than its parent's: when that bound exceeds ``next_bound`` (another node comes first), the node
    is returned as :class:`_Deferred` instead of being solved (the levels after k of a child that closes a
    project cost several seconds at 100 000 learners, and most such children are never needed). Whether it does
    is decided by one feasibility flow before the bisection: with ``j`` the first level where ``next_bound``
    exceeds the parent's vector, the node waits exactly when the face of level ``j - 1`` does not meet it.
    ``known``: what an earlier call found about a deferred node (its k, or a level whose face does not meet it)."""
    n, t, h = model.n_nodes, model.tail, model.head
    base_lo, base_cap = limits
    labels, values = parent.fixed_at, parent.face[0]

    def box(k: int):
        sel = np.flatnonzero((labels >= 0) & (labels <= k))
        lo, cap = base_lo.copy(), base_cap.copy()
        lo[sel] = np.maximum(lo[sel], values[sel])
        cap[sel] = np.minimum(cap[sel], values[sel])
        if (lo[sel] > cap[sel]).any():
            return None
        try:
            return lo, cap, fl.feasible_flow(n, t, h, lo, cap, model.supply)
        except fl.Infeasible:
            return None

    low, high, found = -1, parent.ranks - 1, None  # the face of level ``high`` is known not to meet the node
    if known is not None and known.low is not None:
        low, high = known.low, known.low + 1
        found = box(low) if low >= 0 else None
    elif known is not None:
        high = known.high
    elif next_bound is not None:
        ranks = parent.vector[:parent.ranks]
        j = next((k for k, (a, b) in enumerate(zip(next_bound, ranks)) if a != b), None)
        if j is not None and next_bound[j] > ranks[j] and 1 <= j <= high:
            trial = box(j - 1)
            if trial is None:  # the node's level j - 1 or an earlier one is worse
                high = j - 1
                if not EXACT_DEFERRAL:
                    return _Deferred(ranks[:j - 1] + (ranks[j - 1] + 1,), None, j - 1)
            else:
                low, found = j - 1, trial
    while high - low > 1:
        if deadline is not None and perf_counter() > deadline:
            return _STOPPED
        middle = (low + high) // 2
        trial = box(middle)
        if trial is None:
            high = middle
        else:
            low, found = middle, trial
    stronger = parent.vector[:low + 1] + (parent.vector[low + 1] + 1,)
    if known is None and next_bound is not None and stronger > next_bound:
        return _Deferred(stronger, low, low + 1)
    if found is None:
        return _lex_flow(model, base_lo, base_cap, levels, draw_index, worse, deadline=deadline,
                         floor=parent.vector[0], prices=parent.prices)
    lo, cap, flow = found
    fixed_at = np.where((labels >= 0) & (labels <= low), labels, FREE).astype(np.int8)
    fixed_at[base_lo == base_cap] = -1
    return _lex_flow(model, lo, cap, levels[low + 1:], draw_index, worse, parent.vector[:low + 1], deadline,
                     fixed_at, flow, floor=parent.vector[low + 1], prices=parent.prices)


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
                      ties: bool, grace: float = 0.0) -> _FlowResult:
    """Lexicographic optimum over the opened sets, best bound first. With ``ties``, nodes whose bound equals
    the incumbent are explored too, so that another optimum with a different opened set is detected.

    A child is first evaluated inside its parent's optimal face (cheap); when that face cannot hold it, its
    bound becomes the successor of the parent's rank levels and it is re-queued for an evaluation from the
    deepest level it shares with its parent (:func:`_warm`), which happens only if no incumbent beats that
    bound first. Violated projects that every optimal flow of the
    parent opens are branched on together: one child opens them all (inside the face), and child k closes
    the k-th of them after opening the previous ones (outside the face: queued with the successor bound).
    (Branching the other way round, closing them all first, was measured much slower on the random family:
    a chain of one-project openings, each with its own max flows.)

    With ``ties`` (the assignment itself, not a counterfactual), when the search has found no feasible leaf
    after ``DIVE_AT`` of its time, an incumbent is made by :func:`pipeline.assign.incumbent.dive` from the
    root's relaxation, so that the search can stop at ``deadline`` with an assignment, its bound and its gap
    (the deadline is checked before each level of a node). Not earlier: the dive costs about a node or two, and
    on the random family the search finds its leaves sooner by itself. The incumbent only prunes nodes that could
    not have been explored anyway (their bound exceeds the optimum), and a leaf of the search with the same
    vector replaces it, so a search that completes returns the same leaf with or without it (a node with the
    decisions of a polished incumbent reuses it as its relaxation). Without an
    incumbent at the deadline the search goes on until it has one (``ties``) or raises
    :class:`AssignmentTimeout` (counterfactuals). The dive's rounds may run ``grace`` seconds past the deadline.

    With ``ties``, the root's levels watch the deadline too (once a flow exists): when they outlast it, the
    incumbent is dived for from the flow of the levels solved so far, whose values bound the optimum (the gap is
    1 when the incumbent meets them all: nothing bounds the next level yet)."""
    heap: list[tuple[tuple[int, ...], int, dict[int, bool], _Node | None, bool]] = [((), 0, {}, None, True)]
    counter = 1
    best: _Node | None = None
    tie = False
    heuristic = False  # ``best`` comes from the dive, not from a leaf of the search
    explored = 0
    root: _Node | None = None  # the root's relaxation, until the dive has used it
    dive_at = perf_counter() + DIVE_AT * max(0.0, deadline - perf_counter())

    def push(bound, decisions, parent, inside=True):
        nonlocal counter
        heapq.heappush(heap, (bound, counter, decisions, parent, inside))
        counter += 1

    while heap:
        bound, _, decisions, parent, inside = heapq.heappop(heap)
        if best is not None and (bound > best.vector or (not ties and bound >= best.vector)):
            break
        if ties and best is None and root is not None and perf_counter() > dive_at:
            light = root.light()
            best = dive(model, root, levels, draw_index, deadline, lambda decided, parent: _evaluate(
                model, decided, light if parent is None else parent.light(), False, levels, draw_index, None,
                deadline + grace), grace=grace)
            heuristic, root = best is not None, None
        if perf_counter() > deadline and best is not None:
            return _FlowResult(best, False, _gap(best.vector, bound), None, explored)
        if perf_counter() > deadline and not ties:
            raise AssignmentTimeout("aucune affectation trouvée dans le temps imparti (flot, séparation et "
                                    "évaluation)")
        if best is None:
            worse = None
        elif ties:
            worse = lambda values, ref=best.vector: tuple(values) > ref[:len(values)]  # noqa: E731
        else:
            worse = lambda values, ref=best.vector: tuple(values) >= ref[:len(values)] and (  # noqa: E731
                tuple(values) > ref[:len(values)] or len(values) == len(ref))
        partial = [] if ties and parent is None and not decisions and best is None else None
        if heuristic and best.face is not None and decisions == best.decisions:
            node = best  # the polished incumbent is this node's relaxation, already solved
        else:
            node = _evaluate(model, decisions, parent, inside, levels, draw_index, worse,
                             deadline if best is not None or partial is not None else None, partial,
                             heap[0][0] if heap else None)
        if node is _STOPPED and best is None:
            # the root's levels outlast the time limit: an incumbent from the levels solved so far (their values
            # bound the optimum), else the root is solved whole
            bound, flow = partial
            stopped = _Node(bound, flow, model.lo, model.cap, {}, len(bound))
            best = dive(model, stopped, levels, draw_index, deadline, lambda decided, parent: _STOPPED, grace=grace)
            if best is not None:
                same = best.vector[:len(bound)] == bound and len(bound) < len(levels)
                # (same values on the levels solved: nothing bounds the next rank level yet)
                return _FlowResult(best, False, 1.0 if same else _gap(best.vector, bound), None, explored)
            node = _evaluate(model, decisions, parent, inside, levels, draw_index, worse)
        if node is _STOPPED:
            return _FlowResult(best, False, _gap(best.vector, bound), None, explored)
        if isinstance(node, _Deferred):
            push(max(bound, node.bound), decisions, parent, node)
            continue
        if node is _WORSE:
            if parent.ranks:
                push(max(bound, _successor(parent.vector[:parent.ranks])), decisions, parent, False)
            else:
                push(bound, decisions, None)
            continue
        explored += 1
        if not node:
            continue
        node.decisions = decisions
        broken = model.violations(node.flow, decisions)
        if not broken:
            if best is None or node.vector < best.vector or (heuristic and node.vector == best.vector):
                best, tie, heuristic = node, False, False
            elif node.vector == best.vector and not np.array_equal(node.flow, best.flow):
                tie = True
            continue
        light = node.light()
        if parent is None and not decisions:
            root = node
        forced = _forced_open(model, node, broken)
        if forced and node.ranks:
            outside = _successor(node.vector[:node.ranks])
            for k, project in enumerate(forced):
                push(outside, {**decisions, **{i: True for i in forced[:k]}, project: False}, light, False)
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


def _gap(vector: tuple[int, ...], bound: tuple[int, ...]) -> float:
    """Relative gap between an incumbent and a lower bound, at the first level where they differ (1.0 when there
    is no bound yet)."""
    level = next((k for k, (a, b) in enumerate(zip(vector, bound)) if a != b), None)
    if level is None:
        return 1.0 if not bound else 0.0
    return abs(vector[level] - bound[level]) / max(1, abs(vector[level]))


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
        result = _branch_and_bound(model, levels, draw_index, deadline, ties=True,
                                   grace=min(DIVE_GRACE * time_limit, DIVE_GRACE_MAX))
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
    dropped = np.flatnonzero((flow > 0) & (model.kind == model.UNPLACED))
    unplaced = dict(zip(model.tail[dropped].tolist(), flow[dropped].tolist()))
    return _place(net, class_arcs, hub_arcs, unplaced)


def _flow_sizes(model: _FlowModel, flow: np.ndarray) -> dict[str, int]:
    net = model.net
    return {p.id: net.fixed_size[p.id] + int(flow[model.size_arc[i]]) for i, p in enumerate(net.instance.projects)}

def _flow_feasible(instance: Instance, time_limit: float) -> bool:
    model = _FlowModel(build_network(instance))
    return _branch_and_bound(model, [], None, perf_counter() + time_limit, ties=False).node is not None

"""One node's relaxation: the lexicographic levels solved one after the other by min-cost flows.

Each lexicographic level is solved on the network of :mod:`pipeline.assign.flowmodel` by OR-tools' min-cost
flow; optimal dual prices then fix every arc whose reduced cost is non-zero (complementary slackness), so the next
level is optimised over exactly the optimal flows of the previous ones (see :mod:`pipeline.assign.flow`). One
min-cost flow per level (measured faster than weighting unit levels together, see ``GROUP_LEVELS``). A unit level
(costs in {0, 1} or {0, -1}) is solved by the primal-dual method, a few OR-tools max flows warm-started from the
previous level's flow, which also yields the dual prices; other levels and the lottery by OR-tools' min-cost
flow (measured at 100 000 learners: a unit level in 0.3-0.9 s instead of up to 4 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np

from pipeline.assign import flow as fl
from pipeline.assign.flowmodel import _FlowModel

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
    # per arc, the rank level after which it is fixed in the face (-1: by the node's own bounds; FREE: never),
    # so that the optimal flows of the first k levels are the node's bounds with the arcs of level < k fixed
    fixed_at: np.ndarray | None = None
    # per rank level solved by the primal-dual method (index in the levels), its optimal node potentials: a child
    # re-solving that level starts from them (see :func:`pipeline.assign.flow.min_cost_flow_by_max_flows`)
    prices: dict[int, np.ndarray] | None = None

    def light(self) -> _Node:
        """What the children need (the face), without the per-arc arrays of this node's own solution."""
        empty = np.zeros(0, np.int64)
        return _Node(self.vector, empty, empty, empty, self.decisions, self.ranks, self.face, self.fixed_at,
                     self.prices)


_STOPPED = object()  # a node whose evaluation was stopped by the deadline
FREE = 127  # ``_Node.fixed_at`` of an arc still free in the face


def _lex_flow(model: _FlowModel, lo: np.ndarray, cap: np.ndarray, levels: list, draw_index: int | None,
              worse, prefix: tuple[int, ...] = (), deadline: float | None = None, fixed_at: np.ndarray | None = None,
              flow: np.ndarray | None = None, partial: list | None = None,
              floor: int | None = None, prices: dict[int, np.ndarray] | None = None) -> _Node | None | bool | object:
    """Solve the levels (then the lottery of ``draw_index``) one group after the other on (lo, cap).

    ``prefix``: the values of the levels before ``levels``, already optimal on (lo, cap), with ``fixed_at``
    the level at which each arc was fixed (default: -1 where ``lo == cap``, else free); ``flow``: a feasible
    flow to start from. Returns the node (``lo``/``cap`` restricted to the optimal flows), None when
    infeasible, False as soon as the values so far make ``worse(values)`` true, or :data:`_STOPPED` when
    ``deadline`` passes before a level (so that a time limit holds to within one level). With ``partial`` (a
    list), the deadline is only watched once some flow is known, and a stop appends to ``partial`` the values of
    the levels solved so far (optimal: a lower bound) and that flow (within (lo, cap)). ``floor``: a lower
    bound on the first level's value (a parent's value there), which spares :func:`_zero_levels` its flows when
    that level cannot be at its trivial bound. ``prices``: a parent's optimal potentials per level (see
    :attr:`_Node.prices`), the starting point of the same levels here; the node keeps them for the levels of
    ``prefix`` and its own for the levels it solves.
    """
    own_prices = dict(prices or {})
    n, t, h = model.n_nodes, model.tail, model.head
    base = model.n_free + 1
    limit = 2**61 // max(n + 2, model.n_free + 1)  # OR-tools scales costs by the number of nodes
    values: list[int] = list(prefix)
    if fixed_at is None:
        fixed_at = np.where(lo == cap, -1, FREE).astype(np.int8)
    else:
        fixed_at = fixed_at.copy()
    i = 0
    todo = len(levels) + (draw_index is not None)
    zero = None if floor is not None and levels and floor > levels[0][2] else _zero_levels(model, lo, cap,
                                                                                               levels, flow)
    if zero is not None:
        i, lo, cap, flow, arcs = zero
        values += [constant for _, _, constant, _ in levels[:i]]
        for k, fixed in enumerate(arcs):
            fixed_at[fixed[fixed_at[fixed] == FREE]] = len(prefix) + k
        if worse is not None and worse(values):
            return False
    face = (lo, cap)
    while i < todo:
        if deadline is not None and perf_counter() > deadline and (partial is None or flow is not None):
            if partial is not None:
                partial += [tuple(values), flow]
            return _STOPPED
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
                flow, d = fl.min_cost_flow_by_max_flows(n, t, h, lo, cap, cost, model.supply, flow,
                                                        own_prices.get(len(prefix) + i))
            except fl.Infeasible:
                return None
            own_prices[len(prefix) + i] = d
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
        if group is not None:
            fixed_at[(lo == cap) & (fixed_at == FREE)] = len(prefix) + i - 1
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
                 (face[0].astype(np.int32), free, face[1][free].astype(np.int32)), fixed_at, own_prices)


def _zero_levels(model: _FlowModel, lo: np.ndarray, cap: np.ndarray, levels: list,
                 flow: np.ndarray | None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, list] | None:
    """The leading levels whose optimum is their trivial bound, found by bisection on feasibility flows.

    A level whose costs are all 0 or +1 (the egalitarian levels: the learners at one rank) is at its trivial
    bound (its constant) exactly when some flow carries nothing above ``lo`` on its +1 arcs; the optimal flows
    of k such leading levels are then exactly the flows with the +1 arcs of all k held at ``lo``. The largest
    such k is found with about log2(levels) feasibility flows instead of k primal-dual solves (measured at
    100 000 learners of the minimum-size family: the four empty worst ranks of the egalitarian objective).
    Returns (k, lo, cap, a feasible flow of that face, the arcs fixed by each of the k levels), or None when
    k = 0."""
    n, t, h = model.n_nodes, model.tail, model.head
    arcs = []
    for _, level_cost, _, unit in levels:
        if not unit or level_cost.min() < 0:
            break
        arcs.append(np.flatnonzero((level_cost > 0) & (cap > lo)))
    if not arcs:
        return None

    def held(k: int):
        capped = cap.copy()
        for fixed in arcs[:k]:
            capped[fixed] = lo[fixed]
        if flow is not None and (flow <= capped).all():
            return capped, flow
        try:
            return capped, fl.min_cost_flow(n, t, h, lo, capped, np.zeros(t.size, np.int64), model.supply)
        except fl.Infeasible:
            return None

    # a quick necessary condition first: every class can still send its learners out once the +1 arcs of the
    # first k levels are held at ``lo`` (a class of learners without any choice cannot avoid the unranked level)
    classes = len(model.net.classes)
    supply = model.supply[:classes]
    room = cap.astype(np.float64)
    high = len(arcs) + 1
    for k, fixed in enumerate(arcs, 1):
        room[fixed] = lo[fixed]
        if (np.bincount(t, room, n)[:classes] < supply).any():
            high = k
            break
    low, found = 0, None  # k = low holds (or is 0), k = high does not
    while high - low > 1:
        middle = (low + high) // 2
        trial = held(middle)
        if trial is None:
            high = middle
        else:
            low, found = middle, trial
    if found is None:
        return None
    return low, lo, found[0], found[1], arcs[:low]

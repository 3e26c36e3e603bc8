"""A first feasible assignment, quickly: the incumbent that lets the branch and bound stop at any time.

:func:`dive` starts from the root relaxation (minimum sizes relaxed to [0, max]). First an instant repair
(:func:`_repair`): every project opened below its minimum (total or per track) closes and its learners move one
at a time to projects already within their minimums. Then, while time remains, guided rounds
(:func:`_lex_guided`) decide every project below its minimum by what it costs to empty it or to fill it: the
cheapest move of one learner out of it, or into it, is a shortest path of the relaxation's residual graph under
its levels' potentials (:func:`_choose`, two Dijkstra runs in all, whatever the number of projects); the root's
child with those decisions is then solved lexicographically, warm-started, and the next round decides what is
still below its minimum. At 100 000 learners of the minimums family the first round leaves one project of 16
below its minimum (egalitarian), the second none: ``(4062, 7248, ...)`` learners at ranks 7, 6..., 0.15 % from
the bound, where closing them all gave 4073 (0.42 %). No round starts that would end past the deadline (plus the
grace): the projects still below their minimum are then emptied or filled one learner at a time along shortest
residual paths (:func:`_reroute`). A root stopped by the time limit has no levels to guide by: the rounds then
weigh the levels into one min-cost flow (:func:`_guided`; level ``k`` of ``K`` by ``WEIGHT ** (K - 1 - k)``).
An incumbent's vector (levels, then lottery) is the one of its own flow, so the gap reported against the
search's bound is honest.
"""

from __future__ import annotations

from time import perf_counter
from typing import Callable

import numpy as np
from scipy.sparse.csgraph import dijkstra

from pipeline.assign import flow as fl
from pipeline.assign.flowmodel import _FlowModel
from pipeline.assign.lexflow import _STOPPED, FREE, _Node

WEIGHT = 4  # ratio between the weights of two consecutive levels in the dive's single cost


Evaluate = Callable[[dict[int, bool], "_Node | None"], object]  # see dive


def dive(model: _FlowModel, root: _Node, levels: list, draw_index: int | None, deadline: float,
         evaluate: Evaluate, grace: float = 0.0) -> _Node | None:
    """A feasible leaf (every opened project within its minimums) near the root's relaxation, improved while
    time remains; None when none is found (the search then goes on without an incumbent).

    ``evaluate(decisions, parent)``: the relaxation of the root's child with these decisions, as the search
    computes it (a node, None when infeasible, or :data:`pipeline.assign.lexflow._STOPPED`), warm-started from
    ``parent`` (a node with fewer decisions; None: the root). A root without its levels' potentials (one stopped
    by the time limit, whose flow is any relaxed flow) is guided on the weighted min-cost flow (:func:`_guided`)
    instead of its levels (:func:`_lex_guided`). ``grace``:
    seconds past ``deadline`` granted to the guided rounds (at 100 000 learners of the minimums family the
    instant repair leaves 21 learners unranked, the guided rounds none)."""
    best = None
    repaired = _repair(model, root.flow)
    if repaired is not None:
        best = _leaf(model, *repaired, levels, draw_index)
    if best is not None and perf_counter() > deadline + grace:
        return _polish(model, best, deadline, evaluate)
    until = deadline + grace if best is not None else None
    if root.prices is not None:
        guided = _lex_guided(model, root, levels, draw_index, until, evaluate)
        if guided is not None:
            return guided if best is None or guided.vector < best.vector else best
    if until is not None and perf_counter() > until:
        return _polish(model, best, deadline, evaluate)
    rounded = _guided(model, levels, until)
    if rounded is not None:
        other = _leaf(model, *rounded, levels, draw_index)
        if best is None or other.vector < best.vector:
            best = other
    return None if best is None else _polish(model, best, deadline, evaluate)


def _lex_guided(model: _FlowModel, root: _Node, levels: list, draw_index: int | None, deadline: float | None,
                evaluate: Evaluate) -> _Node | None:
    """:func:`_guided` on the search's own relaxations: each round decides the projects below their minimum from
    the shortest paths of the node's residual graph under its levels' potentials (:func:`_level_prices`), and the
    next node is the root's child with those decisions, solved lexicographically by ``evaluate``. When
    ``deadline`` passes first, the last node's flow is repaired instead (:func:`_repair`). None when a round's
    decisions leave no feasible flow, or when the deadline passes before the first round's node."""
    node, decisions = root, {}
    started = perf_counter()
    while True:
        broken = model.violations(node.flow, decisions)
        if not broken:
            node.decisions = decisions
            return node
        # a round costs about as much as the last one: none starts that would end past the deadline
        if deadline is not None and 2 * perf_counter() - started > deadline:
            return _repaired(model, node, decisions, levels, draw_index)
        started = perf_counter()
        plan = _plan(model, node, decisions, levels, broken)
        for opened in (plan[-1], {i: False for i in broken}):
            trial = {**decisions, **opened}
            child = evaluate(trial, None if node is root else node)
            if child is _STOPPED:
                return _repaired(model, node, decisions, levels, draw_index, plan)
            if isinstance(child, _Node):
                node, decisions = child, trial
                break
        else:
            return None


def _plan(model: _FlowModel, node: _Node, decisions: dict[int, bool], levels: list, broken: list[int]) -> tuple:
    """A round's decisions for the node's projects below their minimum (``broken``), with what they were computed
    from: (lo, cap, cost, prices, broken, choice)."""
    lo, cap = model.bounds(decisions)
    cost, prices = _level_prices(model, node, levels, lo, cap)
    return lo, cap, cost, prices, broken, _choose(model, node.flow, lo, cap, cost, prices, broken)


def _repaired(model: _FlowModel, node: _Node, decisions: dict[int, bool], levels: list,
              draw_index: int | None, plan: tuple | None = None) -> _Node | None:
    """The leaf made from a node of the guided rounds when time is short: each project still below its minimum
    is emptied or filled as :func:`_choose` says, one learner at a time along a shortest path of the residual
    graph (:func:`_reroute`); :func:`_repair` then closes whatever is left. None for the root (the caller has
    it). ``plan``: the round's :func:`_plan` for this node when the caller has it."""
    if not decisions:
        return None
    lo, cap, cost, prices, broken, choice = plan or _plan(model, node, decisions, levels,
                                                          model.violations(node.flow, decisions))
    flow = node.flow.copy()
    for p in broken:
        flow = _reroute(model, flow, lo, cap, cost, prices, p, choice[p])
    repaired = _repair(model, flow)
    if repaired is None:
        return None
    flow, closed = repaired
    decided = {**decisions, **{p: choice[p] for p in broken if flow[model.size_arc[p]] > 0}, **closed}
    return _leaf(model, flow, decided, levels, draw_index)


def _reroute(model: _FlowModel, flow: np.ndarray, lo: np.ndarray, cap: np.ndarray, cost: np.ndarray,
             prices: np.ndarray, p: int, fill: bool) -> np.ndarray:
    """``flow`` with project ``p`` emptied (its learners moved to projects within their minimums that have room)
    or, with ``fill``, brought up to its minimum (learners taken from projects above theirs), one learner at a
    time along the cheapest path of the residual graph (reduced costs under ``prices``, negative ones as 0);
    unchanged when some learner has no such path."""
    n, t = model.n_nodes, model.tail
    minimum = np.array([q.min_size for q in model.net.instance.projects], np.int64)
    size_arc = np.array(model.size_arc, np.int64)
    node = t[size_arc]
    out = flow.copy()
    while True:
        size = out[size_arc]
        if (fill and size[p] >= minimum[p]) or (not fill and not size[p]):
            return out
        ok = (size > 0) & (size >= minimum) & (np.arange(size.size) != p)
        ends = np.flatnonzero(ok & (size > minimum) if fill else ok & (size < cap[size_arc]))
        arcs, sign, r_tail, r_head, reduced = _reduced_residual(model, out, lo, cap, cost, prices)
        graph = fl._hop_graph(n, r_tail, r_head, reduced)
        if fill:
            graph = graph.T.tocsr()
        dist, pred = dijkstra(graph, directed=True, indices=int(node[p]), return_predecessors=True)
        reach = ends[np.isfinite(dist[node[ends]])]
        if not reach.size:
            return flow
        shift = -prices[node[reach]] if fill else prices[node[reach]]
        end = int(reach[np.argmin(np.floor(dist[node[reach]] / fl.HOPS) + shift)])
        v, path = int(node[end]), []
        while v != node[p]:
            u = int(pred[v])
            path.append((v, u) if fill else (u, v))
            v = u
        for u, v in path:  # the cheapest residual arc from u to v
            cand = np.flatnonzero((r_tail == u) & (r_head == v))
            k = cand[np.argmin(reduced[cand])]
            out[arcs[k]] += sign[k]
        out[size_arc[end]] += -1 if fill else 1
        out[size_arc[p]] += 1 if fill else -1


def _reduced_residual(model: _FlowModel, flow: np.ndarray, lo: np.ndarray, cap: np.ndarray, cost: np.ndarray,
                      prices: np.ndarray):
    """The residual arcs of ``flow`` between the learners and the projects (none to or from the sink), as
    :func:`pipeline.assign.flow.residual` gives them, and their reduced costs under ``prices`` (negative ones as
    0)."""
    t, h = model.tail, model.head
    inner = np.flatnonzero((t != model.sink) & (h != model.sink))
    arcs, sign, r_tail, r_head = fl.residual(t, h, lo, cap, flow, inner)
    return arcs, sign, r_tail, r_head, np.maximum(sign * cost[arcs] + prices[r_tail] - prices[r_head], 0)


def _level_prices(model: _FlowModel, node: _Node, levels: list, lo: np.ndarray,
                  cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The node's rank levels weighed into one cost (:func:`_weighted`) and potentials for it: the same weights on
    each level's optimal potentials (those the node kept, else computed on the level's face), so that a residual
    arc's reduced cost weighs its reduced costs level by level."""
    n, t, h = model.n_nodes, model.tail, model.head
    cost, prices = _weighted(levels), np.zeros(n, np.int64)
    held = node.fixed_at if node.fixed_at is not None else np.full(t.size, FREE, np.int8)
    for k, (_, level_cost, _, _) in enumerate(levels):
        level = (node.prices or {}).get(k)
        if level is None:
            fixed = np.flatnonzero(held < k)
            face_lo, face_cap = lo.copy(), cap.copy()
            face_lo[fixed] = node.flow[fixed]
            face_cap[fixed] = node.flow[fixed]
            level = fl.potentials(n, t, h, face_lo, face_cap, node.flow, level_cost)
        prices = prices * WEIGHT + level
    return cost, prices


def _leaf(model: _FlowModel, flow: np.ndarray, decisions: dict[int, bool], levels: list,
          draw_index: int | None) -> _Node:
    lo, cap = model.bounds(decisions)
    return _Node(_vector(model, flow, levels, draw_index), flow, lo, cap, decisions, len(levels))


def _weighted(levels: list) -> np.ndarray:
    """The objective levels weighed together into one cost (level ``k`` of ``K`` by ``WEIGHT ** (K - 1 - k)``)."""
    cost = None
    for _, level_cost, _, _ in levels:
        cost = level_cost.astype(np.int64) if cost is None else cost * WEIGHT + level_cost
    return cost


def _guided(model: _FlowModel, levels: list, deadline: float | None) -> tuple[np.ndarray, dict[int, bool]] | None:
    """Decide every project below its minimum by what it costs to empty or to fill it, and re-solve, until none
    is below its minimum; None when no decision gives a feasible flow, or when ``deadline`` passes before a round.

    Each round solves the weighted min-cost flow (:func:`_weighted`) under the decisions so far; for each project
    below its minimum, shortest paths in that flow's residual graph (the sink left out, reduced costs from its
    optimal potentials) give the cheapest move of one learner out of it to a project already within its minimum,
    and into it from a project above its minimum: the project closes when emptying it costs no more than filling it
    (its size times the first, against the missing learners times the second), else it opens (its minimums as lower
    bounds). A project short of its per-track minimum only closes. When the round's decisions leave no feasible
    flow, closing all of them, then opening all of them, is tried."""
    cost = _weighted(levels)
    if cost is None:
        return None
    decisions: dict[int, bool] = {}
    limits = model.bounds(decisions)
    try:
        flow = fl.min_cost_flow(model.n_nodes, model.tail, model.head, *limits, cost, model.supply)
    except fl.Infeasible:
        return None
    while True:
        broken = model.violations(flow, decisions)
        if not broken:
            return flow, decisions
        if deadline is not None and perf_counter() > deadline:
            return None
        prices = fl.potentials(model.n_nodes, model.tail, model.head, *limits, flow, cost)
        choice = _choose(model, flow, *limits, cost, prices, broken)
        for opened in (choice, {i: False for i in broken}, {i: True for i in broken}):
            trial = {**decisions, **opened}
            trial_limits = model.bounds(trial)
            if trial_limits is None:
                continue
            try:
                flow = fl.min_cost_flow(model.n_nodes, model.tail, model.head, *trial_limits, cost, model.supply)
            except fl.Infeasible:
                continue
            decisions, limits = trial, trial_limits
            break
        else:
            return None


def _choose(model: _FlowModel, flow: np.ndarray, lo: np.ndarray, cap: np.ndarray, cost: np.ndarray,
            prices: np.ndarray, broken: list[int]) -> dict[int, bool]:
    """For each of ``broken`` (projects below their minimum in ``flow``, within (lo, cap)): True to open it, False
    to close it (see :func:`_guided`). ``prices``: node potentials that keep the reduced costs of ``cost`` about
    non-negative on the residual arcs (any negative one counts as 0)."""
    n, t = model.n_nodes, model.tail
    _, _, r_tail, r_head, reduced = _reduced_residual(model, flow, lo, cap, cost, prices)
    size_arc = np.array(model.size_arc, np.int64)
    size, room = flow[size_arc], cap[size_arc] - flow[size_arc]
    minimum = np.array([p.min_size for p in model.net.instance.projects], np.int64)
    node = t[size_arc]
    short = np.array(broken, np.int64)
    whole = np.ones(size.size, bool)
    whole[short] = False
    valid = whole & (size > 0) & (size >= minimum)
    targets, sources = np.flatnonzero(valid & (room > 0)), np.flatnonzero(valid & (size > minimum))
    # the cheapest move of one learner out of each node to a target, and into it from a source (true costs: the
    # reduced distance corrected by the potentials at both ends)
    empty = fl.nearest(n, r_tail, r_head, reduced, node[targets], prices[node[targets]])
    fill = fl.nearest(n, r_tail, r_head, reduced, node[sources], -prices[node[sources]], reverse=True)
    choice = {}
    for p in broken:
        missing = int(minimum[p] - size[p])
        if missing <= 0:  # short of a per-track minimum only
            choice[p] = False
            continue
        out_cost = int(empty[node[p]] - prices[node[p]]) if empty[node[p]] != fl.UNREACHABLE else None
        in_cost = int(fill[node[p]] + prices[node[p]]) if fill[node[p]] != fl.UNREACHABLE else None
        choice[p] = in_cost is not None and (out_cost is None or missing * in_cost < int(size[p]) * out_cost)
    return choice


def _polish(model: _FlowModel, best: _Node, deadline: float, evaluate: Evaluate) -> _Node:
    """Lexicographic solves on the incumbent's opened set, closing what falls below its minimum, until a leaf is
    found or the deadline passes; the better of that leaf and ``best``."""
    decisions = dict(best.decisions)
    while perf_counter() < deadline:
        node = evaluate(decisions, None)
        if node is None or node is _STOPPED:
            return best
        broken = model.violations(node.flow, decisions)
        if not broken:
            node.decisions = decisions
            return node if node.vector < best.vector else best
        decisions = {**decisions, **{i: False for i in broken}}
    return best


def _repair(model: _FlowModel, flow: np.ndarray) -> tuple[np.ndarray, dict[int, bool]] | None:
    """The relaxation's flow with every project below its minimum closed: its learners move, one at a time, to
    the best-ranked project of their class that is open within its minimums and has room, else through their
    track's hub to the first such project open to their track. Moving learners only into projects already at
    or above their minimums keeps every minimum. None when some learner has nowhere to go."""
    flow = flow.copy()
    closing = model.violations(flow, {})
    if not closing:
        return flow, {}
    kinds, tails, projs = model.kind, model.tail, model.proj
    size = flow[model.size_arc].copy()
    room = model.cap[model.size_arc] - size
    n_class_arcs = int(np.count_nonzero((kinds == model.ARC) | (kinds == model.TO_HUB)))
    class_tail = tails[:n_class_arcs]  # class arcs come first, one block per class, classes in order
    shut = set(closing)
    hub_arcs = np.flatnonzero(kinds == model.HUB)
    hub_arc = {(int(tails[a]), int(projs[a])): int(a) for a in hub_arcs}
    hub_targets: dict[int, list[int]] = {}
    for a in hub_arcs.tolist():
        hub_targets.setdefault(int(tails[a]), []).append(int(projs[a]))

    def usable(q: int) -> bool:
        return q not in shut and size[q] > 0 and room[q] > 0

    def move(p: int, q: int, track: str) -> None:
        for arcs, step in (((model.track_arc[p, track], model.size_arc[p]), -1),
                           ((model.track_arc[q, track], model.size_arc[q]), 1)):
            for a in arcs:
                flow[a] += step
        size[p] -= 1
        size[q] += 1
        room[p] += 1
        room[q] -= 1

    entering = np.flatnonzero(((kinds == model.ARC) | (kinds == model.HUB)) & np.isin(projs, closing) & (flow > 0))
    for a in entering.tolist():
        p = int(projs[a])
        track = model.net.classes[tails[a]].track if kinds[a] == model.ARC else model._hub_track(tails[a])
        while flow[a] > 0:
            if kinds[a] == model.ARC:
                c = int(tails[a])
                block = range(int(np.searchsorted(class_tail, c)), int(np.searchsorted(class_tail, c, "right")))
                options = sorted((int(model.rank[b]), b) for b in block if kinds[b] == model.ARC
                                 and usable(int(projs[b])) and flow[b] < model.cap[b])
                if options:
                    target = options[0][1]
                    flow[a] -= 1
                    flow[target] += 1
                    move(p, int(projs[target]), track)
                    continue
                to_hub = next((b for b in block if kinds[b] == model.TO_HUB), None)
                if to_hub is None or flow[to_hub] >= model.cap[to_hub]:
                    return None
                hub = int(model.head[to_hub])
            else:
                to_hub, hub = None, int(tails[a])
            q = next((q for q in hub_targets.get(hub, ()) if usable(q)
                      and flow[hub_arc[hub, q]] < model.cap[hub_arc[hub, q]]), None)
            if q is None:
                return None
            flow[a] -= 1
            if to_hub is not None:
                flow[to_hub] += 1
            flow[hub_arc[hub, q]] += 1
            move(p, q, track)
    return flow, {p: False for p in closing}


def _vector(model: _FlowModel, flow: np.ndarray, levels: list, draw_index: int | None) -> tuple[int, ...]:
    """The objective vector of a flow: its level values, then its lottery value (when there is a lottery)."""
    values = [int(level_cost @ flow) + constant for _, level_cost, constant, _ in levels]
    if draw_index is not None:
        used = np.flatnonzero(flow)
        values.append(int(model.lottery(draw_index, used) @ flow[used]))
    return tuple(values)

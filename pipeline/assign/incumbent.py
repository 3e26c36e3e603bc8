"""A first feasible assignment, quickly: the incumbent that lets the branch and bound stop at any time.

:func:`dive` starts from the root relaxation (minimum sizes relaxed to [0, max]). First an instant repair
(:func:`_repair`): every project opened below its minimum (total or per track) closes and its learners move one
at a time to projects already within their minimums. Then, while time remains, rounds (:func:`_rounds`) close
every project below its minimum and re-solve, until none is; when closing them leaves no feasible flow, they
open them instead (minimums as lower bounds). Each round is a single min-cost flow whose cost weighs the
objective levels together (level ``k`` of ``K`` by ``WEIGHT ** (K - 1 - k)``), a fast approximation of the
lexicographic order, instead of one flow per level; every round closes or opens at least one more project, so
they end. The rounds watch the deadline only when the repair has given an answer (so the search starts the
dive at half its time). The better of the two is then *polished*: the levels are solved lexicographically on
its opened set, closing again whatever falls below its minimum, for as long as the deadline allows; a polished
leaf that is better replaces it. An incumbent's vector (levels, then lottery) is the one of its own flow, so the
gap reported against the search's bound is honest.
"""

from __future__ import annotations

from time import perf_counter
from typing import Callable

import numpy as np

from pipeline.assign import flow as fl
from pipeline.assign.flowmodel import _FlowModel
from pipeline.assign.lexflow import _STOPPED, _Node

WEIGHT = 4  # ratio between the weights of two consecutive levels in the dive's single cost


def dive(model: _FlowModel, root: _Node, levels: list, draw_index: int | None, deadline: float,
         evaluate: Callable[[dict[int, bool]], object], fresh: bool = False, grace: float = 0.0) -> _Node | None:
    """A feasible leaf (every opened project within its minimums) near the root's relaxation, improved while
    time remains; None when none is found (the search then goes on without an incumbent).

    ``evaluate(decisions)``: the relaxation of the root's child with these decisions, as the search computes
    it (a node, None when infeasible, or :data:`pipeline.assign.lexflow._STOPPED`). ``fresh``: ``root.flow`` is
    any relaxed flow, not an optimal one (a root stopped by the time limit): the rounds start from the weighted
    min-cost flow instead. ``grace``: seconds past ``deadline`` granted to the rounds (each a min-cost flow of
    the whole network: 5.7 s of CPU in all at 100 000 learners of the minimums family, where the instant
    repair leaves 21 learners unranked and the rounds none)."""
    best = None
    repaired = _repair(model, root.flow)
    if repaired is not None:
        best = _leaf(model, *repaired, levels, draw_index)
    if best is None or perf_counter() < deadline + grace:
        rounded = _rounds(model, root, levels, deadline + grace if best is not None else None, fresh)
        if rounded is not None:
            other = _leaf(model, *rounded, levels, draw_index)
            if best is None or other.vector < best.vector:
                best = other
    return None if best is None else _polish(model, best, deadline, evaluate)


def _leaf(model: _FlowModel, flow: np.ndarray, decisions: dict[int, bool], levels: list,
          draw_index: int | None) -> _Node:
    lo, cap = model.bounds(decisions)
    return _Node(_vector(model, flow, levels, draw_index), flow, lo, cap, decisions, len(levels))


def _rounds(model: _FlowModel, root: _Node, levels: list, deadline: float | None,
            fresh: bool = False) -> tuple[np.ndarray, dict[int, bool]] | None:
    """Close (else open) every project below its minimum and re-solve one weighted min-cost flow, until none
    is below its minimum; None when both are infeasible, or when ``deadline`` passes before a round."""
    cost = np.zeros(model.tail.size, np.int64)
    for _, level_cost, _, _ in levels:
        cost = cost * WEIGHT + level_cost
    decisions: dict[int, bool] = {}
    flow = root.flow
    if fresh:
        try:
            flow = fl.min_cost_flow(model.n_nodes, model.tail, model.head, model.lo, model.cap, cost, model.supply)
        except fl.Infeasible:
            return None
    while True:
        broken = model.violations(flow, decisions)
        if not broken:
            return flow, decisions
        if deadline is not None and perf_counter() > deadline:
            return None
        for opened in (False, True):
            trial = {**decisions, **{i: opened for i in broken}}
            limits = model.bounds(trial)
            if limits is None:
                continue
            try:
                flow = fl.min_cost_flow(model.n_nodes, model.tail, model.head, *limits, cost, model.supply)
            except fl.Infeasible:
                continue
            decisions = trial
            break
        else:
            return None


def _polish(model: _FlowModel, best: _Node, deadline: float, evaluate: Callable[[dict[int, bool]], object]) -> _Node:
    """Lexicographic solves on the incumbent's opened set, closing what falls below its minimum, until a leaf is
    found or the deadline passes; the better of that leaf and ``best``."""
    decisions = dict(best.decisions)
    while perf_counter() < deadline:
        node = evaluate(decisions)
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
    shut = set(closing)
    kinds, tails, projs = model.kind, model.tail, model.proj
    size = flow[model.size_arc].copy()
    room = model.cap[model.size_arc] - size
    n_class_arcs = int(np.count_nonzero((kinds == model.ARC) | (kinds == model.TO_HUB)))
    class_tail = tails[:n_class_arcs]  # class arcs come first, one block per class, classes in order
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

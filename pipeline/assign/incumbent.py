"""A first feasible assignment, quickly: the incumbent that lets the branch and bound stop at any time.

Starting from the root relaxation (minimum sizes relaxed to [0, max]), :func:`dive` closes every project opened
below its minimum (total or per track) and re-solves, until no project is below its minimum; when closing them
leaves no feasible flow, it opens them instead (minimums as lower bounds). Each round is a single min-cost flow
whose cost weighs the objective levels together (level ``k`` of ``K`` by ``WEIGHT ** (K - 1 - k)``), a fast
approximation of the lexicographic order, instead of one flow per level. Every round closes or opens at least one
more project, so the dive ends; its rounds do not watch the deadline (without them there would be no answer
at all), which is why the search starts the dive at half its time. The incumbent is then *polished*: the
levels are solved lexicographically on the dive's opened set, closing again whatever falls below its minimum,
for as long as the deadline allows; each polished leaf that is better replaces the incumbent. Its vector
(levels, then lottery) is the one of its own flow, so the gap reported against the search's bound is honest.
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
         evaluate: Callable[[dict[int, bool]], object]) -> _Node | None:
    """A feasible leaf (every opened project within its minimums) near the root's relaxation, polished while
    time remains; None when the dive finds none (the search then goes on without an incumbent).

    ``evaluate(decisions)``: the relaxation of the root's child with these decisions, as the search computes
    it (a node, None when infeasible, or :data:`pipeline.assign.lexflow._STOPPED`)."""
    cost = np.zeros(model.tail.size, np.int64)
    for _, level_cost, _, _ in levels:
        cost = cost * WEIGHT + level_cost
    decisions: dict[int, bool] = {}
    flow = root.flow
    while True:
        broken = model.violations(flow, decisions)
        if not broken:
            break
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
    lo, cap = model.bounds(decisions)
    best = _Node(_vector(model, flow, levels, draw_index), flow, lo, cap, decisions, len(levels))
    return _polish(model, best, deadline, evaluate)


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


def _vector(model: _FlowModel, flow: np.ndarray, levels: list, draw_index: int | None) -> tuple[int, ...]:
    """The objective vector of a flow: its level values, then its lottery value (when there is a lottery)."""
    values = [int(level_cost @ flow) + constant for _, level_cost, constant, _ in levels]
    if draw_index is not None:
        used = np.flatnonzero(flow)
        values.append(int(model.lottery(draw_index, used) @ flow[used]))
    return tuple(values)

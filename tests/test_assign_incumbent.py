"""The incumbent of the branch and bound (pipeline/assign/incumbent.py): guided rounds, the short-time repair and
the shortest paths they use, checked on small seeded instances without Jupyter."""

from __future__ import annotations

from dataclasses import replace
from time import perf_counter

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from pipeline.assign import flow as fl
from pipeline.assign import incumbent
from pipeline.assign import solve
from pipeline.assign.branch import _evaluate, _flow_assignment
from pipeline.assign.check import violations
from pipeline.assign.flowmodel import _FlowModel
from pipeline.assign.instances import minimum_size_instance
from pipeline.assign.lexflow import _lex_flow, _Node
from pipeline.assign.network import build_network
from pipeline.assign.objective import _solution

OBJECTIVES = ("egalitarian", "rank_maximal", "sum_of_ranks")


def relaxed_root(instance):
    model = _FlowModel(build_network(instance))
    levels = model.levels(False)
    return model, levels, _lex_flow(model, model.lo, model.cap, levels, 0, None)


def checked(instance, model, flow):
    """The assignment a flow carries, as a Solution the independent checker reads."""
    plan = _flow_assignment(model, flow)
    return _solution(instance, plan, {}, (), 0, 0, False, 1.0, None, [], perf_counter())


def assert_feasible_flow(model, flow, decisions):
    lo, cap = model.bounds(decisions)
    assert (flow >= lo).all() and (flow <= cap).all()
    balance = (np.bincount(model.tail, flow, model.n_nodes) - np.bincount(model.head, flow, model.n_nodes))
    assert np.array_equal(balance.astype(np.int64), model.supply)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reverse", (False, True))
def test_nearest_end_matches_one_dijkstra_per_end(seed, reverse):
    rng = np.random.default_rng(seed)
    n, m = 40, 160
    tail, head = rng.integers(0, n, m), rng.integers(0, n, m)
    reduced = rng.integers(0, 5, m)
    ends = rng.choice(n, 5, replace=False)
    offset = rng.integers(-7, 8, ends.size)
    got = fl.nearest(n, tail, head, reduced, ends, offset, reverse=reverse)
    graph = fl._hop_graph(n, tail, head, reduced)
    table = fl._steps(dijkstra(graph, directed=True, indices=ends))  # row e: distances from end e
    if not reverse:
        table = fl._steps(dijkstra(graph.T.tocsr(), directed=True, indices=ends))  # row e: distances to end e
    for v in range(n):
        options = [int(table[k, v]) + int(offset[k]) for k in range(ends.size) if table[k, v] >= 0]
        assert got[v] == (min(options) if options else fl.UNREACHABLE)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", (2, 3))
def test_guided_rounds_end_on_a_feasible_leaf_never_better_than_the_optimum(objective, seed):
    instance = minimum_size_instance(seed, 1_500, objective=objective, min_size=6)
    model, levels, root = relaxed_root(instance)
    assert model.violations(root.flow, {}), "the relaxation must open projects below their minimum"
    light = root.light()
    leaf = incumbent._lex_guided(model, root, levels, 0, None, lambda decided, parent: _evaluate(
        model, decided, light if parent is None else parent.light(), False, levels, 0, None))
    assert isinstance(leaf, _Node) and leaf.decisions
    assert model.violations(leaf.flow, leaf.decisions) == []
    assert_feasible_flow(model, leaf.flow, leaf.decisions)
    found = checked(instance, model, leaf.flow)
    assert violations(instance, found) == []
    assert leaf.vector[:-1] >= solve(instance).objective_vector


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", (1, 2, 3))
def test_rerouting_empties_or_fills_one_project_and_keeps_every_bound(objective, seed):
    """Each project below its minimum, emptied then (separately) filled along shortest residual paths: the flow
    keeps its bounds and balances, the project ends at 0 or at its minimum, and no project that was within its
    minimum falls below it."""
    instance = minimum_size_instance(seed, 1_500, objective=objective, min_size=6)
    model, levels, root = relaxed_root(instance)
    lo, cap = model.bounds({})
    cost, prices = incumbent._level_prices(model, root, levels, lo, cap)
    broken = model.violations(root.flow, {})
    assert broken
    sizes = root.flow[model.size_arc]
    minimum = np.array([p.min_size for p in instance.projects])
    within = np.flatnonzero((sizes >= minimum) & (sizes > 0))
    moved = 0
    for p in broken:
        for fill in (False, True):
            flow = incumbent._reroute(model, root.flow, lo, cap, cost, prices, p, fill)
            assert_feasible_flow(model, flow, {})
            after = flow[model.size_arc]
            if not np.array_equal(flow, root.flow):
                moved += 1
                assert after[p] >= minimum[p] if fill else after[p] == 0
            assert (after[within] >= minimum[within]).all()
    assert moved


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_short_time_repair_of_a_guided_node_is_a_feasible_leaf(objective):
    instance = minimum_size_instance(3, 1_500, objective=objective, min_size=6)
    model, levels, root = relaxed_root(instance)
    lo, cap = model.bounds({})
    cost, prices = incumbent._level_prices(model, root, levels, lo, cap)
    broken = model.violations(root.flow, {})
    assert len(broken) >= 2
    first = dict(list(incumbent._choose(model, root.flow, lo, cap, cost, prices, broken).items())[:1])
    node = _evaluate(model, first, root.light(), False, levels, 0, None)  # one decision: others still below
    assert isinstance(node, _Node) and model.violations(node.flow, first)
    leaf = incumbent._repaired(model, node, first, levels, 0)
    assert leaf is not None and model.violations(leaf.flow, leaf.decisions) == []
    assert_feasible_flow(model, leaf.flow, leaf.decisions)
    assert violations(instance, checked(instance, model, leaf.flow)) == []
    assert leaf.vector[:-1] >= solve(instance).objective_vector


def test_a_stopped_root_still_gets_a_leaf_from_the_weighted_rounds():
    instance = replace(minimum_size_instance(2, 1_000), objective="egalitarian")
    model, levels, _ = relaxed_root(instance)
    rounded = incumbent._guided(model, levels, None)
    assert rounded is not None
    flow, decisions = rounded
    assert model.violations(flow, decisions) == []
    assert_feasible_flow(model, flow, decisions)
    assert violations(instance, checked(instance, model, flow)) == []

"""Min-cost-flow primitives on numpy arrays (OR-tools' cost-scaling solver underneath).

* :func:`min_cost_flow` solves a min-cost flow with lower bounds ``lo <= f <= cap`` and node supplies.
* :func:`potentials` returns optimal node potentials (dual prices) of an optimal flow: shortest distances in
  its residual graph from a virtual root, computed as one more min-cost flow (a shortest-path tree) since the
  solver does not expose its own.
* :func:`restrict` uses them to fix every arc whose reduced cost is not zero: by complementary slackness every
  optimal flow keeps those arcs at the value they have, so the remaining network carries exactly the optimal
  flows. Solving the objective levels one after the other on the restricted network is thus exact.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow as _mcf
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

# OR-tools multiplies costs by (number of nodes + 1) internally and rejects overflow; keep a wide margin.
COST_LIMIT = 2**62


class Infeasible(Exception):
    pass


def min_cost_flow(n_nodes: int, tail: np.ndarray, head: np.ndarray, lo: np.ndarray, cap: np.ndarray,
                  cost: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """An optimal flow (int64 per arc); raises :class:`Infeasible`. ``cost`` must be int64."""
    supply = supply.astype(np.int64).copy()
    if lo.any():
        np.subtract.at(supply, tail, lo)
        np.add.at(supply, head, lo)
    free = np.flatnonzero(cap > lo)
    flow = lo.astype(np.int64).copy()
    if not free.size:
        if supply.any():
            raise Infeasible()
        return flow
    solver = _mcf.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tail[free].astype(np.int32), head[free].astype(np.int32),
                                                (cap[free] - lo[free]).astype(np.int64),
                                                cost[free].astype(np.int64))
    nodes = np.flatnonzero(supply).astype(np.int32)
    if nodes.size:
        solver.set_nodes_supplies(nodes, supply[nodes])
    status = solver.solve()
    if status == solver.INFEASIBLE or status == solver.UNBALANCED:
        raise Infeasible()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min cost flow: status {status}")
    flow[free] += solver.flows(np.arange(free.size, dtype=np.int32))
    return flow


def _residual(tail, head, lo, cap, flow, cost):
    """Residual arcs as (tail, head, cost)."""
    up = np.flatnonzero(flow < cap)
    down = np.flatnonzero(flow > lo)
    return (np.concatenate([tail[up], head[down]]), np.concatenate([head[up], tail[down]]),
            np.concatenate([cost[up], -cost[down]]))


def potentials(n_nodes: int, tail, head, lo, cap, flow, cost, max_rounds: int = 2_000) -> np.ndarray:
    """Shortest distances from a virtual root (cost-0 arc to every node) in the residual graph of an optimal
    flow; ``cost + d[tail] - d[head]`` is then >= 0 on every residual arc (optimal dual prices).

    Label-correcting rounds (Bellman-Ford restricted to the nodes whose distance changed), vectorised; the
    number of rounds is the number of arcs of the longest shortest path, a few dozen here. Past
    ``max_rounds`` the shortest-path tree is computed as a min-cost flow instead."""
    r_tail, r_head, r_cost = _residual(tail, head, lo, cap, flow, cost)
    dist = np.zeros(n_nodes, np.int64)
    if not r_cost.size or r_cost.min() >= 0:
        return dist
    order = np.argsort(r_tail, kind="stable")
    r_tail, r_head, r_cost = r_tail[order], r_head[order], r_cost[order]
    start = np.searchsorted(r_tail, np.arange(n_nodes + 1))
    active = np.unique(r_tail[r_cost < 0])
    for _ in range(max_rounds):
        lengths = start[active + 1] - start[active]
        total = int(lengths.sum())
        if not total:
            return dist
        offsets = np.repeat(start[active] - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        heads = r_head[offsets]
        candidate = dist[r_tail[offsets]] + r_cost[offsets]
        better = candidate < dist[heads]
        if not better.any():
            return dist
        heads, candidate = heads[better], candidate[better]
        np.minimum.at(dist, heads, candidate)
        active = np.unique(heads)
    return _potentials_by_flow(n_nodes, tail, head, lo, cap, flow, cost)


def _potentials_by_flow(n_nodes: int, tail, head, lo, cap, flow, cost) -> np.ndarray:
    r_tail, r_head, r_cost = _residual(tail, head, lo, cap, flow, cost)
    root = n_nodes
    # Shortest-path tree as a min-cost flow: the root sends one unit to every node along shortest paths.
    s_tail = np.concatenate([r_tail, np.full(n_nodes, root)]).astype(np.int32)
    s_head = np.concatenate([r_head, np.arange(n_nodes)]).astype(np.int32)
    s_cost = np.concatenate([r_cost, np.zeros(n_nodes, np.int64)]).astype(np.int64)
    solver = _mcf.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(s_tail, s_head, np.full(s_tail.size, n_nodes + 1, np.int64), s_cost)
    solver.set_nodes_supplies(np.arange(n_nodes + 1, dtype=np.int32),
                              np.concatenate([-np.ones(n_nodes, np.int64), [n_nodes]]))
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"shortest paths: status {status} (negative cycle: flow not optimal?)")
    used = np.flatnonzero(solver.flows(np.arange(s_tail.size, dtype=np.int32)) > 0)
    # Every arc carrying flow is tight: d[head] = d[tail] + cost; walk the flow forest from the root.
    graph = csr_matrix((np.ones(used.size), (s_tail[used], s_head[used])), shape=(n_nodes + 1, n_nodes + 1))
    order, pred = breadth_first_order(graph, root, directed=True, return_predecessors=True)
    key = s_tail[used].astype(np.int64) * (n_nodes + 1) + s_head[used]
    sorter = np.argsort(key)
    key, arc_cost = key[sorter], s_cost[used][sorter]
    parent = pred.astype(np.int64)
    parent[root] = root
    step = np.zeros(n_nodes + 1, np.int64)
    child = order[1:]
    step[child] = arc_cost[np.searchsorted(key, parent[child] * (n_nodes + 1) + child)]
    dist, jump = step.copy(), parent.copy()  # pointer jumping: dist[v] = sum of steps up to the root
    while (jump != root).any():
        dist = dist + np.where(jump != root, dist[jump], 0)
        jump = jump[jump]
    return dist[:n_nodes]


def restrict(tail, head, lo, cap, flow, cost, d) -> tuple[np.ndarray, np.ndarray]:
    """New (lo, cap): arcs with a non-zero reduced cost are fixed at their flow."""
    reduced = cost + d[tail] - d[head]
    fix = reduced != 0
    lo, cap = lo.copy(), cap.copy()
    lo[fix] = flow[fix]
    cap[fix] = flow[fix]
    return lo, cap


def has_cycle(n_nodes: int, tail, head, lo, cap, flow) -> bool:
    """Whether the residual graph of ``flow`` within (lo, cap) has a cycle that does not merely go back and
    forth along one arc: then another flow satisfies the same bounds and node balances. Used on the network
    restricted to the optimal flows (every free arc has reduced cost 0), where it decides uniqueness: some
    strongly connected component of the residual graph holds at least as many distinct arcs as nodes."""
    up = flow < cap
    down = flow > lo
    free = np.flatnonzero(up | down)
    if not free.size:
        return False
    r_tail = np.concatenate([tail[up], head[down]])
    r_head = np.concatenate([head[up], tail[down]])
    graph = csr_matrix((np.ones(r_tail.size), (r_tail, r_head)), shape=(n_nodes, n_nodes))
    count, label = connected_components(graph, directed=True, connection="strong")
    inside = free[label[tail[free]] == label[head[free]]]
    if not inside.size:
        return False
    edges = np.bincount(label[tail[inside]], minlength=count)
    sizes = np.bincount(label, minlength=count)
    return bool((edges >= sizes).any())


def reducible(n_nodes: int, tail, head, lo, cap, flow, arcs) -> np.ndarray:
    """For each arc of ``arcs``, whether some flow within (lo, cap) with the same node balances as ``flow``
    carries nothing on it: the arc's lower bound is 0 and the residual graph (the arc itself left out) can
    carry its whole flow from its tail back to its head (max flow, one per arc)."""
    from ortools.graph.python import max_flow as _mf

    arcs = np.asarray(arcs, np.int64)
    out = (lo[arcs] == 0) & (flow[arcs] == 0)
    todo = np.flatnonzero((lo[arcs] == 0) & (flow[arcs] > 0))
    if not todo.size:
        return out
    up = np.flatnonzero(flow < cap)
    down = np.flatnonzero(flow > lo)
    solver = _mf.SimpleMaxFlow()
    r_cap = np.concatenate([cap[up] - flow[up], flow[down] - lo[down]]).astype(np.int64)
    solver.add_arcs_with_capacity(np.concatenate([tail[up], head[down]]).astype(np.int32),
                                  np.concatenate([head[up], tail[down]]).astype(np.int32), r_cap)
    solver.add_arc_with_capacity(0, n_nodes - 1, 0)  # every node exists
    for k in todo.tolist():
        a = int(arcs[k])
        own = []  # the arc's own residual arcs (forward, backward), left out
        for where, offset in ((up, 0), (down, up.size)):
            r = int(np.searchsorted(where, a))
            if r < where.size and where[r] == a:
                own.append(offset + r)
        for r in own:
            solver.set_arc_capacity(r, 0)
        status = solver.solve(int(tail[a]), int(head[a]))
        if status != solver.OPTIMAL:
            raise RuntimeError(f"max flow: status {status}")
        out[k] = solver.optimal_flow() >= flow[a]
        for r in own:
            solver.set_arc_capacity(r, int(r_cap[r]))
    return out

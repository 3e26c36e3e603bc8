"""Min-cost-flow primitives on numpy arrays (OR-tools' cost-scaling solver underneath).

* :func:`min_cost_flow` solves a min-cost flow with lower bounds ``lo <= f <= cap`` and node supplies.
* :func:`min_cost_flow_by_max_flows` solves the same problem by the primal-dual method (a few max flows,
  warm-started from a given flow) and returns optimal node potentials too; fast when costs span few
  values, as in the unit (0/1) objective levels.
* :func:`potentials` returns optimal node potentials (dual prices) of an optimal flow: shortest distances in
  its residual graph from a virtual root, computed as one more min-cost flow (a shortest-path tree) since the
  solver does not expose its own.
* :func:`restrict` uses them to fix every arc whose reduced cost is not zero: by complementary slackness every
  optimal flow keeps those arcs at the value they have, so the remaining network carries exactly the optimal
  flows. Solving the objective levels one after the other on the restricted network is thus exact.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow as _mf
from ortools.graph.python import min_cost_flow as _mcf
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra

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


def feasible_flow(n_nodes: int, tail: np.ndarray, head: np.ndarray, lo: np.ndarray, cap: np.ndarray,
                  supply: np.ndarray) -> np.ndarray:
    """Some flow within (lo, cap) meeting the supplies (int64 per arc), by one OR-tools max flow from the nodes
    with an excess to those with a deficit once the lower bounds are sent; raises :class:`Infeasible`."""
    rest = supply.astype(np.int64).copy()
    if lo.any():
        moved = lo.astype(np.float64)
        rest -= np.bincount(tail, moved, n_nodes).astype(np.int64) - np.bincount(head, moved, n_nodes).astype(np.int64)
    free = np.flatnonzero(cap > lo)
    excess, deficit = np.flatnonzero(rest > 0), np.flatnonzero(rest < 0)
    flow = lo.astype(np.int64).copy()
    if not excess.size and not deficit.size:
        return flow
    source, sink = n_nodes, n_nodes + 1
    solver = _mf.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.concatenate([tail[free], np.full(excess.size, source), deficit]).astype(np.int32),
        np.concatenate([head[free], excess, np.full(deficit.size, sink)]).astype(np.int32),
        np.concatenate([(cap[free] - lo[free]), rest[excess], -rest[deficit]]).astype(np.int64))
    status = solver.solve(source, sink)
    if status != solver.OPTIMAL:
        raise RuntimeError(f"max flow: status {status}")
    if solver.optimal_flow() < rest[excess].sum() or rest[excess].sum() != -rest[deficit].sum():
        raise Infeasible()
    flow[free] += solver.flows(np.arange(free.size, dtype=np.int32))
    return flow


def min_cost_flow_by_max_flows(n_nodes: int, tail: np.ndarray, head: np.ndarray, lo: np.ndarray,
                               cap: np.ndarray, cost: np.ndarray, supply: np.ndarray,
                               flow: np.ndarray | None = None,
                               prices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An optimal flow and optimal node potentials (``cost + d[tail] - d[head] >= 0`` on every residual arc),
    by the primal-dual method: a sequence of maximum flows, for costs spanning few values (the unit levels).

    Start: ``flow`` (any flow within (lo, cap); ``lo`` if None) with every arc of positive cost moved to its
    lower bound and every arc of negative cost to its capacity, so that every residual arc has a
    non-negative cost. Each phase computes shortest distances (Dijkstra) from the nodes with an excess in the
    residual graph, raises the potentials by them (capped at the distance of the nearest node with a deficit,
    which keeps reduced costs non-negative), and pushes a maximum flow from the excesses to the deficits along
    the arcs of zero reduced cost (OR-tools' max flow). The flow is optimal when balanced: every residual arc
    then has a non-negative reduced cost. The number of phases is the number of distinct shortest-path
    lengths used, a handful for 0/1 costs. Raises :class:`Infeasible`.

    Arcs fixed by their bounds (``lo == cap``) never enter a residual graph: they are taken out first (their
    flow moves into the supplies), which leaves the same residual graphs, in the same order, on smaller
    arrays.

    ``prices``: starting node potentials (any; zero if None), e.g. the optimal ones of a similar network (a
    branch-and-bound parent's, for the same level): arcs are then moved to a bound by their reduced cost under
    these prices instead of their cost, so that a start close to the optimum leaves little excess to route."""
    fixed = lo == cap
    if fixed.any():
        keep = np.flatnonzero(~fixed)
        moved = lo[fixed].astype(np.float64)
        rest = (supply.astype(np.int64) - np.bincount(tail[fixed], moved, n_nodes).astype(np.int64)
                + np.bincount(head[fixed], moved, n_nodes).astype(np.int64))
        x, d = _by_max_flows(n_nodes, tail[keep], head[keep], lo[keep], cap[keep], cost[keep], rest,
                             None if flow is None else flow[keep], prices)
        out = lo.astype(np.int64).copy()
        out[keep] = x
        return out, d
    return _by_max_flows(n_nodes, tail, head, lo, cap, cost, supply, flow, prices)


def _by_max_flows(n_nodes: int, tail: np.ndarray, head: np.ndarray, lo: np.ndarray, cap: np.ndarray,
                  cost: np.ndarray, supply: np.ndarray, flow: np.ndarray | None,
                  prices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`min_cost_flow_by_max_flows` on arcs none of which is fixed."""
    x = (lo if flow is None else flow).astype(np.int64)
    d = np.zeros(n_nodes, np.int64) if prices is None else prices.astype(np.int64).copy()
    start = cost if prices is None else cost + d[tail] - d[head]
    x = np.where(start > 0, lo, np.where(start < 0, cap, x)).astype(np.int64)
    supply = supply.astype(np.int64)
    need_distances = False  # the tight arcs of the starting potentials are tried first
    while True:
        balance = (supply - np.bincount(tail, x, n_nodes).astype(np.int64)
                   + np.bincount(head, x, n_nodes).astype(np.int64))
        excess = np.flatnonzero(balance > 0)
        if not excess.size:
            return x, d
        deficit = np.flatnonzero(balance < 0)
        up = np.flatnonzero(x < cap)
        down = np.flatnonzero(x > lo)
        r_tail = np.concatenate([tail[up], head[down]])
        r_head = np.concatenate([head[up], tail[down]])
        r_cost = np.concatenate([cost[up], -cost[down]])
        reduced = r_cost + d[r_tail] - d[r_head]
        if need_distances:
            step = _distances(n_nodes, r_tail, r_head, reduced, excess)
            reach = step >= 0
            target = deficit[reach[deficit]]
            if not target.size:
                raise Infeasible()
            cut = int(step[target].min())
            d += np.where(reach, np.minimum(step, cut), cut)
            reduced = r_cost + d[r_tail] - d[r_head]
        if (reduced < 0).any():
            raise RuntimeError("primal-dual: negative reduced cost")
        arcs = np.flatnonzero(reduced == 0)
        source, sink = n_nodes, n_nodes + 1
        solver = _mf.SimpleMaxFlow()
        solver.add_arcs_with_capacity(
            np.concatenate([r_tail[arcs], np.full(excess.size, source), deficit]).astype(np.int32),
            np.concatenate([r_head[arcs], excess, np.full(deficit.size, sink)]).astype(np.int32),
            np.concatenate([np.concatenate([cap[up] - x[up], x[down] - lo[down]])[arcs], balance[excess],
                            -balance[deficit]]).astype(np.int64))
        status = solver.solve(source, sink)
        if status != solver.OPTIMAL:
            raise RuntimeError(f"max flow: status {status}")
        if solver.optimal_flow() <= 0:
            if need_distances:
                raise RuntimeError("primal-dual: no progress")
            need_distances = True
            continue
        pushed = solver.flows(np.arange(arcs.size, dtype=np.int32))
        moved = np.zeros(up.size + down.size, np.int64)
        moved[arcs] = pushed
        x[up] += moved[:up.size]
        x[down] -= moved[up.size:]
        need_distances = True  # no tight path is left


def _distances(n_nodes: int, r_tail, r_head, reduced, sources) -> np.ndarray:
    """Shortest distances (by reduced cost, all >= 0) from ``sources``; -1 where unreachable."""
    dist = dijkstra(_hop_graph(n_nodes, r_tail, r_head, reduced), directed=True, indices=sources, min_only=True)
    return _steps(dist)


UNREACHABLE = np.iinfo(np.int64).max
HOPS = float(2**22)  # weight = reduced cost * HOPS + 1: Dijkstra ignores zero weights in sparse input


def _hop_graph(n_nodes: int, r_tail, r_head, reduced) -> csr_matrix:
    """The residual arcs as a sparse graph for Dijkstra, the cheapest of parallel arcs kept."""
    if n_nodes + 2 >= HOPS:
        raise ValueError("network too large for the hop encoding")
    weight = reduced * HOPS + 1.0
    graph = csr_matrix((weight, (r_tail, r_head)), shape=(n_nodes, n_nodes))
    if graph.nnz < r_tail.size:  # parallel residual arcs were summed: keep the cheapest of each instead
        order = np.lexsort((weight, r_tail * n_nodes + r_head))
        key = (r_tail * n_nodes + r_head)[order]
        first = np.concatenate([[True], key[1:] != key[:-1]])
        keep = order[first]
        graph = csr_matrix((weight[keep], (r_tail[keep], r_head[keep])), shape=(n_nodes, n_nodes))
    return graph


def _steps(dist: np.ndarray) -> np.ndarray:
    step = np.full(dist.shape, -1, np.int64)
    reach = np.isfinite(dist)
    step[reach] = np.floor(dist[reach] / HOPS).astype(np.int64)
    return step


def nearest(n_nodes: int, r_tail, r_head, reduced, ends, offset, reverse: bool = False) -> np.ndarray:
    """For every node ``v``: the least ``distance(v, e) + offset[e]`` over ``ends`` (with ``reverse``: the least
    ``offset[e] + distance(e, v)``), distances by reduced costs (all >= 0); :data:`UNREACHABLE` where no end is
    reachable. One Dijkstra from a virtual node joined to every end by an arc of its offset (shifted to be
    non-negative)."""
    ends = np.asarray(ends, np.int64)
    if not ends.size:
        return np.full(n_nodes, UNREACHABLE, np.int64)
    offset = np.asarray(offset, np.int64)
    base = int(offset.min())
    hub = n_nodes  # the virtual node
    if reverse:
        tails, heads = np.concatenate([r_tail, np.full(ends.size, hub)]), np.concatenate([r_head, ends])
    else:  # distances to the ends: Dijkstra from the virtual node on the reversed arcs
        tails, heads = np.concatenate([r_head, np.full(ends.size, hub)]), np.concatenate([r_tail, ends])
    graph = _hop_graph(n_nodes + 1, tails, heads, np.concatenate([reduced, offset - base]))
    step = _steps(dijkstra(graph, directed=True, indices=hub))[:n_nodes]
    return np.where(step >= 0, step + base, UNREACHABLE)


def residual(tail, head, lo, cap, flow, among: np.ndarray | None = None):
    """The residual arcs of ``flow`` within (lo, cap), forward ones first (``among``: of those arcs only, sorted):
    for each, the arc it comes from, its direction (+1 forward, -1 backward), its tail and its head."""
    arcs = np.arange(tail.size) if among is None else among
    up = arcs[flow[arcs] < cap[arcs]]
    down = arcs[flow[arcs] > lo[arcs]]
    return (np.concatenate([up, down]), np.concatenate([np.ones(up.size, np.int64), -np.ones(down.size, np.int64)]),
            np.concatenate([tail[up], head[down]]), np.concatenate([head[up], tail[down]]))


def _residual(tail, head, lo, cap, flow, cost):
    """Residual arcs as (tail, head, cost)."""
    arcs, sign, r_tail, r_head = residual(tail, head, lo, cap, flow)
    return r_tail, r_head, sign * cost[arcs]


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

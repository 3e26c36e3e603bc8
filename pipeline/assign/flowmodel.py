"""The network as arrays for the min-cost-flow path: nodes, arcs, costs per level, bounds per opened set.

For a fixed set of opened projects the assignment problem is a min-cost flow: classes -> hubs ->
(project, track) -> project -> sink. :class:`_FlowModel` lays it out as numpy arrays (one entry per arc, with
its kind, project and rank) and gives the bounds of a set of decisions (projects forced open with their
minimums as lower bounds, or closed), the projects opened below their minimum by a flow, the cost of each
objective level and the lottery weights (the same weights on the same aggregated arcs as the MIP's). The search
over the opened sets is in :mod:`pipeline.assign.branch`.
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping

import numpy as np

from pipeline.assign.network import LOTTERY_RANGE, Network, draw
from pipeline.assign.objective import _rank_levels


class _FlowModel:
    ARC, TO_HUB, HUB, TRACK, SIZE, UNPLACED = range(6)  # arc kinds (UNPLACED: class -> sink, allow_unplaced)

    def __init__(self, net: Network):
        instance = net.instance
        self.net = net
        projects = instance.projects
        n_classes = len(net.classes)
        room = [p.max_size - net.fixed_size[p.id] for p in projects]
        hub_total: Counter = Counter()
        for klass in net.classes:
            if klass.hub:
                hub_total[klass.track] += len(klass.members)
        self.hub_tracks = hub_tracks = sorted(hub_total)
        hub_node = {t: n_classes + i for i, t in enumerate(hub_tracks)}
        node = n_classes + len(hub_tracks)
        pt_node: dict[tuple[str, str], int] = {}
        for p in projects:
            for t in sorted(p.tracks):
                pt_node[p.id, t] = node
                node += 1
        p_node = {p.id: node + i for i, p in enumerate(projects)}
        node += len(projects)
        self.sink = node
        self.n_nodes = node + 1
        pindex = {p.id: i for i, p in enumerate(projects)}
        room_arr = np.array(room, np.int64)
        track_code = {t: k for k, t in enumerate(instance.track_codes)}
        pt_of = np.full((len(projects), len(instance.track_codes)), -1, np.int64)  # (project, track) -> node
        for (pid, t), v in pt_node.items():
            pt_of[pindex[pid], track_code[t]] = v
        unranked = instance.unranked
        classes = net.classes
        # class arcs: for each class its (project, rank) arcs, then its hub arc if any (one block per class)
        n_arcs = np.array([len(k.arcs) for k in classes], np.int64)
        has_hub = np.array([k.hub for k in classes], bool)
        counts = np.array([len(k.members) for k in classes], np.int64)
        codes = np.array([track_code[k.track] for k in classes], np.int64)
        block = n_arcs + has_hub
        start = np.cumsum(block) - block
        total = int(block.sum())
        a_proj = np.array([pindex[pid] for k in classes for pid, _ in k.arcs], np.int64)
        a_rank = np.array([r for k in classes for _, r in k.arcs], np.int64)
        a_class = np.repeat(np.arange(n_classes, dtype=np.int64), n_arcs)
        a_pos = np.repeat(start, n_arcs) + (np.arange(a_class.size) - np.repeat(np.cumsum(n_arcs) - n_arcs, n_arcs))
        h_class = np.flatnonzero(has_hub)
        h_pos = start[h_class] + n_arcs[h_class]
        c_tail = np.empty(total, np.int64)
        c_head = np.empty(total, np.int64)
        c_cap = np.empty(total, np.int64)
        c_rank = np.empty(total, np.int64)
        c_kind = np.empty(total, np.int8)
        c_proj = np.empty(total, np.int64)
        c_home = np.zeros(total, bool)
        c_tail[a_pos], c_tail[h_pos] = a_class, h_class
        c_head[a_pos] = pt_of[a_proj, codes[a_class]]
        c_cap[a_pos] = np.minimum(counts[a_class], room_arr[a_proj])
        c_rank[a_pos], c_rank[h_pos] = a_rank, unranked
        c_kind[a_pos], c_kind[h_pos] = self.ARC, self.TO_HUB
        c_proj[a_pos], c_proj[h_pos] = a_proj, -1
        if h_class.size:
            c_head[h_pos] = np.array([hub_node[classes[c].track] for c in h_class.tolist()], np.int64)
            c_cap[h_pos] = counts[h_class]
        for c, klass in enumerate(classes):
            if klass.home is not None:
                for j, (pid, _) in enumerate(klass.arcs):
                    c_home[start[c] + j] = klass.home == pid
        tail, head, cap, rank, kind, proj, home = [], [], [], [], [], [], []
        for track in hub_tracks:
            for pid in net.hub_projects(track):
                tail.append(hub_node[track])
                head.append(pt_node[pid, track])
                cap.append(min(hub_total[track], room[pindex[pid]]))
                rank.append(0)
                kind.append(self.HUB)
                proj.append(pindex[pid])
                home.append(False)
        self.track_arc: dict[tuple[int, str], int] = {}
        self.size_arc: list[int] = []
        for i, p in enumerate(projects):
            for t in sorted(p.tracks):
                self.track_arc[i, t] = total + len(tail)
                tail.append(pt_node[p.id, t])
                head.append(p_node[p.id])
                cap.append(room[i])
                rank.append(0)
                kind.append(self.TRACK)
                proj.append(i)
                home.append(False)
            self.size_arc.append(total + len(tail))
            tail.append(p_node[p.id])
            head.append(self.sink)
            cap.append(room[i])
            rank.append(0)
            kind.append(self.SIZE)
            proj.append(i)
            home.append(False)
        self.unplaced_arc: dict[int, int] = {}  # class -> its arc straight to the sink (allow_unplaced only)
        if instance.allow_unplaced:
            for c, klass in enumerate(classes):
                self.unplaced_arc[c] = total + len(tail)
                tail.append(c)
                head.append(self.sink)
                cap.append(len(klass.members))
                rank.append(0)
                kind.append(self.UNPLACED)
                proj.append(-1)
                home.append(False)
        self.tail = np.concatenate([c_tail, np.array(tail, np.int64)])
        self.head = np.concatenate([c_head, np.array(head, np.int64)])
        self.cap = np.maximum(np.concatenate([c_cap, np.array(cap, np.int64)]), 0)
        self.rank = np.concatenate([c_rank, np.array(rank, np.int64)])
        self.kind = np.concatenate([c_kind, np.array(kind, np.int8)])
        self.proj = np.concatenate([c_proj, np.array(proj, np.int64)])
        self.home = np.concatenate([c_home, np.array(home, bool)])
        self.lo = np.zeros_like(self.cap)
        self.supply = np.zeros(self.n_nodes, np.int64)
        self.n_free = sum(len(k.members) for k in net.classes)
        self.supply[:n_classes] = [len(k.members) for k in net.classes]
        self.supply[self.sink] = -self.n_free
        self.binary: list[int] = []  # projects whose minimum matters and that no fixed learner opens
        self.needs: dict[int, dict[str, int]] = {}
        for i, p in enumerate(projects):
            fixed = net.fixed_size[p.id]
            needs = {t: n for t, n in p.track_min.items() if n > 0}
            self.needs[i] = needs
            if fixed:
                self.lo[self.size_arc[i]] = max(0, p.min_size - fixed)
                for t, need in needs.items():
                    self.lo[self.track_arc[i, t]] = max(0, need - net.fixed_track[p.id, t])
            elif p.min_size >= 2 or needs:
                self.binary.append(i)
        self.lottery_weights: dict[int, np.ndarray] = {}

    def bounds(self, decisions: Mapping[int, bool]) -> tuple[np.ndarray, np.ndarray] | None:
        """(lo, cap) with the projects of ``decisions`` opened (True, minimums as lower bounds) or closed."""
        lo, cap = self.lo.copy(), self.cap.copy()
        projects = self.net.instance.projects
        for i, opened in decisions.items():
            arc = self.size_arc[i]
            if opened:
                lo[arc] = projects[i].min_size
                for t, need in self.needs[i].items():
                    lo[self.track_arc[i, t]] = need
            else:
                cap[arc] = 0
                for t in self.needs[i]:
                    lo[self.track_arc[i, t]] = 0
        if (lo > cap).any():
            return None
        return lo, cap

    def violations(self, flow: np.ndarray, decisions: Mapping[int, bool]) -> list[int]:
        """Undecided projects opened below their minimum (total or per track)."""
        projects = self.net.instance.projects
        out = []
        for i in self.binary:
            if i in decisions:
                continue
            size = flow[self.size_arc[i]]
            if size and (size < projects[i].min_size or any(
                    flow[self.track_arc[i, t]] < need for t, need in self.needs[i].items())):
                out.append(i)
        return out

    def rank_cost(self, coefficients: Mapping[int, int]) -> np.ndarray:
        table = np.zeros(self.net.instance.unranked + 1, np.int64)
        for r, c in coefficients.items():
            table[r] = c
        return table[self.rank]

    def levels(self, keep: bool) -> list[tuple[str, np.ndarray, int, bool]]:
        """(label, cost per arc, constant, unit) for every rank level; ``unit``: coefficients all of one sign
        and at most 1 in absolute value, so the level's value spans at most n + 1 integers."""
        instance = self.net.instance
        out = []
        if instance.allow_unplaced:
            out.append(("apprenants non placés", (self.kind == self.UNPLACED).astype(np.int64), 0, True))
        if keep:
            constant = sum(len(k.members) for k in self.net.classes if k.home is not None)
            constant += sum(1 for lid, pid in self.net.fixed.items()
                            if lid in self.net.homes and self.net.homes[lid] != pid)
            out.append(("apprenants déplacés", -self.home.astype(np.int64), constant, True))
        for coefficients in _rank_levels(instance.ranks, instance.objective):
            label = ", ".join(f"{c:+d} × rang {r}" for r, c in sorted(coefficients.items()))
            constant = sum(coefficients.get(r, 0) for r in self.net.fixed_ranks)
            unit = all(abs(c) == 1 for c in coefficients.values())
            out.append((label, self.rank_cost(coefficients), constant, unit))
        return out

    def lottery(self, draw_index: int, arcs: np.ndarray) -> np.ndarray:
        """Lottery weights of ``arcs`` (0 off the aggregated class/hub arcs), computed once per arc."""
        weights = self.lottery_weights.setdefault(draw_index, np.full(self.tail.size, -1, np.int64))
        todo = arcs[weights[arcs] < 0]
        if todo.size:
            seed, classes = self.net.instance.seed, self.net.classes
            projects = self.net.instance.projects
            tails, kinds, projs = self.tail[todo], self.kind[todo], self.proj[todo]
            values = []
            for a, k, t, p in zip(todo.tolist(), kinds.tolist(), tails.tolist(), projs.tolist()):
                if k == self.ARC:
                    values.append(1 + draw(seed, draw_index, "arc", classes[t].key, projects[p].id) % LOTTERY_RANGE)
                elif k == self.HUB:
                    values.append(1 + draw(seed, draw_index, "hub", self._hub_track(t), projects[p].id)
                                  % LOTTERY_RANGE)
                elif k == self.UNPLACED:
                    values.append(1 + draw(seed, draw_index, "unplaced", classes[t].key) % LOTTERY_RANGE)
                else:
                    values.append(0)
            weights[todo] = values
        return weights[arcs]

    def _hub_track(self, node: int) -> str:
        return self.hub_tracks[node - len(self.net.classes)]

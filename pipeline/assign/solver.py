"""The assignment solver: every learner on exactly one project, lexicographically optimal, proven, unique.

How it works
------------
Two paths share the network, the levels and the lottery below. The default (``backend="flow"``) solves
min-cost flows (OR-tools) level by level, fixing after each level the arcs that no optimal flow changes
(dual prices, see :mod:`pipeline.assign.flow`), and handles minimum sizes by branch and bound on the projects
(see the "min-cost-flow path" section); it returns the same solution as the MIP whenever the lottery minimiser
is proven unique, and hands over to the MIP only when it cannot decide that uniqueness itself (rare, small
instances only; the status then says "repli sur le MIP"). Any other backend name is a pywraplp MIP solver:
* Pre-checks (:func:`precheck`) catch the common reasons why no assignment exists and name them in French;
  otherwise an infeasible model is diagnosed by re-solving without each family of constraints.
* Free learners with the same track, allowed ranked list, forbidden projects and published project are
  interchangeable and aggregated into *classes* (:func:`build_network`); a class without forbidden pairs
  reaches every project it did not list through its track's *hub* (rank R+1), so the model has about R+1
  integer variables per class, one per (track, project) for the hubs, and one opening boolean per project
  whose minimum is 2 or more (or has a per-track minimum) and that no fixed learner already forces open.
* The objective is a list of *levels* (see :func:`objective_vector`), optionally preceded by "number of
  learners moved from their published project" (:func:`solve_keep_published`). A MIP solver (SCIP by
  default, single thread) solves the levels one after the other; each level's optimum is added as an
  equality before the next, so the final solution is lexicographically optimal. A level not proven within
  the time limit is kept at its best value (``<=``) and the solution says ``optimal=False`` with the
  relative gap of the first such level.
* Uniqueness: the LAST level is a seeded lottery. Every aggregated arc (class -> project, hub -> project) gets
  an integer weight in [1, 2**24] drawn from BLAKE2b(seed, draw, arc); among the rank-optimal solutions the
  solver minimises the total weight. By the isolation lemma the minimiser is unique with probability at
  least 1 - #arcs / 2**24; the solver then tries to *prove* it: it asks for another solution with the same
  levels and lottery value in which some used arc carries fewer learners (any different solution has one,
  since class and hub totals are fixed). Proven infeasible: unique. Found: the weights are redrawn with the
  next draw number. Not decided within ``UNIQUENESS_TIME``: the status says so (the draw-0 minimiser is
  kept). Inside a class, learners are ordered by their own lottery number (BLAKE2b(seed, learner id)) and
  take the class's places best rank first; hub places go to hub learners in lottery order, projects in
  lottery order. Same inputs and seed therefore give the same assignment on any machine when the status
  says "unique"; the solver is also single-threaded, so a run is repeatable on one machine in any case.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Iterable, Mapping, Sequence

import numpy as np
from ortools.linear_solver import pywraplp

from pipeline.assign import flow as fl
from pipeline.assign.model import TRACKS, AssignmentTimeout, InfeasibleAssignment, Instance, Solution

LOTTERY_RANGE = 2**24


def draw(seed: int, *parts: object) -> int:
    """A 64-bit lottery number, the same on every machine for the same seed and parts."""
    text = "|".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass
class Klass:
    track: str
    key: str
    members: list[str]  # learner ids, sorted by lottery number
    arcs: list[tuple[str, int]]  # (project, rank) the class may get directly
    hub: bool  # may also go, unranked, to any project open to its track
    home: str | None = None  # published project (keep-published mode)


@dataclass
class Network:
    instance: Instance
    classes: list[Klass]
    fixed: dict[str, str]  # learner -> project, decided by the commission
    fixed_size: Counter = field(default_factory=Counter)  # project -> fixed learners
    fixed_track: Counter = field(default_factory=Counter)  # (project, track) -> fixed learners
    homes: dict[str, str] = field(default_factory=dict)
    fixed_ranks: list[int] = field(default_factory=list)

    def hub_projects(self, track: str) -> list[str]:
        return [p.id for p in self.instance.projects if track in p.tracks]


def build_network(instance: Instance, homes: dict[str, str] | None = None) -> Network:
    homes = homes or {}
    seed = instance.seed
    fixed = {pair.learner: pair.project for pair in instance.fixed}
    forbidden: dict[str, set[str]] = defaultdict(set)
    for pair in instance.forbidden:
        forbidden[pair.learner].add(pair.project)
    net = Network(instance, [], fixed, homes=homes)
    for learner_id, project_id in fixed.items():
        net.fixed_size[project_id] += 1
        net.fixed_track[project_id, instance.learner(learner_id).track] += 1
        net.fixed_ranks.append(instance.rank(instance.learner(learner_id), project_id))
    open_to = {track: {p.id for p in instance.projects if track in p.tracks} for track in TRACKS}
    groups: dict[tuple, list[str]] = {}
    for learner in instance.learners:
        lid = learner.id
        if lid in fixed:
            continue
        banned = forbidden.get(lid)
        allowed = open_to[learner.track]
        if banned:
            listed = tuple([(pid, r) for r, pid in enumerate(learner.preferences, 1)
                            if pid in allowed and pid not in banned])
        else:
            listed = tuple([(pid, r) for r, pid in enumerate(learner.preferences, 1) if pid in allowed])
        key = (learner.track, listed, tuple(sorted(banned)) if banned else (), homes.get(lid))
        members = groups.get(key)
        if members is None:
            groups[key] = [lid]
        else:
            members.append(lid)
    # classes in the order of their key text (ties: first appearance, as a stable sort does)
    keyed = sorted(((_group_key(key), key, members) for key, members in groups.items()), key=lambda item: item[0])
    for text, (track, listed, banned, home), members in keyed:
        arcs = list(listed)
        if home is not None or banned:
            reachable = {pid for pid, _ in arcs}
            if home is not None and home not in reachable and home in open_to[track] and home not in banned:
                arcs.append((home, instance.unranked))
                reachable.add(home)
            if banned:  # no hub: list every other allowed project explicitly
                arcs += [(p.id, instance.unranked) for p in instance.projects
                         if track in p.tracks and p.id not in banned and p.id not in reachable]
        if len(members) > 1:
            members = sorted(members, key=lambda lid: (draw(seed, "learner", lid), lid))
        net.classes.append(Klass(track, text, members, arcs, not banned, home))
    return net


def _group_key(key: tuple) -> str:
    track, listed, banned, home = key
    return f"{track}|{','.join(p for p, _ in listed)}|{','.join(banned)}|{home or ''}"


def precheck(instance: Instance) -> list[str]:
    """French descriptions of the common reasons why no assignment exists (empty when none is found)."""
    conflicts: list[str] = []
    projects = {p.id: p for p in instance.projects}
    forbidden = {(pair.learner, pair.project): pair.reason for pair in instance.forbidden}
    by_learner: dict[str, list[str]] = defaultdict(list)
    for pair in instance.fixed:
        if pair.project not in by_learner[pair.learner]:
            by_learner[pair.learner].append(pair.project)
    fixed_count: Counter = Counter()
    for learner_id, targets in sorted(by_learner.items()):
        learner = instance.learner(learner_id)
        if len(targets) > 1:
            conflicts.append(f"l'apprenant {learner_id} est fixé sur plusieurs projets ({', '.join(targets)})")
        for pid in targets:
            fixed_count[pid] += 1
            if (learner_id, pid) in forbidden:
                conflicts.append(f"l'apprenant {learner_id} est à la fois fixé sur le projet {pid} et exclu de ce "
                                 f"projet ({forbidden[learner_id, pid]})")
            if learner.track not in projects[pid].tracks:
                conflicts.append(f"l'apprenant {learner_id} ({learner.track}) est fixé sur le projet {pid}, qui "
                                 f"n'est pas ouvert aux {learner.track}")
    for pid, count in sorted(fixed_count.items()):
        if count > projects[pid].max_size:
            conflicts.append(f"{count} apprenants fixés sur le projet {pid} pour un maximum de "
                             f"{projects[pid].max_size}")
    n_learners = len(instance.learners)
    by_track = Counter(learner.track for learner in instance.learners)
    forbidden_per_track: Counter = Counter()  # (project, track) -> excluded learners of that track
    for (learner_id, pid) in forbidden:
        forbidden_per_track[pid, instance.learner(learner_id).track] += 1
    capacity = sum(p.max_size for p in instance.projects)
    if n_learners > capacity:
        conflicts.append(f"{n_learners} apprenants mais seulement {capacity} places maximum au total")
    for track in TRACKS:
        count = by_track[track]
        open_to = [p for p in instance.projects if track in p.tracks]
        if count and not open_to:
            conflicts.append(f"{count} apprenant{'s' if count > 1 else ''} {track} mais aucun projet n'est "
                             f"ouvert aux {track}")
            continue
        track_capacity = sum(p.max_size for p in open_to)
        if count > track_capacity:
            conflicts.append(f"{count} apprenants {track} mais seulement {track_capacity} places maximum dans les "
                             f"projets ouverts aux {track}")
        reachable = [p for p in open_to if _can_reach_minimum(p, by_track, forbidden_per_track)]
        if count and open_to and not reachable:
            detail = ", ".join(f"{p.id} : minimum {p.min_size}" for p in open_to[:5])
            conflicts.append(f"{count} apprenant{'s' if count > 1 else ''} {track} mais aucun projet ouvert aux "
                             f"{track} ne peut atteindre son effectif minimum ({detail})")
    must_open = sorted(pid for pid in fixed_count)
    if must_open:
        need = sum(projects[pid].min_size for pid in must_open)
        if need > n_learners:
            conflicts.append(f"les projets à ouvrir obligatoirement (apprenants fixés : {', '.join(must_open)}) "
                             f"demandent au moins {need} apprenants (somme des minimums) pour {n_learners} apprenants")
        for track in TRACKS:
            need_track = sum(projects[pid].track_min.get(track, 0) for pid in must_open)
            if need_track > by_track[track]:
                conflicts.append(f"les projets à ouvrir obligatoirement ({', '.join(must_open)}) demandent au moins "
                                 f"{need_track} apprenants {track} pour {by_track[track]} apprenants {track}")
    fixed_learners = set(by_learner)
    open_count = Counter(t for p in instance.projects for t in p.tracks)
    banned: Counter = Counter()  # learner -> forbidden projects open to their track
    for (learner_id, pid) in forbidden:
        if instance.learner(learner_id).track in projects[pid].tracks:
            banned[learner_id] += 1
    for learner in instance.learners:
        if learner.id in fixed_learners or not banned[learner.id]:
            continue
        if banned[learner.id] == open_count[learner.track] and open_count[learner.track]:
            conflicts.append(f"l'apprenant {learner.id} n'a aucun projet possible : tous les projets ouverts aux "
                             f"{learner.track} lui sont exclus")
    return conflicts


def _can_reach_minimum(project, by_track: Counter, forbidden_per_track: Counter) -> bool:
    """Enough learners of the project's tracks, not excluded from it, for its minimum(s)."""
    per_track = {t: by_track[t] - forbidden_per_track[project.id, t] for t in project.tracks}
    return sum(per_track.values()) >= max(project.min_size, 1) and all(
        per_track.get(t, 0) >= need for t, need in project.track_min.items())


# --- objective ---------------------------------------------------------------------------------------------

def objective_vector(profile: Sequence[int], objective: str) -> tuple[int, ...]:
    """The rank levels of ``objective`` for a rank profile, smaller is better, compared lexicographically.

    egalitarian: (n[R+1], n[R], ..., n[2]); rank_maximal: (-n[1], ..., -n[R]); sum_of_ranks: (sum r * n[r],).
    """
    return tuple(sum(coef * profile[rank - 1] for rank, coef in level.items())
                 for level in _rank_levels(len(profile) - 1, objective))


def _rank_levels(ranks: int, objective: str) -> list[dict[int, int]]:
    """Each level as {rank: coefficient} (rank R+1 = unranked)."""
    if objective == "egalitarian":
        return [{rank: 1} for rank in range(ranks + 1, 1, -1)]
    if objective == "rank_maximal":
        return [{rank: -1} for rank in range(1, ranks + 1)]
    return [{rank: rank for rank in range(1, ranks + 2)}]


# --- MIP model over the network ----------------------------------------------------------------------------

class _Model:
    """Variables: learners of class c on arc (c, p); class c to its track's hub; hub T to project p.

    For a fixed set of opened projects this is a network-flow problem (its LP is integral); opening a project
    is a binary only where it matters (minimum >= 2 or a per-track minimum) and no fixed learner already forces
    the project open.
    """

    def __init__(self, net: Network, backend: str):
        instance = net.instance
        self.net = net
        self.solver = m = pywraplp.Solver.CreateSolver(backend)
        m.SetNumThreads(1)
        self.arcs: list[tuple[pywraplp.Variable, int, str, int]] = []  # (var, class index, project, rank)
        self.hub_in: list[tuple[pywraplp.Variable, int]] = []
        self.hub_out: list[tuple[pywraplp.Variable, str, str]] = []  # (var, track, project)
        room = {p.id: p.max_size - net.fixed_size[p.id] for p in instance.projects}
        size: dict[str, list] = defaultdict(list)
        per_track: dict[tuple[str, str], list] = defaultdict(list)
        hub_total: dict[str, list] = defaultdict(list)
        for index, klass in enumerate(net.classes):
            count = len(klass.members)
            row = []
            for pid, rank in klass.arcs:
                var = m.IntVar(0, max(0, min(count, room[pid])), f"x{index}_{pid}")
                self.arcs.append((var, index, pid, rank))
                size[pid].append(var)
                per_track[pid, klass.track].append(var)
                row.append(var)
            if klass.hub:
                var = m.IntVar(0, count, f"u{index}")
                self.hub_in.append((var, index))
                hub_total[klass.track].append(var)
                row.append(var)
            m.Add(m.Sum(row) == count)
        for track, entering in sorted(hub_total.items()):
            total = sum(len(net.classes[i].members) for _, i in self.hub_in if net.classes[i].track == track)
            leaving = []
            for pid in net.hub_projects(track):
                var = m.IntVar(0, max(0, min(total, room[pid])), f"z{track}_{pid}")
                self.hub_out.append((var, track, pid))
                size[pid].append(var)
                per_track[pid, track].append(var)
                leaving.append(var)
            m.Add(m.Sum(leaving) == m.Sum(entering))
        for project in instance.projects:
            pid, fixed = project.id, net.fixed_size[project.id]
            total = m.Sum(size[pid])
            m.Add(total <= project.max_size - fixed)
            needs = {t: n for t, n in project.track_min.items() if n > 0}
            if fixed:
                m.Add(total >= project.min_size - fixed)
                for track, need in needs.items():
                    m.Add(m.Sum(per_track[pid, track]) >= need - net.fixed_track[pid, track])
            elif project.min_size >= 2 or needs:
                opened = m.BoolVar(f"y{pid}")
                m.Add(total >= project.min_size * opened)
                m.Add(total <= project.max_size * opened)
                for track, need in needs.items():
                    m.Add(m.Sum(per_track[pid, track]) >= need * opened)
        self.variables = [v for v, *_ in self.arcs] + [v for v, _ in self.hub_in] + [v for v, *_ in self.hub_out]

    def level(self, coefficients: dict[int, int]) -> tuple[list[tuple[pywraplp.Variable, int]], int]:
        """A rank level as (terms over the variables, constant from the fixed learners)."""
        unranked = self.net.instance.unranked
        terms = [(v, coefficients.get(rank, 0)) for v, _, _, rank in self.arcs]
        terms += [(v, coefficients.get(unranked, 0)) for v, _ in self.hub_in]
        constant = sum(coefficients.get(rank, 0) for rank in self.net.fixed_ranks)
        return [(v, c) for v, c in terms if c], constant

    def moved(self) -> tuple[list[tuple[pywraplp.Variable, int]], int]:
        """Learners not at their published project: class members off their home arc, plus fixed ones."""
        net = self.net
        terms = [(v, -1) for v, index, pid, _ in self.arcs if net.classes[index].home == pid]
        constant = sum(len(k.members) for k in net.classes if k.home is not None)
        constant += sum(1 for lid, pid in net.fixed.items() if lid in net.homes and net.homes[lid] != pid)
        return terms, constant

    def lottery(self, draw_index: int) -> list[tuple[pywraplp.Variable, int]]:
        seed = self.net.instance.seed
        terms = [(v, 1 + draw(seed, draw_index, "arc", self.net.classes[i].key, pid) % LOTTERY_RANGE)
                 for v, i, pid, _ in self.arcs]
        terms += [(v, 1 + draw(seed, draw_index, "hub", track, pid) % LOTTERY_RANGE)
                  for v, track, pid in self.hub_out]
        return terms


class _Lexicographic:
    """Solves the levels one after the other on one model, each fixed at its optimum before the next."""

    def __init__(self, model: _Model, time_limit: float):
        self.model = model
        self.time_limit = time_limit
        self.values: dict[int, int] = {}
        self.optimal = True
        self.gap = 0.0
        self.notes: list[str] = []

    def minimise(self, terms: list[tuple[pywraplp.Variable, int]]) -> tuple[str, int, float]:
        """(status, value, bound) of min sum(coef * var); the solution is kept in ``values``."""
        m = self.model.solver
        objective = m.Objective()
        objective.Clear()
        for var, coef in terms:
            objective.SetCoefficient(var, coef)
        objective.SetMinimization()
        status = self._run()
        if status not in ("OPTIMAL", "FEASIBLE"):
            return status, 0, 0.0
        self.values = {var.index(): round(var.solution_value()) for var in self.model.variables}
        value = sum(coef * self.values[var.index()] for var, coef in terms)
        return status, value, objective.BestBound()

    def solve(self, terms: list, constant: int, label: str) -> int | None:
        """Minimise a level; fix it at its optimum; return its value (None when infeasible)."""
        status, value, bound = self.minimise(terms)
        if status == "INFEASIBLE":
            return None
        if status not in ("OPTIMAL", "FEASIBLE"):
            raise AssignmentTimeout(f"aucune affectation trouvée pour le niveau « {label} » dans le temps imparti "
                                    f"({self.time_limit:g} s)")
        self.fix(terms, value, value)
        if status == "FEASIBLE":
            if self.optimal:
                self.gap = abs(value - bound) / max(1.0, abs(value + constant))
            self.optimal = False
            self.notes.append(f"niveau « {label} » non prouvé optimal (valeur {value + constant}, borne "
                              f"{bound + constant:g})")
        return value + constant

    def fix(self, terms: list, low: float, high: float) -> pywraplp.Constraint:
        constraint = self.model.solver.Constraint(low, high)
        for var, coef in terms:
            constraint.SetCoefficient(var, coef)
        return constraint

    def _run(self) -> str:
        m = self.model.solver
        m.SetTimeLimit(int(self.time_limit * 1000))
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
        return _STATUS.get(m.Solve(params), "ERROR")


_STATUS = {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE",
           pywraplp.Solver.INFEASIBLE: "INFEASIBLE"}


# --- public API --------------------------------------------------------------------------------------------

MAX_DRAWS = 5
MIP_FALLBACK_LEARNERS = 2000  # above, an undecided uniqueness is reported as such rather than handed to the MIP
UNIQUENESS_TIME = 2.0  # seconds for the uniqueness proof of each draw
GROUP_LEVELS = False  # weight several unit levels into one min-cost flow (fewer, but slower, solves)
OBJECTIVE_LABELS = {"egalitarian": "égalitaire", "rank_maximal": "rang maximal", "sum_of_ranks": "somme des rangs"}


BACKENDS = ("flow", "SCIP", "CBC", "CP-SAT")  # "flow": min-cost flow + branch and bound (default); else a MIP


def solve(instance: Instance, *, time_limit: float = 30.0, backend: str = "flow") -> Solution:
    """The unique optimal assignment of ``instance`` (see the module docstring).

    ``backend="flow"`` (default) solves min-cost flows with branch and bound on the projects' minimums;
    ``time_limit`` then bounds the whole search (seconds). Any other backend is a pywraplp MIP solver
    (``"SCIP"``...), ``time_limit`` being per level. The flow path hands over to the MIP (SCIP) in the one
    case it cannot decide, the status then says so. Raises :class:`InfeasibleAssignment` (French, naming the
    conflicting constraints) when no assignment exists.
    """
    return _dispatch(instance, {}, time_limit, backend)


def _dispatch(instance: Instance, homes: dict[str, str], time_limit: float, backend: str) -> Solution:
    if backend != "flow":
        return _solve(instance, homes, time_limit, backend)
    solution = _flow_solve(instance, homes, time_limit)
    if solution is not None:
        return solution
    solution = _solve(instance, homes, time_limit, "SCIP")
    return replace(solution, status=solution.status + " ; repli sur le MIP (SCIP) : unicité indécidable par le flot")


def solve_keep_published(instance: Instance, published: Mapping[str, str], withdrawn: Iterable[str], *,
                         time_limit: float = 30.0, backend: str = "flow") -> Solution:
    """Re-solve after withdrawals, keeping everyone else at their published project as far as possible.

    The withdrawn learners leave the instance (with their fixed/forbidden pairs); the first level minimises
    the number of remaining learners moved from ``published``, then the instance's objective and lottery
    apply. ``Solution.moved`` lists who moves.
    """
    gone = set(withdrawn)
    kept = replace(instance,
                   learners=tuple(lr for lr in instance.learners if lr.id not in gone),
                   fixed=tuple(pair for pair in instance.fixed if pair.learner not in gone),
                   forbidden=tuple(pair for pair in instance.forbidden if pair.learner not in gone))
    homes = {lid: pid for lid, pid in published.items() if lid not in gone}
    return _dispatch(kept, homes, time_limit, backend)


@dataclass(frozen=True)
class Counterfactual:
    """The levels of a re-solve, up to the first one worse than a reference (see :func:`counterfactual`)."""
    vector: tuple[int, ...]
    opened: frozenset[str]
    sizes: dict[str, int]


def counterfactual(instance: Instance, reference: Sequence[int], *, time_limit: float = 30.0,
                   backend: str = "flow") -> Counterfactual:
    """Solve the rank levels of ``instance`` until one differs from ``reference`` (no lottery).

    Used by the explanations: ``instance`` is the original one with a learner forced onto a project.
    Raises :class:`InfeasibleAssignment` when the forced instance has no assignment.
    """
    if backend == "flow":
        return _flow_counterfactual(instance, reference, time_limit)
    conflicts = precheck(instance)
    if conflicts:
        raise InfeasibleAssignment(conflicts)
    model = _Model(build_network(instance), backend)
    lex = _Lexicographic(model, time_limit)
    vector: list[int] = []
    for index, (label, terms, constant) in enumerate(_levels(model, instance, False)):
        value = lex.solve(terms, constant, label)
        if value is None:
            raise InfeasibleAssignment(_diagnose(instance, time_limit, backend))
        vector.append(value)
        if value != reference[index]:
            break
    sizes = _sizes(model, lex.values)
    return Counterfactual(tuple(vector), frozenset(p for p, n in sizes.items() if n), sizes)


def _levels(model: _Model, instance: Instance, keep: bool) -> list[tuple[str, list, int]]:
    levels = [("apprenants déplacés", *model.moved())] if keep else []
    for coefficients in _rank_levels(instance.ranks, instance.objective):
        label = ", ".join(f"{c:+d} × rang {r}" for r, c in sorted(coefficients.items()))
        levels.append((label, *model.level(coefficients)))
    return levels


def _solve(instance: Instance, homes: dict[str, str], time_limit: float, backend: str) -> Solution:
    start = perf_counter()
    conflicts = precheck(instance)
    if conflicts:
        raise InfeasibleAssignment(conflicts)
    net = build_network(instance, homes)
    model = _Model(net, backend)
    lex = _Lexicographic(model, time_limit)
    vector = []
    for label, terms, constant in _levels(model, instance, bool(homes)):
        value = lex.solve(terms, constant, label)
        if value is None:
            raise InfeasibleAssignment(_diagnose(instance, time_limit, backend))
        vector.append(value)
    lottery_value, draw_index, unique = _lottery(model, lex)
    plan = _assignment(net, model, lex.values)
    notes = lex.notes + ([f"plusieurs optimums subsistent après {MAX_DRAWS} tirages"] if unique is False else [])
    return _solution(instance, plan, homes, tuple(vector), lottery_value, draw_index, lex.optimal,
                     0.0 if lex.optimal else lex.gap, unique, notes, start)


def _lottery(model: _Model, lex: _Lexicographic) -> tuple[int, int, bool | None]:
    """Minimise the seeded lottery among the optimal solutions; prove the minimiser unique, else redraw.

    Returns (lottery value, draw number, unique) with ``unique`` None when the proof ran out of time.
    """
    m = model.solver
    infinity = m.infinity()
    for draw_index in range(MAX_DRAWS):
        terms = model.lottery(draw_index)
        status, value, _ = lex.minimise(terms)
        if status != "OPTIMAL":
            lex.optimal = False
            lex.notes.append("tirage au sort non prouvé optimal")
            return value, draw_index, False
        values = dict(lex.values)
        same_draw = lex.fix(terms, value, value)
        lowered = []  # lowered[a] = 1 forces used arc a to carry fewer learners than in this solution
        for var in model.variables:
            used = values[var.index()]
            if used > 0:
                flag = m.BoolVar("")
                lex.fix([(var, 1), (flag, var.ub() - used + 1)], -infinity, var.ub())
                lowered.append(flag)
        some = lex.fix([(flag, 1) for flag in lowered], 1, infinity)
        budget, lex.time_limit = lex.time_limit, min(lex.time_limit, UNIQUENESS_TIME)
        other, _, _ = lex.minimise([])
        lex.values, lex.time_limit = values, budget
        if other == "INFEASIBLE":
            return value, draw_index, True
        if other not in ("OPTIMAL", "FEASIBLE"):
            return value, draw_index, None
        some.SetBounds(0, infinity)
        same_draw.SetBounds(-infinity, infinity)
    return value, MAX_DRAWS - 1, False


def _sizes(model: _Model, values: dict[int, int]) -> dict[str, int]:
    sizes = Counter(model.net.fixed_size)
    for var, _, pid, _ in model.arcs:
        sizes[pid] += values[var.index()]
    for var, _, pid in model.hub_out:
        sizes[pid] += values[var.index()]
    return {p.id: sizes[p.id] for p in model.net.instance.projects}


def _assignment(net: Network, model: _Model, values: dict[int, int]) -> dict[str, str]:
    return _place(net, [(index, pid, rank, values[var.index()]) for var, index, pid, rank in model.arcs],
                  [(track, pid, values[var.index()]) for var, track, pid in model.hub_out])


def _place(net: Network, class_arcs: Iterable[tuple[int, str, int, int]],
           hub_arcs: Iterable[tuple[str, str, int]]) -> dict[str, str]:
    """Learners onto the aggregated solution: within a class, lottery order takes the best-ranked places.

    ``class_arcs``: (class index, project, rank, learners); ``hub_arcs``: (track, project, learners).
    """
    seed = net.instance.seed
    order = {p.id: draw(seed, "project", p.id) for p in net.instance.projects}
    plan = dict(net.fixed)
    seats: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for index, pid, rank, count in class_arcs:
        if count:
            seats[index] += [(rank, order[pid], pid)] * count
    pool: dict[str, list[str]] = defaultdict(list)
    for index, klass in enumerate(net.classes):
        places = seats.get(index)
        members = klass.members
        if not places:
            pool[klass.track] += members
        elif len(places) == 1:
            plan[members[0]] = places[0][2]
            if len(members) > 1:
                pool[klass.track] += members[1:]
        else:
            places.sort()
            plan.update((lid, place[2]) for lid, place in zip(members, places))
            pool[klass.track] += members[len(places):]
    hub_places: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for track, pid, count in hub_arcs:
        if count:
            hub_places[track] += [(order[pid], pid)] * count
    for track, learners in pool.items():
        learners.sort(key=lambda lid: (draw(seed, "learner", lid), lid))
        places = sorted(hub_places[track])
        plan.update((lid, place[1]) for lid, place in zip(learners, places))
    return {lr.id: plan[lr.id] for lr in net.instance.learners}


def _solution(instance: Instance, plan: dict[str, str], homes: dict[str, str], vector: tuple[int, ...],
              lottery_value: int, draw_index: int, optimal: bool, gap: float, unique: bool | None,
              notes: list[str], start: float) -> Solution:
    """The :class:`Solution` of an assignment, with its French status (shared by the MIP and flow paths)."""
    proven = "optimum prouvé" if optimal else "optimum NON prouvé"
    uniqueness = {True: "unique", False: "non unique", None: "unicité non prouvée dans le temps imparti"}[unique]
    status = f"{proven} ({OBJECTIVE_LABELS[instance.objective]}), {uniqueness}"
    status += f", tirage n° {draw_index} (graine {instance.seed})" + "".join(f" ; {n}" for n in notes)
    ranks = {lid: instance.rank(instance.learner(lid), pid) for lid, pid in plan.items()}
    profile = [0] * instance.unranked
    for rank in ranks.values():
        profile[rank - 1] += 1
    used = set(plan.values())
    return Solution(
        assignment=plan,
        opened=tuple(p.id for p in instance.projects if p.id in used),
        closed=tuple(p.id for p in instance.projects if p.id not in used),
        ranks=ranks, rank_profile=tuple(profile), worst_rank=max(ranks.values(), default=0),
        objective=instance.objective, objective_vector=vector, lottery_value=lottery_value,
        lottery_draw=draw_index, optimal=optimal, gap=gap, status=status,
        solve_time=perf_counter() - start, moved=tuple(lid for lid, pid in homes.items() if plan.get(lid) != pid))


def _diagnose(instance: Instance, time_limit: float, backend: str) -> list[str]:
    """Which family of constraints, once dropped, makes an assignment possible (French)."""
    relaxations = {
        "sans les effectifs minimums des projets": replace(instance, projects=tuple(
            replace(p, min_size=0, track_min={}) for p in instance.projects)),
        "sans les exclusions": replace(instance, forbidden=()),
        "sans les affectations fixées": replace(instance, fixed=()),
    }
    possible = []
    for label, relaxed in relaxations.items():
        if precheck(relaxed):
            continue
        if backend == "flow":
            if _flow_feasible(relaxed, time_limit):
                possible.append(label)
            continue
        status, _, _ = _Lexicographic(_Model(build_network(relaxed), backend), time_limit).minimise([])
        if status in ("OPTIMAL", "FEASIBLE"):
            possible.append(label)
    message = ("aucune affectation ne respecte à la fois les effectifs minimum et maximum des projets, les "
               "filières ouvertes et les paires fixées ou exclues")
    if possible:
        message += f" (une affectation existerait {' ou '.join(possible)})"
    return [message]


# --- min-cost-flow path (default) ---------------------------------------------------------------------------
#
# For a fixed set of opened projects the model above is a min-cost flow (classes -> hubs -> (project, track)
# -> project -> sink). Each lexicographic level is solved by OR-tools' min-cost flow; optimal dual prices then
# fix every arc whose reduced cost is non-zero (complementary slackness), so the next level is optimised over
# exactly the optimal flows of the previous ones (see :mod:`pipeline.assign.flow`). One min-cost flow per level
# (measured faster than weighting unit levels together, see ``GROUP_LEVELS``). A unit level (costs in {0, 1}
# or {0, -1}) is solved by the primal-dual method, a few OR-tools max flows warm-started from the previous
# level's flow, which also yields the dual prices; other levels and the lottery by OR-tools' min-cost flow
# (measured at 100 000 learners: a unit level in 0.3-0.9 s instead of up to 4 s). Minimum sizes are handled by
# branch and bound: every project whose minimum matters starts relaxed to [0, max]; a project whose flow falls
# strictly between 0 and its minimum (or misses a per-track minimum) is branched on (closed / opened with its
# minimums as lower bounds), best bound first, the bound being the relaxation's lexicographic vector, lottery
# included. A child is solved inside its parent's optimal face when it fits there (same rank levels, only the
# lottery to solve); otherwise its rank levels are strictly worse and it waits with that stronger bound. The lottery is the same as the MIP's (same weights on the same
# aggregated arcs), so when the minimiser is proven unique both paths return the same assignment.

class _FlowModel:
    ARC, TO_HUB, HUB, TRACK, SIZE = range(5)  # arc kinds

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
        track_code = {t: k for k, t in enumerate(TRACKS)}
        pt_of = np.full((len(projects), len(TRACKS)), -1, np.int64)  # (project, track) -> node
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
                else:
                    values.append(0)
            weights[todo] = values
        return weights[arcs]

    def _hub_track(self, node: int) -> str:
        return self.hub_tracks[node - len(self.net.classes)]


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


def _unique(model: _FlowModel, node: _Node) -> bool | None:
    """Whether the leaf's optimal flow is the only optimal assignment (None: cannot tell without the MIP)."""
    n, t, h = model.n_nodes, model.tail, model.head
    exact_lo, exact_cap = node.lo.copy(), node.cap.copy()
    projects = model.net.instance.projects
    for i in model.binary:
        if i in node.decisions:
            continue
        arc = model.size_arc[i]
        if node.flow[arc]:
            exact_lo[arc] = max(exact_lo[arc], projects[i].min_size)
            for track, need in model.needs[i].items():
                exact_lo[model.track_arc[i, track]] = max(exact_lo[model.track_arc[i, track]], need)
        else:
            exact_cap[arc] = 0
    if fl.has_cycle(n, t, h, exact_lo, exact_cap, node.flow):
        return False  # another feasible optimum with the same opened projects
    if not fl.has_cycle(n, t, h, node.lo, node.cap, node.flow):
        return True
    return None  # other optima exist only by opening/closing projects: let the MIP decide


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
            raise InfeasibleAssignment(_diagnose(instance, time_limit, "flow"))
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


def _flow_counterfactual(instance: Instance, reference: Sequence[int], time_limit: float) -> Counterfactual:
    conflicts = precheck(instance)
    if conflicts:
        raise InfeasibleAssignment(conflicts)
    model = _FlowModel(build_network(instance))
    result = _branch_and_bound(model, model.levels(False), None, perf_counter() + time_limit, ties=False)
    if result.node is None:
        raise InfeasibleAssignment(_diagnose(instance, time_limit, "flow"))
    vector = []
    for value, ref in zip(result.node.vector, reference):
        vector.append(value)
        if value != ref:
            break
    sizes = _flow_sizes(model, result.node.flow)
    return Counterfactual(tuple(vector), frozenset(p for p, n in sizes.items() if n), sizes)


def _flow_feasible(instance: Instance, time_limit: float) -> bool:
    model = _FlowModel(build_network(instance))
    return _branch_and_bound(model, [], None, perf_counter() + time_limit, ties=False).node is not None

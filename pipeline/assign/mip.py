"""The MIP path (any backend other than "flow"): the network as a pywraplp model, solved level by level.

For a fixed set of opened projects the model is a network flow (its LP is integral); opening a project is a
boolean only where it matters (minimum >= 2 or a per-track minimum) and no fixed learner already forces the
project open. The objective is a list of *levels* (see :func:`pipeline.assign.objective.objective_vector`),
optionally preceded by "number of learners moved from their published project"
(:func:`pipeline.assign.solver.solve_keep_published`). A MIP solver (SCIP by default, single thread) solves
the levels one after the other; each level's optimum is added as an equality before the next, so the final
solution is lexicographically optimal. A level not proven within the time limit is kept at its best value
(``<=``) and the solution says ``optimal=False`` with the relative gap of the first such level. The lottery
level and its uniqueness proof are in :mod:`pipeline.assign.lottery`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from time import perf_counter

from ortools.linear_solver import pywraplp

from pipeline.assign.lottery import MAX_DRAWS, _lottery, _place
from pipeline.assign.model import AssignmentTimeout, InfeasibleAssignment, Instance, Solution
from pipeline.assign.network import LOTTERY_RANGE, Network, build_network, draw
from pipeline.assign.objective import _rank_levels, _solution
from pipeline.assign.precheck import _diagnose, precheck


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
        self.unplaced: list[tuple[pywraplp.Variable, int]] = []  # (var, class index): allow_unplaced only
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
            if instance.allow_unplaced:
                var = m.IntVar(0, count, f"n{index}")
                self.unplaced.append((var, index))
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
        self.variables = ([v for v, *_ in self.arcs] + [v for v, _ in self.hub_in] + [v for v, *_ in self.hub_out]
                          + [v for v, _ in self.unplaced])

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
        terms += [(v, 1 + draw(seed, draw_index, "unplaced", self.net.classes[i].key) % LOTTERY_RANGE)
                  for v, i in self.unplaced]
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

def _levels(model: _Model, instance: Instance, keep: bool) -> list[tuple[str, list, int]]:
    levels = [("apprenants non placés", [(v, 1) for v, _ in model.unplaced], 0)] if instance.allow_unplaced else []
    if keep:
        levels.append(("apprenants déplacés", *model.moved()))
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
            raise InfeasibleAssignment(_diagnose(instance, lambda relaxed: _mip_feasible(relaxed, time_limit,
                                                                                         backend)))
        vector.append(value)
    lottery_value, draw_index, unique = _lottery(model, lex)
    plan = _assignment(net, model, lex.values)
    notes = lex.notes + ([f"plusieurs optimums subsistent après {MAX_DRAWS} tirages"] if unique is False else [])
    return _solution(instance, plan, homes, tuple(vector), lottery_value, draw_index, lex.optimal,
                     0.0 if lex.optimal else lex.gap, unique, notes, start)

def _sizes(model: _Model, values: dict[int, int]) -> dict[str, int]:
    sizes = Counter(model.net.fixed_size)
    for var, _, pid, _ in model.arcs:
        sizes[pid] += values[var.index()]
    for var, _, pid in model.hub_out:
        sizes[pid] += values[var.index()]
    return {p.id: sizes[p.id] for p in model.net.instance.projects}


def _assignment(net: Network, model: _Model, values: dict[int, int]) -> dict[str, str]:
    return _place(net, [(index, pid, rank, values[var.index()]) for var, index, pid, rank in model.arcs],
                  [(track, pid, values[var.index()]) for var, track, pid in model.hub_out],
                  {index: values[var.index()] for var, index in model.unplaced})


def _mip_feasible(instance: Instance, time_limit: float, backend: str) -> bool:
    status, _, _ = _Lexicographic(_Model(build_network(instance), backend), time_limit).minimise([])
    return status in ("OPTIMAL", "FEASIBLE")

"""Counterfactuals for the explanations: the rank levels of a re-solve, up to the first one that differs."""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import Sequence

from pipeline.assign.branch import _branch_and_bound, _flow_feasible, _flow_sizes
from pipeline.assign.flowmodel import _FlowModel
from pipeline.assign.mip import _Lexicographic, _levels, _mip_feasible, _Model, _sizes
from pipeline.assign.model import InfeasibleAssignment, Instance
from pipeline.assign.network import build_network
from pipeline.assign.precheck import _diagnose, precheck


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
            raise InfeasibleAssignment(_diagnose(instance, lambda relaxed: _mip_feasible(relaxed, time_limit,
                                                                                         backend)))
        vector.append(value)
        if value != reference[index]:
            break
    sizes = _sizes(model, lex.values)
    return Counterfactual(tuple(vector), frozenset(p for p, n in sizes.items() if n), sizes)

def _flow_counterfactual(instance: Instance, reference: Sequence[int], time_limit: float) -> Counterfactual:
    conflicts = precheck(instance)
    if conflicts:
        raise InfeasibleAssignment(conflicts)
    model = _FlowModel(build_network(instance))
    result = _branch_and_bound(model, model.levels(False), None, perf_counter() + time_limit, ties=False)
    if result.node is None:
        raise InfeasibleAssignment(_diagnose(instance, lambda relaxed: _flow_feasible(relaxed, time_limit)))
    vector = []
    for value, ref in zip(result.node.vector, reference):
        vector.append(value)
        if value != ref:
            break
    sizes = _flow_sizes(model, result.node.flow)
    return Counterfactual(tuple(vector), frozenset(p for p, n in sizes.items() if n), sizes)

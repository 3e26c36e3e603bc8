"""The assignment solver against an exact CP-SAT model, and its answer when time runs out."""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from pipeline.assign import InfeasibleAssignment, Instance, solve
from pipeline.assign.check import violations
from pipeline.assign.instances import minimum_size_instance, random_instance

OBJECTIVES = ("egalitarian", "rank_maximal", "sum_of_ranks")


def exact_levels(instance: Instance) -> tuple[int, ...] | None:
    """The lexicographically best objective vector by CP-SAT, one level at a time (None: infeasible).

    Written from the instance alone: learners with the same track, list, forbidden and fixed projects are
    counted together (an integer per group and allowed project, which spares CP-SAT their symmetries), and
    one boolean per opened project."""
    model = cp_model.CpModel()
    forbidden = {(f.learner, f.project) for f in instance.forbidden}
    fixed: dict[str, set[str]] = {}
    for pair in instance.fixed:
        fixed.setdefault(pair.learner, set()).add(pair.project)
    groups: dict[tuple, list] = {}
    for lr in instance.learners:
        key = (lr.track, lr.preferences, frozenset(p for l, p in forbidden if l == lr.id),
               frozenset(fixed.get(lr.id, ())))
        groups.setdefault(key, []).append(lr)
    x = {}  # (group, project) -> number of the group's learners on the project
    left = []  # allow_unplaced: per group not fixed, the number of its learners left without a project
    for g, ((track, prefs, banned, pinned), members) in enumerate(groups.items()):
        options = [p for p in instance.projects if track in p.tracks and p.id not in banned
                   and (not pinned or pinned == {p.id})]
        out = []
        if instance.allow_unplaced and not pinned:
            out = [model.NewIntVar(0, len(members), "")]
            left += out
        elif not options:
            return None
        for p in options:
            x[g, p.id] = (model.NewIntVar(0, len(members), ""), members[0], track)
        model.Add(sum(x[g, p.id][0] for p in options) + sum(out) == len(members))
    for p in instance.projects:
        opened = model.NewBoolVar("")
        members = [(var, track) for (g, pid), (var, _, track) in x.items() if pid == p.id]
        size = sum(var for var, _ in members)
        model.Add(size >= p.min_size * opened)
        model.Add(size <= p.max_size * opened)
        for track, need in p.track_min.items():
            model.Add(sum(var for var, t in members if t == track) >= need * opened)
    count = {r: 0 for r in range(1, instance.unranked + 1)}  # rank -> learners at that rank (R+1: not listed)
    for (g, pid), (var, learner, _) in x.items():
        count[instance.rank(learner, pid)] += var
    ranks = instance.ranks
    if instance.objective == "egalitarian":
        levels = [count[r] for r in range(ranks + 1, 1, -1)]
    elif instance.objective == "rank_maximal":
        levels = [-count[r] for r in range(1, ranks + 1)]
    else:
        levels = [sum(r * count[r] for r in count)]
    if instance.allow_unplaced:
        levels.insert(0, sum(left) if left else model.NewConstant(0))
    vector = []
    for level in levels:
        model.Minimize(level)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.max_time_in_seconds = 5.0
        status = solver.Solve(model)
        if status == cp_model.INFEASIBLE:
            return None
        # CP-SAT can be slow to prove that team sizes admit no exact packing: such an example is discarded
        # (infeasibility is the brute-force test's business)
        assume(status == cp_model.OPTIMAL)
        value = round(solver.ObjectiveValue())
        vector.append(value)
        model.Add(level == value)
    return tuple(vector)


@st.composite
def instances(draw) -> Instance:
    low = draw(st.integers(0, 4))
    n_learners = draw(st.integers(4, 16))
    return random_instance(
        draw(st.integers(0, 10**6)), n_learners, n_projects=draw(st.integers(2, 6)), ranks=draw(st.integers(1, 4)),
        zipf=draw(st.sampled_from([0.0, 1.0, 2.0])), eje_share=draw(st.sampled_from([0.0, 0.3, 0.6])),
        eje_only_share=0.2, es_only_share=0.2, min_range=(low, draw(st.integers(low, 5))),
        max_range=(2, draw(st.integers(2, 9))), track_min_share=draw(st.sampled_from([0.0, 0.5])),
        nonrespondent_share=draw(st.sampled_from([0.0, 0.15])), short_list_share=0.3,
        n_fixed=draw(st.integers(0, 3)), n_forbidden=draw(st.integers(0, 5)),
        objective=draw(st.sampled_from(OBJECTIVES)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(instances())
def test_solver_matches_an_exact_cp_sat_model(instance):
    expected = exact_levels(instance)
    if expected is None:
        with pytest.raises(InfeasibleAssignment):
            solve(instance)
        return
    solution = solve(instance)
    assert violations(instance, solution) == []
    assert solution.optimal and solution.gap == 0.0
    assert solution.objective_vector == expected


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_time_up_returns_the_best_assignment_found_with_its_gap(objective):
    """An instance whose relaxation opens projects below their minimum needs a search; with no time for it,
    the solver still answers: a feasible assignment, flagged not proven, with a gap, no better than the optimum."""
    instance = minimum_size_instance(0, 1_000, objective=objective)
    proven = solve(instance)
    assert proven.optimal and proven.status.startswith("optimum prouvé")
    quick = solve(instance, time_limit=1e-6)
    assert violations(instance, quick) == []
    assert not quick.optimal and quick.gap >= 0.0
    assert quick.status.startswith("meilleure solution trouvée, écart ≤ ")
    assert quick.objective_vector >= proven.objective_vector



def test_report_says_best_found_with_its_gap_when_not_proven():
    import pandas as pd

    from pipeline.stages.assignment import AssignmentResult
    from pipeline.stages.assignment_report import summary

    instance = minimum_size_instance(0, 1_000)
    quick = solve(instance, time_limit=1e-6)
    result = AssignmentResult(instance, quick, pd.DataFrame())
    assert "Solveur : meilleure solution trouvée, écart ≤ " in summary(result)
    assert result.metrics["optimal"] is False and result.metrics["gap"] == quick.gap >= 0.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_no_time_still_gives_a_feasible_assignment(instance):
    """With no time for the search (tracks, per-track minimums, fixed and forbidden pairs included): a feasible
    assignment, never better than the optimum, proven only when it is the optimum."""
    try:
        full = solve(instance)
    except InfeasibleAssignment:
        with pytest.raises(InfeasibleAssignment):
            solve(instance, time_limit=1e-9)
        return
    quick = solve(instance, time_limit=1e-9)
    assert violations(instance, quick) == []
    assert quick.objective_vector >= full.objective_vector and quick.gap >= 0.0
    if quick.optimal:
        assert quick.objective_vector == full.objective_vector and quick.gap == 0.0

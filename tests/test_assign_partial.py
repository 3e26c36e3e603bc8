"""Partial placement (``Instance.allow_unplaced``): as many learners placed as possible, then the objective and
the lottery among the placed, proven optimal; checked by brute force, against CP-SAT and against the MIP path."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.assign import InfeasibleAssignment, Instance, Learner, Pair, Project, solve
from pipeline.assign.check import rank_profile, violations
from pipeline.assign.explain import explain, improving_swaps
from pipeline.assign.instances import minimum_size_instance, random_instance
from tests.test_assign_exact import exact_levels

OBJECTIVES = ("egalitarian", "rank_maximal", "sum_of_ranks")


def brute_force(instance: Instance) -> tuple[int, ...] | None:
    """The best vector (unplaced learners, then the objective's levels among the placed) over every partial
    assignment, written from the instance alone (None when even that is impossible)."""
    forbidden = {(f.learner, f.project) for f in instance.forbidden}
    fixed: dict[str, set[str]] = defaultdict(set)
    for pair in instance.fixed:
        fixed[pair.learner].add(pair.project)
    options = [[p.id for p in instance.projects if lr.track in p.tracks and (lr.id, p.id) not in forbidden
                and (lr.id not in fixed or fixed[lr.id] == {p.id})] + ([] if lr.id in fixed else [None])
               for lr in instance.learners]
    best = None
    for combo in product(*options):
        placed = {lr.id: pid for lr, pid in zip(instance.learners, combo) if pid is not None}
        sizes = Counter(placed.values())
        per_track = Counter((pid, instance.learner(lid).track) for lid, pid in placed.items())
        if not all(sizes[p.id] == 0 or (p.min_size <= sizes[p.id] <= p.max_size and all(
                per_track[p.id, t] >= n for t, n in p.track_min.items())) for p in instance.projects):
            continue
        profile = rank_profile(instance, placed)
        ranks = instance.ranks
        if instance.objective == "egalitarian":
            levels = tuple(profile[i] for i in range(ranks, 0, -1))
        elif instance.objective == "rank_maximal":
            levels = tuple(-profile[i] for i in range(ranks))
        else:
            levels = (sum((i + 1) * n for i, n in enumerate(profile)),)
        vector = (len(instance.learners) - len(placed),) + levels
        if best is None or vector < best:
            best = vector
    return best


@st.composite
def scarce_instances(draw, most: int = 7) -> Instance:
    """Small instances with few places (often fewer than learners), tracks, minimums, fixed and forbidden pairs."""
    low = draw(st.integers(0, 3))
    instance = random_instance(
        draw(st.integers(0, 10**6)), draw(st.integers(1, most)), n_projects=draw(st.integers(1, 3)),
        ranks=draw(st.integers(1, 3)), zipf=draw(st.sampled_from([0.0, 1.0, 2.0])),
        eje_share=draw(st.sampled_from([0.0, 0.3, 0.6])), eje_only_share=0.25, es_only_share=0.2,
        min_range=(low, draw(st.integers(low, 3))), max_range=(1, draw(st.integers(1, 4))),
        track_min_share=draw(st.sampled_from([0.0, 0.5])), nonrespondent_share=0.15, short_list_share=0.3,
        n_fixed=draw(st.integers(0, 2)), n_forbidden=draw(st.integers(0, 3)), objective=draw(st.sampled_from(OBJECTIVES)))
    return replace(instance, allow_unplaced=True)


def assert_partial(instance: Instance, solution) -> None:
    assert violations(instance, solution) == []
    assert solution.optimal and solution.gap == 0.0
    assert solution.objective_vector[0] == len(solution.unplaced)
    assert set(solution.assignment).isdisjoint(solution.unplaced)
    assert sum(solution.rank_profile) == len(solution.assignment)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scarce_instances())
def test_partial_placement_matches_brute_force(instance):
    best = brute_force(instance)
    if best is None:
        with pytest.raises(InfeasibleAssignment):
            solve(instance)
        return
    solution = solve(instance)
    assert_partial(instance, solution)
    assert solution.objective_vector == best
    assert ", unique," in solution.status
    assert solve(instance).assignment == solution.assignment
    assert improving_swaps(instance, solution) == []


@st.composite
def scarce_cp_sat_instances(draw) -> Instance:
    low = draw(st.integers(0, 4))
    n_learners = draw(st.integers(4, 24))
    instance = random_instance(
        draw(st.integers(0, 10**6)), n_learners, n_projects=draw(st.integers(2, 6)), ranks=draw(st.integers(1, 4)),
        zipf=draw(st.sampled_from([0.0, 1.0, 2.0])), eje_share=draw(st.sampled_from([0.0, 0.3, 0.6])),
        eje_only_share=0.2, es_only_share=0.2, min_range=(low, draw(st.integers(low, 5))),
        max_range=(2, draw(st.integers(2, 6))), track_min_share=draw(st.sampled_from([0.0, 0.5])),
        nonrespondent_share=draw(st.sampled_from([0.0, 0.15])), short_list_share=0.3,
        n_fixed=draw(st.integers(0, 3)), n_forbidden=draw(st.integers(0, 5)),
        objective=draw(st.sampled_from(OBJECTIVES)))
    return replace(instance, allow_unplaced=True)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scarce_cp_sat_instances())
def test_partial_placement_matches_an_exact_cp_sat_model(instance):
    expected = exact_levels(instance)
    if expected is None:
        with pytest.raises(InfeasibleAssignment):
            solve(instance)
        return
    solution = solve(instance)
    assert_partial(instance, solution)
    assert solution.objective_vector == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scarce_instances(most=8))
def test_partial_placement_flow_path_returns_the_mip_result(instance):
    try:
        mip = solve(instance, backend="SCIP")
    except InfeasibleAssignment as error:
        with pytest.raises(InfeasibleAssignment) as caught:
            solve(instance)
        assert str(caught.value) == str(error)
        return
    flow = solve(instance)
    assert violations(instance, mip) == []
    assert flow.objective_vector == mip.objective_vector
    if ", unique," in mip.status and ", unique," in flow.status:
        assert (flow.assignment, flow.unplaced, flow.lottery_value) == (mip.assignment, mip.unplaced,
                                                                       mip.lottery_value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.sampled_from(OBJECTIVES))
def test_with_room_for_everyone_the_option_changes_nothing(seed, objective):
    """When every learner can be placed, the option places everyone on the same projects (same lottery), its
    vector being the usual one after a leading 0."""
    instance = random_instance(seed, 60, n_projects=5, ranks=3, min_range=(0, 3), max_range=(15, 25), n_fixed=2,
                               n_forbidden=3, objective=objective)
    try:
        usual = solve(instance)
    except InfeasibleAssignment:
        return
    partial = solve(replace(instance, allow_unplaced=True))
    assert partial.unplaced == ()
    assert partial.assignment == usual.assignment
    assert partial.objective_vector == (0,) + usual.objective_vector


def test_fewer_places_than_learners_places_as_many_as_possible_then_ranks():
    """Seven learners for six places, one project needing three to open: six are placed (the three who want the
    project with a minimum among them), the one left is drawn among those whose placement costs the same."""
    learners = (Learner("a", "ES", ("P1", "P2")), Learner("b", "ES", ("P1", "P2")), Learner("c", "ES", ("P1",)),
                Learner("d", "ES", ("P3",)), Learner("e", "ES", ("P3",)), Learner("f", "ES", ("P3",)),
                Learner("g", "EJE", ("P1",)))
    projects = (Project("P1", 0, 2, frozenset({"ES", "EJE"})), Project("P2", 0, 1, frozenset({"ES"})),
                Project("P3", 3, 3, frozenset({"ES"})))
    instance = Instance(learners, projects, ranks=2, fixed=(Pair("g", "P1", "commission"),), allow_unplaced=True)
    with pytest.raises(InfeasibleAssignment):
        solve(replace(instance, allow_unplaced=False))
    solution = solve(instance)
    assert_partial(instance, solution)
    assert solution.assignment["g"] == "P1"
    assert {solution.assignment[x] for x in "def"} == {"P3"}  # P3 opens with its three applicants
    assert len(solution.unplaced) == 1 and set(solution.unplaced) <= set("abc")
    assert solution.objective_vector == brute_force(instance)


def test_only_commission_pairs_can_make_a_partial_placement_infeasible():
    projects = (Project("P1", 3, 4, frozenset({"ES"})),)
    learners = (Learner("a", "ES", ("P1",)), Learner("b", "ES", ("P1",)))
    instance = Instance(learners, projects, ranks=1, fixed=(Pair("a", "P1", "commission"),), allow_unplaced=True)
    with pytest.raises(InfeasibleAssignment) as caught:
        solve(instance)
    assert "demandent au moins 3 apprenants" in str(caught.value.problems)
    alone = solve(replace(instance, fixed=()))
    assert alone.unplaced == ("a", "b") and alone.assignment == {}


def test_checker_rejects_an_unplaced_learner_who_had_room():
    instance = Instance((Learner("a", "ES", ("P1",)), Learner("b", "ES", ("P1",))),
                        (Project("P1", 0, 1, frozenset({"ES"})), Project("P2", 0, 1, frozenset({"ES"}))), ranks=1,
                        allow_unplaced=True)
    solution = solve(instance)
    assert solution.unplaced == () and violations(instance, solution) == []
    dropped = replace(solution, assignment={lid: pid for lid, pid in solution.assignment.items()
                                            if pid == "P1"}, unplaced=tuple(lid for lid, pid in
                                                                           solution.assignment.items() if pid == "P2"))
    assert violations(instance, dropped) != []
    assert violations(replace(instance, allow_unplaced=False), dropped) != []


def test_explanations_of_an_unplaced_learner_name_each_listed_project():
    instance = replace(random_instance(7, 40, n_projects=3, ranks=2, min_range=(0, 2), max_range=(4, 8)),
                       allow_unplaced=True)
    solution = solve(instance)
    assert solution.unplaced
    reasons = explain(instance, solution, learners=list(solution.unplaced[:5]))
    for lid, found in reasons.items():
        assert [r.project for r in found] == list(instance.learner(lid).preferences)
        assert all(r.text and "None" not in r.text for r in found)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_partial_placement_at_scale_is_proven(objective):
    """The minimum-size family with a third of its places removed: proven, checked, at 2 000 learners."""
    instance = minimum_size_instance(3, 2_000, objective=objective)
    scarce = replace(instance, allow_unplaced=True, projects=tuple(
        replace(p, max_size=max(p.min_size, p.max_size * 2 // 3)) for p in instance.projects))
    solution = solve(scarce)
    assert_partial(scarce, solution)
    assert solution.unplaced

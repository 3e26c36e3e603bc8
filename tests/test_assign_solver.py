"""The assignment solver against brute force, the independent checker, and hand-written cases."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.assign import (InfeasibleAssignment, Instance, Learner, Pair, Project, counterfactual, solve,
                             solve_keep_published)
from pipeline.assign.check import rank_profile, violations
from pipeline.assign.explain import explain, improving_swaps
from pipeline.assign.instances import random_instance

OBJECTIVES = ("egalitarian", "rank_maximal", "sum_of_ranks")


# --- brute force, written independently of the solver ------------------------------------------------------

def levels(profile: tuple[int, ...], objective: str) -> tuple[int, ...]:
    ranks = len(profile) - 1
    if objective == "egalitarian":
        return tuple(profile[i] for i in range(ranks, 0, -1))
    if objective == "rank_maximal":
        return tuple(-profile[i] for i in range(ranks))
    return (sum((i + 1) * n for i, n in enumerate(profile)),)


def brute_force(instance: Instance, homes: dict[str, str] | None = None) -> dict[str, tuple[int, ...]]:
    """Best objective vector per objective over every assignment ({} when none is feasible)."""
    homes = homes or {}
    forbidden = {(f.learner, f.project) for f in instance.forbidden}
    fixed: dict[str, set[str]] = defaultdict(set)
    for pair in instance.fixed:
        fixed[pair.learner].add(pair.project)
    options = [[p.id for p in instance.projects
                if lr.track in p.tracks and (lr.id, p.id) not in forbidden
                and (lr.id not in fixed or fixed[lr.id] == {p.id})] for lr in instance.learners]
    tracks = [lr.track for lr in instance.learners]
    best: dict[str, tuple[int, ...]] = {}
    for combo in product(*options):
        sizes = Counter(combo)
        per_track = Counter(zip(combo, tracks))
        if not all(sizes[p.id] == 0 or (p.min_size <= sizes[p.id] <= p.max_size and all(
                per_track[p.id, t] >= n for t, n in p.track_min.items())) for p in instance.projects):
            continue
        profile = rank_profile(instance, dict(zip((lr.id for lr in instance.learners), combo)))
        moved = sum(1 for lr, pid in zip(instance.learners, combo) if lr.id in homes and homes[lr.id] != pid)
        for objective in OBJECTIVES:
            vector = ((moved,) if homes else ()) + levels(profile, objective)
            if objective not in best or vector < best[objective]:
                best[objective] = vector
    return best


@st.composite
def small_instances(draw) -> Instance:
    low = draw(st.integers(0, 3))
    return random_instance(
        draw(st.integers(0, 10**6)), draw(st.integers(1, 7)), n_projects=draw(st.integers(1, 4)),
        ranks=draw(st.integers(1, 3)), zipf=draw(st.sampled_from([0.0, 1.0, 2.0])),
        eje_share=draw(st.sampled_from([0.0, 0.3, 0.6])), eje_only_share=0.25, es_only_share=0.2,
        min_range=(low, draw(st.integers(low, 3))), max_range=(1, draw(st.integers(1, 5))),
        track_min_share=draw(st.sampled_from([0.0, 0.5])), nonrespondent_share=0.15, short_list_share=0.3,
        n_fixed=draw(st.integers(0, 2)), n_forbidden=draw(st.integers(0, 3)), any_fixed=draw(st.booleans()),
        objective=draw(st.sampled_from(OBJECTIVES)))


def assert_valid(instance: Instance, solution) -> None:
    assert violations(instance, solution) == []
    assert solution.optimal and solution.gap == 0.0
    assert solution.objective_vector == levels(solution.rank_profile, instance.objective)
    assert len(solution.rank_profile) == instance.ranks + 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_solver_matches_brute_force(instance):
    best = brute_force(instance)
    if not best:
        with pytest.raises(InfeasibleAssignment):
            solve(instance)
        return
    solution = solve(instance)
    assert_valid(instance, solution)
    assert solution.objective_vector == best[instance.objective]
    assert ", unique," in solution.status  # the lottery minimiser is proven unique on small instances
    assert solve(instance).assignment == solution.assignment
    assert improving_swaps(instance, solution) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(), st.integers(0, 6))
def test_keep_published_matches_brute_force(instance, withdrawn_index):
    try:
        published = solve(instance)
    except InfeasibleAssignment:
        return
    gone = instance.learners[withdrawn_index % len(instance.learners)].id
    kept = replace(instance, learners=tuple(lr for lr in instance.learners if lr.id != gone),
                   fixed=tuple(p for p in instance.fixed if p.learner != gone),
                   forbidden=tuple(p for p in instance.forbidden if p.learner != gone))
    homes = {lid: pid for lid, pid in published.assignment.items() if lid != gone}
    best = brute_force(kept, homes)
    if not best:
        with pytest.raises(InfeasibleAssignment):
            solve_keep_published(instance, published.assignment, [gone])
        return
    again = solve_keep_published(instance, published.assignment, [gone])
    assert violations(kept, again) == []
    assert again.objective_vector == best[instance.objective]
    assert len(again.moved) == again.objective_vector[0]
    assert all(again.assignment[lid] == homes[lid] for lid in homes if lid not in again.moved)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_flow_path_returns_the_mip_result(instance):
    """The default min-cost-flow path and the MIP (SCIP) give the same optimum and, when both prove the
    lottery minimiser unique, the same assignment; a forced learner gives the same counterfactual levels."""
    try:
        mip = solve(instance, backend="SCIP")
    except InfeasibleAssignment as error:
        with pytest.raises(InfeasibleAssignment) as caught:
            solve(instance)
        assert str(caught.value) == str(error)
        return
    flow = solve(instance)
    assert flow.objective_vector == mip.objective_vector
    if ", unique," in mip.status and ", unique," in flow.status:
        assert (flow.assignment, flow.lottery_value, flow.lottery_draw) == (
            mip.assignment, mip.lottery_value, mip.lottery_draw)
    learner = instance.learners[0]
    if learner.preferences and all(pair.learner != learner.id for pair in instance.fixed):
        forced = replace(instance, fixed=instance.fixed + (Pair(learner.id, learner.preferences[0], "test"),))
        try:
            expected = counterfactual(forced, flow.objective_vector, backend="SCIP").vector
        except InfeasibleAssignment:
            with pytest.raises(InfeasibleAssignment):
                counterfactual(forced, flow.objective_vector)
            return
        assert counterfactual(forced, flow.objective_vector).vector == expected


# --- hand-written cases -----------------------------------------------------------------------------------

def project(pid: str, low: int, high: int, tracks=("ES", "EJE"), **track_min) -> Project:
    return Project(pid, low, high, frozenset(tracks), track_min)


def test_project_below_minimum_closes_and_its_applicants_move_on():
    learners = tuple(Learner(f"a{i}", "ES", ("A", "B")) for i in range(3))
    learners += tuple(Learner(f"b{i}", "ES", ("B", "C")) for i in range(4))
    instance = Instance(learners, (project("A", 5, 8), project("B", 1, 10), project("C", 1, 10)), 2)
    solution = solve(instance)
    assert_valid(instance, solution)
    assert "A" in solution.closed
    assert all(solution.assignment[f"a{i}"] == "B" for i in range(3))
    reasons = explain(instance, solution)["a0"]
    assert [(r.project, r.kind, r.text) for r in reasons] == [
        ("A", "ferme", "projet fermé : 3 candidatures pour un minimum de 5")]


def test_closing_is_optimised_not_greedy():
    # A alone reaches its minimum only if B closes; egalitarian prefers opening A (no one unranked).
    learners = (Learner("x", "ES", ("A",)), Learner("y", "ES", ("A",)), Learner("z", "ES", ("B", "A")))
    instance = Instance(learners, (project("A", 3, 3), project("B", 1, 3)), 2)
    solution = solve(instance)
    assert solution.assignment == {"x": "A", "y": "A", "z": "A"} and solution.closed == ("B",)
    reason = explain(instance, solution)["z"][0]
    assert reason.kind == "contrefactuel" and "obligerait 2 autres apprenants à n'obtenir aucun de leurs choix" \
        in reason.text


def test_track_restricted_project():
    learners = (Learner("es", "ES", ("J", "M")), Learner("eje", "EJE", ("J", "M")))
    instance = Instance(learners, (project("J", 1, 4, tracks=("EJE",)), project("M", 1, 4)), 2)
    solution = solve(instance)
    assert solution.assignment == {"es": "M", "eje": "J"}
    assert explain(instance, solution)["es"][0].text == "filière ES non ouverte sur ce projet"


def test_fixed_and_forbidden_pairs():
    learners = (Learner("f", "ES", ("A", "B")), Learner("x", "ES", ("A", "B")), Learner("y", "ES", ("B",)))
    instance = Instance(learners, (project("A", 1, 3), project("B", 1, 3), project("C", 1, 3)), 2,
                        fixed=(Pair("f", "C", "salarié de la structure"),),
                        forbidden=(Pair("x", "A", "lien familial avec le référent"),))
    solution = solve(instance)
    assert_valid(instance, solution)
    assert solution.assignment == {"f": "C", "x": "B", "y": "B"}
    why = explain(instance, solution)
    assert [r.text for r in why["x"]] == ["exclusion : lien familial avec le référent"]
    assert [r.text for r in why["f"]] == ["affectation fixée sur C : salarié de la structure"] * 2


@pytest.mark.parametrize("learners, projects, fixed, forbidden, expected", [
    ([("EJE", 12), ("ES", 2)], [("A", 0, 8, ("EJE", "ES")), ("B", 0, 20, ("ES",))], [], [],
     "12 apprenants EJE mais seulement 8 places maximum dans les projets ouverts aux EJE"),
    ([("ES", 10)], [("A", 0, 4, ("ES",)), ("B", 0, 5, ("ES",))], [], [],
     "10 apprenants mais seulement 9 places maximum au total"),
    ([("EJE", 2), ("ES", 2)], [("A", 0, 8, ("ES",))], [], [],
     "2 apprenants EJE mais aucun projet n'est ouvert aux EJE"),
    ([("ES", 3)], [("A", 0, 3, ("ES",)), ("B", 0, 3, ("ES",))], [(0, "A"), (0, "B")], [],
     "l'apprenant L0 est fixé sur plusieurs projets (A, B)"),
    ([("EJE", 1), ("ES", 1)], [("A", 0, 3, ("ES",)), ("B", 0, 3, ("ES", "EJE"))], [(0, "A")], [],
     "l'apprenant L0 (EJE) est fixé sur le projet A, qui n'est pas ouvert aux EJE"),
    ([("ES", 2)], [("A", 0, 3, ("ES",))], [(0, "A")], [(0, "A")],
     "l'apprenant L0 est à la fois fixé sur le projet A et exclu de ce projet (raison 0)"),
    ([("ES", 6)], [("A", 4, 6, ("ES",)), ("B", 4, 6, ("ES",))], [(0, "A"), (1, "B")], [],
     "les projets à ouvrir obligatoirement (apprenants fixés : A, B) demandent au moins 8 apprenants (somme des "
     "minimums) pour 6 apprenants"),
    ([("ES", 2)], [("A", 3, 6, ("ES",))], [], [],
     "2 apprenants ES mais aucun projet ouvert aux ES ne peut atteindre son effectif minimum (A : minimum 3)"),
    ([("ES", 4)], [("A", 3, 3, ("ES",)), ("B", 3, 3, ("ES",))], [], [],
     "aucune affectation ne respecte à la fois les effectifs minimum et maximum des projets, les filières "
     "ouvertes et les paires fixées ou exclues (une affectation existerait sans les effectifs minimums des projets)"),
])
def test_infeasibility_messages_name_the_conflict(learners, projects, fixed, forbidden, expected):
    people = [Learner(f"L{i}", track, ()) for i, track in enumerate(t for t, n in learners for _ in range(n))]
    instance = Instance(tuple(people), tuple(project(pid, lo, hi, tracks) for pid, lo, hi, tracks in projects), 3,
                        fixed=tuple(Pair(f"L{i}", pid, f"raison {i}") for i, pid in fixed),
                        forbidden=tuple(Pair(f"L{i}", pid, f"raison {i}") for i, pid in forbidden))
    with pytest.raises(InfeasibleAssignment) as caught:
        solve(instance)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("Aucune affectation possible\n- ") and caught.value.problems


def test_explanations_are_true_and_no_swap_helps():
    instance = random_instance(7, 40, n_projects=6, ranks=4, min_range=(4, 7), max_range=(7, 8), zipf=1.5,
                               n_forbidden=3, n_fixed=1)
    solution = solve(instance)
    assert_valid(instance, solution)
    assert improving_swaps(instance, solution) == []
    reasons = explain(instance, solution)
    kinds = Counter(r.kind for rs in reasons.values() for r in rs)
    assert kinds["contrefactuel"] > 0
    for learner_id, learner_reasons in reasons.items():
        learner = instance.learner(learner_id)
        assert [r.rank for r in learner_reasons] == list(range(1, solution.ranks[learner_id]))[:len(learner.preferences)]
        for reason in learner_reasons:
            if reason.kind in ("contrefactuel", "tirage"):
                forced = replace(instance, fixed=instance.fixed + (Pair(learner_id, reason.project, "test"),))
                other = solve(forced)
                assert other.assignment[learner_id] == reason.project
                if reason.kind == "contrefactuel":
                    assert other.objective_vector > solution.objective_vector
                else:
                    assert other.objective_vector == solution.objective_vector
            elif reason.kind == "filiere":
                assert learner.track not in instance.project(reason.project).tracks
            elif reason.kind == "ferme":
                assert reason.project in solution.closed


def test_same_seed_same_assignment_other_seed_same_optimum():
    instance = random_instance(3, 80, n_projects=6, max_range=(12, 20), nonrespondent_share=0.1)
    first, second = solve(instance), solve(instance)
    assert first.assignment == second.assignment and first.status.startswith("optimum prouvé")
    reseeded = solve(replace(instance, seed=instance.seed + 1))
    assert reseeded.objective_vector == first.objective_vector
    assert reseeded.rank_profile == first.rank_profile
    assert reseeded.assignment != first.assignment  # 12 non-respondents alone can be placed many ways


def test_keep_published_moves_only_whom_it_must():
    instance = random_instance(5, 40, n_projects=4, ranks=4, max_range=(12, 16))
    published = solve(instance)
    gone = [lid for lid, pid in published.assignment.items() if pid == published.opened[0]][:2]
    again = solve_keep_published(instance, published.assignment, gone)
    assert gone[0] not in again.assignment
    assert again.moved == () and all(again.assignment[lid] == published.assignment[lid] for lid in again.assignment)

"""Independent groups (a pôle's basins) cut from a pooled instance and solved in parallel worker processes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.assign import (InfeasibleAssignment, Instance, InvalidInstance, Learner, Pair, Project, solve,
                             solve_by_group, split_by_group)
from pipeline.assign.check import violations
from pipeline.assign.instances import minimum_size_instance


def pooled(basins: int = 3) -> tuple[Instance, dict[str, str], dict[str, str]]:
    """Basins of the minimums family glued into one instance (ids prefixed by their basin)."""
    learners, projects, learner_group, project_group = [], [], {}, {}
    for b in range(basins):
        part = minimum_size_instance(50 + b, 200 + 100 * b)
        name = f"bassin {b + 1}"
        for p in part.projects:
            projects.append(replace(p, id=f"B{b}{p.id}"))
            project_group[f"B{b}{p.id}"] = name
        for lr in part.learners:
            learners.append(Learner(f"B{b}{lr.id}", lr.track, tuple(f"B{b}{pid}" for pid in lr.preferences)))
            learner_group[f"B{b}{lr.id}"] = name
    return Instance(tuple(learners), tuple(projects), 10, seed=4), learner_group, project_group


def test_the_groups_solved_in_parallel_are_the_pooled_optimum():
    instance, learner_group, project_group = pooled()
    groups = split_by_group(instance, learner_group, project_group)
    assert list(groups) == ["bassin 1", "bassin 2", "bassin 3"]
    assert sum(len(g.learners) for g in groups.values()) == len(instance.learners)
    runs = solve_by_group(groups, workers=2)
    assert list(runs) == list(groups)
    for name, run in runs.items():
        assert run.solution.optimal and violations(groups[name], run.solution) == []
        assert run.solution.assignment == solve(groups[name]).assignment  # same answer as a solve in this process
        assert run.time > 0 and run.peak_mib > 0
    alone = solve(instance)  # pooled: each level is the sum of the groups' levels
    assert alone.objective_vector == tuple(map(sum, zip(*(run.solution.objective_vector for run in runs.values()))))


def test_a_choice_outside_ones_group_is_named():
    instance, learner_group, project_group = pooled(2)
    first = instance.learners[0]
    strays = replace(instance, learners=(replace(first, preferences=(instance.projects[-1].id,)),)
                     + instance.learners[1:])
    with pytest.raises(InvalidInstance) as caught:
        split_by_group(strays, learner_group, project_group)
    assert f"apprenant {first.id} (bassin 1) : choix hors de son groupe" in str(caught.value)


def test_every_group_without_an_assignment_is_named():
    groups = {name: Instance((Learner("a", "ES", ("P",)), Learner("b", "ES", ("P",))),
                             (Project("P", 0, 1, frozenset({"ES"})),), 1,
                             fixed=(Pair("a", "P", "convention"), Pair("b", "P", "convention")))
              for name in ("nord", "sud")}
    groups["est"] = replace(groups["nord"], fixed=())
    groups["est"] = replace(groups["est"], allow_unplaced=True)
    with pytest.raises(InfeasibleAssignment) as caught:
        solve_by_group(groups, workers=2)
    assert sorted({c.split(" : ")[0] for c in caught.value.conflicts}) == ["nord", "sud"]
    assert "nord : 2 apprenants fixés sur le projet P pour un maximum de 1" in caught.value.conflicts

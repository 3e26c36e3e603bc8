"""Assigning learners to projects: model, solver, explanations and an independent checker.
May import ``pipeline.contract`` only (its errors); knows nothing of files, stages or editions."""

from pipeline.assign.model import (AssignmentTimeout, InfeasibleAssignment, Instance, InvalidInstance, Learner, Pair,
                                   Project, Solution)
from pipeline.assign.groups import GroupRun, solve_by_group, split_by_group
from pipeline.assign.solver import counterfactual, objective_vector, solve, solve_keep_published

__all__ = ["AssignmentTimeout", "GroupRun", "InfeasibleAssignment", "Instance", "InvalidInstance", "Learner", "Pair",
           "Project", "Solution", "counterfactual", "objective_vector", "solve", "solve_by_group", "solve_keep_published",
           "split_by_group"]

"""The objective as lexicographic levels, and the :class:`Solution` (with its French status) of an assignment."""

from __future__ import annotations

from math import ceil
from time import perf_counter
from typing import Sequence

from pipeline.assign.model import Instance, Solution

OBJECTIVE_LABELS = {"egalitarian": "égalitaire", "rank_maximal": "rang maximal", "sum_of_ranks": "somme des rangs"}


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

def _solution(instance: Instance, plan: dict[str, str], homes: dict[str, str], vector: tuple[int, ...],
              lottery_value: int, draw_index: int, optimal: bool, gap: float, unique: bool | None,
              notes: list[str], start: float) -> Solution:
    """The :class:`Solution` of an assignment, with its French status (shared by the MIP and flow paths)."""
    proven = "optimum prouvé" if optimal else f"meilleure solution trouvée, écart ≤ {gap_text(gap)}"
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
        solve_time=perf_counter() - start, moved=tuple(lid for lid, pid in homes.items() if plan.get(lid) != pid),
        unplaced=tuple(lr.id for lr in instance.learners if lr.id not in plan))


def gap_text(gap: float) -> str:
    """A relative gap as a French percentage, rounded up (an upper bound stays one): 0.004171 -> "0,42 %"."""
    return f"{ceil(gap * 10_000 - 1e-9) / 100:.2f}".replace(".", ",") + " %"

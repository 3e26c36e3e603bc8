"""Seeded random instances for tests and benchmarks: a general family (:func:`random_instance`) and the
minimum-size family of issue 19 (:func:`minimum_size_instance`).

Popularity is skewed like real choices: project ``j`` (in a random order) is chosen with weight
``1 / (j + 1) ** zipf``, each learner listing distinct projects open to their track. The same arguments
always give the same instance.
"""

from __future__ import annotations

import numpy as np

from pipeline.assign.model import Instance, Learner, Pair, Project


def random_instance(seed: int, n_learners: int, *, n_projects: int | None = None, ranks: int = 10,
                    zipf: float = 1.0, eje_share: float = 1 / 3, eje_only_share: float = 0.15,
                    es_only_share: float = 0.10, min_range: tuple[int, int] = (3, 6),
                    max_range: tuple[int, int] = (15, 30), track_min_share: float = 0.0,
                    nonrespondent_share: float = 0.02, short_list_share: float = 0.05,
                    n_fixed: int = 0, n_forbidden: int = 0, any_fixed: bool = False,
                    objective: str = "egalitarian", lottery_seed: int | None = None) -> Instance:
    """A random instance; ``n_projects`` defaults to one per 20 learners.

    ``any_fixed`` lets fixed pairs name any project (even one closed to the learner's track, or twice the
    same learner): property tests use it to produce infeasible instances too.
    """
    rng = np.random.default_rng(seed)
    n_projects = n_projects or max(1, round(n_learners / 20))
    projects = _projects(rng, n_projects, eje_only_share, es_only_share, min_range, max_range, track_min_share)
    popularity = 1.0 / np.arange(1, n_projects + 1) ** zipf
    popularity = popularity[rng.permutation(n_projects)]
    tracks = np.where(rng.random(n_learners) < eje_share, "EJE", "ES")
    learners = []
    for track in ("ES", "EJE"):
        open_idx = np.array([i for i, p in enumerate(projects) if track in p.tracks], dtype=np.int64)
        members = np.flatnonzero(tracks == track)
        lists = _ranked_lists(rng, len(members), open_idx, popularity[open_idx] if len(open_idx) else open_idx,
                              ranks)
        for row, idx in enumerate(members):
            learners.append((int(idx), track, lists[row]))
    learners.sort()
    learner_objs = []
    silent = rng.random(n_learners) < nonrespondent_share
    short = rng.random(n_learners) < short_list_share
    short_len = rng.integers(1, ranks + 1, n_learners)
    for idx, track, prefs in learners:
        size = 0 if silent[idx] else (int(short_len[idx]) if short[idx] else ranks)
        learner_objs.append(Learner(f"L{idx:06d}", track, tuple(projects[j].id for j in prefs[:size])))
    fixed, forbidden = _pairs(rng, learner_objs, projects, n_fixed, n_forbidden, any_fixed)
    return Instance(tuple(learner_objs), tuple(projects), ranks, fixed, forbidden,
                    seed=seed if lottery_seed is None else lottery_seed, objective=objective)


def _projects(rng: np.random.Generator, count: int, eje_only: float, es_only: float,
              min_range: tuple[int, int], max_range: tuple[int, int], track_min_share: float) -> list[Project]:
    projects = []
    for j in range(count):
        draw = rng.random()
        tracks = frozenset({"EJE"} if draw < eje_only else {"ES"} if draw < eje_only + es_only else {"ES", "EJE"})
        low = int(rng.integers(min_range[0], min_range[1] + 1))
        high = int(rng.integers(max(low, max_range[0]), max(low, max_range[1]) + 1))
        track_min = {}
        if len(tracks) == 2 and rng.random() < track_min_share:
            track_min = {str(rng.choice(["ES", "EJE"])): int(rng.integers(1, max(1, low) + 1))}
        projects.append(Project(f"P{j:05d}", low, high, tracks, track_min))
    return projects


def _ranked_lists(rng: np.random.Generator, count: int, open_idx: np.ndarray, weights: np.ndarray,
                  ranks: int) -> list[list[int]]:
    """``count`` lists of ``min(ranks, len(open_idx))`` distinct projects drawn by popularity."""
    size = min(ranks, len(open_idx))
    if count == 0 or size == 0:
        return [[] for _ in range(count)]
    cdf = np.cumsum(weights) / weights.sum()
    draws = np.searchsorted(cdf, rng.random((count, 4 * size + 8)), side="right").clip(0, len(open_idx) - 1)
    lists = []
    for row in draws:
        seen = list(dict.fromkeys(row.tolist()))[:size]
        if len(seen) < size:  # rare: too many repeats of popular projects; complete in popularity order
            rest = [int(i) for i in rng.permutation(len(open_idx)) if int(i) not in seen]
            seen += rest[:size - len(seen)]
        lists.append([int(open_idx[i]) for i in seen])
    return lists


def _pairs(rng: np.random.Generator, learners: list[Learner], projects: list[Project], n_fixed: int,
           n_forbidden: int, any_fixed: bool) -> tuple[tuple[Pair, ...], tuple[Pair, ...]]:
    def draw(count: int, reason: str, only_open: bool) -> list[Pair]:
        pairs = []
        for k in range(count):
            learner = learners[int(rng.integers(len(learners)))]
            options = [p for p in projects if (learner.track in p.tracks or not only_open)]
            if options:
                project = options[int(rng.integers(len(options)))]
                pairs.append(Pair(learner.id, project.id, f"{reason} {k + 1}"))
        return pairs

    fixed = draw(n_fixed, "convention employeur", not any_fixed)
    if not any_fixed:
        fixed = list({pair.learner: pair for pair in fixed}.values())
    forbidden = [pair for pair in draw(n_forbidden, "exclusion demandée", False)
                 if any_fixed or all((f.learner, f.project) != (pair.learner, pair.project) for f in fixed)]
    return tuple(fixed), tuple(dict.fromkeys(forbidden))


def minimum_size_instance(seed: int, n_learners: int, *, ranks: int = 10, zipf: float = 1.6,
                          popularity_cap: int = 50, min_size: int = 3, capacity_ratio: float = 1.3,
                          es_only_share: float = 0.25, eje_only_share: float = 0.15, eje_share: float = 1 / 3,
                          nonrespondent_share: float = 0.0, short_list_share: float = 0.0,
                          objective: str = "egalitarian") -> Instance:
    """The minimum-size family of issue 19: one project per 20 learners, each with the same minimum
    (``min_size``) and a maximum drawn around ``20 * capacity_ratio`` (total capacity about
    ``capacity_ratio`` × learners); projects open to ES only / EJE only / both with the given shares; project
    popularity drawn from numpy's ``zipf(zipf)`` capped at ``popularity_cap`` (most projects have weight 1, a
    few are very popular), each learner listing ``ranks`` distinct projects open to their track by popularity
    (by default everyone answers with a full list: no unranked learner is free to fill a small project).
    """
    rng = np.random.default_rng(seed)
    n_projects = max(1, round(n_learners / 20))
    mean = 20 * capacity_ratio
    spread = max(1, round(mean / 5))
    kinds = rng.random(n_projects)
    highs = rng.integers(round(mean) - spread, round(mean) + spread + 1, n_projects)
    projects = []
    for j in range(n_projects):
        tracks = frozenset({"ES"} if kinds[j] < es_only_share else {"EJE"}
                           if kinds[j] < es_only_share + eje_only_share else {"ES", "EJE"})
        projects.append(Project(f"P{j:05d}", min_size, max(min_size, int(highs[j])), tracks))
    popularity = np.minimum(rng.zipf(zipf, n_projects), popularity_cap).astype(float)
    tracks = np.where(rng.random(n_learners) < eje_share, "EJE", "ES")
    chosen: list[tuple[int, str, list[int]]] = []
    for track in ("ES", "EJE"):
        open_idx = np.array([i for i, p in enumerate(projects) if track in p.tracks], dtype=np.int64)
        members = np.flatnonzero(tracks == track)
        lists = _ranked_lists(rng, len(members), open_idx, popularity[open_idx] if len(open_idx) else open_idx,
                              ranks)
        chosen += [(int(idx), track, lists[row]) for row, idx in enumerate(members)]
    chosen.sort()
    silent = rng.random(n_learners) < nonrespondent_share
    short = rng.random(n_learners) < short_list_share
    short_len = rng.integers(1, ranks + 1, n_learners)
    learners = tuple(Learner(f"L{idx:06d}", track, tuple(projects[j].id for j in prefs[:0 if silent[idx] else (
        int(short_len[idx]) if short[idx] else ranks)])) for idx, track, prefs in chosen)
    return Instance(learners, tuple(projects), ranks, seed=seed, objective=objective)

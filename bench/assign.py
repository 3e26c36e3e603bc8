"""Assignment solver timings on seeded instances; prints a table, asserts nothing.

Two families of seeded instances (``--family``): ``random`` (:func:`pipeline.assign.instances.random_instance`)
and ``minimums`` (:func:`pipeline.assign.instances.minimum_size_instance`, issue 19: a minimum of 3 on every
project, everyone ranks 10 projects, zipf(1.6) popularity). For each size and objective: wall time, CPU time
of the child process (the machine may be shared: on a loaded machine the wall time exceeds the CPU time), peak
memory (max RSS of the child process that solved), proven optimal or not with the gap, rank profile, and the 1-minute
load average of the machine when the run ended (the machine may be shared). ``--backend`` picks the solver
(default: the min-cost-flow path). Side by side on the random family, up to 5 000 learners: scipy's
``linear_sum_assignment`` on the seat-expanded matrix of the same instance with minimum sizes set to 0 (its
optimum must equal stagesco's ``sum_of_ranks`` on that relaxed instance), and ``matching``'s StudentAllocation
(stable, student-optimal; may leave learners unassigned). Each run happens in a forked child with a hard
wall-clock limit.

    .venv/bin/python bench/assign.py --quick
    .venv/bin/python bench/assign.py --sizes 300 5000 20000 100000
    .venv/bin/python bench/assign.py --family minimums --objectives egalitarian
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.assign import solve  # noqa: E402
from pipeline.assign.instances import minimum_size_instance, random_instance  # noqa: E402
from pipeline.assign.model import Instance  # noqa: E402

OBJECTIVES = ("egalitarian", "rank_maximal", "sum_of_ranks")
BASELINE_LIMIT = 5000
FAMILIES = {"random": random_instance, "minimums": minimum_size_instance}


def in_child(task, instance: Instance, wall_limit: float) -> dict:
    """Run ``task(instance)`` in a forked process; add its wall time and peak RSS (MiB)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def target():
        start, cpu = time.perf_counter(), time.process_time()
        try:
            row = task(instance)
        except Exception as error:  # reported in the table, the benchmark goes on
            row = {"status": f"{type(error).__name__}: {str(error)[:80]}"}
        row["time"] = time.perf_counter() - start
        row["cpu"] = time.process_time() - cpu
        row["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child.send(row)

    process = ctx.Process(target=target)
    process.start()
    if parent.poll(wall_limit):
        row = parent.recv()
        process.join()
        return row
    process.kill()
    process.join()
    return {"status": f"arrêté après {wall_limit:.0f} s", "time": wall_limit, "cpu": float("nan"), "rss": float("nan")}


def stagesco_task(time_limit: float, backend: str = "flow"):
    def task(instance: Instance) -> dict:
        solution = solve(instance, time_limit=time_limit, backend=backend)
        return {"optimal": solution.optimal, "gap": solution.gap, "profile": solution.rank_profile,
                "closed": len(solution.closed), "value": sum((r + 1) * n for r, n in enumerate(solution.rank_profile)),
                "status": solution.status.split("), ", 1)[-1].split(", tirage")[0]
                + ("" if "repli" not in solution.status else " (repli MIP)")}
    return task


def scipy_task(instance: Instance) -> dict:
    """Seats expanded: one column per place; cost = rank (R+1 unranked), track-closed/forbidden excluded."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    seats = [p for p in instance.projects for _ in range(p.max_size)]
    forbidden = {(f.learner, f.project) for f in instance.forbidden}
    big = 10 * instance.unranked * len(instance.learners)
    cost = np.full((len(instance.learners), len(seats)), float(big))
    for j, project in enumerate(seats):
        for i, learner in enumerate(instance.learners):
            if learner.track in project.tracks and (learner.id, project.id) not in forbidden:
                cost[i, j] = instance.unranked
    column = {}
    for j, project in enumerate(seats):
        column.setdefault(project.id, []).append(j)
    for i, learner in enumerate(instance.learners):
        for r, pid in enumerate(learner.preferences, 1):
            if learner.track in instance.project(pid).tracks and (learner.id, pid) not in forbidden:
                cost[i, column[pid]] = r
    rows, cols = linear_sum_assignment(cost)
    ranks = cost[rows, cols].astype(int)
    profile = tuple(int((ranks == r).sum()) for r in range(1, instance.unranked + 1))
    return {"optimal": True, "profile": profile, "value": int(ranks.sum()), "status": "optimum (LSA)",
            "closed": "-"}


def matching_task(instance: Instance) -> dict:
    from matching.games import StudentAllocation

    sys.setrecursionlimit(1_000_000)  # the library recurses once per rejection
    students = {lr.id: [p for p in lr.preferences if lr.track in instance.project(p).tracks]
                for lr in instance.learners}
    students = {sid: prefs for sid, prefs in students.items() if prefs}
    order = sorted(students)  # supervisors rank every applicant by a fixed (lottery-free) order
    applicants = {p.id: [] for p in instance.projects}
    for sid in order:
        for pid in students[sid]:
            applicants[pid].append(sid)
    used = [p for p in instance.projects if applicants[p.id]]
    game = StudentAllocation.create_from_dictionaries(
        students, {f"S{p.id}": applicants[p.id] for p in used}, {p.id: f"S{p.id}" for p in used},
        {p.id: p.max_size for p in used}, {f"S{p.id}": p.max_size for p in used})
    matching = game.solve(optimal="student")
    got = {s.name: project.name for project, team in matching.items() for s in team}
    profile = [0] * instance.unranked
    for learner in instance.learners:
        pid = got.get(learner.id)
        profile[instance.rank(learner, pid) - 1 if pid else instance.ranks] += 1
    return {"optimal": "-", "profile": tuple(profile), "unassigned": len(instance.learners) - len(got),
            "status": f"stable, {len(instance.learners) - len(got)} non affectés", "closed": "-"}


def row_text(size: int, method: str, row: dict) -> str:
    profile = row.get("profile")
    shown = " ".join(map(str, profile)) if profile else "-"
    optimal = {True: "oui", False: f"non ({row.get('gap', 0):.1%})"}.get(row.get("optimal"), "-")
    return (f"{size:>7} | {method:<22} | {row['time']:>8.2f} | {row['cpu']:>7.2f} | {row['rss']:>8.0f} | {optimal:<12} | "
            f"{str(row.get('closed', '-')):>6} | {shown:<40} | {os.getloadavg()[0]:>4.2f} | {row.get('status', '')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 300 and 5 000 learners")
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 5000, 20000, 100000])
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES), choices=OBJECTIVES)
    parser.add_argument("--family", nargs="+", default=list(FAMILIES), choices=list(FAMILIES),
                        help="instance families (default: both)")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                        help="scipy and matching side by side up to 5 000 learners (random family)")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="solver time limit (s): whole search for the flow path, per level for a MIP")
    parser.add_argument("--backend", default="flow", help="flow (default) or a MIP solver (SCIP...)")
    parser.add_argument("--wall-limit", type=float, default=300.0, help="hard limit per run (s)")
    args = parser.parse_args()
    sizes = [300, 5000] if args.quick else args.sizes
    print(f"{'learners':>7} | {'method':<22} | {'time s':>8} | {'cpu s':>7} | {'peak MiB':>8} | {'optimal':<12} | "
          f"{'closed':>6} | {'rank profile (1..R, unranked)':<40} | load | status")
    for family, size in [(family, size) for family in args.family for size in sizes]:
        base = FAMILIES[family](size, size)
        print(f"# {family}: {size} learners, {len(base.projects)} projects, R={base.ranks}, "
              f"{sum(lr.track == 'EJE' for lr in base.learners)} EJE, "
              f"{sum(p.tracks == frozenset({'EJE'}) for p in base.projects)} EJE-only projects")
        for objective in args.objectives:
            row = in_child(stagesco_task(args.time_limit, args.backend), replace(base, objective=objective),
                           args.wall_limit)
            print(row_text(size, f"stagesco {objective}", row), flush=True)
        if args.baselines and family == "random" and size <= BASELINE_LIMIT:
            relaxed = replace(base, objective="sum_of_ranks",
                              projects=tuple(replace(p, min_size=0, track_min={}) for p in base.projects))
            ours = in_child(stagesco_task(args.time_limit, args.backend), relaxed, args.wall_limit)
            print(row_text(size, "stagesco sum, min=0", ours) + f" ; Σ rangs = {ours.get('value')}", flush=True)
            lsa = in_child(scipy_task, relaxed, args.wall_limit)
            print(row_text(size, "scipy LSA, min=0", lsa) + f" ; Σ rangs = {lsa.get('value')}", flush=True)
            print(row_text(size, "matching SA", in_child(matching_task, base, args.wall_limit)), flush=True)


if __name__ == "__main__":
    main()

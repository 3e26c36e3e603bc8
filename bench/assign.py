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

``--pooled`` (default on; ``--no-pooled`` to skip) adds issue 15's pooled territory: 300 000 pupils over 60
basins (2 000 to 8 000 pupils each, an instance of the minimums family in each), solved basin by basin by
:func:`pipeline.assign.solve_by_group` in one worker process per core; it prints the generation time, the
wall time of the fan-out, the sum and the worst of the basins' times, the peak memory of the parent and of
the largest worker, and whether every basin is proven optimal.

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

from pipeline.assign import solve, solve_by_group  # noqa: E402
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


def basin_sizes(total: int, basins: int) -> list[int]:
    """``basins`` sizes rising evenly from 1 to 4 times the smallest, summing to ``total`` (300 000 over 60
    basins: 2 000 to 8 000)."""
    raw = [2 + 6 * k / max(1, basins - 1) for k in range(basins)]
    sizes = [int(total * r / sum(raw)) for r in raw]
    sizes[-1] += total - sum(sizes)
    return sizes


def pooled_task(total: int, basins: int, time_limit: float, workers: int | None):
    def task(_) -> dict:
        start = time.perf_counter()
        groups = {f"B{b:02d}": minimum_size_instance(1_000 + b, n) for b, n in enumerate(basin_sizes(total, basins))}
        made = time.perf_counter() - start
        start = time.perf_counter()
        runs = solve_by_group(groups, time_limit=time_limit, workers=workers)
        wall = time.perf_counter() - start
        worst = max(runs, key=lambda name: runs[name].time)
        return {"generation": made, "fan_out": wall, "sum": sum(run.time for run in runs.values()),
                "worst": worst, "worst_time": runs[worst].time, "worst_size": len(groups[worst].learners),
                "worker_mib": max(run.peak_mib for run in runs.values()),
                "proven": sum(run.solution.optimal for run in runs.values()), "basins": len(runs),
                "closed": sum(len(run.solution.closed) for run in runs.values()),
                "gap": max(run.solution.gap for run in runs.values())}
    return task


def print_pooled(total: int, basins: int, time_limit: float, workers: int | None, wall_limit: float) -> None:
    cores = workers or os.cpu_count()
    sizes = basin_sizes(total, basins)
    print(f"# pooled: {total} pupils over {basins} basins (minimums family, {min(sizes)} to {max(sizes)} pupils per "
          f"basin), solve_by_group on {cores} worker processes")
    row = in_child(pooled_task(total, basins, time_limit, workers), None, wall_limit)
    if "fan_out" not in row:
        print(f"pooled: {row.get('status')}")
        return
    print(f"pooled: generation {row['generation']:.1f} s; fan-out {row['fan_out']:.1f} s wall "
          f"(sum of the basins' solves {row['sum']:.1f} s); worst basin {row['worst']} ({row['worst_size']} pupils) "
          f"{row['worst_time']:.2f} s; peak memory parent {row['rss']:.0f} MiB, largest worker "
          f"{row['worker_mib']:.0f} MiB; proven {row['proven']}/{row['basins']} (worst gap {row['gap']:.2%}); "
          f"{row['closed']} projects closed; load {os.getloadavg()[0]:.2f}", flush=True)


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
    parser.add_argument("--pooled", action=argparse.BooleanOptionalAction, default=True,
                        help="the pooled 300 000-pupil territory, basin by basin in parallel (issue 15)")
    parser.add_argument("--pooled-size", type=int, default=300_000)
    parser.add_argument("--basins", type=int, default=60)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
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
    if args.pooled:
        print_pooled(args.pooled_size, args.basins, args.time_limit, args.workers, args.wall_limit)


if __name__ == "__main__":
    main()

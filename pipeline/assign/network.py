"""The network the solvers work on: interchangeable learners aggregated into classes, and the lottery numbers.

Free learners with the same track, allowed ranked list, forbidden projects and published project are
interchangeable and aggregated into *classes* (:func:`build_network`); a class without forbidden pairs reaches
every project it did not list through its track's *hub* (rank R+1), so both the MIP (:mod:`pipeline.assign.mip`)
and the min-cost flow (:mod:`pipeline.assign.flowmodel`) have about R+1 arcs per class, one per (track, project)
for the hubs. Learners fixed by the commission are set aside with their project (``Network.fixed``).

:func:`draw` is the seeded lottery number used everywhere a tie is broken (see :mod:`pipeline.assign.lottery`).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pipeline.assign.model import Instance

LOTTERY_RANGE = 2**24


def draw(seed: int, *parts: object) -> int:
    """A 64-bit lottery number, the same on every machine for the same seed and parts."""
    text = "|".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass
class Klass:
    track: str
    key: str
    members: list[str]  # learner ids, sorted by lottery number
    arcs: list[tuple[str, int]]  # (project, rank) the class may get directly
    hub: bool  # may also go, unranked, to any project open to its track
    home: str | None = None  # published project (keep-published mode)


@dataclass
class Network:
    instance: Instance
    classes: list[Klass]
    fixed: dict[str, str]  # learner -> project, decided by the commission
    fixed_size: Counter = field(default_factory=Counter)  # project -> fixed learners
    fixed_track: Counter = field(default_factory=Counter)  # (project, track) -> fixed learners
    homes: dict[str, str] = field(default_factory=dict)
    fixed_ranks: list[int] = field(default_factory=list)

    def hub_projects(self, track: str) -> list[str]:
        return [p.id for p in self.instance.projects if track in p.tracks]


def build_network(instance: Instance, homes: dict[str, str] | None = None) -> Network:
    homes = homes or {}
    seed = instance.seed
    fixed = {pair.learner: pair.project for pair in instance.fixed}
    forbidden: dict[str, set[str]] = defaultdict(set)
    for pair in instance.forbidden:
        forbidden[pair.learner].add(pair.project)
    net = Network(instance, [], fixed, homes=homes)
    for learner_id, project_id in fixed.items():
        net.fixed_size[project_id] += 1
        net.fixed_track[project_id, instance.learner(learner_id).track] += 1
        net.fixed_ranks.append(instance.rank(instance.learner(learner_id), project_id))
    open_to = {track: {p.id for p in instance.projects if track in p.tracks} for track in instance.track_codes}
    groups: dict[tuple, list[str]] = {}
    for learner in instance.learners:
        lid = learner.id
        if lid in fixed:
            continue
        banned = forbidden.get(lid)
        allowed = open_to[learner.track]
        if banned:
            listed = tuple([(pid, r) for r, pid in enumerate(learner.preferences, 1)
                            if pid in allowed and pid not in banned])
        else:
            listed = tuple([(pid, r) for r, pid in enumerate(learner.preferences, 1) if pid in allowed])
        key = (learner.track, listed, tuple(sorted(banned)) if banned else (), homes.get(lid))
        members = groups.get(key)
        if members is None:
            groups[key] = [lid]
        else:
            members.append(lid)
    # classes in the order of their key text (ties: first appearance, as a stable sort does)
    keyed = sorted(((_group_key(key), key, members) for key, members in groups.items()), key=lambda item: item[0])
    for text, (track, listed, banned, home), members in keyed:
        arcs = list(listed)
        if home is not None or banned:
            reachable = {pid for pid, _ in arcs}
            if home is not None and home not in reachable and home in open_to[track] and home not in banned:
                arcs.append((home, instance.unranked))
                reachable.add(home)
            if banned:  # no hub: list every other allowed project explicitly
                arcs += [(p.id, instance.unranked) for p in instance.projects
                         if track in p.tracks and p.id not in banned and p.id not in reachable]
        if len(members) > 1:
            members = sorted(members, key=lambda lid: (draw(seed, "learner", lid), lid))
        net.classes.append(Klass(track, text, members, arcs, not banned, home))
    return net


def _group_key(key: tuple) -> str:
    track, listed, banned, home = key
    return f"{track}|{','.join([p for p, _ in listed])}|{','.join(banned)}|{home or ''}"

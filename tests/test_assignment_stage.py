"""Stage 50 on the demo, re-checked from its published files only (independently of the solver)."""

from __future__ import annotations

import email
import json
from email import policy

import pandas as pd
import pytest

from tests.conftest import stagesco

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outputs(demo_run):
    out = demo_run / "outputs" / "demo"
    return {
        "root": demo_run,
        "metrics": json.loads((out / "assignment" / "metrics.json").read_text(encoding="utf-8")),
        "applications": json.loads((out / "applications" / "metrics.json").read_text(encoding="utf-8")),
        "table": pd.read_parquet(out / "assignment" / "affectations.parquet"),
        "retained": pd.read_parquet(out / "commission" / "projets_retenus.parquet"),
        "roster": pd.read_parquet(out / "applications" / "promotion.parquet"),
        "prefs": pd.read_parquet(out / "applications" / "candidatures.parquet"),
        "adjustments": pd.read_csv(demo_run / "inputs" / "demo" / "ajustements.csv", sep=";", encoding="utf-8-sig"),
        "outbox": out / "assignment" / "outbox",
    }


def test_metrics_identities(outputs):
    m, a = outputs["metrics"], outputs["applications"]
    assert m["learners"] == m["assigned"] + m["unassigned"] and m["unassigned"] == 0
    assert a["learners"] == a["respondents"] + a["non_respondents"] == m["learners"]
    assert m["projects_closed"] >= 1 and m["optimal"] is True and m["gap"] == 0
    assert len(m["rank_profile"]) == 5 + 1 and sum(m["rank_profile"]) == m["assigned"]


def test_every_constraint_holds_from_the_files_alone(outputs):
    table, retained, roster = outputs["table"], outputs["retained"], outputs["roster"]
    assert sorted(table["learner_id"]) == sorted(roster["learner_id"])  # everyone exactly once
    sizes = table["project_code"].value_counts()
    for project in retained.itertuples():
        size = int(sizes.get(project.project_code, 0))
        assert size == 0 or project.decided_team_min <= size <= project.decided_team_max, project.project_code
    tracks = dict(zip(retained["project_code"], retained["tracks_open"]))
    for row in table.itertuples():
        assert row.track in list(tracks[row.project_code]), row.learner_id
    got = dict(zip(table["learner_id"], table["project_code"]))
    for adj in outputs["adjustments"].itertuples():
        if adj.Type == "fixer":
            assert got[adj._1] == adj._2
        else:
            assert got[adj._1] != adj._2
    employers = dict(zip(retained["structure_name"], retained["project_code"]))
    for person in roster.dropna(subset=["employer"]).itertuples():
        if person.employer in employers:
            assert got[person.learner_id] != employers[person.employer]


def test_ranks_and_explanations_are_consistent(outputs):
    table, prefs = outputs["table"], outputs["prefs"]
    ranked = {(r.learner_id, r.project_code): r.rank for r in prefs.itertuples()}
    for row in table.itertuples():
        expected = ranked.get((row.learner_id, row.project_code), 6)
        assert row.rank == expected, row.learner_id
        better = [p for (l, p), r in ranked.items() if l == row.learner_id and r < row.rank]
        if better:
            for project in better:
                assert project in row.explanation, (row.learner_id, project)
    profile = [int((table["rank"] == r).sum()) for r in range(1, 7)]
    assert profile == outputs["metrics"]["rank_profile"]


def test_each_learner_mail_has_only_their_own_result(outputs):
    table = outputs["table"].set_index("learner_id")
    drafts = sorted(p for p in outputs["outbox"].glob("*.eml") if not p.stem.endswith("_ferme"))  # partners: test_outbox
    assert len(drafts) == len(table)
    for path in drafts[:40]:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        row = table.loc[path.stem]
        body = msg.get_content()
        assert row["project_code"] in body and msg["To"].addresses[0].addr_spec == row["email"]
        others = table.drop(index=path.stem)
        assert not any(other in body for other in others.index), path.stem
        assert not any(other in body for other in others["email"]), path.stem


def test_what_if_writes_nothing(outputs):
    root = outputs["root"]
    before = (root / "outputs" / "demo" / "assignment" / "affectations.parquet").read_bytes()
    closed = [c for c in outputs["retained"]["project_code"] if c not in set(outputs["table"]["project_code"])][0]
    result = stagesco(root, "assign", "demo", "--set", f"{closed}.min=1")
    assert "Profil des rangs simulé" in result.stdout and "changeraient de projet" in result.stdout
    assert (root / "outputs" / "demo" / "assignment" / "affectations.parquet").read_bytes() == before


def test_withdrawal_after_publication_keeps_everyone_else(demo_run, tmp_path):
    """The published workbook saved in publication/, a learner of a team at its minimum withdraws: the
    stage keeps everyone else at their published project except the fewest moves, and says who moves."""
    import shutil

    from tests.conftest import clone_run

    root = clone_run(demo_run, tmp_path / "repo")  # the shared run, copied: only stage 50 runs again
    out = root / "outputs" / "demo" / "assignment"
    before = pd.read_parquet(out / "affectations.parquet")
    retained = pd.read_parquet(root / "outputs" / "demo" / "commission" / "projets_retenus.parquet")
    sizes = before["project_code"].value_counts()
    at_min = retained[retained["project_code"].map(sizes) == retained["decided_team_min"]]
    code = sorted(at_min["project_code"])[0]
    leaving = sorted(before.loc[before["project_code"] == code, "learner_id"])[0]
    shutil.copy(out / "affectations.xlsx", root / "inputs" / "demo" / "publication" / "affectations.xlsx")
    adjustments = root / "inputs" / "demo" / "ajustements.csv"
    adjustments.write_bytes(adjustments.read_bytes() + f"{leaving};;retrait;raisons de santé\r\n".encode("utf-8"))
    stagesco(root, "run-stage", "assignment", "demo")

    after = pd.read_parquet(out / "affectations.parquet")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert leaving not in set(after["learner_id"]) and len(after) == len(before) - 1
    published = dict(zip(before["learner_id"], before["project_code"]))
    moved = sorted(lid for lid, pid in zip(after["learner_id"], after["project_code"]) if published[lid] != pid)
    assert metrics["withdrawn"] == 1 and metrics["published"] is True and metrics["moved"] == len(moved)
    assert 1 <= len(moved) <= 2  # the team fell below its minimum: someone must move, and only the fewest do
    new_sizes = after["project_code"].value_counts()
    for r in retained.itertuples():
        n = int(new_sizes.get(r.project_code, 0))
        assert n == 0 or r.decided_team_min <= n <= r.decided_team_max
    report = (out / "report.html").read_text(encoding="utf-8")
    from pipeline.contract.config import Edition
    from pipeline.repro.pseudonyms import pseudonyms

    codes = pseudonyms(Edition.load("demo", root), sorted(before["learner_id"]))
    assert "raisons de santé" in report and all(codes[lid] in report for lid in moved + [leaving])
    assert not any(lid in report for lid in before["learner_id"])  # pseudonyms, never the identifiers
    kept = after[~after["learner_id"].isin(moved)]
    assert kept["explanation"].str.startswith("affectation publiée").all()

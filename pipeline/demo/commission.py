"""The demo commission's filled decision workbook: what a commission member saves after the meeting.

Built from the workbook the eligibility stage generates for the demo, filled deterministically with
warning cases only (a non-eligible project retained with a motivation, team sizes changed, a trainer
with many projects, a value typed with different case and spaces); blocking cases are test fixtures.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import yaml

from ..io import tracks as track_words
from ..contract.config import Edition
from ..stages import commission as commission_stage
from ..stages import eligibility, projects
from ..stages.commission import header_labels
from ..stages.eligibility_report import decision_sheets
from .files import columns, fill_row, opened_workbook, workbook_bytes

NOT_RETAINED_ELIGIBLE = {
    0: "Projet très proche d'un autre projet retenu sur le même territoire ; la commission a privilégié l'autre.",
    1: "Le projet attend la remise d'un livrable prêt à l'emploi (règle « ATTENTION » de l'appel).",
}


@contextmanager
def workspace(root: Path, files: dict[str, bytes], edition: str = "demo"):
    """A throwaway copy of a demo edition (its config from ``root``, the given generated files),
    yielding its :class:`Edition` — so the demo's later inputs can be derived from its earlier ones."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(root / "dvc.yaml", work / "dvc.yaml")
        params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
        params["editions"] = {edition: params["editions"][edition]}
        (work / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        folder = work / "inputs" / edition
        folder.mkdir(parents=True)
        for name in ("edition.yaml", "mapping.yaml"):
            shutil.copy(root / "inputs" / edition / name, folder / name)
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        yield Edition.load(edition, work)


def decide(root: Path, files: dict[str, bytes], edition: str, fill: Callable) -> tuple:
    """A generated campaign's commission: its offers checked (stages 10–20), the decision workbook filled by
    ``fill(edition, checked)`` and added to ``files``, then read back by stage 30. Returns (checked, decided)."""
    with workspace(root, files, edition) as work:
        checked = eligibility.evaluate(work, projects.ingest(work).projects)
        files["decisions_commission.xlsx"] = fill(work, checked)
    with workspace(root, files, edition) as work:
        decided = commission_stage.ingest(work, checked.projects)
    return checked, decided


def eligibility_for(root: Path, depot: bytes) -> tuple[Edition, eligibility.EligibilityResult]:
    """The demo's eligibility result computed in a throwaway copy of the demo edition."""
    with workspace(root, {"depot_projets.csv": depot}) as edition:
        return edition, eligibility.evaluate(edition, projects.ingest(edition).projects)


def decision_workbook(edition: Edition, result: eligibility.EligibilityResult):
    """The commission's decision workbook of stage 20, opened to be filled: ``(workbook, sheet, {field: column})``."""
    workbook = opened_workbook(decision_sheets(result, edition))
    sheet = workbook["Décisions"]
    heads = columns(sheet)
    return workbook, sheet, {field: heads[label] for field, label in header_labels().items() if label in heads}


def filled_workbook(root: Path, depot: bytes) -> bytes:
    edition, result = eligibility_for(root, depot)
    workbook, sheet, col = decision_workbook(edition, result)
    trainers = list(edition.section("commission")["trainers"])
    decisions = edition.vocabulary["decisions"]
    every_track = track_words.phrase(edition.tracks)
    hours_cap = int(edition.section("eligibility")["rules"]["hours"]["max"])
    facts = result.projects.set_index("project_code")
    hard = result.results[(result.results["kind"] == "hard") & (result.results["outcome"] == eligibility.FAIL)]
    failed = hard.groupby("project_code")["rule_id"].agg(frozenset)
    eligible_seen = review_seen = not_eligible_seen = retained = 0
    for r in range(2, sheet.max_row + 1):
        code = sheet.cell(r, col["project_code"]).value
        row = facts.loc[code]
        status = row["status_code"]
        decision, motivation, agreed = decisions["retained"], None, {}
        low, high = int(row["team_min"]) if row["team_min"] == row["team_min"] else 6, \
            int(row["team_max"]) if row["team_max"] == row["team_max"] else 10
        if status == "eligible":
            if eligible_seen in NOT_RETAINED_ELIGIBLE:
                decision, motivation = decisions["not_retained"], NOT_RETAINED_ELIGIBLE[eligible_seen]
            eligible_seen += 1
        elif status == "review":
            if review_seen == 0:
                motivation = "Donnée manquante obtenue par téléphone auprès du partenaire ; le projet respecte l'appel."
            else:
                decision, motivation = decisions["not_retained"], "Le partenaire n'a pas pu préciser son projet à temps."
            review_seen += 1
        else:
            if failed.get(code) == {"hours"}:  # too many hours only: retained on the hours agreed with its partner
                motivation = f"Le partenaire accepte de ramener le projet à {hours_cap} heures ; la commission le retient."
                agreed = {"decided_hours": hours_cap}
            else:
                decision = decisions["not_retained"]
                motivation = "Projet non éligible : " + row["status_reasons"]
            not_eligible_seen += 1
        if low > high:
            low, high = high, low
        if decision == decisions["retained"]:
            if retained in (2, 7):  # the commission widens two teams
                high += 2
            proposed = sorted(str(t) for t in row["tracks"])
            track = every_track if set(proposed) == set(edition.tracks) or not proposed else proposed[0]
            trainer = trainers[0] if retained % 4 == 0 else trainers[1 + retained % (len(trainers) - 1)]
            values = {"decision": decision if retained != 3 else f"  {decision.capitalize()} ",
                      "decided_team_min": low, "decided_team_max": high, "tracks_open": track, "trainer": trainer,
                      **agreed}
            retained += 1
        else:
            values = {"decision": decision}
        if motivation:
            values["motivation"] = motivation
        fill_row(sheet, r, col, values)
    return workbook_bytes(workbook)

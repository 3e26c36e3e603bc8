"""The demo edition's follow-up inputs (stages 60 and 70), seeded: the same inputs give the same bytes.

* ``suivi_conventions.xlsx`` — the tracking workbook as the analyst fills it: mostly signed in order and
  on time, with the cases the stage must flag: one convention signed **late**, one signed **out of order**
  (the learners before the school), one with a **missing** date (the learners have not signed), one where
  only the site qualifiant has signed, same-day signatures, and dates typed as text (``15/11/2025``).
* ``evaluations/<project code>.xlsx`` — the référents' evaluation workbooks, filled with levels, a few
  grades left empty and one level typed with other case and spaces.
* ``jures_volontaires.csv`` — about twelve référents of the retained projects who volunteered as jurors
  (CSV ``;``, UTF-8 with BOM, CRLF: what Excel's « CSV UTF-8 » writes).

Names come from the demo's synthetic partners and cohort (no real person); e-mails use ``.example``.

:func:`standin_assignment` is a **stand-in for stage 50 (affectation)**, which another module builds: it
fills the retained projects deterministically (minimums first, single-track projects first, then the
remaining learners to the open project with the fewest members), ignoring preferences and employers.
Pass the real assignment to :func:`demo_files` once stage 50 exists.
"""

from __future__ import annotations

import csv
import io
import random
from collections import deque
from datetime import date, datetime, timedelta

import pandas as pd

from ..contract.config import Edition
from ..stages import conventions, evaluation, signatures
from ..stages.eligibility import as_list
from .files import columns, opened_workbook, workbook_bytes

DEMO_SEED = 2025
TRACKING_FILE = "suivi_conventions.xlsx"
VOLUNTEERS_FILE = "jures_volontaires.csv"
EVALUATIONS_FOLDER = "evaluations"
VOLUNTEERS = 12


# --- the stand-in assignment ---------------------------------------------------------------------------
def standin_assignment(projects: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """STAND-IN for stage 50: ``learner_id``, ``project_code``, one row per placed learner.

    Projects are taken by code, learners by identifier. (1) Each project, single-track ones first, gets
    its minimum from the pools of its open tracks (the fuller pool first); a project that cannot reach
    its minimum is not opened and gives its learners back. (2) Every learner left goes to the opened
    project open to their track, with room, that has the fewest members (then by code). A learner with no
    room anywhere stays unplaced (absent from the table)."""
    plist = sorted(projects.to_dict("records"), key=lambda p: p["project_code"])
    pools: dict[str, deque] = {}
    for row in roster.sort_values("learner_id").itertuples():
        pools.setdefault(row.track, deque()).append(row.learner_id)
    members: dict[str, list[str]] = {p["project_code"]: [] for p in plist}
    opened = []
    for p in sorted(plist, key=lambda p: (len(as_list(p["tracks_open"])), p["project_code"])):
        code, tracks = p["project_code"], [t for t in as_list(p["tracks_open"]) if t in pools]
        while len(members[code]) < int(p["decided_team_min"]):
            pool = max(tracks, key=lambda t: len(pools[t]), default=None)
            if pool is None or not pools[pool]:
                break
            members[code].append(pools[pool].popleft())
        if len(members[code]) < int(p["decided_team_min"]):
            for learner in reversed(members[code]):
                track = roster.loc[roster["learner_id"] == learner, "track"].iloc[0]
                pools[track].appendleft(learner)
            members[code] = []
        else:
            opened.append(p)
    left = sorted((learner, track) for track, pool in pools.items() for learner in pool)
    for learner, track in left:
        room = [p for p in opened if track in as_list(p["tracks_open"])
                and len(members[p["project_code"]]) < int(p["decided_team_max"])]
        if room:
            best = min(room, key=lambda p: (len(members[p["project_code"]]), p["project_code"]))
            members[best["project_code"]].append(learner)
    rows = [(learner, code) for code, ids in members.items() for learner in ids]
    return pd.DataFrame(sorted(rows), columns=["learner_id", "project_code"])


# --- helpers ---------------------------------------------------------------------------------------------
def _put_date(cell, value: date | None, as_text: bool = False) -> None:
    if value is None:
        cell.value = None
    elif as_text:
        cell.value = f"{value:%d/%m/%Y}"
        cell.data_type = "s"
    else:
        cell.value = datetime.combine(value, datetime.min.time())
        cell.number_format = "dd/mm/yyyy"


# --- the tracking workbook ---------------------------------------------------------------------------------
def filled_tracking(edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame, seed: int = DEMO_SEED) -> bytes:
    """The tracking workbook with signature dates, including late, out-of-order and missing ones."""
    rng = random.Random(f"{seed}-conventions")
    workbook = opened_workbook(signatures.tracking_sheets(projects, assignment, edition))
    sheet = workbook["Suivi des conventions"]
    col = columns(sheet)
    labels = signatures.tracking_labels()
    last = conventions.deadline(edition, conventions.settings(edition))
    calendar = edition.config.get("calendar") or {}
    first = edition.when("conventions_from").date() if "conventions_from" in calendar else last - timedelta(days=75)
    span = max(10, (last - first).days)
    notes = {2: "Relance des apprenants envoyée", 4: "Convention en attente chez l'établissement de formation"}
    for index, r in enumerate(range(2, sheet.max_row + 1)):
        site = first + timedelta(days=rng.randint(3, max(4, span - 20)))
        school = site + timedelta(days=rng.randint(0, 6))
        learners = min(last, school + timedelta(days=rng.randint(0, 9)))
        if index == 0:  # late: the learners sign after the deadline
            learners = last + timedelta(days=3)
        elif index == 1:  # out of order: the learners before the school
            learners = school - timedelta(days=2)
        elif index == 2:  # missing: the learners have not signed
            learners = None
        elif index == 3:  # the same day for all three: in order
            school = learners = site
        elif index == 4:  # only the site qualifiant has signed
            school = learners = None
        dates = {"site_signed": site, "school_signed": school, "learners_signed": learners}
        for name, value in dates.items():
            _put_date(sheet.cell(r, col[labels[name]]), value, as_text=(index + len(name)) % 5 == 0)
        if index in notes:
            cell = sheet.cell(r, col[labels["notes"]])
            cell.value = notes[index]
            cell.data_type = "s"
    return workbook_bytes(workbook)


# --- the evaluation workbooks -------------------------------------------------------------------------------
def filled_evaluations(edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame, roster: pd.DataFrame,
                       seed: int = DEMO_SEED, folder: str = EVALUATIONS_FOLDER) -> dict[str, bytes]:
    """``{folder/<code>.xlsx: bytes}``: every opened project's workbook as its référent returns it."""
    rng = random.Random(f"{seed}-evaluation")
    config = evaluation.settings(edition)
    levels = list(config.levels)
    weights = [1 + i for i in range(len(levels))]  # higher levels more frequent
    out = {}
    for index, (name, sheets) in enumerate(sorted(evaluation.blank_workbooks(projects, assignment, roster, edition).items())):
        workbook = opened_workbook(sheets)
        sheet = workbook["Évaluation"]
        codes = [code for code, _ in evaluation.competence_columns(
            projects.set_index("project_code").loc[name.removesuffix(".xlsx"), "competences"], config)]
        col = columns(sheet)
        targets = [c for label, c in col.items() if any(str(label).startswith(f"{code} ") or label == code for code in codes)]
        cells = [(r, c) for r in range(2, sheet.max_row + 1) for c in targets]
        blanks = set(rng.sample(cells, k=min(len(cells), 1 + index % 2))) if index in (1, 4, 7) else set()
        for r, c in cells:
            if (r, c) in blanks:
                continue
            level = rng.choices(levels, weights=weights)[0]
            if index == 2 and (r, c) == cells[0]:
                level = f"  {level.upper()} "  # typed by hand: case and spaces differ
            sheet.cell(r, c).value = level
            sheet.cell(r, c).data_type = "s"
        if index == 0:
            cell = sheet.cell(2, col[evaluation.NOTES_LABEL])
            cell.value = "Très investi(e) dans l'animation des ateliers."
            cell.data_type = "s"
        out[f"{folder}/{name}"] = workbook_bytes(workbook)
    return out


# --- the volunteer jurors ----------------------------------------------------------------------------------
def volunteers_csv(projects: pd.DataFrame, seed: int = DEMO_SEED, count: int = VOLUNTEERS) -> bytes:
    """About ``count`` référents of the retained projects who volunteered as jurors (CSV ``;``, BOM)."""
    rng = random.Random(f"{seed}-juries")
    candidates = [p for p in projects.sort_values("project_code").to_dict("records")
                  if isinstance(p.get("referent_name"), str) and isinstance(p.get("referent_email"), str)]
    chosen = sorted(rng.sample(candidates, k=min(count, len(candidates))), key=lambda p: p["referent_name"])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Nom", "Structure", "Courriel"])
    for p in chosen:
        writer.writerow([p["referent_name"], p["structure_name"], p["referent_email"]])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def demo_files(edition: Edition, retained: pd.DataFrame, roster: pd.DataFrame,
               assignment: pd.DataFrame | None = None, seed: int = DEMO_SEED) -> dict[str, bytes]:
    """``{path relative to inputs/demo/: bytes}`` of the follow-up inputs (tracking workbook, evaluation
    workbooks, volunteers' list). ``assignment`` defaults to :func:`standin_assignment`."""
    if assignment is None:
        assignment = standin_assignment(retained, roster)
    files = {TRACKING_FILE: filled_tracking(edition, retained, assignment, seed),
             VOLUNTEERS_FILE: volunteers_csv(retained, seed)}
    files.update(filled_evaluations(edition, retained, assignment, roster, seed))
    return files

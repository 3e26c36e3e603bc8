"""`stagesco new-edition <name> --from <edition> --annee <year>`: the calendar and title move to the year,
new seeds are drawn and recorded, and what still needs a look is listed."""

from __future__ import annotations

import shutil

import yaml

from pipeline.repro.editions import roll_forward
from tests.conftest import ROOT


def test_roll_forward_moves_the_calendar_title_and_seeds(tmp_path):
    path = tmp_path / "edition.yaml"
    shutil.copy(ROOT / "inputs" / "demo" / "edition.yaml", path)
    before = yaml.safe_load(path.read_text(encoding="utf-8"))
    notes = roll_forward(path, 2026)
    text = path.read_text(encoding="utf-8")
    after = yaml.safe_load(text)
    assert after["calendar"]["submission_deadline"] == "2026-07-15 23:59"  # the time of day is kept
    assert after["calendar"]["start"] == "2026-12-01" and after["calendar"]["end"] == "2026-12-19"
    assert "2026" in after["title"] and "2025" not in after["title"]
    assert after["seed"] != before["seed"] and after["assignment"]["seed"] != before["assignment"]["seed"]
    assert 10**7 <= after["seed"] < 10**8
    assert "# Stage 20." in text  # comments survive
    assert after["eligibility"] == before["eligibility"]  # rules are not rewritten…
    joined = "\n".join(notes)
    # …but a rule's source sentence still naming 2025 is listed for the analyst
    assert "eligibility.rules.deadline.source cite encore l'année 2025" in joined
    # 12 September 2026 is a Saturday
    assert "calendar.commission tombe un samedi (12/09/2026)" in joined
    assert f"seed {after['seed']}" in notes[-1]


def test_roll_forward_to_a_leap_day_and_a_title_without_year(tmp_path):
    path = tmp_path / "edition.yaml"
    path.write_text('title: Stages de printemps\ncalendar:\n  start: "2024-02-29"\n  end: "2024-03-15"\n',
                    encoding="utf-8")
    notes = roll_forward(path, 2025)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["calendar"] == {"start": "2025-02-28", "end": "2025-03-15"}
    assert data["title"] == "Stages de printemps — 2025"
    assert "assignment.seed" not in notes[-1]

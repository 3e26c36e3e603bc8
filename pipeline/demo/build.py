"""Writes the demo edition's generated inputs (seeded: the same bytes every time)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..stages import applications, assignment, eligibility, projects
from ..stages import commission as commission_stage
from ..contract import atomic
from . import adjustments, commission, followup, formats, history, learners, partners, pole_history
from .files import write_files

DEMO_SEED = 2025
DEMO_KEY = (
    "# Clé synthétique de l'édition démo : publique, elle ne protège aucune donnée réelle (une édition réelle a\n"
    "# une clé aléatoire créée par « stagesco new-edition », suivie par DVC, jamais dans git).\n"
    + hashlib.sha256(b"stagesco demo synthetic pseudonym key").hexdigest() + "\n"
)


def demo_files(root: Path) -> dict[str, bytes]:
    """``{file name in inputs/demo/: bytes}`` for every generated demo input (edition.yaml and
    mapping.yaml are hand-written and read from ``root``)."""
    submissions = partners.demo_cases(partners.records(DEMO_SEED))
    depot = formats.excel_fr_export(submissions)
    files = {"depot_projets.csv": depot, "decisions_commission.xlsx": commission.filled_workbook(root, depot)}
    with commission.workspace(root, files) as edition:
        checked = eligibility.evaluate(edition, projects.ingest(edition).projects)
        decided = commission_stage.ingest(edition, checked.projects)
    catalogue = applications.as_catalogue(decided.retained)
    refused = decided.decisions[decided.decisions["decision_code"] != "retained"].sort_values("project_code")
    files.update(learners.demo_files(catalogue, non_retained=[learners.choice_label(p) for p in refused.head(1).itertuples()]))
    with commission.workspace(root, files) as edition:
        applied = applications.ingest(edition, catalogue)
    files["ajustements.csv"] = adjustments.adjustments_csv(applied.roster, decided.retained, applied.preferences)
    with commission.workspace(root, files) as edition:
        placed = assignment.run(edition, decided.retained, applied.roster, applied.preferences).table
        follow = followup.demo_files(edition, decided.retained, applied.roster, placed[["learner_id", "project_code"]])
    files.update({f"suivi/{name}": data for name, data in follow.items()})
    files["cle_pseudonymes.txt"] = DEMO_KEY.encode("utf-8")  # the pseudonym key (pipeline.repro.pseudonyms)
    return files


def write_demo(root: Path) -> list[Path]:
    written = write_files(root / "inputs" / "demo", demo_files(root))
    earlier = root / "history" / f"{history.NAME}.json"
    atomic.write_json(earlier, history.record())
    pole_earlier = root / "history" / f"{pole_history.NAME}.json"  # an earlier year of the demo pôle (demo-pole)
    atomic.write_json(pole_earlier, pole_history.record())
    return [*written, earlier, pole_earlier]

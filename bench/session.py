"""The commission's session: time from a change to its displayed result, on the demo; prints a table,
asserts nothing.

Starts ``stagesco session demo`` on a free port in a copy of the project (its inputs, its up-to-date
``outputs/`` and DVC state, so nothing here is written), opens the page in Debian's Chromium (playwright)
and, for each kind of change, fills the form, presses « Essayer » and waits until the new rank profile and
who moves are on the page: the wall time a commission member waits, round trip to the kernel included
(the time the kernel took is shown on the page and printed beside it). Nothing is adopted. The project's
demo run must be up to date (``stagesco run demo``).

    .venv/bin/python bench/session.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from pipeline.repro.pseudonyms import pseudonyms  # noqa: E402
from pipeline.contract.config import Edition  # noqa: E402
from pipeline.session.server import free_port  # noqa: E402
from tests.conftest import copy_repo  # noqa: E402
from tests.person import browser  # noqa: E402
from tests.session_driver import start, stop, try_change, wait_for  # noqa: E402


def project_copy(dest: Path) -> Path:
    """The project as committed, with the demo run's outputs/ and DVC cache copied beside it."""
    copy_repo(dest)
    shutil.copytree(ROOT / "outputs", dest / "outputs", dirs_exist_ok=True)
    shutil.copytree(ROOT / ".dvc" / "cache", dest / ".dvc" / "cache", dirs_exist_ok=True)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="tries of each change (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stagesco-bench-session-") as tmp:
        root = project_copy(Path(tmp) / "repo")
        edition = Edition.load("demo", root)
        retained = pd.read_parquet(root / "outputs/demo/commission/projets_retenus.parquet").sort_values("project_code")
        assignment = pd.read_parquet(root / "outputs/demo/assignment/affectations.parquet")
        sizes = assignment["project_code"].value_counts()
        maxima = dict(zip(retained["project_code"], retained["decided_team_max"]))
        full = [c for c in retained["project_code"] if sizes.get(c, 0) == maxima[c]]
        pinned = set(pd.read_csv(root / "inputs/demo/ajustements.csv", sep=";", encoding="utf-8-sig")["Code projet"])
        opened = [c for c in retained["project_code"] if sizes.get(c, 0) and c not in pinned]  # closable
        codes = pseudonyms(edition, sorted(assignment["learner_id"]))
        someone = assignment.sort_values("learner_id").iloc[0]
        other = next(c for c in opened if c != someone["project_code"])
        changes = [("nouveau maximum", dict(kind="Effectif (minimum et maximum)", project=full[0], reason="banc",
                                            maximum=int(maxima[full[0]]) + 2)),
                   ("fermeture d'un projet", dict(kind="Fermer le projet", project=opened[-1], reason="banc")),
                   ("paire fixée", dict(kind="Placer un apprenant (fixer)", project=other, reason="banc",
                                        learner=codes[someone["learner_id"]])),
                   ("retrait", dict(kind="Retrait d'un apprenant", project=None, reason="banc",
                                    learner=codes[someone["learner_id"]]))]
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        log = Path(tmp) / "session.log"
        started = time.perf_counter()
        process = start(root, port, log)
        try:
            wait_for(url, process, log)
            with browser() as chromium:
                page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.goto(url)
                page.wait_for_selector(".sc-current", timeout=120_000)
                print(f"Séance prête (commande lancée → page affichée) : {time.perf_counter() - started:.1f} s")
                print(f"{'changement':<24} {'affiché en (médiane, max)':>28} {'calcul du noyau (médiane)':>28} {'déplacés':>9}")
                for label, change in changes:
                    shown, kernel, moved = [], [], 0
                    for _ in range(args.repeat):
                        kwargs = dict(change)
                        result = try_change(page, kwargs.pop("kind"), kwargs.pop("project"), kwargs.pop("reason"), **kwargs)
                        shown.append(result["seconds"])
                        found = re.search(r"Calculé en ([\d,]+) s", result["text"])
                        kernel.append(float(found.group(1).replace(",", ".")) if found else float("nan"))
                        moved = len(result["moves"])
                    print(f"{label:<24} {statistics.median(shown):>17.3f} s, {max(shown):.3f} s "
                          f"{statistics.median(kernel):>26.3f} s {moved:>9}")
        finally:
            stop(process)
    print(f"machine : {os.cpu_count()} cœurs, charge moyenne sur 1 min {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

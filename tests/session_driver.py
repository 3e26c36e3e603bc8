"""Driving ``stagesco session`` as a commission member does, in a real browser (playwright): used by
tests/test_session.py and bench/session.py. Widgets are found by their ``sc-…`` classes
(:mod:`pipeline.session.page`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def start(root: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("STAGESCO_ROOT", None)
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "session", "demo", "--port", str(port)], cwd=root,
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"la séance s'est arrêtée :\n{log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"la séance ne répond pas :\n{log.read_text()}")


def try_change(page, kind: str, project: str | None, reason: str, *, learner: str | None = None, maximum: int | None = None) -> dict:
    """Fill the form, press « Essayer », wait for the result; returns what the page shows and how long it took."""
    choose(page, "kind", kind)
    if project:
        choose(page, "project", project + " ", prefix=True)
    if learner:
        choose(page, "learner", learner)
    if maximum is not None:
        page.fill(".sc-max input", str(maximum))
        page.press(".sc-max input", "Tab")
    page.fill(".sc-reason input", reason)
    page.press(".sc-reason input", "Tab")
    page.wait_for_timeout(200)  # the form's values reach the kernel
    shown = "() => (document.querySelector('.sc-trial') || {dataset: {trial: 'aucun'}}).dataset.trial"
    before = page.evaluate(shown)  # the page numbers its tries: wait for a new number, not a late update
    start = time.perf_counter()
    page.click("button.sc-try")
    page.wait_for_function(f"() => ({shown})() !== '{before}'", timeout=15_000)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "text": page.inner_text(".sc-result"),
            "moves": page.evaluate("() => Array.from(document.querySelectorAll('.sc-moves tbody tr'))"
                                   ".map(r => r.querySelector('td').innerText)")}


def choose(page, widget: str, text: str, *, prefix: bool = False) -> None:
    """Pick in the dropdown ``.sc-<widget>`` the option reading ``text`` (or starting with it): ipywidgets
    writes its labels with non-breaking spaces."""
    options = page.evaluate(f"() => Array.from(document.querySelectorAll('.sc-{widget} select option'))"
                            ".map(o => [o.value, o.textContent.replace(/\\u00a0/g, ' ')])")
    value = next(v for v, label in options if (label.startswith(text) if prefix else label == text))
    page.select_option(f".sc-{widget} select", value=value)


def adopt(page, initials: str) -> None:
    page.fill(".sc-author input", initials)
    page.press(".sc-author input", "Tab")
    page.wait_for_timeout(200)
    page.click("button.sc-adopt")
    page.wait_for_selector(".sc-done", timeout=15_000)


def teams_shown(page) -> dict[str, list[str]]:
    """Project → pseudonyms, as the page's teams table shows them."""
    data = page.evaluate("""() => { const tables = document.querySelectorAll('.sc-current table');
        const last = tables[tables.length - 1];
        return Array.from(last.querySelectorAll('tbody tr')).map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText)); }""")
    teams = {}
    for cells in data:
        team = cells[4]
        teams[cells[0]] = sorted(re.findall(r"A-[0-9A-Z]+", team))
    return teams

"""Background jobs the slow tests share (a long reproduction started early, awaited by the test that checks it).

One module, imported under one name by ``conftest.py`` and the test modules alike: pytest loads
``conftest.py`` as ``conftest`` while the tests import ``tests.conftest``, two module objects whose state
would differ; the registry lives here so that there is only one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WANTED = pytest.StashKey[set]()
JOBS: dict[str, "Job"] = {}


def kill_all() -> None:
    """A background job no test awaited (deselected, or its test failed first) does not outlive the session."""
    for job in JOBS.values():
        job = job["fixed_run"] if isinstance(job, dict) else job[1] if isinstance(job, tuple) else job
        try:
            os.killpg(job.process.pid, 9)
        except ProcessLookupError:
            pass
    JOBS.clear()


def wanted(config, fixture: str) -> bool:
    return fixture in config.stash.get(WANTED, set())


class Job:
    """A command started now in its own process group, its output in files; :meth:`result` awaits it."""

    def __init__(self, args: list[str], cwd: Path, env: dict, log_dir: Path):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.out, self.err = log_dir / "stdout.txt", log_dir / "stderr.txt"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
        self.args, self.cwd = args, cwd

    def result(self, timeout: float = 1800) -> subprocess.CompletedProcess:
        code = self.process.wait(timeout=timeout)
        return subprocess.CompletedProcess(self.args, code, self.out.read_text(encoding="utf-8"),
                                           self.err.read_text(encoding="utf-8"))


def stagesco_job(root: Path, *args: str, log_dir: Path) -> Job:
    """``stagesco <args>`` from ``root``, started in the background (see :func:`stagesco`)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("STAGESCO_ROOT", None)
    return Job([sys.executable, "-m", "pipeline.cli", *args], root, env, log_dir)

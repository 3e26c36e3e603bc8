"""Faults: a run killed in the middle of a stage leaves nothing that looks valid, and the next run
gives the very same bytes; a run never writes into ``inputs/``."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from tests.conftest import copy_repo, digest_tree, dvc

pytestmark = pytest.mark.slow

STAGE = "projects"


def start_run(root: Path) -> subprocess.Popen:
    """``stagesco run demo`` as the ``stagesco`` helper runs it, in its own process group."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("STAGESCO_ROOT", None)
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "demo"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def kill_everything_started_by(process: subprocess.Popen) -> None:
    """SIGKILL the run's process group, and every process it started that left the group (the Jupyter
    kernel is started in a session of its own). Only these processes, by their ids."""
    try:
        family = [process.pid, *(c.pid for c in psutil.Process(process.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        family = [process.pid]
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in family:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)
    psutil.wait_procs([p for p in (psutil.Process(pid) for pid in family if psutil.pid_exists(pid))], timeout=10)


def stage_outs(root: Path) -> list[str]:
    """The outputs dvc.yaml declares for the stage (outs and metrics), relative to the edition's folder."""
    spec = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"][STAGE]["do"]
    names = []
    for entry in spec.get("outs", []) + spec.get("metrics", []):
        path = entry if isinstance(entry, str) else next(iter(entry))
        names.append(path.replace("${key}", "demo"))
    return names


def test_a_run_killed_inside_a_stage_leaves_nothing_valid_and_the_rerun_is_identical(tmp_path, demo_run):
    root = copy_repo(tmp_path / "repo")
    lock_before = (root / "dvc.lock").read_bytes()
    staging = root / "state" / "demo" / "staging" / STAGE
    process = start_run(root)
    deadline = time.monotonic() + 120
    try:
        while not (staging.is_dir() and any(p.is_file() for p in staging.rglob("*"))):
            assert process.poll() is None, f"le pipeline s'est arrêté avant l'étape {STAGE} :\n" + \
                process.stdout.read().decode("utf-8", "replace")
            assert time.monotonic() < deadline, "l'étape n'a rien écrit dans son dossier de travail en 120 s"
            time.sleep(0.02)
        written = sorted(p.name for p in staging.rglob("*") if p.is_file())
    finally:
        kill_everything_started_by(process)
    assert written, "tué avant que l'étape n'écrive"

    # Nothing that DVC or the next stage would take as valid.
    outs = stage_outs(root)
    present = [o for o in outs if (root / o).exists()]
    assert len(present) < len(outs), f"toutes les sorties de l'étape existent après l'arrêt brutal : {present}"
    assert not (root / "outputs" / "demo" / STAGE / "report.html").exists()
    assert (root / "dvc.lock").read_bytes() == lock_before, "dvc.lock a été mis à jour par une exécution interrompue"
    status = dvc(root, "status", f"{STAGE}@demo", check=False)
    assert "up to date" not in status.stdout.lower() and status.stdout.strip(), status.stdout
    assert "changed outs" in status.stdout or "deleted" in status.stdout or "modified" in status.stdout, status.stdout

    # The next run of the stage starts over and produces the very bytes of an uninterrupted run (only
    # this stage is re-run, to keep the test short: the later ones never started here).
    dvc(root, "repro", f"{STAGE}@demo")
    folder = Path("outputs") / "demo" / STAGE
    assert digest_tree(root / folder) == digest_tree(demo_run / folder)
    assert not staging.exists() or not any(staging.rglob("*")), "le dossier de travail de l'étape n'a pas été vidé"
    status = dvc(root, "status", f"{STAGE}@demo").stdout.strip().lower()
    assert status in ("", "data and pipelines are up to date."), status


def git_blob_sha256(root: Path, rel: str) -> str:
    blob = subprocess.run(["git", "cat-file", "blob", f"HEAD:{rel}"], cwd=root, capture_output=True, check=True).stdout
    return hashlib.sha256(blob).hexdigest()


def test_a_full_run_never_writes_into_inputs(demo_run):
    """The demo run's copy was committed before running: every file under inputs/ still has the bytes
    of its commit, and nothing was added."""
    committed = subprocess.run(["git", "ls-files", "-z", "--", "inputs"], cwd=demo_run, capture_output=True,
                               check=True).stdout.decode().split("\0")
    committed = sorted(p for p in committed if p)
    assert committed, "aucun fichier d'entrée suivi"
    now = {f"inputs/{k}": v for k, v in digest_tree(demo_run / "inputs").items()}
    assert sorted(now) == committed, {"ajoutés": sorted(set(now) - set(committed)),
                                      "disparus": sorted(set(committed) - set(now))}
    changed = [rel for rel in committed if now[rel] != git_blob_sha256(demo_run, rel)]
    assert not changed, f"fichiers d'entrée modifiés par l'exécution : {changed}"

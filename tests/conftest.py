"""Shared fixtures. The slow tests share one real pipeline run (DVC + Jupyter) in a temp copy.

Time goes into real pipeline runs, so: ``demo_run`` is built once per session; tests that change a run
work on a copy of it (:func:`clone_run`) instead of running the pipeline again; the long reproductions
(``stagesco verify``) are started in the background (:class:`Job`) as soon as what they need exists and
awaited by the test that checks them, so that two runs share the machine's two cores.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.background import JOBS, WANTED, Job, kill_all, stagesco_job, wanted  # noqa: F401 (one registry)

ROOT = Path(__file__).resolve().parents[1]


def tracked_files(root: Path = ROOT) -> list[str]:
    """Files git would commit: tracked and untracked-but-not-ignored (the working tree as it stands)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout
    return sorted({p for p in out.decode().split("\0") if p and (root / p).is_file()})


def copy_repo(dest: Path) -> Path:
    """A fresh git repository holding the working tree's committable files (like a clean clone)."""
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.example",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.example"}
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "copy"], cwd=dest, check=True, env=env)
    return dest


def make_edition(tmp_path: Path, data: bytes, mapping: dict, file_name: str, edition_yaml: str | None = None) -> "Edition":
    """A minimal project tree with one edition holding ``data`` under ``file_name``."""
    root = tmp_path / "repo"
    (root / "inputs" / "t").mkdir(parents=True)
    shutil.copy(ROOT / "dvc.yaml", root / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["editions"] = {"t": {"files": {"projects": file_name}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    (root / "inputs" / "t" / "edition.yaml").write_text(edition_yaml or "title: Test\nprojects: {}\n", encoding="utf-8")
    (root / "inputs" / "t" / "mapping.yaml").write_text(yaml.safe_dump({"projects": mapping}, allow_unicode=True),
                                                         encoding="utf-8")
    (root / "inputs" / "t" / file_name).write_bytes(data)
    from pipeline.contract.config import Edition

    return Edition.load("t", root)


def stagesco(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the CLI from ``root`` as a user would (the venv's interpreter, that checkout's code)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("STAGESCO_ROOT", None)
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=root, env=env,
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"stagesco {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def dvc(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def digest_tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def pytest_collection_modifyitems(config, items):
    """A test that reads the real pipeline run or drives LibreOffice is slow, however it is written.
    Records which fixtures the selected tests use, so background jobs start only when a test wants them."""
    wanted = set()
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        wanted |= names
        if {"demo_run", "cnam_run", "askoria_run", "pole_run", "office"} & names:
            item.add_marker(pytest.mark.slow)
    config.stash[WANTED] = wanted
    # The tests that await a background reproduction run last: until then it shares the cores with the rest.
    items.sort(key=lambda item: bool(AWAITING & set(getattr(item, "fixturenames", ()))))


AWAITING = {"committed_verify", "fresh_clone_verify", "tampered_verify", "cnam_run", "askoria_run", "pole_run"}


def pytest_sessionfinish(session, exitstatus):
    kill_all()


def clone_run(source: Path, dest: Path) -> Path:
    """A copy of a run repository (git history, inputs, outputs, DVC cache and dvc.lock): a run that has
    already happened, to change and re-run in part. Run records (``state/``) and DVC's own temporary files
    (``.dvc/tmp``) are left behind."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder)
        if here == source:
            return {"state"} & set(names)
        if here == source / ".dvc":
            return {"tmp"} & set(names)
        return set()

    shutil.copytree(source, dest, symlinks=True, ignore=ignore)
    return dest


@pytest.fixture(scope="session")
def committed_verify(request, tmp_path_factory) -> Job:
    """``stagesco verify demo`` of the committed manifest, in a fresh clone of this repository (started
    by ``demo_run`` when both are wanted, so that the two runs go side by side)."""
    return JOBS.pop("committed_verify", None) or start_committed_verify(tmp_path_factory)


def start_committed_verify(tmp_path_factory) -> Job:
    base = tmp_path_factory.mktemp("committed-verify")
    clone = base / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    return stagesco_job(clone, "verify", "demo", log_dir=base / "log")


@pytest.fixture(scope="session")
def journey(tmp_path_factory) -> dict:
    """A new edition ``2026`` from the demo's data, a broken mapping run, then the fixed run (background)."""
    return JOBS.pop("journey", None) or start_journey(tmp_path_factory)


def start_journey(tmp_path_factory) -> dict:
    """The analyst's first steps on a new edition: ``new-edition``, a mapping label that is wrong, the run
    that fails on it and the status that says so; then the label is fixed and ``stagesco run 2026`` starts
    in the background. What each step showed is returned for the test to check."""
    root = copy_repo(tmp_path_factory.mktemp("journey"))
    created = stagesco(root, "new-edition", "2026", "--from", "demo", "--with-data")
    mapping = root / "inputs" / "2026" / "mapping.yaml"
    right = mapping.read_text(encoding="utf-8")
    mapping.write_text(right.replace("title: Titre du projet", "title: Intitulé"), encoding="utf-8")
    failed = stagesco(root, "run", "2026", check=False)
    published = (root / "outputs" / "2026" / "projects").exists()
    failed_status = stagesco(root, "status", "2026", check=False)
    logs = list((root / "state" / "2026" / "logs").glob("*.log"))
    mapping.write_text(right, encoding="utf-8")
    return {"root": root, "created": created, "failed": failed, "published_after_failure": published,
            "failed_status": failed_status, "logs_after_failure": logs,
            "fixed_run": stagesco_job(root, "run", "2026", log_dir=root.parent / "journey-log")}


@pytest.fixture(scope="session")
def demo_run(request, tmp_path_factory) -> Path:
    """One full run of the real pipeline on the demo edition, in a temp copy of the repository. The long
    runs other tests await (see :class:`Job`) start first, so that they share the two cores with it."""
    if wanted(request.config, "committed_verify") and "committed_verify" not in JOBS:
        JOBS["committed_verify"] = start_committed_verify(tmp_path_factory)
    if wanted(request.config, "journey") and "journey" not in JOBS:
        JOBS["journey"] = start_journey(tmp_path_factory)
    for fixture in CAMPAIGN_RUNS:
        if wanted(request.config, fixture) and fixture not in JOBS:
            JOBS[fixture] = start_campaign_run(tmp_path_factory, fixture)
    root = copy_repo(tmp_path_factory.mktemp("repo"))
    result = stagesco(root, "run", "demo")
    assert "rapport : outputs/demo/projects/report.html" in result.stdout
    return root


# The other demo campaigns, each run once for the tests that read it; started in the background by
# ``demo_run`` when wanted, so that their runs go side by side with the demo's.
CAMPAIGN_RUNS = {"cnam_run": "demo-cnam", "askoria_run": "demo-askoria", "pole_run": "demo-pole"}


def start_campaign_run(tmp_path_factory, fixture: str) -> tuple[Path, Job]:
    edition = CAMPAIGN_RUNS[fixture]
    root = copy_repo(tmp_path_factory.mktemp(edition))
    return root, stagesco_job(root, "run", edition, log_dir=root.parent / f"{edition}-log")


def campaign_run(tmp_path_factory, fixture: str) -> Path:
    root, job = JOBS.pop(fixture, None) or start_campaign_run(tmp_path_factory, fixture)
    result = job.result()
    edition = CAMPAIGN_RUNS[fixture]
    assert result.returncode == 0 and f"rapport : outputs/{edition}/quality/report.html" in result.stdout, \
        result.stdout + result.stderr
    return root


@pytest.fixture(scope="session")
def cnam_run(tmp_path_factory) -> Path:
    """One full run of the real pipeline on ``demo-cnam`` (individual placements, seed 004), in a temp copy."""
    return campaign_run(tmp_path_factory, "cnam_run")


@pytest.fixture(scope="session")
def askoria_run(tmp_path_factory) -> Path:
    """One full run of the real pipeline on the ``demo-askoria`` edition (two-site placements, a mixed
    ES/ASS team, a six-day project), in a temp copy of the repository."""
    return campaign_run(tmp_path_factory, "askoria_run")


@pytest.fixture(scope="session")
def pole_run(tmp_path_factory) -> Path:
    """One full run of the real pipeline on ``demo-pole`` (a pôle de stages: three schools, two basins, fewer
    places than pupils), in a temp copy of the repository."""
    return campaign_run(tmp_path_factory, "pole_run")

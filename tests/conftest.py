"""Shared fixtures. The slow tests share one real pipeline run (DVC + Jupyter) in a temp copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def pytest_collection_modifyitems(items):
    """A test that reads the real pipeline run or drives LibreOffice is slow, however it is written."""
    for item in items:
        if {"demo_run", "office"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """One full run of the real pipeline on the demo edition, in a temp copy of the repository."""
    root = copy_repo(tmp_path_factory.mktemp("repo"))
    result = stagesco(root, "run", "demo")
    assert "rapport : outputs/demo/projects/report.html" in result.stdout
    return root

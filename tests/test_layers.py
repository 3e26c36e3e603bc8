"""The packages of ``pipeline`` import only the packages before them (see ``pipeline/__init__.py``).

Fast: reads the source with ``ast``; no import is executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top: a package may import itself and those before it, never one after it.
LAYERS = ["contract", "schemas", "io", "assign", "repro", "stages", "cockpit", "session", "demo", "cli"]
MAX_LINES = 600


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("").parts
    if rel[0] == "schemas":
        return "schemas"
    if len(rel) == 2:  # pipeline/cli.py, pipeline/__init__.py
        return rel[1] if rel[1] == "cli" else "root"
    return rel[1]


def imported_packages(path: Path, root: Path = ROOT) -> set[tuple[str, int]]:
    """(package, line) of every ``pipeline.<package>`` / ``schemas`` import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(root).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(here[: len(here) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [f"pipeline.{a.name}" for a in node.names] if module == "pipeline" else [module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "schemas":
                found.add(("schemas", node.lineno))
            elif parts[0] == "pipeline" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def modules() -> list[Path]:
    return sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")])


def test_every_package_is_a_known_layer_with_a_two_line_docstring():
    packages = {p.name for p in (ROOT / "pipeline").iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(LAYERS), f"package(s) missing from LAYERS: {sorted(packages - set(LAYERS))}"
    for name in packages:
        doc = ast.get_docstring(ast.parse((ROOT / "pipeline" / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc.split("\n\n")[0].lower(), f"pipeline/{name}/__init__.py must say what it may import"


def test_no_package_imports_one_above_it():
    upward = []
    for path in modules():
        own = package_of(path)
        if own == "root":
            continue
        for package, line in imported_packages(path):
            if package in LAYERS and LAYERS.index(package) > LAYERS.index(own):
                upward.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {package}")
    assert not upward, "imports pointing up:\n" + "\n".join(sorted(upward))


def test_the_checker_sees_upward_imports_however_written(tmp_path):
    probe = tmp_path / "pipeline" / "io" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..stages import projects\nimport pipeline.cockpit.status\nfrom pipeline import cli\n"
                     "from . import readers\nfrom schemas.fields import field_meta\n", encoding="utf-8")
    assert {p for p, _ in imported_packages(probe, tmp_path)} == {"stages", "cockpit", "cli", "io", "schemas"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines (split it by idea)"

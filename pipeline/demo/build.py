"""Writes the demo edition's generated inputs (seeded: the same bytes every time)."""

from __future__ import annotations

from pathlib import Path

from . import formats, partners

DEMO_SEED = 2025


def demo_files() -> dict[str, bytes]:
    """``{file name in inputs/demo/: bytes}`` for every generated demo input."""
    submissions = partners.demo_cases(partners.records(DEMO_SEED))
    return {"depot_projets.csv": formats.excel_fr_export(submissions)}


def write_demo(root: Path) -> list[Path]:
    folder = root / "inputs" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in demo_files().items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written

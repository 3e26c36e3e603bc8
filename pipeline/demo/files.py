"""Writing a generated edition's input files: the files into its folder, and the workbooks a person fills
(opened as a spreadsheet program opens them, typed into, saved with stable bytes) — one way for every demo
campaign."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from openpyxl import load_workbook

from ..contract import atomic
from ..contract.config import parse_yaml
from ..io import stable_zip
from ..io.workbook import Sheet, build


def synthetic_key(edition: str) -> bytes:
    """The public pseudonym key of a synthetic demo campaign (``cle_pseudonymes.txt``): seeded by its name."""
    label = edition.replace("demo", "démo", 1)
    return (f"# Clé synthétique de l'édition {label} : publique, elle ne protège aucune donnée réelle.\n"
            + hashlib.sha256(f"stagesco {edition} synthetic pseudonym key".encode()).hexdigest() + "\n").encode()


def folder_readme(root: Path, key: str) -> bytes:
    """The read-me ``new-edition`` writes in an edition's folder ``key`` (params.yaml ``folder_readmes``)."""
    return parse_yaml((root / "params.yaml").read_text(encoding="utf-8"))["folder_readmes"][key].encode("utf-8")


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``{path relative to folder: bytes}`` (sub-folders created); the paths written, in order."""
    written = []
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, data)
        written.append(path)
    return written


def opened_workbook(sheets: list[Sheet]):
    """The shared writer's workbook, re-opened as a user's spreadsheet program would open it."""
    buffer = io.BytesIO()
    build(sheets).save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def columns(sheet) -> dict[str, int]:
    """``{header label: column number}`` of a sheet's first row."""
    return {cell.value: cell.column for cell in sheet[1]}


def fill_row(sheet, row: int, col: dict[str, int], values: dict) -> None:
    """Type ``values`` (``{field: value}``, ``col`` gives each field's column) into one row, text as text."""
    for name, value in values.items():
        cell = sheet.cell(row, col[name])
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"


def workbook_bytes(workbook) -> bytes:
    """The workbook's bytes, the same for the same content (:mod:`pipeline.io.stable_zip`)."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return stable_zip.stabilise(buffer.getvalue())

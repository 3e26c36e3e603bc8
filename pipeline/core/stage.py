"""What every stage notebook does first and last: load its edition, write its metrics."""

from __future__ import annotations

from pathlib import Path

from . import atomic
from .config import Edition


def open_stage(edition: str, stage_dir: str) -> tuple[Edition, Path]:
    """The edition and the staging folder a stage notebook writes into."""
    ed = Edition.load(edition)
    out = ed.root / stage_dir
    out.mkdir(parents=True, exist_ok=True)
    return ed, out


def write_metrics(stage_dir: Path, metrics: dict) -> None:
    atomic.write_json(Path(stage_dir) / "metrics.json", metrics)

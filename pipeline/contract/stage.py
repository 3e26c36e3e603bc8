"""What every stage notebook does first and last: load its edition, write its metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import atomic
from .config import Edition
from .errors import StagescoError


def open_stage(edition: str, stage_dir: str) -> tuple[Edition, Path]:
    """The edition and the staging folder a stage notebook writes into."""
    ed = Edition.load(edition)
    out = ed.root / stage_dir
    out.mkdir(parents=True, exist_ok=True)
    return ed, out


def read_output(edition: Edition, relpath: str) -> pd.DataFrame:
    """A table an earlier stage wrote (``outputs/<edition>/<relpath>``), or a French message saying
    which stage to run first."""
    path = edition.outputs / relpath
    if not path.exists():
        stage = relpath.split("/")[0]
        raise StagescoError(f"Résultat de l'étape « {stage} » absent : {relpath}",
                            hint=f"Exécutez d'abord cette étape (stagesco run {edition.name})")
    return pd.read_parquet(path)


def read_metrics(edition: Edition, stage: str) -> dict:
    """An earlier stage's ``metrics.json``, or a French message saying which stage to run first."""
    import json

    path = edition.outputs / stage / "metrics.json"
    if not path.exists():
        raise StagescoError(f"Indicateurs de l'étape « {stage} » absents : {stage}/metrics.json",
                            hint=f"Exécutez d'abord cette étape (stagesco run {edition.name})")
    return json.loads(path.read_text(encoding="utf-8"))


WARNINGS_FILE = "warnings.json"


def write_metrics(stage_dir: Path, metrics: dict, warnings: list[str] | None = None) -> None:
    """``metrics.json`` (DVC metrics) and ``warnings.json``: what the stage wants the analyst to see
    (shown on the edition's home page), in French, possibly empty."""
    atomic.write_json(Path(stage_dir) / "metrics.json", metrics)
    atomic.write_json(Path(stage_dir) / WARNINGS_FILE, [str(w) for w in (warnings or [])])

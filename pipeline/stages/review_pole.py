"""The pôle's bilan in stage 80 (seed 003): what a pôle de stages counts of its year, beside its earlier years.

Computed only when the edition has the data — a register of actions (``actions.csv``, :mod:`.actions`) or
pupils of several schools (a ``school`` column in the roster or the assignment) —, so a campaign without
them (the demo's) reviews exactly as before. The figures:

* the register's actions by kind (edition vocabulary ``action_kinds``), their participants, and the accords
  and partnership conventions obtained (``action_agreements``); the placement conventions fully signed
  (stage 60);
* the partners — every host structure of the offers deposited, and every partner named in the register —,
  new or returning against the earlier editions of the same pôle (the history records of the same
  ``campaign:``, which keep each partner as a short hash of its folded name, never the name itself);
* the offers retained and their places by sector (the offers' ``sector`` column when the edition maps one,
  else their structure type), the pupils placed by school and by basin (when those columns exist).

Everything is raw counts; small counts of pupils are suppressed only when rendered (:mod:`.review`).
"""

from __future__ import annotations

import hashlib

import pandas as pd

from ..contract.config import Edition
from ..io import fr
from ..io.normalise import fold
from . import actions as actions_register
from . import pole, sites
from .review import POLE  # the key of the pôle's figures in the review's metrics and history records

SCHOOL, BASIN, SECTOR = "school", "basin", "sector"  # optional columns, read when an edition has them
NAMED = {SCHOOL: ("school_name", SCHOOL), BASIN: ("basin_name", BASIN)}  # a name when there is one, else the code


def partner_key(name: str) -> str:
    """A partner as the history keeps it: a short hash of its folded name (« Boulangerie Dupont » and
    « BOULANGERIE  DUPONT » are the same partner), so that a record never carries a name."""
    return hashlib.sha256(fold(name).encode("utf-8")).hexdigest()[:16]


def has_data(edition: Edition, roster: pd.DataFrame, assignment: pd.DataFrame) -> bool:
    """Whether the edition gives a pôle's bilan: a register of actions, or pupils of schools."""
    return edition.has_input(actions_register.SECTION) or SCHOOL in roster.columns or SCHOOL in assignment.columns


def earlier_partner_keys(earlier: list[dict]) -> set[str] | None:
    """The partners of the earlier editions (union of their records' keys); None when no earlier record keeps them."""
    kept = [set((r.get(POLE) or {}).get("partner_keys") or ()) for r in earlier if "partner_keys" in (r.get(POLE) or {})]
    return set().union(*kept) if kept else None


def _counts(series: pd.Series, order: list[str] | None = None) -> dict[str, int]:
    counts = series.dropna().astype(str).value_counts()
    keys = list(order) if order is not None else sorted(counts.index)
    return {str(k): int(counts.get(k, 0)) for k in keys}


def _placed_by(dimension: str, roster: pd.DataFrame, placed: pd.DataFrame,
               names: dict[str, str] | None = None) -> dict[str, int] | None:
    """Pupils placed per school or basin (its name when a column holds it or ``names`` gives it, else its code;
    taken from the assignment, else from the roster), every school or basin of the roster listed; None when absent."""
    column = next((c for c in NAMED[dimension] if c in placed.columns or c in roster.columns), None)
    if column is None:
        return None
    if column not in placed.columns:
        placed = placed.merge(roster[["learner_id", column]], on="learner_id", how="left")
    named = (lambda s: s.map(lambda v: (names or {}).get(v, v))) if column == dimension else (lambda s: s)
    values = named(placed[column]).fillna(fr.MISSING).astype(str)
    everyone = named(roster[column]).fillna(fr.MISSING).astype(str) if column in roster.columns else values
    return _counts(values, sorted(set(everyone) | set(values)))


def compute(edition: Edition, register, projects: pd.DataFrame, retained: pd.DataFrame, roster: pd.DataFrame,
            assignment: pd.DataFrame, conventions_metrics: dict, earlier: list[dict]) -> dict:
    """The pôle's figures: ``{"indicators": …, "breakdowns": …, "partner_keys": […]}`` (raw counts)."""
    kinds = actions_register.vocabulary(edition, actions_register.KINDS) if register is not None else {}
    agreements = edition.labels(actions_register.AGREEMENTS)
    table = register.table if register is not None else pd.DataFrame(columns=actions_register.COLUMNS)
    kind_labels = table["action_kind"].map(kinds)
    participants = pd.to_numeric(table["participants"], errors="coerce").fillna(0).astype(int)

    names = [str(n) for n in sites.partner_structures(projects)["structure_name"].dropna() if str(n).strip()]
    names += [str(n) for cell in table["action_partners"] for n in (cell if isinstance(cell, (list, tuple)) else ())]
    keys = sorted({partner_key(n) for n in names if fold(n)})
    before = earlier_partner_keys(earlier)
    returning = None if before is None else len(set(keys) & before)

    retained = retained[retained["decision_code"] == "retained"] if "decision_code" in retained else retained
    types = edition.labels("structure_types")
    if SECTOR in retained.columns and retained[SECTOR].notna().any():
        sector = retained[SECTOR].fillna(fr.MISSING).astype(str)
    else:
        sector = retained["structure_type"].map(lambda t: types.get(t, t)).fillna(fr.MISSING).astype(str)
    places = pd.to_numeric(retained["decided_team_max"], errors="coerce").fillna(0).astype(int)
    placed = assignment[assignment["project_code"].notna()] if "project_code" in assignment else assignment

    indicators = {
        "actions": len(table),
        "participants": int(participants.sum()),
        "agreements": int(table["agreement"].notna().sum()),
        "conventions_signed": int(conventions_metrics.get("fully_signed", 0)),
        "partners": len(keys),
        "partners_new": None if returning is None else len(keys) - returning,
        "partners_returning": returning,
        "offers": len(retained),
        "places": int(places.sum()),
        "pupils": len(roster),
        "placed": len(placed),
    }
    breakdowns = {
        "actions_by_kind": _counts(kind_labels, list(kinds.values())),
        "participants_by_kind": {label: int(participants[kind_labels == label].sum()) for label in kinds.values()},
        "agreements_by_kind": _counts(table["agreement"].map(agreements), list(agreements.values())),
        "offers_by_sector": _counts(sector),
        "places_by_sector": {str(k): int(v) for k, v in places.groupby(sector.values).sum().sort_index().items()},
    }
    names = pole.territory_names(edition)
    for key, dimension in (("placed_by_school", SCHOOL), ("placed_by_basin", BASIN)):
        counts = _placed_by(dimension, roster, placed, names.get(dimension))
        if counts is not None:
            breakdowns[key] = counts
    if register is None:  # no register: its figures are not zero, they are unknown
        for key in ("actions", "participants", "agreements"):
            indicators[key] = None
        for key in ("actions_by_kind", "participants_by_kind", "agreements_by_kind"):
            breakdowns.pop(key)
    return {"indicators": indicators, "breakdowns": breakdowns, "partner_keys": keys}

"""pandera models of stage 40 ``applications``: the cohort roster and the validated preferences.

Checks come from ``schemas/fields.yaml`` through :func:`schemas.checks.field`, so the French label,
the type and the rule of each column are written once.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import DataFrame, Series

from .checks import field, with_metadata_checks
from .fields import field_meta


class RosterEntry(pa.DataFrameModel):
    """A learner of the cohort, as the school's roster export lists them, after mapping."""

    learner_id: Series[str] = field("learner_id")
    last_name: Series[str] = field("last_name")
    first_name: Series[str] = field("first_name")
    email: Series[str] = field("email")
    track: Series[str] = field("track")
    employer: Series[str] = field("employer")

    class Config:
        strict = False
        coerce = False


class Preference(pa.DataFrameModel):
    """One validated choice: a learner's project at a rank; ranks of a learner run 1..k without a gap."""

    learner_id: Series[str] = field("learner_id")
    track: Series[str] = field("track")
    rank: Series[pd.Int64Dtype] = field("rank")
    project_code: Series[str] = pa.Field(nullable=False, title=field_meta("project_code").label)
    source_row: Series[pd.Int64Dtype] = field("source_row")

    @pa.dataframe_check(error="les rangs d'un apprenant doivent se suivre de 1 à k, un projet une seule fois")
    @classmethod
    def contiguous_ranks(cls, df: DataFrame) -> Series[bool]:
        if df.empty:
            return pd.Series([], dtype=bool)
        ordered = df.sort_values(["learner_id", "rank"], kind="stable")
        expected = ordered.groupby("learner_id", sort=False).cumcount() + 1
        ok = (ordered["rank"].astype("int64") == expected).reindex(df.index)
        distinct = ~df.duplicated(["learner_id", "project_code"], keep=False)
        return ok & distinct

    class Config:
        strict = False
        coerce = False


def roster_schema(tracks: dict[str, str]) -> pa.DataFrameSchema:
    """The roster's validating schema: model types and nullability, checks and messages from the metadata,
    and a track among the edition's ``tracks`` (code → French label)."""
    schema = with_metadata_checks(RosterEntry)
    named = [f"{code} ({label})" for code, label in tracks.items()]
    allowed = ", ".join(named[:-1]) + " ou " + named[-1] if len(named) > 1 else "".join(named)
    check = pa.Check.isin(list(tracks), error=f"la filière doit être {allowed}")
    return schema.update_columns({"track": {"checks": [*schema.columns["track"].checks, check]}})


def preferences_schema() -> pa.DataFrameSchema:
    """The validated preferences' schema (an internal invariant of the stage: failing it is a bug)."""
    return with_metadata_checks(Preference)

"""pandera model of the normalised partner submissions (stage ``projects``).

Checks come from ``schemas/fields.yaml`` through :func:`schemas.checks.field`, so the French label,
the type and the rule of each column are written once.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from .checks import checks_for, field, with_metadata_checks
from .fields import PANDAS_DTYPES, optional_fields


class ProjectSubmission(pa.DataFrameModel):
    """A partner's submission after mapping and normalisation, before de-duplication."""

    submitted_at: Series[pd.Timestamp] = field("submitted_at")
    structure_name: Series[str] = field("structure_name")
    structure_type: Series[str] = field("structure_type")
    structure_siret: Series[str] = field("structure_siret")
    address: Series[str] = field("address")
    postcode: Series[str] = field("postcode")
    city: Series[str] = field("city")
    departement: Series[str] = field("departement")
    referent_name: Series[str] = field("referent_name")
    referent_function: Series[str] = field("referent_function")
    referent_email: Series[str] = field("referent_email")
    referent_phone: Series[str] = field("referent_phone")
    referent_available: Series[pd.BooleanDtype] = field("referent_available")
    title: Series[str] = field("title")
    description: Series[str] = field("description")
    issue: Series[str] = field("issue")
    mediation: Series[str] = field("mediation")
    public: Series[str] = field("public")
    challenges: Series[str] = field("challenges")
    resources: Series[str] = field("resources")
    competences: Series[object] = field("competences")
    tracks: Series[object] = field("tracks")
    team_min: Series[pd.Int64Dtype] = field("team_min")
    team_max: Series[pd.Int64Dtype] = field("team_max")
    hours: Series[pd.Float64Dtype] = field("hours")
    period: Series[str] = field("period")
    consent: Series[pd.BooleanDtype] = field("consent")

    class Config:
        strict = False
        coerce = False


def projects_schema() -> pa.DataFrameSchema:
    """The validating schema: model types and nullability, checks and messages from the metadata."""
    schema = with_metadata_checks(ProjectSubmission)
    # the fields kept only when mapped (offer terms, further sites): checked when present, never required
    return schema.add_columns({
        m.name: pa.Column(_DTYPES.get(m.type, PANDAS_DTYPES[m.type]), nullable=True, required=False,
                          checks=checks_for(m.name), title=m.label, coerce=False)
        for m in optional_fields("projects")})


_DTYPES = {"string": str, "text": str, "datetime": "datetime64[ns]"}

"""pandera model of the normalised partner submissions (stage ``projects``).

Checks come from ``schemas/fields.yaml`` through :func:`schemas.checks.field`, so the French label,
the type and the rule of each column are written once.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from .checks import checks_of, extra_column, field, with_metadata_checks
from .fields import FieldMeta, optional_fields


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


def projects_schema(extras: dict[str, FieldMeta] | None = None) -> pa.DataFrameSchema:
    """The validating schema: model types and nullability, checks and messages from the metadata; the fields
    kept only when mapped (an offer's own terms, further sites: checked when present, never required); plus the
    edition's extra fields (``edition.yaml`` → ``projects.extra_fields``), checked the same way."""
    schema = with_metadata_checks(ProjectSubmission)
    optional = {m.name: pa.Column(nullable=True, required=False, checks=checks_of(m), title=m.label)
                for m in optional_fields("projects")}
    schema = schema.add_columns(optional)
    if extras:
        schema = schema.add_columns({name: extra_column(meta) for name, meta in extras.items()})
    return schema

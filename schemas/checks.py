"""Build pandera fields from the field metadata, with checks named after their French messages."""

from __future__ import annotations

import pandera.pandas as pa

from .fields import FieldMeta, field_meta

REQUIRED_MESSAGE = "valeur obligatoire manquante"


def checks_for(name: str) -> list[pa.Check]:
    """The pandera checks of one field; each check's ``error`` is the French reason of a failure."""
    return checks_of(field_meta(name))


def checks_of(meta: FieldMeta) -> list[pa.Check]:
    """The pandera checks of a field's metadata (a field of fields.yaml or an edition's extra field)."""
    checks: list[pa.Check] = []
    message = meta.message
    if meta.pattern:
        checks.append(pa.Check.str_matches(meta.pattern, error=message or f"format invalide ({meta.label})"))
    if meta.min is not None:
        checks.append(pa.Check.ge(meta.min, error=message or f"{meta.label} : minimum {meta.min}"))
    if meta.max is not None:
        checks.append(pa.Check.le(meta.max, error=message or f"{meta.label} : maximum {meta.max}"))
    if meta.allowed_true:
        checks.append(pa.Check(lambda s: s.fillna(False).astype(bool), element_wise=False,
                               error=message or f"{meta.label} doit être « oui »", ignore_na=False))
    return checks


def bound_problem(meta: FieldMeta, value) -> str | None:
    """The French reason why ``value`` is outside the field's ``min``/``max`` (None when it is within, or absent),
    in the words of the pandera checks above, for a stage that checks its values one row at a time."""
    if value is None:
        return None
    if meta.min is not None and value < meta.min:
        return meta.message or f"{meta.label} : minimum {meta.min}"
    if meta.max is not None and value > meta.max:
        return meta.message or f"{meta.label} : maximum {meta.max}"
    return None


def field(name: str):
    """A pandera ``Field`` for ``name``: nullability, title and description from the metadata."""
    meta = field_meta(name)
    return pa.Field(
        nullable=not meta.required,
        title=meta.label,
        description=meta.description or None,
    )


def with_metadata_checks(model) -> pa.DataFrameSchema:
    """The schema of a ``DataFrameModel`` with each column's checks taken from the field metadata."""
    schema = model.to_schema()
    return schema.update_columns({name: {"checks": checks_for(name)} for name in schema.columns})


def extra_column(meta: FieldMeta) -> pa.Column:
    """The pandera column of an edition's extra field: nullability, checks and title from its metadata."""
    return pa.Column(nullable=not meta.required, checks=checks_of(meta), title=meta.label,
                     description=meta.description or None)

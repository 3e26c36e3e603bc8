"""Field metadata, read from ``schemas/fields.yaml``: the one place that describes each field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

FIELDS_FILE = Path(__file__).with_name("fields.yaml")

# pandas dtype that each metadata type is stored as in a clean table.
PANDAS_DTYPES = {
    "string": "str",
    "text": "str",
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "datetime": "datetime64[ns]",
    "list": "object",
}


@dataclass(frozen=True)
class FieldMeta:
    name: str
    label: str
    type: str
    description: str = ""
    required: bool = False
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    allowed_true: bool = False
    message: str | None = None
    when_mapped: bool = False  # a column of its table only when the edition's mapping.yaml maps it

    @property
    def pandas_dtype(self) -> str:
        return PANDAS_DTYPES[self.type]


@lru_cache(maxsize=1)
def _load() -> dict:
    return yaml.safe_load(FIELDS_FILE.read_text(encoding="utf-8"))


def field_meta(name: str) -> FieldMeta:
    spec = _load()["fields"][name]
    return FieldMeta(name=name, **spec)


def all_fields() -> dict[str, FieldMeta]:
    return {name: field_meta(name) for name in _load()["fields"]}


def table_fields(table: str) -> list[FieldMeta]:
    return [field_meta(name) for name in _load()["tables"][table]]


def optional_fields(table: str) -> list[FieldMeta]:
    """The fields of ``table`` kept only when mapped (an offer's own terms, further sites)."""
    return [m for m in table_fields(table) if m.when_mapped]


def labels(names: list[str] | None = None) -> dict[str, str]:
    """``{field: French label}`` for report and workbook headers."""
    names = names if names is not None else list(_load()["fields"])
    return {name: field_meta(name).label for name in names}

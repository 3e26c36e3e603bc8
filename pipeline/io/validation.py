"""pandera validation whose failures are kept as data (PUDL-style): every failing check of every row,
with the column label and the value as written in the file, and the French reason from the metadata."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from schemas.checks import REQUIRED_MESSAGE

from .mapping import FieldSource
from .readers import RawTable


def schema_problems(schema: pa.DataFrameSchema, frame: pd.DataFrame, raw: RawTable,
                    sources: dict[str, FieldSource]) -> list[tuple[int, str, str, str]]:
    """Validate lazily; return ``(row index, column label, value read, reason)`` for each failure."""
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    problems = []
    for case in cases.itertuples(index=False):
        if pd.isna(case.index):
            continue
        index, src = int(case.index), sources.get(str(case.column))
        single = src is not None and not src.options
        value = raw.rows[index][raw.columns.index(src.columns[0])] if single else str(case.failure_case)
        reason = REQUIRED_MESSAGE if str(case.check) == "not_nullable" else str(case.check)
        problems.append((index, src.label if src else str(case.column), value, reason))
    return problems


def row_key(code: str, line: int, known, seen: dict[str, int], unknown: str) -> tuple[str, str | None]:
    """Check the project code of a workbook row read back: ``(where, error)``; records it in ``seen``."""
    where = f"ligne {line}" + (f" ({code})" if code else "")
    if not code:
        return where, f"{where} : code projet vide"
    if code not in known:
        return where, f"{where} : {unknown}"
    if code in seen:
        return where, f"{where} : projet déjà présent ligne {seen[code]}"
    seen[code] = line
    return where, None

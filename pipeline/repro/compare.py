"""What differs between a recorded output and a re-run one, in French lines an analyst can check.

Workbooks are compared cell by cell (sheet, cell, the row's key in its first column, recorded vs now),
tables (parquet, CSV) row by row by their key column, JSON key by key; any other file by its hash only.
At most :data:`MAX_LINES` lines per file, then how many more.
"""

from __future__ import annotations

import json

from ..io import fr
from pathlib import Path

MAX_LINES = 12
KEY_COLUMNS = ("project_code", "learner_id", "code", "id", "Code projet", "Identifiant")


def _show(value) -> str:
    if value is None or value == "":
        return "(vide)"
    text = str(value).replace("\n", " ")
    return f"« {text[:80]}{'…' if len(text) > 80 else ''} »"


def _pair(old, new) -> str:
    """« enregistré X, maintenant Y », long texts shown from just before where they start to differ."""
    if isinstance(old, str) and isinstance(new, str) and old != new:
        i = next((k for k, (x, y) in enumerate(zip(old, new)) if x != y), min(len(old), len(new)))
        if i > 40:
            start = i - 20

            def part(text: str) -> str:
                return f"« …{text[start:start + 80]}{'…' if len(text) > start + 80 else ''} »"

            return f"enregistré {part(old)}, maintenant {part(new)}"
    return f"enregistré {_show(old)}, maintenant {_show(new)}"


def _cap(lines: list[str]) -> list[str]:
    if len(lines) > MAX_LINES:
        return lines[:MAX_LINES] + [f"… et {fr.count(len(lines) - MAX_LINES, 'autre différence', 'autres différences')}"]
    return lines


def differences(recorded: Path, now: Path) -> list[str]:
    """The differences between two versions of one output file (both present)."""
    suffix = now.suffix.lower()
    try:
        if suffix == ".xlsx":
            return _cap(xlsx(recorded, now))
        if suffix == ".parquet":
            import pandas as pd

            return _cap(table(pd.read_parquet(recorded), pd.read_parquet(now)))
        if suffix == ".csv":
            import pandas as pd

            read = dict(dtype=str, keep_default_na=False, sep=None, engine="python", encoding="utf-8-sig")
            return _cap(table(pd.read_csv(recorded, **read), pd.read_csv(now, **read)))
        if suffix == ".json":
            return _cap(json_values(json.loads(recorded.read_text(encoding="utf-8")),
                                    json.loads(now.read_text(encoding="utf-8"))))
    except Exception as exc:  # an unreadable version: say it, the hashes already differ
        return [f"contenu différent (comparaison détaillée impossible : {type(exc).__name__})"]
    return ["contenu différent (comparaison par empreinte SHA-256 seulement pour ce type de fichier)"]


def xlsx(recorded: Path, now: Path) -> list[str]:
    """Sheet by sheet: by row key (first column, when unique in both versions) under the header row, else
    cell by cell at the same positions."""
    from openpyxl import load_workbook

    old, new = load_workbook(recorded), load_workbook(now)
    lines = [f"feuille « {name} » absente maintenant" for name in old.sheetnames if name not in new.sheetnames]
    lines += [f"feuille « {name} » nouvelle" for name in new.sheetnames if name not in old.sheetnames]
    for name in [n for n in old.sheetnames if n in new.sheetnames]:
        a, b = old[name], new[name]
        keyed = _sheet_rows(a), _sheet_rows(b)
        if keyed[0] is not None and keyed[1] is not None:
            lines += _keyed_sheet(name, a, b, *keyed)
            continue
        rows, cols = max(a.max_row, b.max_row), max(a.max_column, b.max_column)
        for r in range(1, rows + 1):
            key = b.cell(r, 1).value if r <= b.max_row else None
            key = key if key is not None else a.cell(r, 1).value
            for c in range(1, cols + 1):
                va, vb = a.cell(r, c).value, b.cell(r, c).value
                if va != vb:
                    label = f" (ligne {_show(key)})" if r > 1 and key is not None else ""
                    lines.append(f"feuille « {name} », cellule {b.cell(r, c).coordinate}{label} : {_pair(va, vb)}")
    return lines


def _sheet_rows(sheet) -> dict | None:
    """Row number by the value of the first column (rows 2…), if those values are all present and unique."""
    rows = {}
    for r in range(2, sheet.max_row + 1):
        key = sheet.cell(r, 1).value
        if key is None or key in rows:
            return None
        rows[key] = r
    return rows if rows else None


def _keyed_sheet(name: str, a, b, old_rows: dict, new_rows: dict) -> list[str]:
    lines = []
    header_a = [a.cell(1, c).value for c in range(1, a.max_column + 1)]
    header_b = [b.cell(1, c).value for c in range(1, b.max_column + 1)]
    if header_a != header_b:
        lines.append(f"feuille « {name} », ligne d'en-tête : enregistré {_show(' | '.join(map(str, header_a)))}, "
                     f"maintenant {_show(' | '.join(map(str, header_b)))}")
    lines += [f"feuille « {name} », ligne {_show(k)} absente maintenant (ligne {r} enregistrée)"
              for k, r in old_rows.items() if k not in new_rows]
    lines += [f"feuille « {name} », ligne {_show(k)} nouvelle (ligne {r})" for k, r in new_rows.items() if k not in old_rows]
    for key, rb in new_rows.items():
        ra = old_rows.get(key)
        if ra is None:
            continue
        for c in range(1, max(a.max_column, b.max_column) + 1):
            va, vb = a.cell(ra, c).value, b.cell(rb, c).value
            if va != vb:
                column = header_b[c - 1] if c <= len(header_b) else None
                label = f", colonne {_show(column)}" if column is not None else ""
                lines.append(f"feuille « {name} », cellule {b.cell(rb, c).coordinate} (ligne {_show(key)}{label}) : "
                             f"{_pair(va, vb)}")
    return lines


def _unique(frame, columns: list[str]) -> bool:
    part = frame[columns]
    return bool(part.notna().all().all()) and not part.duplicated().any()


def _identifier(column) -> bool:
    name = str(column)
    return name in KEY_COLUMNS or name.endswith(("_id", "_code")) or name.lower().startswith(("code", "identifiant"))


def _key_columns(old, new) -> list[str] | None:
    """The row key: an identifier column unique in both versions (else the first column), else an identifier
    with one of the first columns (e.g. learner and rank); None when nothing is unique."""
    common = [c for c in new.columns if c in old.columns]
    if not common:
        return None
    ids = [c for c in common if _identifier(c)]
    for column in [*ids, common[0]]:
        if _unique(old, [column]) and _unique(new, [column]):
            return [column]
    for first in ids or common[:1]:
        for second in [c for c in common[:8] if c != first]:
            if _unique(old, [first, second]) and _unique(new, [first, second]):
                return [first, second]
    return None


def _plain(value):
    if hasattr(value, "tolist"):
        value = value.tolist()
    try:
        import pandas as pd

        if not isinstance(value, (list, dict)) and pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def table(old, new) -> list[str]:
    """Row by row by the key (identifiers first, else a unique pair of columns), else by position."""
    lines = [f"colonne « {c} » absente maintenant" for c in old.columns if c not in new.columns]
    lines += [f"colonne « {c} » nouvelle" for c in new.columns if c not in old.columns]
    common = [c for c in new.columns if c in old.columns]
    key = _key_columns(old, new)
    if key is None:
        names = ["position"]
        old, new = old.reset_index(drop=True), new.reset_index(drop=True)
        old_rows = {(i,): i for i in range(len(old))}
        new_rows = {(i,): i for i in range(len(new))}
    else:
        names = key
        old, new = old.reset_index(drop=True), new.reset_index(drop=True)
        old_rows = {tuple(_plain(v) for v in row): i for i, row in enumerate(old[key].itertuples(index=False))}
        new_rows = {tuple(_plain(v) for v in row): i for i, row in enumerate(new[key].itertuples(index=False))}

    def label(k: tuple) -> str:
        return ", ".join(f"{n} = {_show(v)}" for n, v in zip(names, k))

    lines += [f"ligne {label(k)} absente maintenant" for k in old_rows if k not in new_rows]
    lines += [f"ligne {label(k)} nouvelle" for k in new_rows if k not in old_rows]
    for k, j in new_rows.items():
        i = old_rows.get(k)
        if i is None:
            continue
        for column in common:
            va, vb = _plain(old.at[i, column]), _plain(new.at[j, column])
            if va != vb:
                lines.append(f"ligne {label(k)}, colonne « {column} » : {_pair(va, vb)}")
    return lines


def json_values(old, new, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                lines.append(f"clé « {where} » absente maintenant (enregistré {_show(json.dumps(old[key], ensure_ascii=False))})")
            elif key not in old:
                lines.append(f"clé « {where} » nouvelle ({_show(json.dumps(new[key], ensure_ascii=False))})")
            else:
                lines += json_values(old[key], new[key], where)
        return lines
    if old != new:
        return [f"clé « {path or '(racine)'} » : enregistré {_show(json.dumps(old, ensure_ascii=False))}, "
                f"maintenant {_show(json.dumps(new, ensure_ascii=False))}"]
    return []

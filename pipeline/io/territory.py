"""A pôle de stages' territory, as edition data: its commune → basin table and its list of schools.

Both are files of the edition (``editions.<e>.files.basins`` and ``.schools`` in params.yaml), read through
their section of ``mapping.yaml`` like any export, so their column labels are data too:

* the **basins** table (bassins de formation et d'emploi): one row per commune — INSEE code, postcode,
  commune name, basin code and name. An offer or a school is placed in a basin by its INSEE code when it has
  one, else by its postcode (and, when a postcode is shared by communes of different basins, its commune's
  name: « St- » and « Saint- », hyphens and accents do not matter);
* the **schools** list: code (UAI), name, kind (collège, lycée professionnel, CFA…), the person who signs
  the conventions of its pupils and their title, address, postcode, commune — and so its basin.

A commune the table lacks is a :class:`BasinError` naming the file, the row, the commune and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..contract.config import MAPPING_FILE
from ..contract.errors import StagescoError
from . import fr
from .mapping import column_values, read_mapped, resolve
from .normalise import clean_postcode, clean_text, fold

BASINS = "basins"
SCHOOLS = "schools"


class BasinError(StagescoError):
    """A commune (of an offer, a school) that the edition's basin table does not place in a basin."""


def commune_key(name: str | None) -> str:
    """A commune's name for matching: :func:`fold`, « St »/« Ste » as « saint »/« sainte », hyphens and
    apostrophes as spaces."""
    text = re.sub(r"[-'’.]", " ", fold(name or ""))
    text = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", text))
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class BasinTable:
    """The edition's commune → basin table (one row per commune)."""

    file: str
    rows: pd.DataFrame  # insee_code, postcode, city, basin, basin_name, source_row

    @property
    def names(self) -> dict[str, str]:
        """``{basin code: basin name}``, in the table's order."""
        return dict(zip(self.rows["basin"], self.rows["basin_name"].fillna(self.rows["basin"])))

    def find(self, postcode: str | None, city: str | None, insee: str | None = None) -> tuple[str | None, str]:
        """``(basin, "")`` or ``(None, French reason)``."""
        if insee:
            hit = self.rows[self.rows["insee_code"] == insee]
            if len(hit):
                return str(hit["basin"].iloc[0]), ""
        if not postcode:
            return None, "commune sans code postal" + (f" (code INSEE {insee} absent de la table)" if insee else "")
        same = self.rows[self.rows["postcode"] == postcode]
        if same.empty:
            return None, f"code postal {postcode} absent de la table des bassins"
        if same["basin"].nunique() == 1:
            return str(same["basin"].iloc[0]), ""
        named = same[[commune_key(c) == commune_key(city) for c in same["city"]]]
        if named["basin"].nunique() == 1:
            return str(named["basin"].iloc[0]), ""
        basins = ", ".join(sorted(same["basin"].unique()))
        return None, (f"le code postal {postcode} couvre des communes de plusieurs bassins ({basins}) et la commune "
                      f"« {city or ''} » n'est pas l'une d'elles dans la table")


def _read(edition, key: str, required: list[str]) -> tuple[str, pd.DataFrame]:
    """The table ``key`` of the edition through its mapping section: every field as clean text, one row per
    line of the file (``source_row``: its line number)."""
    from schemas.fields import table_fields

    mapping_file = f"inputs/{edition.name}/{MAPPING_FILE}"
    path = edition.input_path(key)
    section, raw = read_mapped(edition, key, f"colonnes du fichier {path.name}",
                               "Copiez-la depuis l'édition demo-pole et adaptez les libellés")
    sources = resolve(raw, section.get("fields") or {}, required, mapping_file)
    columns = {}
    for meta in table_fields(key):
        if meta.name == "source_row":
            continue
        src = sources.get(meta.name)
        texts = column_values(raw, src) if src else [""] * len(raw.rows)
        if meta.name == "postcode":
            columns[meta.name] = [clean_postcode(t)[0] for t in texts]
        else:
            values = [clean_text(t)[0] for t in texts]
            columns[meta.name] = [src.values.get(v, v) if src and src.values and v else v for v in values]
    frame = pd.DataFrame(columns, dtype=object)
    frame["source_row"] = pd.array(raw.row_numbers, dtype="Int64")
    missing = [f"ligne {row} : {sources[name].label} vide" for name in required
               for row, value in zip(frame["source_row"], frame[name]) if not value]
    if missing:
        raise StagescoError(f"Valeurs obligatoires absentes du fichier {path.name}", file=path.name, problems=missing,
                            hint="Complétez ces lignes (ou supprimez-les) et relancez")
    return path.name, frame


def read_basins(edition) -> BasinTable | None:
    """The edition's basin table, or None when the edition has none (a campaign without basins)."""
    if not edition.has_input(BASINS):
        return None
    file, frame = _read(edition, BASINS, ["postcode", "city", "basin"])
    twice = frame[frame["insee_code"].notna() & frame.duplicated("insee_code", keep=False)]
    if len(twice):
        raise StagescoError("Commune présente deux fois dans la table des bassins", file=file,
                            problems=[f"ligne {r} : code INSEE {c}" for r, c in zip(twice["source_row"], twice["insee_code"])],
                            hint="Gardez une ligne par commune")
    return BasinTable(file=file, rows=frame)


def basins_of(table: BasinTable, frame: pd.DataFrame, *, file: str, what: str, name_column: str) -> list[str]:
    """The basin of each row of ``frame`` (columns postcode, city, optional insee_code, source_row); every
    commune the table does not place stops the stage, all listed with their row."""
    out, problems = [], []
    for row in frame.itertuples():
        basin, reason = table.find(row.postcode, row.city, getattr(row, "insee_code", None))
        out.append(basin)
        if basin is None:
            problems.append(f"ligne {row.source_row} : {what} « {getattr(row, name_column)} », commune « {row.city or ''} » "
                            f"({row.postcode or 'sans code postal'}) : {reason}")
    if problems:
        raise BasinError(f"{fr.count(len(problems), 'commune')} hors de la table des bassins ({table.file})", file=file,
                         row=int(frame["source_row"].iloc[0]) if len(problems) == 1 and len(frame) == 1 else None,
                         problems=problems,
                         hint=f"Ajoutez chaque commune à {table.file} (code INSEE, code postal, commune, bassin) ou "
                              "corrigez son code postal dans le fichier, puis relancez")
    return out


def read_schools(edition, basins: BasinTable | None = None) -> pd.DataFrame | None:
    """The edition's schools (fields.yaml table ``schools``) with their basin, or None when the edition has no
    list of schools (a single school, described by ``school:`` of edition.yaml)."""
    if not edition.has_input(SCHOOLS):
        return None
    file, frame = _read(edition, SCHOOLS, ["school", "school_name", "signatory"])
    twice = frame[frame.duplicated("school", keep=False)]
    if len(twice):
        raise StagescoError("Établissement présent deux fois dans la liste des établissements", file=file,
                            problems=[f"ligne {r} : {c}" for r, c in zip(twice["source_row"], twice["school"])],
                            hint="Gardez une ligne par établissement (code UAI)")
    basins = basins or read_basins(edition)
    frame["basin"] = basins_of(basins, frame, file=file, what="établissement", name_column="school_name") if basins else None
    return frame.reset_index(drop=True)

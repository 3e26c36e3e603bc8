"""An edition's **extra fields**: answers of its form that stagesco does not know (not in
``schemas/fields.yaml``) but the edition wants kept, checked and shown.

They are declared in the edition's ``edition.yaml``, in the section of the table they belong to (DVC tracks
that section as a parameter of every stage that shows them)::

    projects:
      extra_fields:
        accessibility:
          label: Accessibilité PMR
          type: boolean
          show: [catalogue, dossier, workbooks]

with the vocabulary of ``schemas/fields.yaml`` (``label``, ``type``, ``description``, ``required``,
``pattern``, ``min``, ``max``, ``allowed_true``, ``message``) and ``show``: where the field appears. Once
declared, ``mapping.yaml`` maps it like any field; it is validated like any field (a bad value rejects
the row with its reason), kept in the clean tables (parquet) and shown where ``show`` says.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from schemas.fields import PANDAS_DTYPES, FieldMeta, all_fields

from ..contract.errors import ConfigError

TABLES = ("projects",)  # the tables an edition may extend (the partners' form)
PLACES = {
    "catalogue": "le catalogue publié pour les apprenants (étape 30)",
    "dossier": "la fiche de chaque projet dans le dossier de la commission (étape 20)",
    "workbooks": "les classeurs projets.xlsx (étape 10) et projets_retenus.xlsx (étape 30)",
}
KEYS = {"label", "type", "description", "required", "pattern", "min", "max", "allowed_true", "message", "show"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ExtraFieldError(ConfigError):
    """An extra field of ``edition.yaml`` is declared wrongly."""


@dataclass(frozen=True)
class ExtraField:
    """One extra field: its metadata (as a field of fields.yaml) and where it is shown."""

    meta: FieldMeta
    show: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def label(self) -> str:
        return self.meta.label


def declared(config: dict, table: str, file: str = "edition.yaml") -> dict[str, ExtraField]:
    """The extra fields of ``table`` declared in an edition's config (``edition.yaml`` as a dict), checked:
    each problem is a French :class:`ExtraFieldError` naming the field, the key and what to write."""
    section = (config or {}).get(table)
    if not isinstance(section, dict):
        return {}
    specs = section.get("extra_fields") or {}
    where = f"{table}.extra_fields"
    if not isinstance(specs, dict):
        raise ExtraFieldError(f"« {where} » doit décrire un champ par nom", file=file,
                              hint="Écrivez par exemple accessibility: {label: Accessibilité PMR, type: boolean, show: [catalogue]}")
    known = all_fields()
    out: dict[str, ExtraField] = {}
    for name, spec in specs.items():
        here = f"{where}.{name}"
        if not isinstance(name, str) or not NAME.match(name) or keyword.iskeyword(name):
            raise ExtraFieldError(f"Nom de champ supplémentaire invalide « {here} »", file=file,
                                  hint="Un nom s'écrit en minuscules sans accent, chiffres et _ (ex. accessibilite_pmr)")
        if name in known:
            raise ExtraFieldError(f"« {here} » porte le nom d'un champ que stagesco connaît déjà ({known[name].label})",
                                  file=file, hint="Mappez-le directement dans mapping.yaml, ou choisissez un autre nom")
        if not isinstance(spec, dict):
            raise ExtraFieldError(f"« {here} » doit décrire le champ (label, type, show…)", file=file)
        unknown = sorted(set(spec) - KEYS)
        if unknown:
            raise ExtraFieldError(f"Clé inconnue « {here}.{unknown[0]} »", file=file,
                                  hint="Clés possibles : " + ", ".join(sorted(KEYS)))
        if not isinstance(spec.get("label"), str) or not spec["label"].strip():
            raise ExtraFieldError(f"« {here} » : libellé français (label) manquant", file=file,
                                  hint="Écrivez le libellé que liront les rapports et les classeurs")
        if spec.get("type") not in PANDAS_DTYPES:
            raise ExtraFieldError(f"« {here}.type » : type « {spec.get('type')} » inconnu", file=file,
                                  hint="Types possibles : " + ", ".join(PANDAS_DTYPES))
        show = spec.get("show") or []
        if isinstance(show, str) or not isinstance(show, list) or set(show) - set(PLACES):
            raise ExtraFieldError(f"« {here}.show » : attendu une liste parmi " + ", ".join(PLACES), file=file,
                                  hint="; ".join(f"{k} = {v}" for k, v in PLACES.items()))
        if spec.get("pattern") is not None:
            try:
                re.compile(str(spec["pattern"]))
            except re.error as exc:
                raise ExtraFieldError(f"« {here}.pattern » : expression illisible ({exc})", file=file) from None
        for bound in ("min", "max"):
            if spec.get(bound) is not None and (isinstance(spec[bound], bool) or not isinstance(spec[bound], (int, float))):
                raise ExtraFieldError(f"« {here}.{bound} » doit être un nombre", file=file)
        meta = FieldMeta(name=name, **{k: v for k, v in spec.items() if k != "show"})
        out[name] = ExtraField(meta=meta, show=tuple(show))
    return out


def extra_fields(edition, table: str = "projects") -> dict[str, ExtraField]:
    """The extra fields of ``table`` an edition declares (see :func:`declared`)."""
    return declared(edition.config, table, f"inputs/{edition.name}/edition.yaml")


def shown(edition, place: str, table: str = "projects") -> list[ExtraField]:
    """The edition's extra fields shown in ``place`` (catalogue, dossier or workbooks), in declared order."""
    return [extra for extra in extra_fields(edition, table).values() if place in extra.show]


def labels(edition, place: str, table: str = "projects") -> dict[str, str]:
    """``{name: French label}`` of the extra fields shown in ``place`` (workbook and table headers)."""
    return {extra.name: extra.label for extra in shown(edition, place, table)}


def hidden(edition, place: str, table: str = "projects") -> list[str]:
    """The extra fields not shown in ``place`` (dropped from its tables; the parquet keeps them)."""
    return [name for name, extra in extra_fields(edition, table).items() if place not in extra.show]

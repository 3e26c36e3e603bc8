"""The sites qualifiants of an offer: one for most offers, two or more for a « stage pluri-institutionnel »
(seed 001), each with its structure, address, référent and share of the offer's hours.

Site 1 is the structure that submitted the offer (its ``structure_name``, ``address``, ``referent_*``
fields, and ``site1_hours`` for its share); sites 2, 3… come from the mapped fields ``site<n>_*`` of
``schemas/fields.yaml``. A site's share of the hours, when the form leaves it empty, is what the offer's
hours leave after the other sites' shares (all of them for a single site).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ..io.html import display

EXTRA_SITES = (2, 3)  # the site<n>_* fields declared in schemas/fields.yaml


@dataclass(frozen=True)
class Site:
    number: int
    structure_name: str
    address: str
    postcode: str
    city: str
    referent_name: str
    referent_email: str
    hours: float | None  # the hours this site hosts (None: unknown)
    hours_given: bool  # the form gave this share (else derived from the offer's hours)


def _value(row: Mapping, name: str):
    value = row.get(name)
    if value is None or isinstance(value, (list, tuple)):
        return None
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _text(row: Mapping, name: str) -> str:
    value = _value(row, name)
    return "" if value is None else str(value).strip()


def _hours(row: Mapping, name: str) -> float | None:
    value = _value(row, name)
    return None if value is None else float(value)


def has_extra_site(row: Mapping, number: int) -> bool:
    """Whether the form names anything for site ``number`` (its structure, address, référent, hours)."""
    return any(_value(row, f"site{number}_{f}") is not None and _text(row, f"site{number}_{f}") != ""
               for f in ("structure_name", "address", "postcode", "city", "referent_name", "referent_email", "hours"))


def sites(row: Mapping, total_hours: float | None = None) -> list[Site]:
    """The offer's sites in order; ``total_hours`` (default: the offer's ``hours``) is shared among them."""
    total = _hours(row, "hours") if total_hours is None else total_hours
    found = [Site(1, _text(row, "structure_name"), _text(row, "address"), _text(row, "postcode"), _text(row, "city"),
                  _text(row, "referent_name"), _text(row, "referent_email"), _hours(row, "site1_hours"),
                  _hours(row, "site1_hours") is not None)]
    for n in EXTRA_SITES:
        if has_extra_site(row, n):
            p = f"site{n}_"
            found.append(Site(n, _text(row, p + "structure_name"), _text(row, p + "address"), _text(row, p + "postcode"),
                              _text(row, p + "city"), _text(row, p + "referent_name"), _text(row, p + "referent_email"),
                              _hours(row, p + "hours"), _hours(row, p + "hours") is not None))
    unknown = [s for s in found if s.hours is None]
    if len(unknown) == 1 and total is not None:
        rest = total - sum(s.hours for s in found if s.hours is not None)
        found = [s if s.hours is not None else Site(**{**s.__dict__, "hours": rest}) for s in found]
    return found


def is_multi_site(row: Mapping) -> bool:
    return any(has_extra_site(row, n) for n in EXTRA_SITES)


def share_problems(row: Mapping, total_hours: float | None = None) -> list[str]:
    """Why the sites of an offer do not make a whole (French): a site without its structure, shares that do
    not add up to the offer's hours, a negative remainder. Empty for a single site or a coherent offer."""
    listed = sites(row, total_hours)
    if len(listed) == 1:
        return []
    total = _hours(row, "hours") if total_hours is None else total_hours
    problems = [f"site {s.number} sans structure" for s in listed if not s.structure_name]
    shares = [s.hours for s in listed]
    if any(h is None for h in shares):
        problems.append("part des heures de plusieurs sites non renseignée")
    elif any(h < 0 for h in shares):
        problems.append("les parts des autres sites dépassent le volume horaire")
    elif total is not None and abs(sum(shares) - total) > 1e-6:
        problems.append(f"les parts des sites ({' + '.join(display(h) for h in shares)} h) ne font pas le volume "
                        f"horaire de l'offre ({display(total)} h)")
    return problems


def partner_structures(frame: pd.DataFrame) -> pd.DataFrame:
    """Every host structure of ``frame``'s offers, one row per site (see :func:`per_site`) with the host's
    name as ``structure_name``: the review counts partners over this, so a second site's structure counts."""
    hosts = per_site(frame)
    return hosts.assign(structure_name=hosts["host_structure_name"].where(hosts["host_structure_name"] != "", None))


def per_site(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per site of each offer of ``frame`` (offers in their order, sites in theirs): the offer's
    columns, unchanged, and ``site_number``, ``site_count``, ``site_hours`` (the host's share),
    ``host_structure_name``, ``host_referent_name`` and ``convention_id`` (the project code for a single
    site; ``<code>-S<n>`` for each site of a multi-site offer)."""
    rows = []
    for record in frame.to_dict("records"):
        listed = sites(record)
        for site in listed:
            rows.append({**record, "site_number": site.number, "site_count": len(listed), "site_hours": site.hours,
                         "host_structure_name": site.structure_name, "host_referent_name": site.referent_name or None,
                         "convention_id": record["project_code"] if len(listed) == 1
                         else f"{record['project_code']}-S{site.number}"})
    extra = ["site_number", "site_count", "site_hours", "host_structure_name", "host_referent_name", "convention_id"]
    return pd.DataFrame(rows, columns=[*frame.columns, *extra])

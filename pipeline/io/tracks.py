"""The cohort's tracks (filières) as the edition declares them (``vocabularies.tracks`` of edition.yaml).

No track is known to the code: an edition of ES and EJE learners, one of ES, EJE and ASS, or a licence
professionnelle's single track all read their codes and labels from their own edition.yaml. This module
words a set of open tracks (« ES et EJE ») and reads it back from a workbook cell.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from .normalise import fold

_SEPARATORS = re.compile(r"\s*(?:,|;|/|\+|\bet\b)\s*")


def phrase(codes: Iterable[str]) -> str:
    """``["ES"]`` → ``ES``; ``["ES", "EJE"]`` → ``ES et EJE``; three or more → ``ES, EJE et ASS``."""
    codes = [str(c) for c in codes]
    if len(codes) <= 1:
        return "".join(codes)
    return ", ".join(codes[:-1]) + " et " + codes[-1]


def choices(tracks: Mapping[str, str]) -> list[str]:
    """The entries of a workbook's « filières ouvertes » dropdown: each track alone, then all of them
    together, in the edition's order (any other combination may be typed, e.g. « ES, ASS »)."""
    codes = list(tracks)
    return codes + ([phrase(codes)] if len(codes) > 1 else [])


def parse(text: str, tracks: Mapping[str, str]) -> list[str] | None:
    """The track codes a cell names, in the edition's order: codes or labels separated by « et », commas,
    « / » or « + »; ``None`` when a part names no track of the edition."""
    known = {fold(code): code for code in tracks}
    known.update({fold(label): code for code, label in tracks.items()})
    whole = known.get(fold(text))
    if whole is not None:
        return [whole]
    found = set()
    for part in _SEPARATORS.split(fold(text)):
        if not part:
            continue
        if part not in known:
            return None
        found.add(known[part])
    return [code for code in tracks if code in found] or None

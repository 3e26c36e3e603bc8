"""A mass of rows or choices dropped for one reason stops the stage instead of passing for a success.

Each rejection keeps its own reason (with its value, its project code…); for counting, a reason is folded
to its kind by blanking what varies between rows (quoted values, codes, numbers). When one kind covers more
than ``max_share`` of what was read and at least ``min_count`` items, the likely cause is one mistake
upstream (a mapping, an export of the wrong form, a catalogue out of date), not many learners' slips.
Thresholds: ``mass_rejection`` of params.yaml.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from ..contract.errors import StagescoError
from . import fr

_VARYING = re.compile(r"«[^»]*»|\([^)]*\)|\b(?=[A-Z0-9]*\d)[A-Z0-9]{3,}\b|\b\d+\b")


class MassRejection(StagescoError):
    """Too many rows or choices dropped for the same reason: probably one mistake upstream."""


def reason_kind(reason: str) -> str:
    """``projet P2RIG non retenu par la commission`` → ``projet … non retenu par la commission``."""
    return re.sub(r"\s+", " ", _VARYING.sub("…", str(reason))).strip()


def check(reasons: Iterable[str], read: int, rule: dict, *, what: str, file: str, hint: str,
          feminine: bool = False) -> None:
    """Raise :class:`MassRejection` when one kind of reason covers more than the rule allows of ``read``
    (``what``: the plural noun counted; ``feminine`` for its agreement: « candidatures écartées »)."""
    if not rule or read <= 0:
        return
    share, least = float(rule["max_share"]), int(rule["min_count"])
    kinds = Counter(reason_kind(r) for r in reasons)
    massive = [(kind, n) for kind, n in kinds.most_common() if n >= least and n > share * read]
    if massive:
        raise MassRejection(
            f"Trop de {what} écarté{'e' if feminine else ''}s pour une même raison (plus de {fr.percent(share)} des "
            f"{fr.integer(read)} lu{'e' if feminine else ''}s) : "
            f"l'étape s'arrête plutôt que de continuer sans {'elles' if feminine else 'eux'}", file=file, hint=hint,
            problems=[f"{fr.integer(n)} {what} ({fr.percent(n / read)}) : {kind}" for kind, n in massive])

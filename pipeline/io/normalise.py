"""Turning an export's text values into typed values, each failure a French reason citing the value.

Every function returns ``(value, reason)``: ``reason`` is ``None`` when the value was understood,
``value`` is ``None`` when it is empty or not understood.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from html import unescape

Result = tuple[object, str | None]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # invisible; a workbook cannot hold them
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_NUMBER = re.compile(r"^(\d+)(?:[.,](\d+))?$")
# Digits grouped by three with a (non-breaking) space, as French numbers are written: « 1 200 », « 24 118,5 ».
_GROUPED = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?=$|[.,])")
_HOURS_SUFFIX = re.compile(r"\s*(h|heures?)\.?$", re.IGNORECASE)


def fold(text: str) -> str:
    """Accent-, case-, apostrophe- and spacing-insensitive form of a label, for matching only."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return _SPACES.sub(" ", text).strip()


def clean_text(raw: str, *, multiline: bool = False) -> Result:
    """Trim a text value; keep its inner content exactly (a leading ``=`` or ``+`` stays)."""
    if raw is None:
        return None, None
    text = _CONTROL.sub("", str(raw).replace("\r\n", "\n").replace("\r", "\n"))
    text = text.strip() if multiline else _SPACES.sub(" ", text).strip()
    return (text or None), None


def _digits(text: str) -> str:
    """A number's text without its thousands spaces (« 1 200 » → « 1200 »). Any other space is kept, so
    that « 12 5 » is refused as typed instead of being read as 125."""
    text = text.strip()
    grouped = _GROUPED.match(text)
    if grouped:
        text = _SPACES.sub("", grouped.group(0)) + text[grouped.end():]
    return text


def parse_integer(raw: str, *, signed: bool = False) -> Result:
    """``12``, ``1 200``, ``12,0`` → int; with ``signed``, a leading minus (``-3``, ``−3``) too."""
    text = _digits(str(raw or ""))
    if not text:
        return None, None
    if signed and text[:1] in ("-", "\u2212"):
        value, reason = parse_integer(text[1:])
        return (None, f"« {raw} » n'est pas un nombre entier") if reason or value is None else (-value, None)
    match = _NUMBER.match(text)
    if match and (match.group(2) is None or set(match.group(2)) == {"0"}):
        return int(match.group(1)), None
    return None, f"« {raw} » n'est pas un nombre entier"


def parse_number(raw: str) -> Result:
    """``105``, ``105,5``, ``105.5``, ``105 h`` → float; anything else is a reason."""
    text = _digits(_HOURS_SUFFIX.sub("", str(raw or "").strip()))
    if not text:
        return None, None
    match = _NUMBER.match(text)
    if match:
        return float(f"{match.group(1)}.{match.group(2) or 0}"), None
    return None, f"« {raw} » n'est pas un nombre"


def parse_boolean(raw: str, vocabulary: dict[bool, list[str]]) -> Result:
    text = fold(raw or "")
    if not text:
        return None, None
    for value, words in vocabulary.items():
        if text in {fold(w) for w in words}:
            return bool(value), None
    expected = " / ".join(str(w) for w in vocabulary.get(True, [])[:1] + vocabulary.get(False, [])[:1])
    return None, f"« {raw} » n'est pas une réponse oui/non reconnue (attendu : {expected})"


def parse_datetime(raw: str, formats: list[str]) -> Result:
    text = _SPACES.sub(" ", str(raw or "")).strip()
    if not text:
        return None, None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt), None
        except ValueError:
            continue
    return None, f"« {raw} » n'est pas une date reconnue (formats attendus : {', '.join(_human(f) for f in formats)})"


def swapped_format(fmt: str) -> str:
    """The same format with day and month exchanged (``%d/%m/%Y`` ↔ ``%m/%d/%Y``)."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _parses(text: str, formats: list[str]) -> bool:
    for fmt in formats:
        try:
            datetime.strptime(text, fmt)
            return True
        except ValueError:
            continue
    return False


def day_month_swap(texts: list[str], formats: list[str]) -> str | None:
    """Whether a column's dates prove that the file writes day and month the other way round than
    ``formats`` say: some value is a valid date only with day and month exchanged (« 12/15/2025 » for
    ``%d/%m/%Y``: there is no 15th month) and none is valid only in the declared order. Then every value with
    a day up to 12 would be read silently wrong. Returns such a proving value, else ``None`` (the order
    stated is confirmed, or nothing proves either order, or the file mixes both)."""
    orders = [f for f in formats if "%d" in f and "%m" in f]
    if not orders:
        return None
    swapped = [swapped_format(f) for f in orders]
    proof_declared, proof_swapped = None, None
    for raw in texts:
        text = _SPACES.sub(" ", str(raw or "")).strip()
        if not text:
            continue
        declared, other = _parses(text, orders), _parses(text, swapped)
        if declared and not other:
            proof_declared = proof_declared or text
        elif other and not declared:
            proof_swapped = proof_swapped or text
    return proof_swapped if proof_swapped and not proof_declared else None


def human_format(fmt: str) -> str:
    """``%d/%m/%Y %H:%M`` → ``jj/mm/aaaa hh:mm`` (for messages)."""
    return _human(fmt)


def _human(fmt: str) -> str:
    return (fmt.replace("%d", "jj").replace("%m", "mm").replace("%Y", "aaaa").replace("%H", "hh")
            .replace("%M", "mm").replace("%S", "ss"))


def parse_choice(raw: str, values: dict[str, str]) -> Result:
    """A single choice: its code when the label (or the code itself) is in ``values``, else the text."""
    text, _ = clean_text(raw)
    if text is None:
        return None, None
    folded = fold(text)
    for label, code in values.items():
        if folded in (fold(label), fold(code)):
            return code, None
    return text, None


def _codes(mapped) -> list[str]:
    """A mapped answer's code(s): ``EJE`` or ``[ES, EJE]`` (one answer meaning several codes)."""
    return [str(c) for c in mapped] if isinstance(mapped, (list, tuple)) else [str(mapped)]


def parse_multi(raw: str, values: dict[str, str | list[str]], separators: list[str]) -> Result:
    """Several choices in one cell → sorted unique list of codes.

    A label may stand for several codes (``"ES et EJE": [ES, EJE]``): the longest labels are looked for first.

    With a vocabulary, each option's label or code is looked for in the text (longest first), so a
    label containing a comma is not split; text left over that is not a separator is a reason.
    Without one, the text is split on ``separators``.
    """
    text = unescape(str(raw or "")).strip()
    if not text:
        return [], None
    if not values:
        parts = [text]
        for sep in separators:
            parts = [p for part in parts for p in part.split(sep)]
        return sorted({p.strip() for p in parts if p.strip()}), None
    remaining = fold(text)
    found = set()
    codes = sorted({c for v in values.values() for c in _codes(v)})
    candidates = sorted(((fold(k), _codes(v)) for k, v in values.items()), key=lambda kv: -len(kv[0]))
    candidates += sorted(((fold(c), [c]) for c in codes), key=lambda kv: -len(kv[0]))
    for needle, mapped in candidates:
        pattern = re.compile(r"(?<![\w])" + re.escape(needle) + r"(?![\w])")
        if pattern.search(remaining):
            found.update(mapped)
            remaining = pattern.sub(" ", remaining)
    leftover = re.sub(r"[\s,;|/:.\-–]+", " ", remaining).strip()
    if leftover:
        return sorted(found), f"choix non reconnu dans « {text} » : « {leftover} »"
    return sorted(found), None


def postcode_to_departement(postcode: str | None) -> str | None:
    """Département code of a French postcode: 2 first digits; 97x/98x overseas; Corsica 2A/2B."""
    if not postcode or not re.fullmatch(r"\d{5}", postcode):
        return None
    if postcode.startswith(("97", "98")):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if int(postcode) < 20200 else "2B"
    return postcode[:2]


def clean_postcode(raw: str) -> Result:
    """Five digits, spaces removed (« 87 000 » → « 87000 »). Four digits are refused as typed, never
    completed: « 1000 » may be 01000 whose zero a spreadsheet dropped, or 87000 missing a digit."""
    text = _SPACES.sub("", str(raw or ""))
    if not text:
        return None, None
    if re.fullmatch(r"\d{4}", text):
        return None, (f"« {raw} » n'a que 4 chiffres : un code postal en a 5 (si un tableur a supprimé le zéro "
                      "initial, mettez la colonne au format texte et exportez de nouveau)")
    return text, None

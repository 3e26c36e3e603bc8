"""Byte-stable Office files (XLSX, DOCX): fixed zip entry times and document dates.

openpyxl and python-docx stamp ``created``/``modified`` with the current time and zip entries with
the current time; both are rewritten here so the same content gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_W3CDTF = "2000-01-01T00:00:00Z"
_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def stabilise(data: bytes) -> bytes:
    """Rewrite an Office zip with fixed entry times and fixed core-property dates."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _DATES.sub(lambda m: m.group(1) + FIXED_W3CDTF.encode() + m.group(3), content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, content, compresslevel=6)
    return out.getvalue()

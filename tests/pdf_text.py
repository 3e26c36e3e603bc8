"""The text of each page of a PDF that LibreOffice wrote (no PDF library in the environment): objects
parsed with regular expressions, Flate streams inflated, glyph codes mapped back through each font's
ToUnicode CMap. Enough to tell on which page a sentence landed, not a general PDF reader."""

from __future__ import annotations

import re
import sys
import zlib
from pathlib import Path

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)


def page_count(path) -> int:
    return len(pages_text(path))


def page_sizes(path) -> list[tuple[float, float]]:
    """Width and height (points) of every page."""
    objects = _objects(Path(path).read_bytes())
    sizes = []
    for body, _ in objects.values():
        if re.search(rb"/Type\s*/Page\b", body):
            box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", body)
            x0, y0, x1, y1 = (float(v) for v in box.groups())
            sizes.append((x1 - x0, y1 - y0))
    return sizes


def _objects(data):
    out = {}
    for m in _OBJ.finditer(data):
        body = m.group(2)
        stream = None
        if b"stream" in body:
            head, _, rest = body.partition(b"stream")
            raw = rest.lstrip(b"\r\n")
            raw = raw[: raw.rfind(b"endstream")]
            try:
                stream = zlib.decompressobj().decompress(raw) if b"FlateDecode" in head else raw
            except zlib.error:  # an embedded font file, say: not needed for the text
                stream = b""
            body = head
        out[int(m.group(1))] = (body, stream)
    return out


def _ref(body, key):
    m = re.search(rb"/" + key + rb"\s*(\d+) 0 R", body)
    return int(m.group(1)) if m else None


def _cmap(text):
    table = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(start + i)
    return table


def pages_text(path):
    """The text of each page of a PDF written by LibreOffice (simple TrueType fonts with ToUnicode maps)."""
    objects = _objects(Path(path).read_bytes())
    fonts = {}
    for number, (body, _) in objects.items():
        if re.search(rb"/Type\s*/Font\b", body) and _ref(body, b"ToUnicode"):
            fonts[number] = _cmap(objects[_ref(body, b"ToUnicode")][1])
    root = next(b for b, _ in objects.values() if re.search(rb"/Type\s*/Pages\b", b) and b"/Parent" not in b)

    def kids(body):
        for ref in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids\s*\[(.*?)\]", body, re.S).group(1)):
            child = objects[int(ref)][0]
            if re.search(rb"/Type\s*/Pages\b", child):
                yield from kids(child)
            else:
                yield child

    texts = []
    for page in kids(root):
        resources = page
        ref = _ref(page, b"Resources")
        if ref:
            resources = objects[ref][0]
        font_dict = re.search(rb"/Font\s*<<(.*?)>>", resources, re.S)
        if font_dict is None and _ref(resources, b"Font"):
            font_dict = re.search(rb"<<(.*)>>", objects[_ref(resources, b"Font")][0], re.S)
        names = {n: int(r) for n, r in re.findall(rb"/(\w+)\s*(\d+) 0 R", font_dict.group(1))} if font_dict else {}
        contents = re.search(rb"/Contents\s*(\[.*?\]|\d+ 0 R)", page, re.S).group(1)
        stream = b"".join(objects[int(r)][1] or b"" for r in re.findall(rb"(\d+) 0 R", contents))
        out, cmap = [], {}
        for token in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>|\((?:[^()\\]|\\.)*\)|(T\*|Td|TD|Tm|')\b", stream):
            if token.group(1):
                cmap = fonts.get(names.get(token.group(1)), {})
            elif token.group(2) is not None:
                hexa = token.group(2)
                out.append("".join(cmap.get(int(hexa[i:i + 2], 16), "") for i in range(0, len(hexa), 2)))
            elif token.group(3):
                out.append(" ")
        texts.append(re.sub(r"\s+", " ", "".join(out)))
    return texts


if __name__ == "__main__":
    for i, t in enumerate(pages_text(sys.argv[1]), 1):
        print(f"--- page {i}: {t[:3000]}")

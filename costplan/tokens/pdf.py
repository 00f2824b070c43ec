"""What the heuristic needs from a PDF: its pages, their size, and roughly how much text each shows.

The API turns every page into text plus an image of the page, so a page costs its text tokens plus the image
tokens of a page render. Reading is best-effort and bounded (no PDF library): page objects are found in the
file and in Flate-compressed object streams; text is approximated by the strings shown with Tj/TJ.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass

_MAX_INFLATE = 64 << 20  # never inflate more than this in total (a zip bomb stays harmless)
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")
_STREAM = re.compile(rb"stream\r?\n")
_LITERAL = re.compile(rb"\((?:\\.|[^\\)])*\)\s*Tj|\[(?:[^\]]*)\]\s*TJ", re.S)
_STRING_PARTS = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>")
_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", re.S)


@dataclass(frozen=True)
class PdfInfo:
    """Pages, the first page's size in points, and the characters of shown text (all pages)."""

    pages: int
    width_pt: float
    height_pt: float
    text_chars: int


def pdf_info_b64(data: str) -> PdfInfo | None:
    try:
        raw = base64.b64decode(data)
    except (binascii.Error, ValueError):
        return None
    return pdf_info(raw)


def pdf_info(raw: bytes) -> PdfInfo | None:
    """Best-effort facts about a PDF; None when the bytes are not a PDF."""
    if not raw.startswith(b"%PDF"):
        return None
    parts = [raw]
    budget = _MAX_INFLATE
    for match in _STREAM.finditer(raw):
        if budget <= 0:
            break
        try:
            inflated = zlib.decompressobj().decompress(raw[match.end() :], budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        parts.append(inflated)
    blob = b"\n".join(parts)
    pages = len(_PAGE.findall(blob))
    if not pages:
        counts = [int(a or b) for a, b in _COUNT.findall(blob)]
        pages = max(counts, default=1)
    box = _MEDIABOX.search(blob)
    width, height = (612.0, 792.0)
    if box:
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        width, height = abs(x1 - x0) or width, abs(y1 - y0) or height
    chars = 0
    for shown in _LITERAL.finditer(blob):
        for part in _STRING_PARTS.findall(shown.group(0)):
            if part.startswith(b"("):
                chars += len(part) - 2
            else:  # hex glyph ids: two bytes per glyph in the CID fonts most generators embed
                chars += len(re.sub(rb"\s", b"", part)) // 4
    return PdfInfo(pages=pages, width_pt=width, height_pt=height, text_chars=chars)

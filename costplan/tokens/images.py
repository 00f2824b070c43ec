"""Image sizes from file headers, and the image token formulas of the vision docs.

Only headers are read (PNG IHDR, JPEG SOFn, GIF logical screen, WebP VP8/VP8L/VP8X), so no imaging library
is needed. Two formulas exist in the docs:

- `area750` (docs up to 2026-06-10): tokens = w*h/750 after a resize to a long edge of `max_edge` and at most
  about `max_tokens` tokens (1568 px / ~1600 tokens, or 2576 px / 4784 tokens for the high-res tier).
- `patch28` (docs from 2026-06-11): tokens = ceil(w/28) * ceil(h/28) after the docs' `resized_size()`: the
  largest aspect-preserving size whose sides rounded up to 28 stay within `max_edge` and whose patch count
  stays within `max_tokens` (standard 1568/1568, high-res 2576/4784 for Claude 4.7 and later).
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass
from typing import Literal

Formula = Literal["area750", "patch28"]
PATCH = 28
_HEADER_B64_CHARS = 1 << 16  # decode this much first; JPEG may need more (EXIF before the SOF marker)


@dataclass(frozen=True)
class ImageSize:
    """Pixel size and format read from an image header."""

    width: int
    height: int
    format: str


def image_size(data: bytes) -> ImageSize | None:
    """Width and height from the first bytes of a PNG, JPEG, GIF or WebP file; None when unreadable."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ImageSize(width, height, "png")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageSize(width, height, "gif")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    return None


def _webp(data: bytes) -> ImageSize | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageSize(width, height, "webp")
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageSize(width & 0x3FFF, height & 0x3FFF, "webp")
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return ImageSize((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "webp")
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> ImageSize | None:
    pos = 2
    end = len(data)
    while pos + 4 <= end:  # bounded: every step moves forward by at least 2 bytes
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _SOF and pos + 9 <= end:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageSize(width, height, "jpeg")
        if length < 2:
            return None
        pos += 2 + length
    return None


def image_size_b64(data: str) -> ImageSize | None:
    """The size of a base64-encoded image, decoding only a prefix when the header is there."""
    try:
        head = base64.b64decode(data[: _HEADER_B64_CHARS - _HEADER_B64_CHARS % 4])
        size = image_size(head)
        if size is None and len(data) > _HEADER_B64_CHARS:
            size = image_size(base64.b64decode(data))
    except (binascii.Error, ValueError):
        return None
    return size


def resized_size(width: int, height: int, max_edge: int, max_tokens: int) -> tuple[int, int]:
    """The docs' patch28 resize: the largest same-aspect size within `max_edge` (sides rounded up to 28 px)
    and `max_tokens` patches. Binary search over the long edge; the tokens grow with it."""

    def fits(w: int, h: int) -> bool:
        return (
            math.ceil(w / PATCH) * PATCH <= max_edge
            and math.ceil(h / PATCH) * PATCH <= max_edge
            and patch_tokens(w, h) <= max_tokens
        )

    if fits(width, height):
        return width, height
    long_side, short_side = max(width, height), min(width, height)
    lo, hi = 1, long_side
    while lo < hi:  # invariant: lo fits; at most log2(8000) ~ 13 steps
        mid = (lo + hi + 1) // 2
        other = max(1, math.floor(short_side * mid / long_side))
        if fits(mid, other):
            lo = mid
        else:
            hi = mid - 1
    other = max(1, math.floor(short_side * lo / long_side))
    return (lo, other) if width >= height else (other, lo)


def patch_tokens(width: int, height: int) -> int:
    return math.ceil(width / PATCH) * math.ceil(height / PATCH)


def image_tokens(width: int, height: int, *, formula: Formula, max_edge: int, max_tokens: int) -> int:
    """Tokens of one image of `width` x `height` pixels under `formula` and the tier's caps."""
    if width <= 0 or height <= 0:
        return 0
    if formula == "patch28":
        w, h = resized_size(width, height, max_edge, max_tokens)
        return patch_tokens(w, h)
    scale = min(1.0, max_edge / max(width, height), math.sqrt(max_tokens * 750 / (width * height)))
    return min(max_tokens, math.ceil(width * scale * height * scale / 750))

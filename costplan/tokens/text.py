"""Character-class counts of text, fast enough for tens of megabytes per second.

The heuristic never tokenizes: it counts what a BPE tokenizer's cost depends on (words, letters, digits,
punctuation, whitespace that does not merge into the next word, non-ASCII characters by UTF-8 width), and
a linear model with calibrated weights turns the counts into tokens (`heuristic.py`).

Why the bit tricks: a per-character Python loop runs at about 5 MB/s, far from the 20 MB/s target. Here each
UTF-8 byte is translated (in C) to a byte whose bits say its classes; the chunk becomes one big integer, and
class counts and run starts are big-integer AND/shift/`bit_count` operations, which also run in C over
machine words. Text is processed in 64 KiB chunks so the per-class bit masks are built once; a run that
crosses a chunk boundary is counted twice (at most one extra per 64 KiB, well below the model's error).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

CHUNK = 1 << 16

# Bits of a class byte.
_LETTER, _UPPER, _DIGIT, _PUNCT, _SPACE, _NEWLINE, _WIDE2, _WIDE3 = (1 << i for i in range(8))


def _class_table() -> bytes:
    table = bytearray(256)
    for b in range(0x21, 0x7F):
        table[b] = _PUNCT
    for b in range(ord("a"), ord("z") + 1):
        table[b] = _LETTER
    for b in range(ord("A"), ord("Z") + 1):
        table[b] = _LETTER | _UPPER
    for b in range(ord("0"), ord("9") + 1):
        table[b] = _DIGIT
    for b in (ord(" "), ord("\t")):
        table[b] = _SPACE
    for b in (ord("\n"), ord("\r")):
        table[b] = _NEWLINE
    for b in range(0xC0, 0xE0):
        table[b] = _WIDE2
    for b in range(0xE0, 0x100):  # 3- and 4-byte leads; 4-byte ones are counted apart below
        table[b] = _WIDE3
    return bytes(table)


_TABLE = _class_table()
_CONTINUATION = bytes(range(0x80, 0xC0))  # deleted, so a character is one class byte
_LEAD4 = bytes(range(0xF0, 0x100))


@functools.cache
def _masks() -> tuple[int, ...]:
    """One integer per class bit with that bit set in every byte of a chunk (built once, then read-only)."""
    return tuple(int.from_bytes(bytes([1 << bit]) * CHUNK, "little") for bit in range(8))


@dataclass(frozen=True)
class TextCounts:
    """Counts over one text; they add up across texts, so the texts of a request can be summed."""

    chars: int = 0
    words: int = 0
    letters: int = 0
    camel: int = 0
    digits: int = 0
    digit_runs: int = 0
    punct: int = 0
    punct_runs: int = 0
    loose_spaces: int = 0
    space_runs: int = 0
    newlines: int = 0
    newline_runs: int = 0
    wide2: int = 0
    wide3: int = 0
    wide4: int = 0

    def __add__(self, other: TextCounts) -> TextCounts:
        return TextCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FEATURES: tuple[str, ...] = tuple(f.name for f in fields(TextCounts))
EMPTY = TextCounts()


def text_counts(text: str) -> TextCounts:
    """Class counts of `text`: a translate and a few big-integer operations per 64 KiB chunk."""
    if not text:
        return EMPTY
    raw = text.encode("utf-8", "surrogatepass")
    ascii_only = raw.isascii()
    totals = [0] * 15
    for start in range(0, len(raw), CHUNK):
        chunk = raw[start : start + CHUNK]
        cls = chunk.translate(_TABLE) if ascii_only else chunk.translate(_TABLE, _CONTINUATION)
        _add_chunk(totals, cls, ascii_only)
    wide4 = 0 if ascii_only else len(raw) - len(raw.translate(None, _LEAD4))
    (
        chars,
        words,
        letters,
        camel,
        digits,
        digit_runs,
        punct,
        punct_runs,
        spaces,
        loose,
        space_runs,
        newlines,
        newline_runs,
        wide2,
        wide3,
    ) = totals
    return TextCounts(
        chars=chars,
        words=words,
        letters=letters,
        camel=camel,
        digits=digits,
        digit_runs=digit_runs,
        punct=punct,
        punct_runs=punct_runs,
        loose_spaces=spaces - loose,
        space_runs=space_runs,
        newlines=newlines,
        newline_runs=newline_runs,
        wide2=wide2,
        wide3=wide3 - wide4,
        wide4=wide4,
    )


def _add_chunk(totals: list[int], cls: bytes, ascii_only: bool) -> None:
    m_letter, m_upper, m_digit, m_punct, m_space, m_newline, m_wide2, m_wide3 = _masks()
    bits = int.from_bytes(cls, "little")
    starts = bits & ~(bits << 8)  # a class bit set where the previous character lacks it
    totals[0] += len(cls)
    totals[1] += (starts & m_letter).bit_count()
    totals[2] += (bits & m_letter).bit_count()
    # camel: an upper-case letter right after a lower-case one = upper-run starts that are not word starts
    totals[3] += (starts & m_upper).bit_count() - (starts & (starts >> 1) & m_letter).bit_count()
    totals[4] += (bits & m_digit).bit_count()
    totals[5] += (starts & m_digit).bit_count()
    totals[6] += (bits & m_punct).bit_count()
    totals[7] += (starts & m_punct).bit_count()
    totals[8] += (bits & m_space).bit_count()
    totals[9] += (bits & (bits >> 4) & m_space).bit_count()  # a space whose next character is a letter
    totals[10] += (starts & m_space).bit_count()
    totals[11] += (bits & m_newline).bit_count()
    totals[12] += (starts & m_newline).bit_count()
    if not ascii_only:
        totals[13] += (bits & m_wide2).bit_count()
        totals[14] += (bits & m_wide3).bit_count()

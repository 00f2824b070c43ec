"""Character-class counts of text, fast enough for tens of megabytes per second.

The heuristic never tokenizes: it counts what a BPE tokenizer's cost depends on (words, letters, digits,
punctuation, whitespace that does not merge into the next word, indentation, letters deep inside long runs,
code and markup punctuation, non-ASCII characters by UTF-8 width), and a linear model with calibrated weights
turns the counts into tokens (`heuristic.py`).

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
    table[ord('"')] = _PUNCT | _UPPER  # a double quote: punctuation that mostly merges with what follows it
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
# Code and markup punctuation: these rarely merge with a neighbour into one token, unlike `.`, `,` or `-`.
_CODE = b"_/<>*`#()[]{}=\\"
# An ASCII chunk has no wide characters, so there the wide2 bit marks code punctuation instead: a popcount is
# cheaper than a second translate.
_TABLE_ASCII = bytes(c | (_WIDE2 if i in _CODE else 0) for i, c in enumerate(_TABLE))


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
    punct_runs: int = 0  # runs of punctuation that do not start with a double quote
    quote_runs: int = 0  # runs that do (`"key":`, `"},`): they merge into fewer tokens
    loose_spaces: int = 0  # spaces that cannot join the next word, except the deep ones below
    space_runs: int = 0  # runs of spaces or tabs inside a line
    indents: int = 0  # runs of spaces or tabs right after a newline (they merge with it more often)
    deep_spaces: int = 0  # spaces after four others (long runs, as in PDF text): a long run is a token or two
    newlines: int = 0
    newline_runs: int = 0
    wide2: int = 0
    wide3: int = 0
    wide4: int = 0
    long8: int = 0  # letters past the 7th of a run: long or repeated words split into several tokens
    code: int = 0  # characters of _CODE

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
    totals = [0] * 21
    for start in range(0, len(raw), CHUNK):
        chunk = raw[start : start + CHUNK]
        if chunk.isascii():  # most chunks of most text: the fast path, even when a few characters elsewhere are not
            _add_chunk(totals, chunk.translate(_TABLE_ASCII), ascii_only=True)
        else:  # a character cut at the chunk's start loses its continuation bytes only: it is counted once
            _add_chunk(totals, chunk.translate(_TABLE, _CONTINUATION), ascii_only=False)
            totals[19] += len(chunk) - len(chunk.translate(None, _LEAD4))
            totals[20] += len(chunk) - len(chunk.translate(None, _CODE))
    (
        chars,
        words,
        letters,
        camel,
        digits,
        digit_runs,
        _,
        punct_runs,
        spaces,
        loose,
        space_runs,
        newlines,
        newline_runs,
        wide2,
        wide3,
        indents,
        long8,
        quote_runs,
        deep,
        wide4,
        code,
    ) = totals
    punct = chars - letters - digits - spaces - newlines - wide2 - wide3  # every character has exactly one class
    return TextCounts(
        chars=chars,
        words=words,
        letters=letters,
        camel=camel,
        digits=digits,
        digit_runs=digit_runs,
        punct=punct,
        punct_runs=punct_runs - quote_runs,
        quote_runs=quote_runs,
        loose_spaces=spaces - loose - deep,
        space_runs=space_runs - indents,
        indents=indents,
        deep_spaces=deep,
        newlines=newlines,
        newline_runs=newline_runs,
        wide2=wide2,
        wide3=wide3 - wide4,
        wide4=wide4,
        long8=long8,
        code=code,
    )


def _add_chunk(totals: list[int], cls: bytes, ascii_only: bool) -> None:
    m_letter, m_upper, m_digit, m_punct, m_space, m_newline, m_wide2, m_wide3 = _masks()
    bits = int.from_bytes(cls, "little")
    starts = bits & ~(bits << 8)  # a class bit set where the previous character lacks it
    letters = bits & m_letter
    run2 = letters & (letters << 8)  # a letter after a letter
    totals[0] += len(cls)
    totals[1] += (starts & m_letter).bit_count()
    totals[2] += letters.bit_count()
    # camel: an upper run starts (bit 1) at a letter that follows a letter (run2, bit 0 -> 1)
    totals[3] += (starts & (run2 << 1) & m_upper).bit_count()
    totals[4] += (bits & m_digit).bit_count()
    totals[5] += (starts & m_digit).bit_count()
    # totals[6], punctuation, is what no other class takes (see text_counts): one popcount fewer
    totals[7] += (starts & m_punct).bit_count()
    totals[17] += (starts & (bits << 2) & m_punct).bit_count()  # ... whose first character is a quote (bit 1 -> 3)
    spaces = bits & m_space
    totals[8] += spaces.bit_count()
    totals[9] += (spaces & (bits >> 4)).bit_count()  # a space whose next character is a letter (bit 0 -> 4)
    totals[10] += (starts & m_space).bit_count()
    totals[11] += (bits & m_newline).bit_count()
    totals[12] += (starts & m_newline).bit_count()
    totals[15] += (starts & (bits << 7) & m_space).bit_count()  # a space run whose previous character is a newline
    deep2 = spaces & (spaces << 8)
    totals[18] += (deep2 & (deep2 << 16) & (spaces << 32)).bit_count()  # a space after four spaces
    run4 = run2 & (run2 << 16)
    totals[16] += (run4 & (run4 << 32)).bit_count()  # a letter whose 7 previous characters are letters
    if ascii_only:
        totals[20] += (bits & m_wide2).bit_count()  # code punctuation (see _TABLE_ASCII)
    else:
        totals[13] += (bits & m_wide2).bit_count()
        totals[14] += (bits & m_wide3).bit_count()

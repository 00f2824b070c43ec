"""The offline heuristic: image headers, the documented image examples, tool overhead, text properties."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import subprocess
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan.errors import InputError
from costplan.tokens import count_tokens
from costplan.tokens.facts import load_facts
from costplan.tokens.heuristic import breakdown, estimate, estimate_text
from costplan.tokens.images import image_size, image_tokens
from costplan.tokens.pdf import pdf_info
from costplan.tokens.text import text_counts

NEW_FORMULA_DAY = dt.date(2026, 8, 1)
OLD_FORMULA_DAY = dt.date(2025, 1, 1)


def png(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def gif(w: int, h: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", w, h) + b"\x00\x00\x00;"


def jpeg(w: int, h: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_vp8x(w: int, h: int) -> bytes:
    payload = b"\x00\x00\x00\x00" + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBP" + b"VP8X" + struct.pack("<I", 10) + payload


def webp_vp8l(w: int, h: int) -> bytes:
    bits = (w - 1) | ((h - 1) << 14)
    payload = b"\x2f" + bits.to_bytes(4, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBP" + b"VP8L" + struct.pack("<I", 5) + payload


def webp_vp8(w: int, h: int) -> bytes:
    payload = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", w, h)
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBP" + b"VP8 " + struct.pack("<I", 10) + payload


@pytest.mark.parametrize(
    "make,fmt",
    [(png, "png"), (gif, "gif"), (jpeg, "jpeg"), (webp_vp8x, "webp"), (webp_vp8l, "webp"), (webp_vp8, "webp")],
)
def test_image_headers_give_the_pixel_size(make, fmt) -> None:
    size = image_size(make(640, 480))
    assert (size.width, size.height, size.format) == (640, 480, fmt)


def test_not_an_image_is_none() -> None:
    assert image_size(b"hello world") is None and image_size(b"\xff\xd8\xff") is None


@pytest.mark.parametrize(
    "w,h,standard,high_res",
    [
        (200, 200, 64, 64),
        (1000, 1000, 1296, 1296),
        (1092, 1092, 1521, 1521),
        (1920, 1080, 1560, 2691),
        (2000, 1500, 1564, 3888),
        (3840, 2160, 1560, 4784),
    ],
)
def test_documented_image_examples(w: int, h: int, standard: int, high_res: int) -> None:
    assert image_tokens(w, h, formula="patch28", max_edge=1568, max_tokens=1568) == standard
    assert image_tokens(w, h, formula="patch28", max_edge=2576, max_tokens=4784) == high_res


def test_old_formula_is_area_over_750_with_its_cap() -> None:
    assert image_tokens(750, 100, formula="area750", max_edge=1568, max_tokens=1600) == 100
    assert image_tokens(4000, 4000, formula="area750", max_edge=1568, max_tokens=1600) <= 1600


def image_request(data: bytes, mime: str = "image/png") -> dict:
    source = {"type": "base64", "media_type": mime, "data": base64.b64encode(data).decode()}
    return {"messages": [{"role": "user", "content": [{"type": "image", "source": source}]}]}


def test_image_formula_and_tier_follow_date_and_model() -> None:
    body = image_request(png(1920, 1080))
    assert breakdown(body, model="claude-sonnet-4-6", on=NEW_FORMULA_DAY).fixed == 1560
    assert breakdown(body, model="claude-opus-4-7", on=NEW_FORMULA_DAY).fixed == 2691
    assert breakdown(body, model="claude-sonnet-4-6", on=OLD_FORMULA_DAY).fixed == 1600


def tool_request(choice: str | None) -> dict:
    body = {
        "messages": [{"role": "user", "content": "weather in Paris?"}],
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather of a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
    }
    if choice:
        body["tool_choice"] = {"type": choice, **({"name": "get_weather"} if choice == "tool" else {})}
    return body


@pytest.mark.parametrize(
    "model,auto,any_",
    [
        ("claude-sonnet-4-6", 497, 589),
        ("claude-opus-4-7", 675, 804),
        ("claude-3-haiku-20240307", 264, 340),
        ("claude-haiku-4-5", 496, 588),
    ],
)
def test_hidden_tool_prompt_by_model_and_tool_choice(model: str, auto: int, any_: int) -> None:
    assert breakdown(tool_request(None), model=model).fixed == auto
    assert breakdown(tool_request("none"), model=model).fixed == auto
    assert breakdown(tool_request("any"), model=model).fixed == any_
    assert breakdown(tool_request("tool"), model=model).fixed == any_
    no_tools = {"messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "none"}}
    assert breakdown(no_tools, model=model).fixed == 0


def test_known_small_requests_are_close() -> None:
    body = {"messages": [{"role": "user", "content": "Say hi"}]}
    assert estimate(body, model="claude-3-5-haiku-latest").tokens == 9  # calibration set: 9


def test_previous_turn_thinking_is_ignored_and_current_turn_counts() -> None:
    thought = {"type": "thinking", "thinking": "long reasoning " * 50, "signature": "x"}
    old = {
        "messages": [
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": [thought]},
            {"role": "user", "content": "q2"},
        ]
    }
    current = {"messages": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": [thought]}]}
    assert breakdown(old, model="claude-sonnet-4-5").counts["thinking_blocks"] == 0
    assert breakdown(current, model="claude-sonnet-4-5").counts["thinking_blocks"] == 1


def test_newer_tokenizer_scales_text() -> None:
    body = {"messages": [{"role": "user", "content": "A plain sentence of English. " * 200}]}
    old, new = estimate(body, model="claude-sonnet-4-6"), estimate(body, model="claude-opus-4-7")
    assert 1.25 < new.tokens / old.tokens < 1.35 and new.notes


def test_pdf_pages_are_read() -> None:
    pages = b"".join(b"%d 0 obj << /Type /Page /MediaBox [0 0 612 792] >> endobj\n" % i for i in range(3))
    info = pdf_info(b"%PDF-1.4\n" + pages + b"9 0 obj << /Type /Pages /Count 3 >> endobj\n")
    assert info.pages == 3 and (info.width_pt, info.height_pt) == (612, 792)


def test_bad_requests_are_input_errors() -> None:
    with pytest.raises(InputError):
        count_tokens({"system": "x"}, method="heuristic")
    with pytest.raises(InputError):
        count_tokens(["not", "a", "dict"], method="heuristic")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        count_tokens({"messages": []}, method="guess")  # type: ignore[arg-type]


def test_shipped_facts_say_where_each_weight_comes_from() -> None:
    facts = load_facts()
    assert facts.file.calibration and facts.file.interval.low < 1 < facts.file.interval.high
    assert all(m.source in facts.file.sources or m.source == "assumed" for m in facts.file.models)


def test_import_does_not_load_the_sdk() -> None:
    code = "import sys, costplan.tokens, costplan; costplan.count_tokens; print('anthropic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.text(min_size=1, max_size=300))
def test_more_text_never_fewer_tokens(base: str, extra: str) -> None:
    short = estimate_text(base, model="claude-sonnet-4-6").tokens
    longer = estimate_text(base + extra, model="claude-sonnet-4-6").tokens
    assert longer >= short


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=500), st.sampled_from(["claude-sonnet-4-6", "claude-opus-4-7", "claude-3-haiku-20240307"]))
def test_interval_contains_the_estimate(text: str, model: str) -> None:
    body = {"system": text, "messages": [{"role": "user", "content": text or "x"}]}
    result = estimate(body, model=model)
    assert result.low <= result.tokens <= result.high


@given(st.text(max_size=200), st.text(max_size=200))
def test_text_counts_add_up(a: str, b: str) -> None:
    joined, parts = text_counts(a + b), text_counts(a) + text_counts(b)
    assert joined.chars == parts.chars and joined.letters == parts.letters and joined.digits == parts.digits

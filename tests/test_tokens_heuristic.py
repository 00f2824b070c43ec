"""The offline heuristic: image headers, the documented image examples, tool overhead, text classes, the walk of a
request, tokenizer generations, unsized media, and the committed weights against the calibration data."""

from __future__ import annotations

import base64
import datetime as dt
import json
import lzma
import statistics
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan.errors import InputError
from costplan.tokens import count_text, count_tokens, heuristic
from costplan.tokens.facts import Facts, facts_path, load_facts, parse_facts
from costplan.tokens.heuristic import breakdown, estimate, estimate_text, parts
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


def test_newer_tokenizer_scales_text_and_json_only() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "A plain sentence of English. " * 200},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"x": [1, 2]}}]},
        ]
    }
    facts = load_facts()
    generation = facts.file.tokenizers["2026"]
    old = parts(breakdown(body, model="claude-sonnet-4-6"), model="claude-sonnet-4-6")
    new = parts(breakdown(body, model="claude-opus-5"), model="claude-opus-5")
    assert new.frame == old.frame and new.fixed == old.fixed == 0
    weights = facts.file.weights
    found = breakdown(body, model="claude-opus-5").features()
    text = sum(weights.get(k, 0) * v for k, v in found.items() if k.startswith("text."))
    json_part = sum(weights.get(k, 0) * v for k, v in found.items() if k.startswith("json."))
    assert new.scaled == pytest.approx(text * generation.text + json_part * generation.json_)
    assert old.scaled == pytest.approx(text + json_part)
    assert estimate(body, model="claude-opus-5").notes  # the estimate says the ratios were measured narrowly


def test_newer_tokenizer_hidden_prompts_are_its_own() -> None:
    doc = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "A."}}
    body = {"messages": [{"role": "user", "content": [{**doc, "citations": {"enabled": True}}]}]}
    plain = {"messages": [{"role": "user", "content": [doc]}]}
    facts = load_facts()
    for model, size in (
        ("claude-opus-5", facts.file.tokenizers["2026"].weights["citations"]),
        ("claude-sonnet-4-5", facts.file.weights["citations"]),
    ):
        added = estimate(body, model=model).tokens - estimate(plain, model=model).tokens
        assert abs(added - size) <= 1


def test_text_classes_by_hand() -> None:
    counts = text_counts('{\n    "key": "a_b",\n        "x"}      farewellfarewell')
    # punctuation runs led by a quote: `"` before key, `":`, `"` before a_b, `",`, `"` before x, `"}`
    assert counts.quote_runs == 6 and counts.punct_runs == 2  # the others: `{` and the `_` of a_b
    assert (counts.indents, counts.space_runs, counts.newline_runs) == (2, 2, 2)  # runs after a newline / mid-line
    assert counts.deep_spaces == 4 + 2  # spaces after four others: in the 8-space indent and the 6-space run
    # 19 spaces, one joins `farewell...`; the deep ones are counted apart
    assert counts.loose_spaces == 19 - 1 - 6
    assert counts.long8 == 16 - 7 and counts.code == 3  # letters past the 7th of their run; `{`, `_`, `}`


def test_tool_calls_are_named_arguments_with_ids_apart() -> None:
    call = {"type": "tool_use", "id": "toolu_01ABCDEFGH", "name": "add", "input": {"a": 2, "b": "three"}}
    result = {"type": "tool_result", "tool_use_id": "toolu_01ABCDEFGH", "content": "5"}
    body = {
        "messages": [
            {"role": "user", "content": "add"},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ]
    }
    found = breakdown(body, model="claude-sonnet-4-5")
    assert (found.counts["tool_use"], found.counts["tool_result"], found.counts["arg_keys"]) == (1, 1, 2)
    assert (found.counts["ids"], found.counts["id_chars"]) == (2, 32)
    assert found.texts["json"].digits == 1  # the number argument; the string one is text
    assert found.texts["text"].words == 1 + 1 + 2 + 1  # add, add, a b, three... and "5" is a digit


def test_request_options_that_change_the_count_are_seen() -> None:
    body = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure:"}],
        "stop_sequences": ["\nObservation:", "END"],
        "thinking": {"type": "adaptive"},
    }
    counts = breakdown(body, model="claude-sonnet-4-6").counts
    assert (counts["stop_sequences"], counts["prefill"], counts["thinking_adaptive"], counts["thinking_enabled"]) == (
        2,
        1,
        1,
        0,
    )


def test_a_tool_with_a_hidden_definition_costs_its_size_and_says_it_is_a_guess() -> None:
    plain = {"messages": [{"role": "user", "content": "search"}]}
    body = {**plain, "tools": [{"type": "web_search_20250305", "name": "web_search"}]}
    facts = load_facts()
    with_tool, without = estimate(body, model="claude-sonnet-4-6"), estimate(plain, model="claude-sonnet-4-6")
    expected = facts.file.weights["server_tools"] + facts.model("claude-sonnet-4-6").tool_prompt.auto
    assert abs(with_tool.tokens - without.tokens - expected) <= 1
    assert any("rough guess" in note for note in with_tool.notes)


def test_an_image_by_url_counts_at_a_typical_size_and_the_interval_spans_to_the_cap() -> None:
    def body(source: dict) -> dict:
        return {"messages": [{"role": "user", "content": [{"type": "image", "source": source}]}]}

    facts = load_facts()
    url = estimate(
        body({"type": "url", "url": "https://example.com/a.png"}), model="claude-sonnet-4-6", on=NEW_FORMULA_DAY
    )
    tiny = estimate(
        body({"type": "base64", "media_type": "image/png", "data": base64.b64encode(png(28, 28)).decode()}),
        model="claude-sonnet-4-6",
        on=NEW_FORMULA_DAY,
    )
    typical = facts.file.unknown_media.image_tokens["standard"]
    assert abs(url.tokens - tiny.tokens - (typical - 1)) <= 1  # a 28x28 image is one patch
    assert url.low <= tiny.tokens and url.high >= 1568 and "unknown" in " ".join(url.notes)


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


def facts_with(weights: dict[str, float], interval: dict[str, object]) -> Facts:
    """The shipped facts with these weights and this interval only (hand-sized examples)."""
    import yaml

    data = yaml.safe_load(facts_path().read_text(encoding="utf-8"))
    data["weights"], data["interval"] = weights, interval
    return parse_facts(yaml.safe_dump(data))


# binary fractions, so that the products are exact and the hand values need no float caveat
BANDS = {
    "low": 0.75,
    "high": 1.25,
    "tokens": 2,
    "levels": [0.05, 0.95],
    "kinds": {"with_tools": {"low": 0.5, "high": 2.0}, "without_tools": {"low": 0.875, "high": 1.125}},
}
EMPTY_TURN = {"messages": [{"role": "user", "content": ""}]}  # request 1, messages 1, blocks 1, no text
A_TOOL = {"name": "f", "input_schema": {"type": "object"}}


def test_the_interval_band_follows_the_request_kind() -> None:
    facts = facts_with({"request": 100.0}, BANDS)  # every request is 100 tokens + what is sourced
    plain = estimate(EMPTY_TURN, model="claude-sonnet-4-6", facts=facts)
    # without tools: 100 x 0.875 - 2 = 85.5 -> 85, 100 x 1.125 + 2 = 114.5 -> 115
    assert (plain.tokens, plain.low, plain.high) == (100, 85, 115)
    tooled = estimate({**EMPTY_TURN, "tools": [A_TOOL]}, model="claude-sonnet-4-6", facts=facts)
    # with a tool: 100 + the sourced hidden prompt of Sonnet 4.6 (497, tool_choice auto) = 597;
    # 597 x 0.5 - 2 = 296.5 -> 296, 597 x 2.0 + 2 = 1196
    assert (tooled.tokens, tooled.low, tooled.high) == (597, 296, 1196)
    assert heuristic.interval_kind(breakdown({**EMPTY_TURN, "tools": [A_TOOL]}, model="claude-sonnet-4-6")) == (
        "with_tools"
    )
    # an Anthropic-defined tool has a hidden definition whose size is a guess: a kind of its own, which has no
    # band here, so it takes the band of all requests: (100 + 497) x 0.75 - 2 = 445.75, x 1.25 + 2 = 748.25
    computer = {**EMPTY_TURN, "tools": [{"type": "computer_20250124", "name": "computer"}]}
    assert heuristic.interval_kind(breakdown(computer, model="claude-sonnet-4-6")) == "hidden_tools"
    hidden = estimate(computer, model="claude-sonnet-4-6", facts=facts)
    assert (hidden.tokens, hidden.low, hidden.high) == (597, 445, 749)


def test_a_kind_without_a_band_of_its_own_takes_the_band_of_all_requests() -> None:
    bands = {**BANDS, "kinds": {"with_tools": {"low": 0.5, "high": 2.0}}}
    facts = facts_with({"request": 100.0}, bands)
    plain = estimate(EMPTY_TURN, model="claude-sonnet-4-6", facts=facts)
    assert (plain.low, plain.high) == (73, 127)  # 100 x 0.75 - 2, 100 x 1.25 + 2
    assert facts.file.interval.band("without_tools") == (0.75, 1.25)
    assert facts_with({}, {"low": 0.75, "high": 1.25, "tokens": 2}).file.interval.band("with_tools") == (0.75, 1.25)


def test_text_alone_gets_the_band_of_requests_without_tools() -> None:
    facts = facts_with({"system": 50.0}, BANDS)  # text weights all zero: the text costs the system weight
    result = estimate_text("any text", model="claude-sonnet-4-6", facts=facts)
    # 50 x 0.875 - 2 = 41.75 -> 41, 50 x 1.125 + 2 = 58.25 -> 59
    assert (result.tokens, result.low, result.high) == (50, 41, 59)


def test_a_band_that_does_not_contain_the_estimate_is_refused() -> None:
    with pytest.raises(ValueError):
        facts_with({}, {**BANDS, "kinds": {"with_tools": {"low": 1.05, "high": 1.2}}})
    with pytest.raises(ValueError):
        facts_with({}, {**BANDS, "high": 0.95})


def test_the_shipped_interval_has_a_band_per_kind() -> None:
    interval = load_facts().file.interval
    assert set(interval.kinds) == {"with_tools", "without_tools"}  # hidden_tools: two projects, too few
    assert all(b.low < 1 < b.high for b in interval.kinds.values())
    assert 0 < interval.levels[0] < 0.1 and 0.9 < interval.levels[1] < 1


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


ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT.parent / "shared" / "calibration"
FILES = ("token-truth-calibration.jsonl", "token-truth-calibration-extra.jsonl.xz")


def test_every_priced_model_is_on_the_tokenizer_the_price_table_names() -> None:
    """pricing/anthropic.yaml says which tokenizer each model uses; tokenizer.yaml must agree, alias by alias."""
    import yaml

    facts = load_facts()
    table = yaml.safe_load((ROOT / "pricing" / "anthropic.yaml").read_text(encoding="utf-8"))
    for model in table["models"]:
        for name in (model["id"], *model.get("aliases", [])):
            found = facts.model(name)
            assert (found.tokenizer, found.family != "unknown") == (model["tokenizer"], True), name


def test_the_recorded_leave_one_project_out_figures_meet_the_overall_targets() -> None:
    """The figures --write stored with the weights (a refit without each project, nested for the interval).
    Per project, the interval's 85-95 % is met for 7 of the 9 projects with 30+ requests: ldp (84.9 %, one
    request short) and crush (99.8 %, one re-recorded prompt) miss (README, Interval)."""
    recorded = load_facts().file.calibration
    assert recorded["lopo_intervals"] == "nested"
    assert recorded["median"] <= 0.03 and recorded["p90"] <= 0.10 and recorded["worst_median"] <= 0.06
    assert 0.85 <= recorded["inside"] <= 0.95 and 0.85 <= recorded["new_inside"] <= 0.95
    within = [p for p, (_, _, inside) in recorded["projects"].items() if 0.85 <= inside <= 0.95]
    assert len(within) >= 7


def calibration_sample(every: int) -> list[tuple[dict, int, str, dt.date]]:
    """The tier-A requests among every n-th record whose count depends on the body alone (media by URL left out),
    from both files; only those lines are parsed, which keeps this test fast."""
    rows = []
    for name in FILES:
        opener = lzma.open if name.endswith(".xz") else open
        with opener(CALIBRATION / name, "rt", encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if index % every:
                    continue
                record = json.loads(line)
                meta = record["meta"]
                if meta.get("tier") != "A" or not meta.get("pure_request_function"):
                    continue
                if {"image_url", "document_url", "image_file_id", "document_file_id"} & set(meta["features"]):
                    continue
                usage = record["usage"]
                true = sum(
                    usage.get(k) or 0
                    for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
                )
                rows.append((record["request"], true, meta["model"], dt.date.fromisoformat(meta["first_commit_date"])))
    return rows


@pytest.mark.skipif(not CALIBRATION.is_dir(), reason="../shared/calibration is not in this checkout")
def test_the_committed_weights_hold_on_the_calibration_data() -> None:
    """In sample (the weights were fitted on these requests), so a loose check that they are the right weights:
    the leave-one-project-out figures are the script's job (see the test above)."""
    errors, inside, new = [], [], []
    for request, true, model, day in calibration_sample(every=4):
        est = estimate(request, model=model, on=day)
        error = max(0, abs(est.tokens - true) - 2) / true
        errors.append(error)
        inside.append(est.low <= true <= est.high)
        if load_facts().model(model).tokenizer == "2026":
            new.append(error)
    errors.sort()
    assert len(errors) > 500 and len(new) > 20  # about 700 requests, 45 of them on the 2026 tokenizer
    assert statistics.median(errors) < 0.02 and errors[int(0.9 * len(errors))] < 0.06
    assert sum(inside) / len(inside) >= 0.9
    assert statistics.median(new) < 0.02


@pytest.mark.parametrize("model", ["claude-foo-9", "claude-opus-5", "claude-sonnet-4-6"])
def test_a_system_prompt_count_carries_the_caveats_a_request_count_carries(model: str) -> None:
    text = count_text("You are terse.", model=model, method="heuristic")
    body = count_tokens({"model": model, "messages": [{"role": "user", "content": "Hi"}]}, method="heuristic")
    assert text.notes == body.notes
    expected = {
        "claude-foo-9": ("model claude-foo-9 is not in tokenizer.yaml", "unknown: ratios measured"),
        "claude-opus-5": ("opus-5: ratios measured",),
        "claude-sonnet-4-6": (),
    }[model]
    assert len(text.notes) == len(expected) and all(n.startswith(e) for n, e in zip(text.notes, expected))
    assert all(n in (text.warning or "") for n in text.notes)

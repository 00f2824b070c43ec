"""Fuzzing count bodies: whatever JSON arrives, counting answers or refuses in one line, never crashes.

Bodies are built from the Messages API's own fields with values that are sometimes right and sometimes any
JSON at all, so the fuzzer reaches deep into messages, blocks and tools instead of stopping at the first
wrong type. Through the library (`count_tokens(..., method="heuristic")`): a TokenCount with a sane count, or
an InputError, nothing else. Through the CLI: exit 0 with a JSON count, or exit 2 with one line on stderr
naming the file; never a traceback.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costplan.errors import InputError
from costplan.tokens import count_tokens

SANE_MAX = 10**9  # no body this fuzzer can build is near a billion tokens

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def sometimes(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly (9 in 10) a well-typed value, sometimes any JSON at all: a body has many fields, and each wrong one
    ends the count, so a higher share of wrong values would leave the counting paths unexplored."""
    return st.integers(min_value=0, max_value=9).flatmap(lambda n: any_json if n == 9 else good)


text_block = st.fixed_dictionaries({"type": st.just("text"), "text": sometimes(st.text(max_size=30))})
image_block = st.fixed_dictionaries(
    {
        "type": st.just("image"),
        "source": sometimes(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["base64", "url"]), "data": st.text(max_size=20), "url": st.text(max_size=10)}
            )
        ),
    }
)
tool_use_block = st.fixed_dictionaries(
    {
        "type": st.just("tool_use"),
        "id": sometimes(st.text(max_size=8)),
        "name": sometimes(st.text(max_size=8)),
        "input": sometimes(st.dictionaries(st.text(max_size=5), any_json, max_size=3)),
    }
)
tool_result_block = st.fixed_dictionaries(
    {
        "type": st.just("tool_result"),
        "tool_use_id": sometimes(st.text(max_size=8)),
        "content": sometimes(st.one_of(st.text(max_size=20), st.lists(text_block, max_size=2))),
    }
)
other_block = st.fixed_dictionaries(
    {"type": sometimes(st.sampled_from(["thinking", "redacted_thinking", "document", "search_result", "mystery"]))},
    optional={"thinking": any_json, "data": any_json, "source": any_json, "content": any_json, "title": any_json},
)
block = st.one_of(text_block, image_block, tool_use_block, tool_result_block, other_block, scalars)
message = st.fixed_dictionaries(
    {
        "role": sometimes(st.sampled_from(["user", "assistant"])),
        "content": sometimes(st.one_of(st.text(max_size=40), st.lists(block, max_size=3))),
    }
)
tool = st.fixed_dictionaries(
    {
        "name": sometimes(st.text(max_size=10)),
        "input_schema": sometimes(
            st.fixed_dictionaries(
                {"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=5), any_json)}
            )
        ),
    },
    optional={
        "description": sometimes(st.text(max_size=20)),
        "type": sometimes(st.sampled_from(["custom", "web_search_20250305"])),
    },
)
bodies = st.fixed_dictionaries(
    {"messages": sometimes(st.lists(message, min_size=1, max_size=3))},
    optional={
        "model": sometimes(st.sampled_from(["claude-sonnet-4-6", "claude-opus-4-7", "claude-3-haiku-20240307", "x"])),
        "system": sometimes(st.one_of(st.text(max_size=40), st.lists(text_block, max_size=2))),
        "tools": sometimes(st.lists(tool, max_size=2)),
        "tool_choice": sometimes(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["auto", "any", "tool", "none"]), "name": st.text(max_size=5)}
            )
        ),
        "thinking": sometimes(st.fixed_dictionaries({"type": st.sampled_from(["enabled", "disabled", "adaptive"])})),
        "output_config": sometimes(st.fixed_dictionaries({"format": any_json})),
        "output_format": any_json,
        "max_tokens": any_json,
    },
)


# A valid body using every field the counters read; each example puts one random JSON value at one place in it.
RICH: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
    "tools": [
        {"name": "get_time", "description": "Now.", "input_schema": {"type": "object", "properties": {"tz": {}}}},
        {"type": "web_search_20250305", "name": "web_search"},
    ],
    "tool_choice": {"type": "tool", "name": "get_time"},
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    "messages": [
        {"role": "user", "content": "What time is it?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "x"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {"tz": "UTC"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "12:00"}]},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Notes."}},
            ],
        },
    ],
}


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in `node` where a value can be put: each key and index, and a new key in each object."""
    found = [path]
    if isinstance(node, dict):
        found.append((*path, "extra"))
        for key, value in node.items():
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _places(value, (*path, index))
    return found


PLACES = _places(RICH)[1:]
# half the examples hit a top-level field: the wrong type of a whole field ("tools": 5) is the commonest mistake
place = st.one_of(st.sampled_from([p for p in PLACES if len(p) == 1]), st.sampled_from(PLACES))


def _put(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(body))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def check_library(body: Any) -> None:
    try:
        result = count_tokens(body, method="heuristic")
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(result.input_tokens, int) and 0 <= result.input_tokens <= SANE_MAX
    assert result.low is not None and result.high is not None
    assert 0 <= result.low <= result.input_tokens <= result.high <= SANE_MAX


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_the_library_counts_or_refuses_any_body(body: dict[str, Any]) -> None:
    check_library(body)


def test_the_rich_body_counts() -> None:
    result = count_tokens(RICH, method="heuristic")  # the base of the next test is a body the counters accept
    assert result.input_tokens > 0


@settings(max_examples=150, deadline=None)
@given(place=place, value=any_json)
def test_any_value_anywhere_in_a_valid_body_is_counted_or_refused(place: tuple[Any, ...], value: Any) -> None:
    check_library(_put(RICH, place, value))


@settings(max_examples=50, deadline=None)
@given(body=any_json)
def test_the_library_counts_or_refuses_any_json_value(body: Any) -> None:
    check_library(body)


@pytest.mark.parametrize("depth", [50, 99, 100, 500, 990, 5000])
@pytest.mark.parametrize("where", ["metadata", "tool_input", "tool_result"])
def test_deep_nesting_is_counted_or_refused_by_the_library(depth: int, where: str) -> None:
    nested: Any = "leaf"
    for _ in range(depth):
        nested = [nested] if where == "tool_result" else {"a": nested}
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}
    if where == "metadata":
        body["metadata"] = nested
    elif where == "tool_input":
        body["messages"].append(
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "n", "input": {"x": nested}}]}
        )
    else:
        block = {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "x"}]}
        for _ in range(depth // 2):
            block = {"type": "tool_result", "tool_use_id": "t", "content": [block]}
        body["messages"] = [{"role": "user", "content": [block]}]
    if depth >= 100:
        with pytest.raises(InputError, match="nested more than 100 levels"):
            count_tokens(body, method="heuristic")
    else:
        check_library(body)


def run_cli(text: str) -> tuple[int, str, str]:
    """`costplan count FILE --method heuristic --format json` in this process: (exit code, stdout, stderr)."""
    from costplan.cli import main

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "body.json"
        path.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        argv = ["costplan", "count", str(path), "--method", "heuristic", "--format", "json"]
        saved = sys.argv
        sys.argv = argv
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
                main()
        finally:
            sys.argv = saved
    return info.value.code, out.getvalue(), err.getvalue()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_the_cli_exits_0_or_2_with_one_line(body: dict[str, Any]) -> None:
    code, out, err = run_cli(json.dumps(body))
    assert "Traceback" not in err
    if code == 0:
        counted = json.loads(out)["inputs"][0]["input_tokens"]
        assert isinstance(counted, int) and 0 <= counted <= SANE_MAX
    else:
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("costplan: error: ") and "body.json" in lines[0], err


def crafted_pdf_body() -> dict[str, Any]:
    """A document whose PDF header claims a quadrillion pages: the heuristic reads pages from the header."""
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 999999999999999 >> endobj\n%%EOF"
    source = {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(pdf).decode()}
    return {"messages": [{"role": "user", "content": [{"type": "document", "source": source}]}]}


def test_a_pdf_claiming_absurdly_many_pages_is_never_an_absurd_count() -> None:
    check_library(crafted_pdf_body())  # refused, or counted within reason (the heuristic may cap pages)
    code, out, err = run_cli(json.dumps(crafted_pdf_body()))
    if code == 0:
        assert 0 <= json.loads(out)["inputs"][0]["input_tokens"] <= SANE_MAX
    else:
        assert code == 2 and "body.json: " in err and len(err.strip().splitlines()) == 1, err


def test_an_absurd_heuristic_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from costplan.tokens import heuristic

    absurd = SimpleNamespace(tokens=10**12, low=10**12, high=10**12, family="claude", notes=())
    monkeypatch.setattr(heuristic, "estimate", lambda *args, **kwargs: absurd)
    with pytest.raises(InputError, match="more than 1,000,000,000 tokens"):
        count_tokens({"messages": [{"role": "user", "content": "hi"}]}, method="heuristic")

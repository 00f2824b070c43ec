"""Workload and price files written to hurt: each is one clear InputError naming file and line, quickly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costplan.billing.catalog import load_pricebook
from costplan.errors import InputError
from costplan.planning.workload import parse_workload

BASE = """\
name: t
streams:
  - name: a
    model: claude-sonnet-4-6
    requests_per_day: 100
    input_tokens: {mean: 100}
    output_tokens: 100
"""
SCRIPT = Path(sys.executable).parent / "costplan"

# 7 levels of 9 aliases each: 466 bytes that stand for 9**7 = 4.8 million strings.
BOMB = "\n".join(
    [
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        *(f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdef", "bcdefg")),
        "name: t",
        "streams: [*g]",
    ]
)


def test_an_alias_bomb_is_refused_in_well_under_a_second():
    started = time.perf_counter()
    with pytest.raises(InputError, match="expands to more than"):
        parse_workload(BOMB, "bomb.yaml")
    assert time.perf_counter() - started < 1.0


def test_an_alias_bomb_in_a_price_overlay_is_refused(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text(BOMB.replace("streams", "models"))
    with pytest.raises(InputError, match="prices.yaml:.*expands"):
        load_pricebook([path], use_env=False)


def test_a_recursive_alias_is_refused():
    with pytest.raises(InputError, match="refers to itself|not valid YAML"):
        parse_workload("name: &x [*x]\nstreams: []\n", "loop.yaml")


@pytest.mark.parametrize("depth", [500, 100_000])
def test_deep_nesting_is_refused_without_crashing_the_interpreter(tmp_path, depth):
    # 100,000 levels crash libyaml's recursive composer (a segfault): run it where a crash cannot hide.
    path = tmp_path / "deep.yaml"
    path.write_text(BASE + "    cache: " + "[" * depth + "]" * depth + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    result = subprocess.run([str(SCRIPT), "estimate", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stderr[-500:]
    assert "deep.yaml:8: nested more than" in result.stderr and result.stderr.count("\n") == 1


def test_a_control_character_names_its_line():
    with pytest.raises(InputError, match=r"ctl.yaml:3: not valid YAML: character #x0001"):
        parse_workload(BASE.replace("name: a", "name: a\x01"), "ctl.yaml")


def test_a_key_that_is_a_mapping_is_refused():
    with pytest.raises(InputError, match=r"keys.yaml:8: a key must be a plain name"):
        parse_workload(BASE + "    cache: {{ttl: 5m}}\n", "keys.yaml")


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e300", "1.0e300"])
@pytest.mark.parametrize(
    "field",
    [
        "requests_per_day",
        "growth_per_month",
        "web_searches",
        "input_tokens",
        "output_tokens",
        "shape",
        "system_tokens",
        "tools",
        "budgets",
    ],
)
def test_infinite_or_absurd_numbers_are_refused_with_the_field(field, value):
    text = BASE
    if field == "requests_per_day":
        text = text.replace("requests_per_day: 100", f"requests_per_day: {value}")
    elif field in ("input_tokens", "output_tokens"):
        text = text.replace(f"{field}: ", f"{field}: {{mean: {value}}} #")
    elif field == "shape":
        text += f"    shape: [{value}{', 1' * 23}]\n"
    elif field == "budgets":
        text += f"budgets: {{max_daily_usd: {value}}}\n"
    else:
        text += f"    {field}: {value}\n"
    with pytest.raises(InputError, match=field):
        parse_workload(text, "w.yaml")


def test_negative_tool_tokens_are_refused():
    with pytest.raises(InputError, match="tools"):
        parse_workload(BASE + "    tools: -5000\n", "w.yaml")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (BASE.replace("name: a", 'name: "a\\nb"'), "streams[0].name"),
        (BASE.replace("name: t", 'name: "t\\r"'), "name"),
        (BASE.replace("model: claude-sonnet-4-6", 'model: "claude\\nsonnet"'), "streams[0].model"),
        ('limits: {"\\n": null}\n' + BASE, "limits.'\\n'"),
        ('limits: {"x\\ny": {rpm: 1}}\n' + BASE, "limits.'x\\ny'"),
    ],
    ids=["stream-name", "workload-name", "model", "limits-key", "limits-key-with-value"],
)
def test_control_characters_in_names_and_keys_keep_the_error_on_one_line(text: str, shown: str):
    with pytest.raises(InputError) as caught:
        parse_workload(text, "w.yaml")
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message and shown in message

"""The published JSON Schema of a workload file: up to date, and it agrees with the loader on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from costplan.errors import InputError
from costplan.planning.workload import json_schema, parse_workload

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "schemas" / "workload.schema.json"
WORKLOADS = sorted(
    path
    for path in ROOT.joinpath("examples").rglob("*.yaml")
    if isinstance(data := yaml.safe_load(path.read_text()), dict) and "streams" in data
)


def as_json(text: str) -> object:
    """A YAML workload as an editor's schema checker sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(PUBLISHED.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_published_schema_is_up_to_date():
    assert json.loads(PUBLISHED.read_text()) == json_schema(), (
        "regenerate: python -m costplan.planning.workload > schemas/workload.schema.json"
    )


def test_the_published_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(PUBLISHED.read_text()))


def test_the_examples_include_the_ci_workload():
    names = {p.name for p in WORKLOADS}
    assert "support-chatbot.yaml" in names and "costplan.yaml" in names and len(names) >= 6


@pytest.mark.parametrize("path", WORKLOADS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_workload_validates_against_the_schema(path: Path):
    errors = [e.message for e in validator().iter_errors(as_json(path.read_text()))]
    assert errors == []


HEAD = "name: w\nstreams:\n  - {name: a, model: claude-sonnet-4-6, input_tokens: 10, output_tokens: 5, "


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "requests_per_day: 100, growth_per_month: 5%, batch: 30%}\n",
        HEAD + "requests_per_hour: 4, conversation: {turns: 3, think_time: 45s}, cache: {ttl: 1h, prefixes: 3}}\n",
        "tier: 2\n" + HEAD + "requests_per_day: 1, shape: business-hours}\n",
        "tier: scale\nas_of: 2026-11-21\nbudgets: {max_daily_usd: 12.5, max_increase: 10%}\n"
        + HEAD
        + "requests_per_day: 1, max_tokens: 900}\n",
    ],
    ids=["percentages", "durations", "numbered-usage-tier", "budgets"],
)
def test_what_the_loader_reads_the_schema_accepts(text: str):
    parse_workload(text)
    assert [e.message for e in validator().iter_errors(as_json(text))] == []


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "requests_per_dya: 100}\n",
        HEAD + "requests_per_day: 100, cache: {ttl: 10m}}\n",
        "tier: gold\n" + HEAD + "requests_per_day: 1}\n",
        HEAD + "requests_per_day: 100, batch: 1.3}\n",
    ],
    ids=["unknown-field", "unknown-ttl", "unknown-usage-tier", "batch-above-one"],
)
def test_what_the_loader_refuses_the_schema_refuses(text: str):
    with pytest.raises(InputError):
        parse_workload(text)
    assert list(validator().iter_errors(as_json(text)))

"""Validation of pricing files and the user's overlay layered on the shipped tables."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal as D
from pathlib import Path

import pytest

import costplan
from costplan.billing.catalog import default_pricebook, load_pricebook
from costplan.billing.tables import json_schema, read_pricing_file
from costplan.errors import InputError

ROOT = Path(__file__).resolve().parents[1]

PERIOD = """
              - since: 2026-01-01
                prices: {input: "1", output: "2", cache_write_5m: "1.25", cache_write_1h: "2", cache_read: "0.1"}
                sources: [contract]
                confidence: official
"""


def write(tmp_path: Path, body: str, name: str = "overlay.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_schema_beside_the_tables_is_up_to_date():
    shipped = json.loads((ROOT / "pricing" / "schema.json").read_text())
    assert shipped == json_schema(), "regenerate with: python -m costplan.billing.tables > pricing/schema.json"


def test_shipped_tables_validate():
    table = read_pricing_file(ROOT / "pricing" / "anthropic.yaml")
    assert table.version and len(table.models) > 20


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            """
            models:
              - id: my-model
                periods:
                  - since: 2026-02-01
                    prices: {input: "1", output: "2"}
                    sources: [x]
                    confidence: official
                  - since: 2026-01-01
                    prices: {input: "1", output: "2"}
                    sources: [x]
                    confidence: official
            """,
            "overlap or are out of order",
        ),
        (
            """
            models:
              - id: my-model
                periods:
                  - since: 2026-01-01
                    prices: {input: "-1", output: "2"}
                    sources: [x]
                    confidence: official
            """,
            "negative",
        ),
        (
            """
            models:
              - id: my-model
                colour: blue
                periods: []
                unpriced_reason: test
            """,
            "colour",
        ),
        (
            """
            models:
              - id: a-model
                aliases: [shared]
                unpriced_reason: test
              - id: b-model
                aliases: [shared]
                unpriced_reason: test
            """,
            "shared",
        ),
        (
            """
            models:
              - id: my-model
                periods:
                  - since: 2026-01-01
                    prices: {input: "1", output: "2"}
                    sources: [x]
                    confidence: official
                    tiers:
                      - above: 100
                        prices: {input: "2", output: "4"}
                      - above: 50
                        prices: {input: "3", output: "5"}
            """,
            "ascending",
        ),
    ],
)
def test_validation_refuses_bad_records_naming_file_and_record(tmp_path, body, needle):
    path = write(tmp_path, body)
    with pytest.raises(InputError) as caught:
        read_pricing_file(path)
    message = str(caught.value)
    assert str(path) in message and needle in message
    if "a-model" not in body:
        assert "my-model" in message


def test_alias_clash_with_the_shipped_tables_is_refused(tmp_path):
    path = write(
        tmp_path,
        """
        models:
          - id: my-model
            aliases: [claude-sonnet-4-5]
            unpriced_reason: test
        """,
    )
    with pytest.raises(InputError, match="claude-sonnet-4-5"):
        load_pricebook([path], use_env=False)


def test_missing_and_malformed_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_pricing_file(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match=r"overlay.yaml:3: not valid YAML.*line 2"):
        read_pricing_file(write(tmp_path, "models:\n  - id: [unclosed\n"))


def test_overlay_negotiated_rate_from_a_date_keeps_history(tmp_path):
    path = write(
        tmp_path,
        f"""
        models:
          - id: claude-sonnet-4-5-20250929
            periods:{PERIOD}
        """,
    )
    book = load_pricebook([path], use_env=False)
    usage = {"input_tokens": 100_000}
    assert costplan.cost(usage, "claude-sonnet-4-5", as_of="2025-12-31", pricing=book).total == D("0.3")
    assert costplan.cost(usage, "claude-sonnet-4-5", as_of="2026-01-01", pricing=book).total == D("0.1")
    record = book.resolve("claude-sonnet-4-5")
    assert record.retires is not None  # fields the overlay did not give are kept


def test_overlay_adds_a_model_and_env_var_applies_it(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        f"""
        models:
          - id: acme-finetune
            aliases: [acme]
            periods:{PERIOD}
        """,
    )
    monkeypatch.setenv("COSTPLAN_PRICING", str(path))
    default_pricebook.cache_clear()  # the variable is read once per process, when prices are first needed
    try:
        assert costplan.cost({"output_tokens": 1_000_000}, "acme", as_of="2026-06-01").total == D("2")
    finally:
        monkeypatch.delenv("COSTPLAN_PRICING")
        default_pricebook.cache_clear()
    with pytest.raises(costplan.UnknownModelError):
        costplan.cost({"output_tokens": 1}, "acme", as_of="2026-06-01")

"""What every command prints, as a user meets it: one money format, one set of --format choices, tables that
fit the terminal, headings that say what a column is, and errors in the CLI's own words.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Ran, run_main

from costplan.render import usd

ROOT = Path(__file__).resolve().parent.parent
CHATBOT = str(ROOT / "examples" / "support-chatbot.yaml")
COMMANDS = ["prices", "cost", "count", "estimate", "check", "usage"]


def run(*args: str, stdin: str | None = None, columns: int | None = None) -> Ran:
    """In-process through the real entry point; COLUMNS as a terminal would set it."""
    return run_main(*args, stdin=stdin, env={"COLUMNS": str(columns) if columns else None})


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("118.299771", "$118.30"),
        ("124.012913", "$124.01"),
        ("15.99", "$15.99"),
        ("1234567.891", "$1,234,567.89"),
        ("1", "$1.00"),
        ("0.5", "$0.50"),
        ("0.123456", "$0.123"),
        ("0.003075", "$0.00308"),
        ("0.0036", "$0.0036"),
        ("0.000015", "$0.000015"),
        ("0.9996", "$1.00"),
        ("0", "$0.00"),
        ("-4.012913", "-$4.01"),
    ],
)
def test_one_money_format_for_people(amount, shown):
    assert usd(Decimal(amount)) == shown


def test_signed_amounts_for_changes():
    assert usd(Decimal("10.5"), signed=True) == "+$10.50" and usd(Decimal("-0.004"), signed=True) == "-$0.004"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_offers_the_same_formats(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "--format [table|markdown|json|csv]" in " ".join(result.stdout.split())


def test_check_prints_money_in_one_format():
    result = run("check", CHATBOT, "--max-daily-usd", "120")
    assert result.returncode == 1
    amounts = re.findall(r"\$[\d,]+\.\d+", result.stdout)
    assert amounts and all(len(a.split(".")[1]) == 2 for a in amounts if Decimal(a[1:].replace(",", "")) >= 1)
    assert "$124.01/day" in result.stdout and "$118.299771" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("estimate", CHATBOT),
        ("check", CHATBOT, "--max-daily-usd", "120"),
        ("prices",),
        ("prices", "claude-sonnet-4-5"),
        ("cost", "-m", "claude-sonnet-4-6", "--input", "1200", "--cache-read", "3000", "--output", "300"),
    ],
    ids=["estimate", "check", "prices", "history", "cost"],
)
@pytest.mark.parametrize("columns", [60, 100])
def test_tables_fit_the_terminal_width(args, columns):
    result = run(*args, columns=columns)
    assert result.returncode in (0, 1), result.stderr
    # Titles and prose are the terminal's to wrap; table lines are ours.
    lines = [line for line in result.stdout.splitlines() if not line.startswith(("-", " ")) or "  " in line]
    table_lines = [line for line in lines if re.search(r"\S  +\S", line) or set(line) <= {"-", " "}]
    assert table_lines and max(map(len, table_lines)) <= columns


def test_a_pipe_gets_whole_lines_for_grep():
    result = run("check", CHATBOT, "--max-daily-usd", "120")
    detail = next(line for line in result.stdout.splitlines() if line.startswith("FAIL") and "daily cost" in line)
    assert "over the budget of $120.00/day by $4.01" in detail


def test_the_rate_limit_table_names_each_column_once():
    result = run("estimate", CHATBOT)
    header = next(line for line in result.stdout.splitlines() if line.startswith("pool"))
    names = header.split()
    assert len(names) == len(set(names)) and "allowed" in names


def test_csv_is_one_table_with_exact_money():
    result = run("estimate", CHATBOT, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    data = json.loads(run("estimate", CHATBOT, "--format", "json").stdout)
    assert [r["stream"] for r in rows] == ["chat", "total"]
    assert rows[0]["cost_per_day_usd"] == data["streams"][0]["cost_per_day_usd"]
    cost = list(
        csv.reader(io.StringIO(run("cost", "-m", "claude-sonnet-4-6", "--input", "7", "--format", "csv").stdout))
    )
    assert cost[-1] == ["total", "", "", "0.000021"]  # 7 x $3 per million


def test_markdown_check_has_a_verdict_icon_and_a_result_column():
    result = run("check", CHATBOT, "--max-daily-usd", "120", "--format", "markdown")
    assert result.stdout.startswith("### :x: costplan check support-chatbot")
    assert "| :x: **fail**" in result.stdout


def test_a_missing_model_is_named_as_the_flag():
    result = run("cost", "--input", "10")
    assert result.returncode == 2 and "--model" in result.stderr and "model=" not in result.stderr


def test_the_library_names_its_parameter_not_a_flag():
    import costplan
    from costplan.errors import InputError

    with pytest.raises(InputError) as caught:
        costplan.cost({"input_tokens": 10})
    assert "model=" in str(caught.value) and "--model" not in str(caught.value)


@pytest.mark.parametrize("command", ["prices", "cost", "estimate", "check", "usage"])
def test_the_pricing_date_has_one_spelling(command):
    text = " ".join(run(command, "--help").stdout.split())
    assert "--as-of DATE" in text and "--at" not in text


def test_the_old_spelling_still_works():
    new = run("cost", "-m", "claude-sonnet-4-6", "--input", "5", "--as-of", "2026-03-01", "--format", "json")
    old = run("cost", "-m", "claude-sonnet-4-6", "--input", "5", "--at", "2026-03-01", "--format", "json")
    assert json.loads(new.stdout)["date"] == json.loads(old.stdout)["date"] == "2026-03-01"

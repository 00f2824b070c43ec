"""Rules that depend on the day: context windows, fast mode the API rejects, and a price table growing old.

A request the API would have refused (a prompt beyond the context window in force that day) is never priced
silently, in any of the three ways in: `cost`, `usage` and `estimate`.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest
from conftest import run_main

import costplan
from costplan.accounting.ledger import price_records
from costplan.billing.catalog import PriceBook, load_pricebook
from costplan.errors import InputError, StaleTableWarning


@pytest.mark.parametrize(
    ("model", "day", "refused"),
    [
        ("claude-haiku-4-5", "2026-11-01", True),  # 200K window
        ("claude-sonnet-4-5", "2026-04-29", False),  # the 1M beta's last day
        ("claude-sonnet-4-5", "2026-04-30", True),  # beta gone: 200K again
        ("claude-sonnet-4-6", "2026-11-01", False),  # 1M window
    ],
)
def test_cost_says_when_the_api_would_have_refused_the_prompt(model, day, refused):
    result = costplan.cost({"input_tokens": 250_000, "cache_read_input_tokens": 50_000}, model, as_of=day)
    assert any("would have refused" in note for note in result.notes) is refused


def test_cost_cli_warns_on_stderr_and_still_prints_the_price():
    result = run_main("cost", "-m", "claude-haiku-4-5", "--input", "300000", "--at", "2026-11-01")
    assert result.returncode == 0 and "$0.30" in result.stdout
    assert "costplan: warning:" in result.stderr and "200,000-token context window" in result.stderr


def test_usage_counts_logged_requests_beyond_the_window():
    records = [
        {"model": "claude-haiku-4-5", "usage": {"input_tokens": n}, "timestamp": "2026-11-01"}
        for n in (300_000, 150_000, 200_001)
    ]
    report = price_records(records)
    assert report.total.requests == 3
    assert any(w.startswith("2 request(s) of claude-haiku-4-5-20251001 have prompts over") for w in report.warnings)


def _workload(tmp_path: Path, model: str, as_of: str, days: int = 1, speed: str = "standard") -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(
        f"name: w\nas_of: {as_of}\ndays: {days}\ntier: build\nstreams:\n  - name: big\n    model: {model}\n"
        f"    requests_per_day: 100\n    input_tokens: {{mean: 150000, p95: 400000}}\n    output_tokens: 100\n"
        f"    speed: {speed}\n"
    )
    return path


def test_estimate_gives_the_share_of_requests_the_api_refuses(tmp_path):
    estimate = costplan.estimate(_workload(tmp_path, "claude-haiku-4-5", "2026-11-01"), method="heuristic")
    refused = [w for w in estimate.warnings if "prompts over the 200,000-token context window" in w]
    assert len(refused) == 1
    share = float(refused[0].split(": ")[1].split("%")[0])
    # lognormal with mean 150k and p95 400k, worked by hand: sigma solves ln(400000/150000) = 0.98083 =
    # 1.64485 s - s^2/2 -> s = 0.78232; mu = ln(150000) - s^2/2 = 11.61238; P(X > 200000) = 1 - Phi(0.75888)
    assert abs(share - 22.4) < 0.1


def test_estimate_of_fast_mode_crossing_its_removal_warns_and_prices_standard_after(tmp_path):
    path = _workload(tmp_path, "claude-opus-4-8", "2026-11-28", days=4, speed="fast")
    path.write_text(path.read_text().replace("{mean: 150000, p95: 400000}", "1000"))
    estimate = costplan.estimate(path, method="heuristic")
    assert any("rejects" in w and "day 3 of the horizon" in w for w in estimate.warnings)
    stream = estimate.streams[0]
    # fast is 2x standard on Opus 4.8: days 1-2 fast, days 3-4 standard
    assert stream.cost_horizon_usd == stream.cost_per_day_usd * 3


def test_estimate_of_fast_mode_after_its_removal_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="rejects"):
        costplan.estimate(_workload(tmp_path, "claude-opus-4-8", "2026-11-30", speed="fast"), method="heuristic")


def test_a_table_far_older_than_the_day_priced_warns_once_and_says_how_to_overlay():
    book = PriceBook(load_pricebook(use_env=False).table)  # a book of its own: it warns once per book
    compiled = dt.date.fromisoformat(book.version[:10])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        costplan.cost({"input_tokens": 1}, "claude-sonnet-4-6", as_of=compiled + dt.timedelta(days=60), pricing=book)
        assert not caught
        for days in (61, 90):
            costplan.cost(
                {"input_tokens": 1}, "claude-sonnet-4-6", as_of=compiled + dt.timedelta(days=days), pricing=book
            )
    stale = [w for w in caught if issubclass(w.category, StaleTableWarning)]
    assert len(stale) == 1 and "--pricing FILE" in str(stale[0].message) and "61 days older" in str(stale[0].message)

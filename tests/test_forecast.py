"""`costplan usage --forecast`: the month projected from the days seen. Logs are built so each day's cost is
known by hand (Haiku 4.5: $1 per million input tokens, so 100,000 input tokens cost $0.10), and every expected
figure below is worked out on paper from the module's stated model."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from costplan.accounting.forecast import fit_days, forecast, t_quantile
from costplan.accounting.ledger import price_log
from tests.conftest import run_main

D = Decimal


def write_log(path: Path, dimes_per_day: dict[str, int]) -> Path:
    """`n` Haiku requests of 100,000 input tokens on a day cost n x $0.10 exactly."""
    lines = [
        json.dumps(
            {
                "model": "claude-haiku-4-5",
                "usage": {"input_tokens": 100_000, "output_tokens": 0},
                "timestamp": f"{day}T09:00:00Z",
            }
        )
        for day, dimes in dimes_per_day.items()
        for _ in range(dimes)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def nov(day: int) -> str:
    return f"2026-11-{day:02d}"


@pytest.mark.parametrize(("df", "table"), [(1, 6.314), (2, 2.920), (3, 2.353), (5, 2.015), (10, 1.812), (30, 1.697)])
def test_t_quantiles_match_the_printed_tables(df: int, table: float) -> None:
    assert t_quantile(0.95, df) == pytest.approx(table, rel=3e-3)


def test_a_steady_month_projects_its_rate_with_no_spread(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", {nov(d): 45 for d in range(1, 11)})  # $4.50 a day for 10 days
    fc = forecast(price_log([log], by=["day", "model"]))
    assert (fc.method, fc.month_to_date, fc.p50, fc.p95) == ("trend", D("45"), D("135.00"), D("135.00"))
    assert fc.daily_rate == D("4.50") and fc.trend_per_day == D("0.00")


def test_a_rising_month_follows_its_trend_and_meets_the_cap_on_the_day_it_passes_it(tmp_path: Path) -> None:
    # Day k of November (k = 1..10) costs $2k: a straight line, so the fit is exact and the spread 0.
    log = write_log(tmp_path / "log.jsonl", {nov(k): 20 * k for k in range(1, 11)})
    fc = forecast(price_log([log], by=["day", "model"]), usage_tier="start")
    # $2 x (1 + ... + 30) = $930 for the month; the running sum 2 x n(n+1)/2 = n(n+1) first reaches $500 at
    # n = 22 (506), so usage would pause on Nov 22 under the Start tier's $500 cap.
    assert (fc.month_to_date, fc.p50, fc.p95) == (D("110"), D("930.00"), D("930.00"))
    assert fc.cap_day == dt.date(2026, 11, 22)
    (cap,) = fc.checks
    assert (cap.limit, cap.verdict) == (D("500"), "over") and "pauses until 2026-12-01" in cap.detail


def test_a_short_noisy_log_projects_its_mean_with_a_students_t_interval(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", {nov(1): 45, nov(2): 45, nov(3): 60})  # $4.50, $4.50, $6.00
    fc = forecast(price_log([log], by=["day", "model"]))
    # mean $5, sample variance ((-0.5)^2 + (-0.5)^2 + 1^2) / 2 = 0.75; 27 unseen days:
    # P50 = 15 + 27 x 5 = 150; P95 = 150 + t(0.95, 2 df) x sqrt(0.75 x (27 + 27^2 / 3)), t = 2.919986
    assert fc.method == "mean" and fc.p50 == D("150.00")
    assert float(fc.p95) == pytest.approx(150 + 2.919986 * math.sqrt(0.75 * (27 + 27**2 / 3)), abs=0.006)


def test_a_fitted_trend_has_the_regression_prediction_interval() -> None:
    costs = [1.0, 3.0, 2.0, 4.0, 3.0, 5.0, 4.0]  # t = 0..6
    fit = fit_days(costs)
    # By hand: t mean 3, cost mean 22/7, Sxx = 28, Sxy = -3 - 6 - 2 + 0 + 3 + 10 + 12 = 14 -> slope 1/2,
    # intercept 22/7 - 3/2 = 23/14.
    assert (fit.slope, fit.intercept) == (pytest.approx(1 / 2), pytest.approx(23 / 14))
    residuals = [c - (23 / 14 + t / 2) for t, c in enumerate(costs)]
    s2 = sum(r * r for r in residuals) / 5
    # One unseen day at t = 7: var = s2 (1 + 1/7 + (7 - 3)^2 / 28), the textbook prediction variance.
    assert fit.sum_variance([7]) == pytest.approx(s2 * (1 + 1 / 7 + 16 / 28))


def test_the_cli_holds_the_month_against_the_plans_tier_and_budgets(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", {nov(d): 45 for d in range(1, 11)})  # $135 a month at $4.50/day
    plan = tmp_path / "w.yaml"
    plan.write_text(
        "name: w\ntier: start\nstreams:\n  - {name: a, model: claude-haiku-4-5, requests_per_day: 1, input_tokens: 1,"
        " output_tokens: 1}\nbudgets: {max_monthly_usd: 120, max_daily_usd: 5}\n"
    )
    ran = run_main("usage", str(log), "--forecast", "--plan", str(plan), "--format", "json")
    assert ran.returncode == 0, ran.stderr
    checks = {c["name"]: c["verdict"] for c in json.loads(ran.stdout)["forecast"]["checks"]}
    assert checks == {
        "spend cap (usage tier start)": "fits",  # $135 of $500
        "budget max_monthly_usd": "over",  # $135 > $120
        "budget max_daily_usd": "fits",  # $4.50 < $5 on every day
    }
    table = run_main("usage", str(log), "--forecast", "--tier", "build")
    assert "month end, P50" in table.stdout and "$135.00" in table.stdout and "$1,000" in table.stdout


def test_a_log_that_starts_mid_month_projects_the_days_before_it_too(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", {nov(d): 10 for d in range(21, 28)})  # $1 a day, Nov 21-27
    fc = forecast(price_log([log], by=["day", "model"]))
    assert (fc.month_to_date, fc.p50) == (D("7"), D("30.00"))
    assert any("20 earlier day(s)" in note for note in fc.notes)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--forecast", "--tier", "gold"], "unknown usage tier `gold`"),
        (["--forecast", "--by", "day"], "--by does not apply"),
        (["--reconcile", "x.json", "--tier", "build"], "add --forecast"),
    ],
)
def test_bad_forecast_options_are_one_line_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    log = write_log(tmp_path / "log.jsonl", {nov(1): 1})
    (tmp_path / "x.json").write_text('{"data": []}')
    ran = run_main("usage", str(log), *[a.replace("x.json", str(tmp_path / "x.json")) for a in args])
    assert ran.returncode == 2 and says in ran.stderr and ran.stderr.count("\n") == 1

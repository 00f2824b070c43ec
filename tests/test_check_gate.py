"""A gate that cannot be fooled: budgets hold on every day of the horizon, and a baseline or a workload that
would make any change pass is bad input (exit 2), never a silent pass.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_script

import costplan
from costplan.errors import InputError
from costplan.gate import make_limits, run_checks

ROOT = Path(__file__).resolve().parent.parent
CHATBOT = ROOT / "examples" / "support-chatbot.yaml"


@pytest.fixture(scope="module")
def chatbot() -> dict:
    return costplan.estimate(CHATBOT, method="heuristic").to_dict()


def test_a_daily_budget_holds_on_the_dearest_day_not_only_the_first(chatbot):
    first = Decimal(chatbot["total"]["cost_per_day_usd"])
    assert Decimal(118) < first < Decimal(120)  # the first day alone would pass a $120 budget
    report = run_checks(chatbot, make_limits(max_daily_usd="120"))
    daily = next(r for r in report.results if r.name == "daily cost")
    # 5 % a month compounded per day: day 30 carries 1.05 ** (29 / 30) of the first day's volume
    expected = first * Decimal(1.05 ** (29 / 30))
    assert not daily.passed and abs(daily.value - expected) < Decimal("0.01")
    assert "2026-12-20" in daily.detail and "day 30 of 30" in daily.detail


def test_a_stream_budget_also_holds_on_every_day(chatbot):
    report = run_checks(chatbot, make_limits(stream_budgets={"chat": "121"}))
    assert not report.passed and "2026-12-20" in report.results[0].detail


def test_an_old_baseline_without_later_days_is_checked_on_its_first_day_and_says_so(chatbot):
    old = copy.deepcopy(chatbot)
    for part in (old["total"], *old["streams"]):
        del part["max_cost_per_day_usd"], part["max_cost_day"]
    report = run_checks(old, make_limits(max_daily_usd="120"))
    assert report.passed and "first day" in report.results[0].detail


def _broken(chatbot: dict, how: str) -> dict:
    doc = copy.deepcopy(chatbot)
    if how == "other workload":
        doc["name"] = "billing-bot"
    elif how == "no streams":
        doc["streams"] = []
    elif how == "negative total":
        doc["total"]["cost_per_day_usd"] = "-500"
        doc["streams"][0]["cost_per_day_usd"] = "-500"
    elif how == "absurd total":
        doc["total"]["cost_per_day_usd"] = "1e300"
        doc["streams"][0]["cost_per_day_usd"] = "1e300"
    elif how == "infinite total":
        doc["total"]["cost_per_day_usd"] = "Infinity"
    elif how == "total is not the sum of streams":
        doc["total"]["cost_per_day_usd"] = "100000"
    return doc


@pytest.mark.parametrize(
    "how",
    [
        "other workload",
        "no streams",
        "negative total",
        "absurd total",
        "infinite total",
        "total is not the sum of streams",
    ],
)
def test_a_baseline_that_would_let_any_change_pass_is_refused(chatbot, how):
    with pytest.raises(InputError):
        run_checks(chatbot, make_limits(max_increase="10%"), _broken(chatbot, how))


def test_a_workload_with_no_requests_at_all_is_nothing_to_gate(tmp_path):
    path = tmp_path / "idle.yaml"
    path.write_text(CHATBOT.read_text().replace("requests_per_day: 20000", "requests_per_day: 0"))
    estimate = costplan.estimate(path, method="heuristic")
    assert any("no requests" in w for w in estimate.warnings)
    with pytest.raises(InputError, match="zero requests"):
        run_checks(estimate.to_dict(), make_limits(max_daily_usd="100"))


def test_cli_baseline_of_another_workload_is_exit_2_one_line(chatbot, tmp_path):
    base = tmp_path / "base.json"
    base.write_text(json.dumps(_broken(chatbot, "other workload")))
    result = run_script("check", str(CHATBOT), "--baseline", str(base), "--max-increase", "10%")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "billing-bot" in result.stderr and "Traceback" not in result.stderr


def test_cli_negative_tools_is_exit_2_not_a_negative_cost(tmp_path):
    path = tmp_path / "neg.yaml"
    path.write_text(CHATBOT.read_text().replace("system_tokens: 3000", "system_tokens: 3000\n    tools: -50000"))
    result = run_script("check", str(path), "--max-daily-usd", "1")
    assert result.returncode == 2 and "tools" in result.stderr and result.stderr.count("\n") == 1


@pytest.fixture(scope="module")
def chatbot_estimate(chatbot: dict) -> costplan.Estimate:
    """The `Estimate` object, as `costplan.estimate` hands it out (rebuilt from its own document: no rerun)."""
    return costplan.Estimate.model_validate(chatbot)


def test_run_checks_takes_the_estimate_object_it_was_handed(chatbot, chatbot_estimate):
    limits = make_limits(max_daily_usd="120", max_increase="10%")
    from_object = run_checks(chatbot_estimate, limits, chatbot_estimate)
    from_dict = run_checks(chatbot, limits, chatbot)
    assert from_object.to_dict() == from_dict.to_dict()
    assert [(r.name, r.passed) for r in from_object.results] == [("daily cost", False), ("increase vs baseline", True)]
    assert from_object.estimate["total"]["cost_per_day_usd"] == chatbot["total"]["cost_per_day_usd"]


def test_an_estimate_objects_headroom_is_compared_exactly(chatbot_estimate):
    # One rate limit at 0.29996 free: rounded to 4 places (0.3000) it would pass a 0.3 minimum.
    first = chatbot_estimate.rate_limits[0].model_copy(update={"headroom": 0.29996})
    tight = chatbot_estimate.model_copy(update={"rate_limits": [first, *chatbot_estimate.rate_limits[1:]]})
    name = f"headroom {first.pool} {first.limit}"
    before = {r.name: r for r in run_checks(chatbot_estimate, make_limits(min_headroom="0.3")).results}
    after = {r.name: r for r in run_checks(tight, make_limits(min_headroom="0.3")).results}
    assert before[name].passed and not after[name].passed and after[name].value == Decimal("0.29996")

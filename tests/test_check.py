"""The gate's checks on hand-made estimate dicts, with expectations worked out by hand in each test."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costplan.errors import InputError
from costplan.gate import (
    Limits,
    check_baseline,
    check_budgets,
    check_headroom,
    check_lifecycle,
    compare_baseline,
    exit_code,
    load_baseline,
    make_limits,
    parse_increase,
    run_checks,
)
from costplan.planning.estimate_doc import parse_estimate
from costplan.render.check import render_check

D = Decimal


def estimate(**over: Any) -> dict[str, Any]:
    """A small estimate in the shape `costplan estimate --format json` prints (money as strings)."""
    doc: dict[str, Any] = {
        "name": "support",
        "as_of": "2026-11-21",
        "days": 30,
        "tier": "build",
        "pricing_version": "2026-11-21",
        "streams": [
            {
                "name": "chat",
                "model": "claude-sonnet-4-6",
                "requests_per_day": 1000,
                "cache_hit_rate": 0.0,
                "cost_per_day_usd": "10.50",
                "cost_horizon_usd": "315.00",
                "tokens_per_day": {"input": 2000000, "output": 300000},
                "lifecycle": {"deprecated": None, "retires": None},
            },
            {
                "name": "summaries",
                "model": "claude-haiku-4-5",
                "requests_per_day": 200,
                "cache_hit_rate": 0.0,
                "cost_per_day_usd": "1.50",
                "cost_horizon_usd": "45.00",
                "tokens_per_day": {"input": 1000000, "output": 100000},
                "lifecycle": {"deprecated": None, "retires": None},
            },
        ],
        "total": {"cost_per_day_usd": "12.00", "cost_horizon_usd": "360.00", "cost_per_month_usd": "365.25"},
        "rate_limits": [
            {
                "pool": "sonnet",
                "limit": "input_tokens_per_minute",
                "peak_demand": 360000,
                "limit_value": 450000,
                "headroom": 0.2,
                "binding": True,
            },
            {
                "pool": "sonnet",
                "limit": "requests_per_minute",
                "peak_demand": 50,
                "limit_value": 1000,
                "headroom": 0.95,
                "binding": False,
            },
        ],
        "lowest_fitting_tier": "build",
        "warnings": [],
    }
    doc.update(over)
    return doc


def with_stream_cost(doc: dict[str, Any], name: str, usd: str) -> dict[str, Any]:
    """A copy of `doc` with one stream's daily cost changed and the total kept the sum of the streams."""
    out = copy.deepcopy(doc)
    for stream in out["streams"]:
        if stream["name"] == name:
            stream["cost_per_day_usd"] = usd
    out["total"]["cost_per_day_usd"] = str(sum(D(s["cost_per_day_usd"]) for s in out["streams"]))
    return out


# ---------------------------------------------------------------------------------------------------- budgets


def test_daily_budget_fails_when_the_total_is_over_and_says_by_how_much() -> None:
    [result] = check_budgets(parse_estimate(estimate()), Limits(max_daily_usd=D("10")))
    assert (result.name, result.value, result.limit, result.passed) == ("daily cost", D("12.00"), D("10"), False)
    assert result.excess == D("0.2")  # (12 - 10) / 10
    assert "by $2.00" in result.detail


def test_daily_budget_equal_to_the_cost_passes() -> None:
    [result] = check_budgets(parse_estimate(estimate()), Limits(max_daily_usd=D("12")))
    assert result.passed and result.excess == 0


def test_monthly_budget_reads_the_monthly_total() -> None:
    [result] = check_budgets(parse_estimate(estimate()), Limits(max_monthly_usd=D("400")))
    assert result.passed and result.value == D("365.25")
    assert result.excess == (D("365.25") - 400) / 400


def test_monthly_budget_falls_back_to_30_days_of_the_daily_cost_for_an_older_estimate() -> None:
    doc = estimate()
    del doc["total"]["cost_per_month_usd"]
    [result] = check_budgets(parse_estimate(doc), Limits(max_monthly_usd=D("350")))
    assert result.value == D("360.00") and not result.passed
    assert "30 x the daily cost" in result.detail


def test_stream_budget_compares_that_stream_only() -> None:
    results = check_budgets(parse_estimate(estimate()), Limits(stream_daily_usd={"chat": D("10"), "summaries": D("2")}))
    by_name = {r.name: r for r in results}
    assert by_name["stream chat daily cost"].passed is False
    assert by_name["stream chat daily cost"].excess == D("0.05")  # 0.50 over 10
    assert by_name["stream summaries daily cost"].passed is True


def test_stream_budget_for_a_stream_the_workload_lacks_is_bad_input() -> None:
    with pytest.raises(InputError, match="`chatt`.*no such stream") as info:
        check_budgets(parse_estimate(estimate()), Limits(stream_daily_usd={"chatt": D("1")}))
    assert "`chat`" in str(info.value)


def test_zero_budget_fails_any_spend_and_ranks_it_worst() -> None:
    [result] = check_budgets(parse_estimate(estimate()), Limits(max_daily_usd=D("0")))
    assert not result.passed and result.excess == D("Infinity")


# ---------------------------------------------------------------------------------------------------- headroom


def test_headroom_checks_every_rate_limit_of_the_estimate() -> None:
    results = check_headroom(parse_estimate(estimate()), D("0.3"))
    assert [(r.name, r.passed) for r in results] == [
        ("headroom sonnet input_tokens_per_minute", False),
        ("headroom sonnet requests_per_minute", True),
    ]
    itpm = results[0]
    assert itpm.value == D("0.2") and itpm.limit == D("0.3")
    assert itpm.excess == (D("0.3") - D("0.2")) / D("0.3")
    assert "binding" in itpm.detail and "360,000 of 450,000" in itpm.detail


def test_headroom_floats_are_compared_as_their_decimal_text() -> None:
    # 0.3 as a float is 0.2999999999999999888...; read through its repr it is exactly the limit, so it passes.
    doc = estimate(rate_limits=[{"pool": "p", "limit": "rpm", "peak_demand": 7, "limit_value": 10, "headroom": 0.3}])
    [result] = check_headroom(parse_estimate(doc), D("0.3"))
    assert result.passed


def test_negative_headroom_is_worse_than_a_small_one() -> None:
    doc = estimate(
        rate_limits=[
            {"pool": "p", "limit": "itpm", "peak_demand": 15, "limit_value": 10, "headroom": -0.5},
            {"pool": "p", "limit": "rpm", "peak_demand": 8, "limit_value": 10, "headroom": 0.2},
        ]
    )
    report = run_checks(doc, Limits(min_headroom=D("0.3")))
    assert [r.name for r in report.results] == ["headroom p itpm", "headroom p rpm"]
    assert report.results[0].excess == D("0.8") / D("0.3")


def test_the_tiers_monthly_spend_cap_is_held_to_the_same_headroom() -> None:
    doc = estimate(rate_limits=[], spend_cap={"tier": "build", "cap_usd": "1000", "cost_per_month_usd": "800.00"})
    [result] = check_headroom(parse_estimate(doc), D("0.3"))
    assert result.name == "headroom spend cap" and result.value == D("0.2")  # 1 - 800 / 1000
    assert not result.passed and "$800.00/month of the $1,000.00 monthly spend cap of tier build" in result.detail
    no_cap = estimate(rate_limits=[], spend_cap={"tier": "scale", "cap_usd": None, "cost_per_month_usd": "800"})
    assert check_headroom(parse_estimate(no_cap), D("0.3")) == []


def test_a_limit_without_a_value_passes() -> None:
    doc = estimate(rate_limits=[{"pool": "batch", "limit": "queue", "peak_demand": 5, "limit_value": None}])
    [result] = check_headroom(parse_estimate(doc), D("0.5"))
    assert result.passed and result.value is None


# ---------------------------------------------------------------------------------------------------- lifecycle


def _with_lifecycle(deprecated: str | None, retires: str | None) -> dict[str, Any]:
    doc = estimate()
    doc["streams"][1]["lifecycle"] = {"deprecated": deprecated, "retires": retires}
    return doc


def test_model_retiring_inside_the_horizon_fails() -> None:
    # as_of 2026-11-21 + 30 days: the horizon runs through 2026-12-20; retiring 2026-12-11 loses 10 days.
    results = check_lifecycle(parse_estimate(_with_lifecycle("2026-12-01", "2026-12-11")))
    failed = [r for r in results if not r.passed]
    assert [r.name for r in failed] == ["model claude-haiku-4-5 lifecycle"]
    assert failed[0].excess == D(10) / D(30)
    assert "used by summaries" in failed[0].detail


def test_model_retiring_the_day_after_the_horizon_passes() -> None:
    results = check_lifecycle(parse_estimate(_with_lifecycle("2026-12-15", "2026-12-21")))
    assert all(r.passed for r in results)
    assert "deprecated from 2026-12-15" in results[1].detail


def test_model_already_deprecated_fails_even_if_it_retires_later() -> None:
    results = check_lifecycle(parse_estimate(_with_lifecycle("2026-09-30", "2027-06-01")))
    assert [r.passed for r in results] == [True, False]
    assert "deprecated since 2026-09-30" in results[1].detail


def test_streams_sharing_a_model_give_one_lifecycle_result() -> None:
    doc = estimate()
    doc["streams"][1]["model"] = "claude-sonnet-4-6"
    [result] = check_lifecycle(parse_estimate(doc))
    assert result.passed and "used by chat, summaries" in result.detail


# ---------------------------------------------------------------------------------------------------- baseline


def test_baseline_reports_each_stream_and_fails_on_total_growth_naming_who_grew() -> None:
    base = estimate()
    now = with_stream_cost(base, "chat", "21.00")  # chat doubles: total 12.00 -> 22.50, +87.5%
    diff = compare_baseline(parse_estimate(now), parse_estimate(base))
    assert diff.delta_usd == D("10.50") and diff.delta_pct == D("87.5")
    result = check_baseline(diff, D("10"))
    assert not result.passed
    assert result.value == D("87.5") and result.limit == D("10")
    assert result.excess == (D("87.5") - 10) / 10
    assert "`chat` +$10.50/day (+100.00%)" in result.detail
    assert "summaries" not in result.detail  # unchanged streams are not named


def test_baseline_growth_within_the_allowance_passes() -> None:
    base = estimate()
    now = with_stream_cost(base, "summaries", "2.10")  # total 12.00 -> 12.60, +5%
    result = check_baseline(compare_baseline(parse_estimate(now), parse_estimate(base)), D("10"))
    assert result.passed and result.value == D("5")


def test_new_and_removed_streams_are_reported() -> None:
    base = estimate()
    now = copy.deepcopy(base)
    now["streams"][1] = {**now["streams"][1], "name": "search", "cost_per_day_usd": "4.00"}
    now["total"]["cost_per_day_usd"] = "14.50"
    diff = compare_baseline(parse_estimate(now), parse_estimate(base))
    assert [(s.name, s.status, s.delta_usd) for s in diff.streams] == [
        ("chat", "same", D(0)),
        ("search", "new", D("4.00")),
        ("summaries", "removed", D("-1.50")),
    ]
    result = check_baseline(diff, D("10"))  # +2.50 on 12.00 = +20.8333%
    assert not result.passed
    assert "new stream `search` +$4.00/day" in result.detail
    assert "removed stream `summaries` -$1.50/day" in result.detail


def test_a_model_swap_is_named_in_the_detail() -> None:
    base = estimate()
    now = with_stream_cost(base, "summaries", "6.00")
    now["streams"][1]["model"] = "claude-sonnet-4-6"
    result = check_baseline(compare_baseline(parse_estimate(now), parse_estimate(base)), D("10"))
    assert "model claude-haiku-4-5 -> claude-sonnet-4-6" in result.detail


def test_zero_percent_allows_no_growth_but_a_cheaper_plan_passes() -> None:
    base = estimate()
    cheaper = with_stream_cost(base, "chat", "9.00")
    assert check_baseline(compare_baseline(parse_estimate(cheaper), parse_estimate(base)), D(0)).passed
    dearer = with_stream_cost(base, "chat", "10.51")
    assert not check_baseline(compare_baseline(parse_estimate(dearer), parse_estimate(base)), D(0)).passed


def test_growth_from_a_zero_baseline_fails() -> None:
    idle = {"name": "chat", "model": "claude-sonnet-4-6", "requests_per_day": 0, "cost_per_day_usd": "0"}
    base = estimate(streams=[idle], total={"cost_per_day_usd": "0"})
    result = check_baseline(compare_baseline(parse_estimate(estimate()), parse_estimate(base)), D("10"))
    assert not result.passed and result.excess == D("Infinity")


def test_different_price_tables_are_noted() -> None:
    base = estimate(pricing_version="2026-08-01")
    diff = compare_baseline(parse_estimate(estimate()), parse_estimate(base))
    assert any("price tables differ" in n for n in diff.notes)


# ---------------------------------------------------------------------------------------------------- limits


@pytest.mark.parametrize(("text", "pct"), [("10%", D(10)), ("2.5 %", D("2.5")), ("0%", D(0)), ("+15%", D(15))])
def test_max_increase_parses_percentages(text: str, pct: Decimal) -> None:
    assert parse_increase(text) == pct


@pytest.mark.parametrize(
    ("text", "message"),
    [("ten", "not a percentage"), ("10", "no % sign"), ("-5%", "negative"), ("", "not a percentage")],
)
def test_max_increase_refuses_what_is_not_a_percentage(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        parse_increase(text, field="--max-increase")
    assert "--max-increase" in str(info.value) and info.value.fix


def test_flags_override_budgets_field_by_field() -> None:
    budgets = {
        "max_daily_usd": D("100"),
        "max_monthly_usd": D("2000"),
        "min_headroom": 0.2,
        "max_increase": "10%",
        "fail_on_deprecated": True,
        "streams": {"chat": {"max_daily_usd": D("50")}, "summaries": {"max_daily_usd": D("5")}},
    }
    limits = make_limits(budgets, max_daily_usd="80", max_increase="5%", fail_on_deprecated=False)
    assert limits == Limits(
        max_daily_usd=D("80"),
        max_monthly_usd=D("2000"),
        min_headroom=D("0.2"),
        max_increase_pct=D("5"),
        fail_on_deprecated=False,
        stream_daily_usd={"chat": D("50"), "summaries": D("5")},
    )


def test_stream_budget_flags_override_the_same_stream_and_keep_the_others() -> None:
    budgets = {"streams": {"chat": {"max_daily_usd": "50"}, "summaries": {"max_daily_usd": "5"}}}
    limits = make_limits(budgets, stream_budgets={"chat": "70"})
    assert limits.stream_daily_usd == {"chat": D("70"), "summaries": D("5")}


def test_budgets_may_be_an_object_with_attributes() -> None:
    class StreamBudget:
        max_daily_usd = D("3")

    class Budgets:
        max_daily_usd = D("9")
        max_monthly_usd = None
        min_headroom = None
        max_increase = None
        fail_on_deprecated = False
        streams = {"chat": StreamBudget()}

    limits = make_limits(Budgets())
    assert limits.max_daily_usd == D("9") and limits.stream_daily_usd == {"chat": D("3")}


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"max_daily_usd": "-5"}, "--max-daily-usd"),
        ({"max_monthly_usd": "lots"}, "--max-monthly-usd"),
        ({"min_headroom": "1.5"}, "--min-headroom"),
        ({"stream_budgets": {"chat": "-1"}}, "--stream-budget"),
    ],
)
def test_bad_flags_are_input_errors_naming_the_flag(kwargs: dict[str, Any], where: str) -> None:
    with pytest.raises(InputError) as info:
        make_limits(None, **kwargs, wording="cli")
    assert str(info.value).startswith(where) and info.value.fix


def test_a_bad_budget_in_the_workload_names_the_file_and_field() -> None:
    with pytest.raises(InputError, match=r"^w\.yaml budgets\.max_daily_usd: .*-1") as info:
        make_limits({"max_daily_usd": D("-1")}, budgets_source="w.yaml")
    assert "400" in (info.value.fix or "")
    with pytest.raises(InputError, match=r"^w\.yaml budgets\.max_increase: `ten`"):
        make_limits({"max_increase": "ten"}, budgets_source="w.yaml")


def test_a_flag_fixes_a_bad_budget_it_overrides() -> None:
    assert make_limits({"max_daily_usd": D("-1")}, max_daily_usd="4").max_daily_usd == D("4")


# ---------------------------------------------------------------------------------------------------- the gate


def test_report_lists_failures_first_worst_first_then_passes_closest_first() -> None:
    base = estimate()
    now = with_stream_cost(base, "chat", "21.00")  # +87.5%: excess 7.75 over a 10% allowance
    limits = Limits(max_daily_usd=D("20"), min_headroom=D("0.3"), max_increase_pct=D("10"), max_monthly_usd=D("400"))
    report = run_checks(now, limits, base)
    assert [(r.name, r.passed) for r in report.results] == [
        ("increase vs baseline", False),  # 7.75
        ("headroom sonnet input_tokens_per_minute", False),  # 0.333
        ("daily cost", False),  # (22.5 - 20) / 20 = 0.125
        ("monthly cost", True),  # -0.087
        ("headroom sonnet requests_per_minute", True),  # -2.17
    ]
    assert exit_code(report) == 1


def test_all_passing_exits_zero() -> None:
    report = run_checks(estimate(), Limits(max_daily_usd=D("100")))
    assert report.passed and exit_code(report) == 0


def test_no_checks_configured_is_bad_input_with_a_hint() -> None:
    with pytest.raises(InputError, match="no checks configured") as info:
        run_checks(estimate(), Limits(), wording="cli")
    assert "--max-daily-usd" in (info.value.fix or "")
    with pytest.raises(InputError, match="no checks configured") as info:
        run_checks(estimate(), Limits(), estimate(), wording="cli")
    assert "--max-increase" in (info.value.fix or "")


def test_max_increase_without_a_baseline_is_noted_when_other_checks_run() -> None:
    report = run_checks(estimate(), Limits(max_daily_usd=D("100"), max_increase_pct=D("10")), wording="cli")
    assert [r.name for r in report.results] == ["daily cost"]
    assert any("no --baseline" in n for n in report.notes)


def test_max_increase_alone_without_a_baseline_is_bad_input() -> None:
    with pytest.raises(InputError, match="no checks ran"):
        run_checks(estimate(), Limits(max_increase_pct=D("10")))


def test_json_keeps_money_as_strings_and_carries_the_estimate() -> None:
    base = estimate()
    now = with_stream_cost(base, "chat", "21.00")
    data = json.loads(
        render_check(run_checks(now, Limits(max_daily_usd=D("20"), max_increase_pct=D("10")), base), "json")
    )
    assert data["passed"] is False
    assert {c["name"]: (c["value"], c["limit"]) for c in data["checks"]} == {
        "increase vs baseline": ("87.5000", "10"),
        "daily cost": ("22.50", "20"),
    }
    assert data["baseline"]["change_usd_per_day"] == "10.50"
    assert data["baseline"]["streams"][0]["change_usd_per_day"] == "10.50"
    assert data["estimate"]["total"]["cost_per_day_usd"] == "22.50"


def test_table_and_markdown_show_value_limit_and_verdict() -> None:
    base = estimate()
    now = with_stream_cost(base, "chat", "21.00")
    report = run_checks(now, Limits(max_daily_usd=D("20"), max_increase_pct=D("10")), base)
    text = render_check(report, "table")
    assert text.splitlines()[0].endswith("FAILED: 2 of 2 checks")
    assert "$22.50/day" in text and "$20.00/day" in text and "+$10.50" in text
    md = render_check(report, "markdown")
    assert md.startswith("### :x: costplan check support")
    assert "| :x: **fail**" in md and "| chat " in md


# ---------------------------------------------------------------------------------------------------- files


def test_load_baseline_reads_a_saved_estimate(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(estimate()))
    doc, raw = load_baseline(path)
    assert doc.total.cost_per_day_usd == D("12.00") and raw["name"] == "support"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "empty"),
        ('{"streams": [', "line 1 column 14: not valid JSON"),
        ("[1, 2]", "not a costplan estimate \\(expected a JSON object"),
        ('{"passed": true, "checks": []}', "a `costplan check` report, not an estimate"),
        ('{"name": "x", "total": {}}', "field `streams` missing"),
        (
            '{"streams": [{"name": "a"}], "total": {"cost_per_day_usd": "1"}}',
            "`streams\\[0\\].cost_per_day_usd` missing",
        ),
        ('{"streams": [], "total": {"cost_per_day_usd": "lots"}}', "`total.cost_per_day_usd`"),
    ],
)
def test_a_baseline_that_is_not_an_estimate_is_bad_input(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        load_baseline(path)
    assert str(path) in str(info.value) and info.value.fix
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------------- examples/ci

CI = Path(__file__).parents[1] / "examples" / "ci"


def _flags_used(command: str, text: str) -> set[str]:
    """The --flags passed to `costplan <command>` anywhere in `text` (shell lines, YAML entries)."""
    flags: set[str] = set()
    for line in text.replace("\\\n", " ").splitlines():
        if f"costplan {command}" in line:
            flags |= set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line.split(f"costplan {command}", 1)[1]))
    return flags


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")}


def test_the_ci_workflow_saves_a_baseline_on_main_and_checks_pull_requests_against_it() -> None:
    import yaml

    from costplan.cli.check import check

    text = (CI / "costplan.yml").read_text(encoding="utf-8")
    flow = yaml.safe_load(text)
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    baseline, pr = flow["jobs"]["baseline"], flow["jobs"]["check"]
    assert "push" in baseline["if"] and "pull_request" in pr["if"]
    upload = next(s for s in baseline["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    saved = next(s["run"] for s in baseline["steps"] if "costplan estimate" in s.get("run", ""))
    assert "--format json" in saved and upload["with"]["path"] in saved
    download = next(s["run"] for s in pr["steps"] if "gh run download" in s.get("run", ""))
    assert upload["with"]["name"] in download
    gate = next(s["run"] for s in pr["steps"] if "costplan check" in s.get("run", ""))
    assert "--baseline" in gate and "--max-increase" in gate
    # Every flag the check step passes (directly or through its bash array) is a real option of `costplan check`.
    used = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", gate))
    assert {"--baseline", "--max-increase", "--format", "--method"} <= used <= _options(check)
    assert _flags_used("check", text) <= _options(check)


def test_the_pre_commit_hook_runs_costplan_check_with_real_options() -> None:
    import yaml

    from costplan.cli.check import check

    [hook] = yaml.safe_load((CI.parent.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "costplan-check" and hook["entry"] == "costplan check" and hook["pass_filenames"] is False
    assert {a for a in hook["args"] if a.startswith("--")} <= _options(check)
    config = yaml.safe_load((CI / "pre-commit-config.example.yaml").read_text(encoding="utf-8"))
    [local] = [h for repo in config["repos"] for h in repo["hooks"]]
    assert local["id"] == hook["id"] and local["entry"].startswith("costplan check ")
    assert _flags_used("check", local["entry"]) <= _options(check)


def test_the_ci_example_workload_loads_with_its_budgets() -> None:
    from costplan.planning.workload import load_workload

    workload = load_workload(CI / "costplan.yaml")
    limits = make_limits(workload.budgets)
    assert limits.configured and limits.max_increase_pct == D(10) and limits.stream_daily_usd == {"chat": D(20)}


# ------------------------------------------------------------------------------------ the command, in process

WORKLOAD_YAML = """\
name: support
as_of: 2026-11-21
days: 30
streams:
  - {name: chat, model: claude-sonnet-4-6, requests_per_day: 1000, input_tokens: 2000, output_tokens: 300}
  - {name: summaries, model: claude-haiku-4-5, requests_per_day: 200, input_tokens: 5000, output_tokens: 500}
budgets:
  max_daily_usd: 20
  streams: {chat: {max_daily_usd: 11}}
"""


class _FakeEstimate:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        return self.data


@pytest.fixture
def fake_estimate(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the simulator with a canned estimate, recording the options the command passed."""
    import costplan

    calls: list[dict[str, Any]] = []

    def fake(workload: Any, **options: Any) -> _FakeEstimate:
        calls.append({"workload": workload, **options})
        return _FakeEstimate(estimate())

    monkeypatch.setattr(costplan, "estimate", fake, raising=False)
    return calls


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    from click.testing import CliRunner

    from costplan.cli.check import check

    return CliRunner().invoke(check, args, env={"GITHUB_STEP_SUMMARY": "", **(env or {})})


def test_command_uses_workload_budgets_and_passes_estimate_options(
    tmp_path: Path, fake_estimate: list[dict[str, Any]]
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD_YAML)
    result = _invoke([str(path), "--tier", "scale", "--days", "7", "--method", "heuristic", "--strict"])
    assert result.exit_code == 0, result.output  # 12.00 <= 20 and chat 10.50 <= 11
    assert "passed: 2 of 2 checks" in result.output
    [call] = fake_estimate
    assert call["tier"] == "scale" and call["days"] == 7 and call["method"] == "heuristic" and call["strict"] is True
    assert call["workload"].name == "support"  # the loaded workload, not re-read by the estimate


def test_command_flag_overrides_budget_and_fails_with_exit_1(tmp_path: Path, fake_estimate: list[dict]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD_YAML)
    result = _invoke([str(path), "--stream-budget", "chat=$10", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [(c["name"], c["passed"]) for c in data["checks"]] == [
        ("stream chat daily cost", False),
        ("daily cost", True),
    ]


def test_command_appends_markdown_to_the_step_summary(tmp_path: Path, fake_estimate: list[dict]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD_YAML)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier\n")
    for _ in range(2):
        assert _invoke([str(path)], env={"GITHUB_STEP_SUMMARY": str(summary)}).exit_code == 0
    text = summary.read_text()
    assert text.startswith("earlier\n### :white_check_mark: costplan check support")
    assert text.count("costplan check support") == 2


def test_command_reports_bad_input_in_the_step_summary_too(tmp_path: Path, fake_estimate: list[dict]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD_YAML)
    summary = tmp_path / "summary.md"
    result = _invoke([str(path), "--max-daily-usd", "-1"], env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert isinstance(result.exception, InputError)
    assert "bad input" in summary.read_text() and "--max-daily-usd" in summary.read_text()
    assert fake_estimate == []  # refused before any counting


# ------------------------------------------------------------------------- one boundary, words of the caller


def test_pass_or_fail_uses_the_exact_headroom_not_one_rounded_to_four_places() -> None:
    # 0.29996 rounded to 4 places is 0.3000, which would pass a 30 % minimum; the exact value misses it.
    doc = estimate(
        rate_limits=[{"pool": "p", "limit": "rpm", "peak_demand": 7, "limit_value": 10, "headroom": 0.29996}]
    )
    [result] = check_headroom(parse_estimate(doc), D("0.3"))
    assert not result.passed and result.value == D("0.29996")
    assert result.to_dict()["value"] == "0.29996"
    just_enough = estimate(rate_limits=[{"pool": "p", "limit": "rpm", "limit_value": 10, "headroom": 0.30004}])
    assert check_headroom(parse_estimate(just_enough), D("0.3"))[0].passed


def test_the_library_names_its_parameters_not_flags() -> None:
    with pytest.raises(InputError, match="no checks configured") as info:
        run_checks(estimate(), Limits())
    assert "max_daily_usd" in (info.value.fix or "") and "--" not in str(info.value)
    with pytest.raises(InputError) as info:
        run_checks(estimate(), Limits(), estimate())
    assert "max_increase='10%'" in (info.value.fix or "") and "--" not in str(info.value)
    with pytest.raises(InputError, match="no checks ran") as info:
        run_checks(estimate(), Limits(max_increase_pct=D("10")))
    assert "--" not in str(info.value)
    report = run_checks(estimate(), Limits(max_daily_usd=D("100"), max_increase_pct=D("10")))
    assert report.notes == ("max_increase is set but no baseline was given: growth was not checked",)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"max_daily_usd": "-5"}, "max_daily_usd: "),
        ({"min_headroom": "1.5"}, "min_headroom: "),
        ({"max_increase": "ten"}, "max_increase: `ten`"),
        ({"stream_budgets": {"chat": "-1"}}, "stream_budgets['chat']: "),
    ],
)
def test_bad_keywords_name_the_keyword(kwargs: dict[str, Any], where: str) -> None:
    with pytest.raises(InputError) as info:
        make_limits(None, **kwargs)
    assert str(info.value).startswith(where) and "--" not in str(info.value)


def test_a_flag_and_a_budget_are_refused_in_the_same_words() -> None:
    """One boundary model validates both: only the name of where the value was written differs."""
    with pytest.raises(InputError) as flag:
        make_limits(None, min_headroom="1.5", wording="cli")
    with pytest.raises(InputError) as budget:
        make_limits({"min_headroom": "1.5"}, budgets_source="w.yaml")
    assert str(flag.value) == "--min-headroom: Input should be less than or equal to 1 (got '1.5') " + (
        "(give a fraction between 0 and 1, e.g. 0.3 for 30% headroom)"
    )
    assert str(budget.value) == str(flag.value).replace("--min-headroom", "w.yaml budgets.min_headroom")


def test_a_stream_budget_names_the_stream_it_was_written_for() -> None:
    with pytest.raises(InputError, match=r"^w\.yaml budgets\.streams\.chat\.max_daily_usd: "):
        make_limits({"streams": {"chat": {"max_daily_usd": "-1"}}}, budgets_source="w.yaml")
    with pytest.raises(InputError, match=r"^--stream-budget chat: .*'-1'") as info:
        make_limits(None, stream_budgets={"chat": "-1"}, wording="cli")
    assert "--stream-budget chat=250" in (info.value.fix or "")


def test_a_misspelt_budget_is_refused_as_the_workload_file_refuses_it() -> None:
    # Before: a mapping's unknown key was silently ignored, though the same key in the file is an error.
    with pytest.raises(InputError, match=r"^w\.yaml budgets\.max_daily: Extra inputs are not permitted"):
        make_limits({"max_daily": 100}, budgets_source="w.yaml")


def test_budgets_past_the_largest_amount_a_file_accepts_are_refused_from_a_flag_too() -> None:
    with pytest.raises(InputError, match=r"^--max-daily-usd: .*less than or equal to 1000000000000"):
        make_limits(None, max_daily_usd="1e13", wording="cli")


def test_max_increase_may_be_written_with_a_plus_and_spaces() -> None:
    assert make_limits(None, max_increase=" +12.5 % ").max_increase_pct == D("12.5")


def test_a_keyword_max_increase_without_a_percent_sign_is_ambiguous() -> None:
    with pytest.raises(InputError, match=r"^max_increase: `0.1` has no % sign"):
        make_limits(None, max_increase=0.1)  # type: ignore[arg-type]


def test_a_parsed_workloads_budgets_merge_with_keywords(tmp_path: Path) -> None:
    from costplan.planning.workload import load_workload

    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD_YAML + "  min_headroom: 0.3\n  max_increase: 10%\n")
    limits = make_limits(load_workload(path).budgets, max_daily_usd="25", stream_budgets={"summaries": "2"})
    assert limits == Limits(
        max_daily_usd=D(25),
        min_headroom=D("0.3"),
        max_increase_pct=D(10),
        stream_daily_usd={"chat": D(11), "summaries": D(2)},
    )


def test_run_checks_takes_a_baseline_as_a_dict_or_as_the_document_load_baseline_read() -> None:
    base = estimate()
    now = with_stream_cost(base, "chat", "21.00")
    limits = Limits(max_increase_pct=D("10"))
    as_dict, as_read = (run_checks(now, limits, b).to_dict() for b in (base, parse_estimate(base)))
    assert as_dict == as_read and as_dict["checks"][0]["value"] == "87.5000"  # (22.50 - 12.00) / 12.00


def test_command_words_a_missing_baseline_note_in_flags(tmp_path: Path, fake_estimate: list[dict]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD_YAML)
    result = _invoke([str(path), "--max-increase", "10%", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["notes"] == [
        "--max-increase is set but no --baseline was given: growth was not checked"
    ]


def test_the_title_names_the_usage_tier_as_the_estimate_does() -> None:
    text = render_check(run_checks(estimate(), Limits(max_daily_usd=D("100"))), "table")
    assert (
        text.splitlines()[0]
        == "costplan check support (as of 2026-11-21, 30 days, usage tier build): passed: 1 of 1 checks"
    )

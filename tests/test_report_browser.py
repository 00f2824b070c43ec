"""The reports as a person sees them: opened in real headless Chromium (Debian's `chromium`) with the network
off, every chart drawn, nothing written to the console, nothing requested but the file itself, and a
screenshot taken.

A browser start and eight pages cost about 13 s of wall time and a worker's share of the CPU, which the suite's
minute on two cores cannot hold: like the Spark test, it runs in a step of its own, `COSTPLAN_BROWSER=1`, which
`.ci/run` runs after installing Debian's chromium. With `COSTPLAN_BROWSER=1` a missing browser is a failure,
not a skip: that step must test something.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from report_chromium import Chromium, PageResult, available

import costplan
import costplan.report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
PNG = b"\x89PNG\r\n\x1a\n"


if os.environ.get("COSTPLAN_BROWSER") != "1":
    pytest.skip("~13 s of a browser: .ci/run runs it in its own step with COSTPLAN_BROWSER=1", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    if not available():
        pytest.fail("COSTPLAN_BROWSER=1 but no chromium: apt-get install -y chromium (.ci/run installs it)")
    with Chromium() as opened:
        yield opened


def _open(browser: Chromium, page: str, tmp_path: Path, name: str) -> PageResult:
    path = tmp_path / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    keep = os.environ.get("COSTPLAN_SCREENSHOTS")  # a folder to keep the screenshots in, for a look
    shot = Path(keep) / f"{name}.png" if keep else tmp_path / f"{name}.png"
    return browser.open(path, screenshot=shot)  # the first screen: the figures, warnings and first charts


def _assert_drawn(result: PageResult, page: str, tmp_path: Path, name: str) -> None:
    titles = [json.loads(o)["title"]["text"] for o in re.findall(r'id="chart-\d+-option">(.*?)</script>', page)]
    assert result.expected == len(titles) > 0
    assert result.rendered == result.expected, f"{result.rendered} of {result.expected} charts drew"
    assert result.errors == []
    assert result.requests == [(tmp_path / f"{name}.html").resolve().as_uri()]  # itself, and nothing else
    for chart, title in zip(result.charts, titles):
        assert chart["shapes"] >= 5, f"{title}: an empty chart"
        assert title in chart["text"], f"{title}: no title drawn"
        assert chart["height"] >= 200 and chart["table"]
    assert result.screenshot is not None and result.screenshot.read_bytes().startswith(PNG)


@pytest.mark.parametrize("workload", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_chart_of_an_example_estimate_draws_offline(browser, tmp_path, workload):
    estimate = costplan.estimate(workload, samples=30, method="heuristic")
    page = costplan.report.html(estimate, workload=workload)
    result = _open(browser, page, tmp_path, f"report-{workload.stem}")
    _assert_drawn(result, page, tmp_path, f"report-{workload.stem}")
    axes = " | ".join(c["text"] for c in result.charts)
    for unit in ("requests per minute", "USD per day", "UTC hour", "day (UTC)"):
        assert unit in axes  # axis names with their units are drawn, not only declared


def test_a_usage_report_with_its_plan_draws_offline(browser, tmp_path):
    records = [
        {"timestamp": f"2026-11-{d}T0{h}:00:00Z", "model": "claude-sonnet-4-6",
         "usage": {"input_tokens": 900 + 10 * h, "output_tokens": 300, "cache_read_input_tokens": 3000}}
        for d in range(21, 28) for h in range(6)
    ]  # fmt: skip
    report = costplan.price_records(records, by=["day", "model"])
    chatbot = ROOT / "examples" / "support-chatbot.yaml"
    page = costplan.report.html(report, plan=costplan.estimate(chatbot, as_of=report.first_day))
    result = _open(browser, page, tmp_path, "usage")
    _assert_drawn(result, page, tmp_path, "usage")


def test_a_failed_check_report_draws_offline(browser, tmp_path):
    chatbot = ROOT / "examples" / "support-chatbot.yaml"
    report = costplan.run_checks(costplan.estimate(chatbot), costplan.make_limits(max_daily_usd="1"))
    page = costplan.report.html(report, workload=chatbot)
    result = _open(browser, page, tmp_path, "check")
    _assert_drawn(result, page, tmp_path, "check")

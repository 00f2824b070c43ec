"""The HTML report as a file: self-contained and small, every chart titled with named axes and a data table,
exact figures in its tables, a user's text escaped, and `--html` on estimate, check and usage.

Whether the charts really draw is `test_report_browser.py`'s job (real Chromium); these tests read the file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_main

import costplan
import costplan.report
from costplan.errors import InputError
from costplan.planning.workload import parse_workload
from costplan.report.regroup import with_day, without_day

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CHATBOT = ROOT / "examples" / "support-chatbot.yaml"
# The only URLs in a report: XML namespaces and the licence line inside the vendored ECharts build. None is
# fetched (a namespace is a name); the browser test checks that the page requests nothing.
NAMESPACES = {
    "http://www.apache.org/licenses/LICENSE-2.0",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/XML/1998/namespace",
    "https://github.com/ecomfe/zrender/blob/master/LICENSE",
}
HEAD = "name: t\ntier: build\nas_of: 2026-11-21\ndays: 3\nstreams:\n"
# 14,400 requests of 100 input and 50 output tokens on Sonnet 4.6 ($3 / $15 per MTok): 4.32 + 10.80 a day
SIMPLE = "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 14400, input_tokens: 100, output_tokens: 50}\n"


def options(page: str) -> list[dict]:
    """Every chart's ECharts option, as the page carries it."""
    blocks = re.findall(r'<script type="application/json" id="chart-\d+-option">(.*?)</script>', page, re.S)
    return [json.loads(block) for block in blocks]


@pytest.fixture(scope="module")
def platform_page() -> str:
    estimate = costplan.estimate(ROOT / "examples" / "support-platform.yaml", samples=50, method="heuristic")
    return costplan.report.html(estimate, workload=ROOT / "examples" / "support-platform.yaml")


def test_a_report_fetches_nothing_and_names_no_url_but_namespaces(platform_page):
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", platform_page, flags=re.S)  # the page less its scripts
    assert not re.search(r"<(link|iframe|img|object|embed|base)\b", markup, re.I)
    assert not re.search(r"""\bsrc\s*=""", markup)  # no script or image from anywhere
    tags = re.findall(r"<script\b[^>]*>", platform_page)
    inline = [t for t in tags if t == "<script>"]  # the inlined library and our starter, nothing else runs
    assert len(inline) == 2 and all('type="application/json"' in t for t in tags if t != "<script>")
    assert set(re.findall(r'href="([^"]*)"', platform_page)) <= {
        f"#{a}" for a in re.findall(r'id="([^"]+)"', platform_page)
    }
    assert set(re.findall(r"https?://[^\s\"'<>)]+", platform_page)) <= NAMESPACES
    assert "import(" not in platform_page.split("<script>")[-1]  # our own script loads nothing either


def test_every_chart_has_a_title_named_axes_and_a_data_table(platform_page):
    charts = options(platform_page)
    assert len(charts) == int(re.search(r'data-charts="(\d+)"', platform_page).group(1)) >= 10
    for option in charts:
        assert option["title"]["text"]
        for axis in (option["xAxis"], option["yAxis"]):
            if axis.get("type") != "category":  # a value axis says what it counts, with its unit
                assert re.search(r"(per|USD|%|tokens|requests)", axis["name"]), axis["name"]
        assert option["animation"] is False
    assert platform_page.count("<details><summary>Data table:") == len(charts)
    assert platform_page.count('role="img"') == len(charts)


def test_the_page_has_the_verdict_the_warnings_and_the_inputs(platform_page):
    workload = (ROOT / "examples" / "support-platform.yaml").read_text()
    assert "lowest usage tier that fits" in platform_page and "scale" in platform_page
    assert "monthly spend cap of usage tier build" in platform_page  # its warning
    first_line = workload.splitlines()[0]
    assert first_line.replace("'", "&#x27;").replace('"', "&quot;") in platform_page
    for section in ("Rate limits: sonnet-4", "Stream: chat", "Monte Carlo of the first day", "Inputs"):
        assert section in platform_page


@pytest.mark.filterwarnings("ignore::costplan.errors.StaleTableWarning")  # two years ahead of the table
def test_a_small_horizon_is_small_and_a_long_busy_one_stays_under_5_mb():
    small = costplan.report.html(costplan.estimate(parse_workload(HEAD + SIMPLE)))
    assert len(small.encode()) < 900_000  # the library is 715 KB of it
    streams = "".join(SIMPLE.replace("name: s", f"name: s{i}") for i in range(12))
    big = costplan.estimate(parse_workload(HEAD.replace("days: 3", "days: 730") + streams), samples=20)
    page = costplan.report.html(big)
    assert len(page.encode()) < 5_000_000


def test_the_tables_hold_the_exact_figures_and_the_charts_their_drawing():
    page = costplan.report.html(costplan.estimate(parse_workload(HEAD + SIMPLE)))
    assert "$15.12" in page  # 4.32 + 10.80, a day
    cost = next(o for o in options(page) if o["title"]["text"] == "s: cost per day")
    assert cost["series"][0]["data"] == [15.12, 15.12, 15.12]
    by_class = next(o for o in options(page) if o["title"]["text"] == "Cost by token class")
    assert {s["name"]: s["data"] for s in by_class["series"]} == {"input": [4.32, 4.32], "output": [10.8, 10.8]}


def test_a_name_cannot_break_out_of_the_page():
    hostile = "</script><script>alert(1)</script><b>"
    w = parse_workload(HEAD + SIMPLE.replace("name: s", f'name: "{hostile}"'))
    page = costplan.report.html(costplan.estimate(w))
    assert hostile not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page  # as text
    assert all(json.dumps(o) for o in options(page))  # every option block still parses: nothing closed it


def test_a_check_report_puts_the_verdict_first():
    estimate = costplan.estimate(CHATBOT)
    report = costplan.run_checks(estimate, costplan.make_limits(max_daily_usd="1"))
    page = costplan.report.html(report, workload=CHATBOT)
    assert page.index('class="fail"') < page.index("<h1>")
    assert "FAILED: 1 of 1 checks" in page and 'id="checks"' in page


def test_a_saved_estimate_document_draws_the_same_page():
    estimate = costplan.estimate(parse_workload(HEAD + SIMPLE), samples=10)
    saved = json.loads(json.dumps(estimate.to_dict()))  # as `costplan estimate --format json` wrote it
    assert costplan.report.html(saved) == costplan.report.html(estimate)


def test_html_refuses_what_it_cannot_draw():
    with pytest.raises(InputError, match="not a current costplan estimate"):
        costplan.report.html({"name": "x"})
    with pytest.raises(InputError, match="plan= is for a usage report"):
        costplan.report.html(costplan.estimate(CHATBOT), plan=costplan.estimate(CHATBOT))


# --- usage -------------------------------------------------------------------------------------------------

RECORDS = [
    {"timestamp": f"2026-11-{day}T10:00:00Z", "model": model, "usage": {"input_tokens": n, "output_tokens": n // 2,
     "cache_read_input_tokens": 3 * n, "cache_creation_input_tokens": n}}
    for day in (21, 22, 24) for model, n in (("claude-sonnet-4-6", 1000), ("claude-haiku-4-5", 400))
]  # fmt: skip


def test_pricing_by_day_and_summing_back_gives_the_table_of_the_asked_keys():
    direct = costplan.price_records(RECORDS, by=["model"])
    regrouped = without_day(costplan.price_records(RECORDS, by=with_day(["model"])), ["model"])
    assert [g.to_dict(("model",)) for g in regrouped.groups] == [g.to_dict(("model",)) for g in direct.groups]
    assert regrouped.total.cost == direct.total.cost and regrouped.by == ("model",)


def test_a_usage_report_draws_each_day_of_its_span_stacked_by_model_with_the_plan_over_it(tmp_path):
    report = costplan.price_records(RECORDS, by=["day", "model"])
    plan = costplan.estimate(CHATBOT, as_of=report.first_day)
    page = costplan.report.html(report, plan=plan)
    cost = next(o for o in options(page) if o["title"]["text"] == "Cost per day")
    assert cost["xAxis"]["data"] == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]  # the gap is a day
    stacks = {s["name"]: s["data"] for s in cost["series"] if s.get("stack")}
    # Sonnet 4.6 a day: 1000 x $3 + 500 x $15 + 3000 x $0.30 + 1000 x $3.75 per MTok = $0.01515
    assert stacks["claude-sonnet-4-6"] == [0.01515, 0.01515, 0.0, 0.01515]
    plan_line = next(s for s in cost["series"] if s["name"].startswith("plan"))
    assert plan_line["data"][0] == round(float(plan.total.cost_by_day_usd[0]), 6)
    assert "Tokens by class: plan against actual" in page


def test_a_usage_report_without_days_draws_its_groups_and_says_how_to_get_days():
    page = costplan.report.html(costplan.price_records(RECORDS, by=["model"]))
    assert "Cost by group and token class" in page and "group by day as well" in page


# --- the command line ----------------------------------------------------------------------------------


def test_estimate_html_writes_the_report_and_leaves_stdout_alone(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("an old report")  # replaced: that is what the flag asks
    plain = run_main("estimate", str(CHATBOT))
    ran = run_main("estimate", str(CHATBOT), "--html", str(target))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == plain.stdout
    assert f"report written to {target}" in ran.stderr
    assert target.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("which", ["workload", "pricing"])
def test_html_refuses_to_overwrite_an_input_in_one_line(tmp_path, which):
    workload = tmp_path / "w.yaml"
    workload.write_text(CHATBOT.read_text())
    pricing = tmp_path / "p.yaml"
    pricing.write_text("models: []\n")
    target = workload if which == "workload" else pricing
    before = target.read_bytes()
    ran = run_main("estimate", str(workload), "--pricing", str(pricing), "--html", str(target))
    assert ran.returncode == 2
    assert ran.stderr.count("\n") == 1 and "input of this command" in ran.stderr
    assert target.read_bytes() == before


def test_check_html_writes_the_report_even_when_a_check_fails(tmp_path):
    target = tmp_path / "check.html"
    ran = run_main("check", str(CHATBOT), "--max-daily-usd", "1", "--html", str(target))
    assert ran.returncode == 1
    assert "FAILED" in target.read_text()


def test_usage_html_prices_once_and_prints_the_asked_table(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    plain = run_main("usage", str(log))
    target = tmp_path / "usage.html"
    ran = run_main("usage", str(log), "--html", str(target), "--plan", str(CHATBOT))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(plain.stdout.rstrip("\n").split("\n\nTotal")[0])  # grouped by model, as asked
    page = target.read_text()
    assert "Cost per day" in page and "plan (support-chatbot)" in page
    refused = run_main("usage", str(log), "--html", str(log))
    assert refused.returncode == 2 and log.read_text().startswith("{")


def test_import_costplan_loads_no_report_module():
    code = (
        "import sys, costplan; print(sorted(m for m in sys.modules if 'report' in m or 'html' in m or 'glance' in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_money_in_charts_is_drawn_from_the_exact_amounts():
    estimate = costplan.estimate(parse_workload(HEAD + SIMPLE))
    assert estimate.total.cost_by_day_usd == [Decimal("15.12")] * 3

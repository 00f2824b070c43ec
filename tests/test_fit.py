"""`costplan usage --to-workload`: a hand-made log fitted to a workload whose values can be checked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import run_main

from costplan.planning.fit import Histogram, fit_log, hour_of
from costplan.planning.workload import load_workload


def _line(day: str, hour: int, inp: int, out: int, *, read: int = 0, w1: int = 0, feature: str = "a") -> str:
    usage = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": w1,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": w1},
        "service_tier": "batch" if hour == 3 else "standard",
    }
    record = {"model": "claude-sonnet-4-6", "timestamp": f"{day}T{hour:02d}:30:00Z", "usage": usage, "feature": feature}
    return json.dumps(record)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    lines = []
    for day in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"):
        for i in range(90):  # 90 a day at 10:00, 10 at 03:00 (batch); a 1-hour prefix of 4,000, read 3 times in 4
            lines.append(_line(day, 10, 200, 50, read=4000 if i % 4 else 0, w1=0 if i % 4 else 4000))
        lines += [_line(day, 3, 200, 50, feature="b") for _ in range(10)]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_fitted_values_and_what_they_say_they_come_from(log: Path):
    report, fitted = fit_log([str(log)], name="plan")
    assert report.total.requests == 400 and fitted.streams == 1
    stream = fitted.workload.streams[0]
    assert fitted.workload.as_of.isoformat() == "2026-11-04"  # the log's last day
    assert stream.requests_per_day == 100  # 400 requests over 4 days
    assert stream.growth_per_month == 0  # 4 days: too short to fit growth
    assert stream.shape == [0.0] * 3 + [0.1] + [0.0] * 6 + [0.9] + [0.0] * 13
    assert stream.input_tokens == 200 and stream.output_tokens == 50  # constants: every request alike
    assert stream.system_tokens == 4000 and stream.cache is not None and stream.cache.ttl == "1h"
    assert "(p5 4,000, p95 4,000)" in fitted.text
    assert stream.batch == 0.1
    text = fitted.text
    assert "400 requests over 4 day(s)" in text and "share of 400 requests in each UTC hour" in text
    assert "40 of 400 requests through Message Batches" in text
    assert "the hit rate of the log, 74.4%" in text  # 67 of 90 requests a day read the prefix


def test_one_stream_per_field_value(log: Path):
    _, fitted = fit_log([str(log)], name="plan", by=["feature"])
    assert [(s.name, s.requests_per_day) for s in fitted.workload.streams] == [("a", 90), ("b", 10)]


def test_by_day_is_no_workload(log: Path):
    done = run_main("usage", str(log), "--to-workload", str(log.parent / "w.yaml"), "--by", "day")
    assert done.returncode == 2 and "--by day" in done.stderr


def test_cli_writes_a_file_estimate_reads_and_never_overwrites(log: Path, tmp_path: Path):
    plan = tmp_path / "plan.yaml"
    done = run_main("usage", str(log), "--to-workload", str(plan))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and "1 stream(s)" in done.stderr
    assert yaml.safe_load(plan.read_text())["streams"][0]["model"] == "claude-sonnet-4-6"
    assert load_workload(plan).name == "plan"
    estimate = run_main("estimate", str(plan), "--format", "json")
    assert estimate.returncode == 0, estimate.stderr
    assert json.loads(estimate.stdout)["streams"][0]["requests_per_day"] == 100
    before = plan.read_text()
    again = run_main("usage", str(log), "--to-workload", str(plan))
    assert again.returncode == 2 and "exists" in again.stderr and plan.read_text() == before
    assert run_main("usage", str(log), "--to-workload", str(plan), "--force").returncode == 0


def test_growth_is_fitted_from_14_days_or_more(tmp_path: Path):
    lines = []
    for d in range(20):  # counts doubling every 30 days: 100 x 2^(d/30)
        day = f"2026-11-{d + 1:02d}"
        lines += [_line(day, 12, 100, 10) for _ in range(round(100 * 2 ** (d / 30)))]
    path = tmp_path / "growing.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _, fitted = fit_log([str(path)], name="growing")
    stream = fitted.workload.streams[0]
    assert stream.growth_per_month == pytest.approx(1.0, abs=0.1)  # +100 % a month
    assert stream.requests_per_day == pytest.approx(100 * 2 ** (19 / 30), rel=0.05)


def test_hours_and_quantiles():
    assert hour_of("2026-11-01T23:59:59Z") == 23
    assert hour_of("2026-11-01T23:30:00-02:00") == 1  # UTC
    assert hour_of("2026-11-01") is None
    assert hour_of(3600 * 5 + 12) == 5
    hist = Histogram()
    for value in range(1, 101):
        hist.add(value)
    assert hist.quantile(0.95) == pytest.approx(95, rel=0.006)  # bins 1 % wide


def test_a_hit_rate_steady_traffic_cannot_give_is_said_not_hidden(tmp_path: Path):
    """Five requests a day in one burst, four of them reading the prefix the first wrote: 80 % of hits, where
    five steady requests a day keep a 5-minute cache warm 1.7 % of the time (1 - exp(-5 x 5 / 1440))."""
    lines = []
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        lines += [_line(day, 9, 100, 10, read=0 if i == 0 else 5000) for i in range(5)]
        lines[-5] = lines[-5].replace('"cache_creation_input_tokens": 0', '"cache_creation_input_tokens": 5000')
    path = tmp_path / "bursts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _, fitted = fit_log([str(path)], name="bursts")
    assert len(fitted.warnings) == 1 and "80%" in fitted.warnings[0] and "bursts" in fitted.warnings[0]
    assert "# warning: the log's cache hit rate, 80%" in fitted.text
    stream = fitted.workload.streams[0]
    assert stream.cache is not None and stream.cache.prefixes == 1

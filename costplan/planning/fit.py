"""From a usage log to a workload file: the plan calibrated on the traffic it is about.

`LogProfile` watches every request the ledger prices (`accounting.tally.Watch`), so the log is read once, by
the same reader and rules as `costplan usage`, with bounded memory: per stream (a model and the `--by` values)
counts per day and per UTC hour, sums, and log-scale histograms of sizes (bins 1 % wide, so a p95 is read to
within half a percent). `fit_workload` turns the profile into a workload file whose every fitted value carries
a comment saying what it was fitted from:

- requests per day: the log's count over its span of days; with 14 days or more, a Poisson regression of the
  daily counts gives `growth_per_month` and the volume on the last day (`as_of` is the log's last day), where
  the trend is more than two standard errors from none (else it is noise, and the mean is kept);
- the 24 hourly weights (UTC) from the timestamps, or `flat` where the counts are consistent with it;
- input and output tokens as `{mean, p95}` of the uncached input and the output per request, the lognormal
  the estimate draws from (a constant where every request had the same size);
- the cached prefix: its size (cache reads + writes per request that used the cache), the TTL from the 5m/1h
  split of the writes, and the number of distinct prefixes K told from the hit rate: the K for which the
  estimate's own model (`traffic.CacheCurve`, the fitted shape and volume) gives the log's hit rate;
- the batch share, web searches per request, `inference_geo` and fast mode where most requests used them.

What a usage log cannot tell (conversation turns, tools, `max_tokens`, the usage tier) is left out and said.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from costplan.accounting.grouping import Ledger
from costplan.accounting.reading import Progress, add_path
from costplan.accounting.report import UsageReport
from costplan.billing.catalog import PriceBook
from costplan.errors import InputError
from costplan.planning.quantiles import MAX_P95_RATIO
from costplan.planning.traffic import MONTH_DAYS, CacheCurve, minute_weights
from costplan.planning.workload import MAX_REQUESTS_PER_DAY, Workload, parse_workload

BIN = math.log(1.01)  # size histograms: bins 1 % wide
GROWTH_MIN_DAYS = 14
FLAT_CHI2_99 = 41.64  # 99th percentile of chi-square with 23 degrees of freedom: 24 hours consistent with flat
MAX_PREFIXES = 1_000_000
BURST_MARGIN = 0.05  # a log's hit rate this far above the model's best (one prefix) is traffic in bursts


def hour_of(stamp: Any) -> int | None:
    """The UTC hour of a timestamp as logged (ISO 8601, offsets honoured, or Unix seconds / milliseconds);
    None for a date alone or anything `parse_day` would not read."""
    if type(stamp) is str:
        text = stamp.strip()
        tail = text[10:]
        if len(text) >= 13 and tail[0] in "T " and "+" not in tail and "-" not in tail and text[11:13].isdigit():
            hour = int(text[11:13])
            return hour if hour < 24 else None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
        if len(text) <= 10:
            return None
        return (moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment).hour
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        try:
            seconds = stamp / 1000 if stamp > 10**11 else stamp
            return int(seconds // 3600 % 24)
        except (ValueError, OverflowError):
            return None
    if isinstance(stamp, dt.datetime):
        return (stamp.astimezone(dt.timezone.utc) if stamp.tzinfo else stamp).hour
    return None


class Histogram:
    """Counts of positive sizes in log-scale bins 1 % wide, zeros apart: a quantile to within half a percent in
    a few thousand bins at most, whatever the log's length."""

    __slots__ = ("bins", "zeros", "count", "low", "high")

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}
        self.zeros = 0
        self.count = 0
        self.low = math.inf  # the smallest and largest sizes seen: a quantile is never read outside them
        self.high = 0

    def add(self, value: int) -> None:
        self.count += 1
        if value < self.low:
            self.low = value
        if value > self.high:
            self.high = value
        if value <= 0:
            self.zeros += 1
            return
        index = round(math.log(value) / BIN)
        self.bins[index] = self.bins.get(index, 0) + 1

    def merge(self, other: Histogram) -> None:
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)
        self.count += other.count
        self.zeros += other.zeros
        for index, n in other.bins.items():
            self.bins[index] = self.bins.get(index, 0) + n

    def quantile(self, q: float) -> float:
        """The smallest binned value with at least q of the counts at or below it (within the sizes seen)."""
        rank = q * self.count
        seen = self.zeros
        if seen >= rank:
            return 0.0
        found = math.exp(max(self.bins) * BIN) if self.bins else 0.0
        for index in sorted(self.bins):
            seen += self.bins[index]
            if seen >= rank:
                found = math.exp(index * BIN)
                break
        return min(max(found, self.low), self.high)

    @property
    def distinct(self) -> int:
        return len(self.bins) + (1 if self.zeros else 0)


@dataclass
class StreamProfile:
    """What the log says about one stream (a model and the `--by` values), in sums, counts and histograms."""

    requests: int = 0
    batch: int = 0
    web_searches: int = 0
    geo_us: int = 0
    fast: int = 0
    tokens: list[int] = field(default_factory=lambda: [0] * 5)  # input, output, write 5m, write 1h, read
    cached_requests: int = 0  # requests with cache reads or writes
    per_day: dict[dt.date, int] = field(default_factory=dict)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    input: Histogram = field(default_factory=Histogram)
    output: Histogram = field(default_factory=Histogram)
    prefix: Histogram = field(default_factory=Histogram)  # cache reads + writes of requests that used the cache

    def merge(self, other: StreamProfile) -> None:
        self.requests += other.requests
        self.batch += other.batch
        self.web_searches += other.web_searches
        self.geo_us += other.geo_us
        self.fast += other.fast
        self.tokens = [a + b for a, b in zip(self.tokens, other.tokens)]
        self.cached_requests += other.cached_requests
        for day, n in other.per_day.items():
            self.per_day[day] = self.per_day.get(day, 0) + n
        self.hours = [a + b for a, b in zip(self.hours, other.hours)]
        self.input.merge(other.input)
        self.output.merge(other.output)
        self.prefix.merge(other.prefix)


class LogProfile:
    """A `Watch` over a run of the ledger: one `StreamProfile` per (model id, `--by` values)."""

    def __init__(self) -> None:
        self.streams: dict[tuple[str, tuple[str, ...]], StreamProfile] = {}

    def seen(
        self,
        model_id: str,
        tags: tuple[str, ...],
        day: dt.date,
        stamp: Any,
        tokens: tuple[int, int, int, int, int],
        web_searches: int,
        batch: bool,
        geo: str | None = None,
        speed: str | None = None,
    ) -> None:
        key = (model_id, tags)
        profile = self.streams.get(key)
        if profile is None:
            profile = self.streams[key] = StreamProfile()
        profile.requests += 1
        profile.batch += batch
        profile.web_searches += web_searches
        profile.geo_us += geo == "us"
        profile.fast += speed == "fast"
        sums = profile.tokens
        inp, out, w5, w1, read = tokens
        sums[0] += inp
        sums[1] += out
        sums[2] += w5
        sums[3] += w1
        sums[4] += read
        profile.per_day[day] = profile.per_day.get(day, 0) + 1
        hour = hour_of(stamp)
        if hour is not None:
            profile.hours[hour] += 1
        profile.input.add(inp)
        profile.output.add(out)
        cached = w5 + w1 + read
        if cached:
            profile.cached_requests += 1
            profile.prefix.add(cached)

    def fresh(self) -> LogProfile:
        return LogProfile()

    def merge(self, other: LogProfile) -> None:
        for key, profile in other.streams.items():
            mine = self.streams.get(key)
            if mine is None:
                self.streams[key] = profile
            else:
                mine.merge(profile)


# ---- fitting ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fitted:
    """A workload fitted from a log: its YAML text (with the comments) and the validated workload."""

    text: str
    workload: Workload
    streams: int
    requests: int
    days: int
    warnings: tuple[str, ...] = ()  # what the workload cannot reproduce of the log, also in its comments


def _num(value: float, places: int = 4) -> str:
    """A number as YAML reads it back: fixed point, trailing zeros dropped."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _count(n: float) -> str:
    return f"{n:,.0f}"


def _growth(days: Sequence[int]) -> tuple[float, float, float]:
    """Poisson regression of daily counts, log(rate) = a + b*t with t = 0 on the last day: (rate on the last
    day, b per day, the standard error of b), by Newton's method."""
    t = [i - (len(days) - 1) for i in range(len(days))]
    total = sum(days)
    a, b = math.log(max(total / len(days), 1e-9)), 0.0
    for _ in range(50):
        rates = [math.exp(a + b * x) for x in t]
        g0 = sum(days) - sum(rates)
        g1 = sum(y * x for y, x in zip(days, t)) - sum(r * x for r, x in zip(rates, t))
        h00 = sum(rates)
        h01 = sum(r * x for r, x in zip(rates, t))
        h11 = sum(r * x * x for r, x in zip(rates, t))
        det = h00 * h11 - h01 * h01
        if det <= 0:
            break
        da = (h11 * g0 - h01 * g1) / det
        db = (h00 * g1 - h01 * g0) / det
        a, b = a + da, b + db
        if abs(da) < 1e-12 and abs(db) < 1e-12:
            break
    rates = [math.exp(a + b * x) for x in t]
    h00, h01, h11 = sum(rates), sum(r * x for r, x in zip(rates, t)), sum(r * x * x for r, x in zip(rates, t))
    det = h00 * h11 - h01 * h01
    se = math.sqrt(h00 / det) if det > 0 else math.inf
    return math.exp(a), b, se


def _size(hist: Histogram, total: int, what: str) -> tuple[str, str]:
    """A size as the workload writes it (a constant, or {mean, p95}) and the comment saying where from."""
    n = hist.count
    mean = total / n if n else 0.0
    if mean <= 0:
        return "0", f"{what}: 0 on all {_count(n)} requests"
    if hist.distinct == 1:
        return str(round(mean)), f"{what}: {_count(round(mean))} on every one of {_count(n)} requests"
    p95 = hist.quantile(0.95)
    median = hist.quantile(0.5)
    spread = f"median {_count(median)}, p95 {_count(p95)}"
    if p95 <= mean * 1.0005:
        return (
            f"{{mean: {_num(mean, 1)}}}",
            f"{what}: mean of {_count(n)} requests ({spread}; the p95 is not above the mean, so no lognormal fits: "
            "a constant at the mean)",
        )
    note = ""
    if p95 > mean * MAX_P95_RATIO * 0.999:
        note = f"; p95 capped at {MAX_P95_RATIO:.2f}x the mean, the widest lognormal"
        p95 = mean * MAX_P95_RATIO * 0.999
    return (
        f"{{mean: {_num(mean, 1)}, p95: {_num(p95, 1)}}}",
        f"{what}: mean and p95 of {_count(n)} requests ({spread}{note})",
    )


def _shape(hours: list[int]) -> tuple[str, str]:
    dated = sum(hours)
    if dated == 0:
        return "flat", "no times of day in the log (dates only): flat"
    expected = dated / 24
    chi2 = sum((h - expected) ** 2 / expected for h in hours)
    if chi2 <= FLAT_CHI2_99:
        return "flat", f"hourly counts of {_count(dated)} requests consistent with flat (chi-square {chi2:.1f}, 23 df)"
    weights = ", ".join(_num(h / dated, 4) for h in hours)
    return f"[{weights}]", f"share of {_count(dated)} requests in each UTC hour, 00-23"


def _prefixes(hit_rate: float, hourly: tuple[float, ...], minutes: int, volume: float) -> tuple[int, float]:
    """The number of distinct prefixes K for which the estimate's hit-rate model, at this shape, TTL and daily
    volume, gives `hit_rate`; and the model's rate at that K."""
    weights = minute_weights(hourly)

    def rate(k: int) -> float:
        return CacheCurve.build(weights, minutes, k).day_rate(volume)

    if rate(1) <= hit_rate:
        return 1, rate(1)
    low, high = 1, 2
    while high < MAX_PREFIXES and rate(high) > hit_rate:
        low, high = high, high * 2
    high = min(high, MAX_PREFIXES)
    while high - low > 1:
        middle = (low + high) // 2
        if rate(middle) > hit_rate:
            low = middle
        else:
            high = middle
    best = min((low, high), key=lambda k: abs(rate(k) - hit_rate))
    return best, rate(best)


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        cleaned = "".join(c if c.isprintable() else "?" for c in name) or "(none)"
        candidate, n = cleaned, 2
        while candidate in out:
            candidate, n = f"{cleaned}-{n}", n + 1
        out.append(candidate)
    return out


def fit_log(
    paths: Sequence[str],
    *,
    name: str,
    by: Sequence[str] = ("model",),
    as_of: dt.date | str | None = None,
    pricing: PriceBook | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> tuple[UsageReport, Fitted]:
    """Price logs as `costplan.price_log` does and fit a workload to them: one stream per model and `by` value
    (`model` alone: one stream per model; `stream`, `metadata.feature`...: one per value, and model)."""
    keys = tuple(by) or ("model",)
    if "day" in keys:
        raise InputError("--by day makes no workload (a stream per day)", fix="group by model or a field of the log")
    profile = LogProfile()
    ledger = Ledger(by=keys, as_of=as_of, pricing=pricing, strict=strict, watch=profile)
    for path in paths:
        add_path(ledger, str(path), progress)
    report = ledger.finish()
    return report, fit_workload(report, profile, name=name, sources=[str(p) for p in paths])


def fit_workload(report: UsageReport, profile: LogProfile, *, name: str, sources: Sequence[str] = ()) -> Fitted:
    """The workload file of a priced log (see the module docstring); raises `InputError` for a log that
    cannot make one (no priced request, or no timestamps)."""
    if not profile.streams:
        raise InputError("the log has no priced request to fit a workload to", fix="check the log's lines and models")
    if report.first_day is None or report.last_day is None or report.undated == report.total.requests:
        raise InputError("the log's records have no timestamps", fix="a workload needs requests per day: log them")
    first, last = report.first_day, report.last_day
    span = (last - first).days + 1
    keys = sorted(profile.streams)
    models: dict[tuple[str, ...], set[str]] = {}
    for model_id, tags in keys:
        models.setdefault(tags, set()).add(model_id)
    names = _unique(
        [
            "/".join(tags) + (f"/{model_id}" if len(models[tags]) > 1 else "") if tags else model_id
            for model_id, tags in keys
        ]
    )
    total_requests = sum(p.requests for p in profile.streams.values())
    lines = [
        f"# Fitted by `costplan usage --to-workload` from {_count(total_requests)} requests"
        + (f" in {', '.join(sources)}" if sources else ""),
        f"# {first.isoformat()} to {last.isoformat()} ({span} day(s)); fitted values say what they were fitted from.",
        "# A usage log cannot tell conversation turns, tool definitions, max_tokens or the usage tier: add them",
        "# by hand where they apply (tier: start/build/scale for rate-limit headroom).",
        f"name: {_yaml_text(name)}",
        f"as_of: {last.isoformat()}  # the log's last day",
        "days: 30",
        "streams:",
    ]
    warnings: list[str] = []
    for (model_id, tags), stream_name in zip(keys, names):
        lines += _stream_lines(profile.streams[(model_id, tags)], model_id, stream_name, first, span, warnings)
    text = "\n".join(lines) + "\n"
    workload = parse_workload(text, "<fitted workload>")
    return Fitted(text, workload, len(keys), total_requests, span, tuple(warnings))


def _yaml_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _stream_lines(
    p: StreamProfile, model_id: str, name: str, first: dt.date, span: int, warnings: list[str]
) -> list[str]:
    n = p.requests
    counts = [p.per_day.get(first + dt.timedelta(days=i), 0) for i in range(span)]
    out = [f"  - name: {_yaml_text(name)}", f"    model: {model_id}"]
    volume = n / span
    trend = _growth(counts) if span >= GROWTH_MIN_DAYS else None
    if trend is not None and abs(trend[1]) >= 2 * trend[2]:
        last_rate, slope, se = trend
        growth = min(max(math.exp(slope * MONTH_DAYS) - 1, -0.99), 100.0)
        low, high = math.exp((slope - se) * MONTH_DAYS) - 1, math.exp((slope + se) * MONTH_DAYS) - 1
        out.append(
            f"    requests_per_day: {_num(min(last_rate, MAX_REQUESTS_PER_DAY), 2)}  # on the last day, from the "
            f"trend of {_count(n)} requests over {span} days"
        )
        out.append(
            f"    growth_per_month: {_num(growth * 100, 2)}%  # Poisson regression of the daily counts "
            f"(one standard error: {_num(low * 100, 1)}% to {_num(high * 100, 1)}%)"
        )
    elif trend is not None:  # a trend within two standard errors of none is noise: the mean is the better guess
        _, slope, se = trend
        out.append(
            f"    requests_per_day: {_num(volume, 2)}  # {_count(n)} requests over {span} days; no growth: the "
            f"daily counts' trend, {_num((math.exp(slope * MONTH_DAYS) - 1) * 100, 1)}% a month, is within two "
            f"standard errors ({_num((math.exp(se * MONTH_DAYS) - 1) * 100, 1)}%) of none"
        )
    else:
        out.append(
            f"    requests_per_day: {_num(volume, 2)}  # {_count(n)} requests over {span} day(s); growth needs "
            f"{GROWTH_MIN_DAYS} days of log"
        )
    shape, shape_note = _shape(p.hours)
    out.append(f"    shape: {shape}  # {shape_note}")
    inp, out_t, w5, w1, read = p.tokens
    written = w5 + w1
    if p.cached_requests:
        prefix = (written + read) / p.cached_requests
        out.append(
            f"    system_tokens: {round(prefix)}  # cached prefix: cache reads + writes per request on the "
            f"{_count(p.cached_requests)} requests that used the cache (p5 {_count(p.prefix.quantile(0.05))}, "
            f"p95 {_count(p.prefix.quantile(0.95))})"
        )
        # With no writes at all the TTL cannot be told; 1 hour, the longer, is the one that keeps the model's
        # hit rate at the log's (every request read the prefix).
        ttl = "1h" if w1 > w5 or not written else "5m"
        hit = read / (read + written) if read + written else 0.0
        hourly = tuple(float(h) for h in p.hours) if shape != "flat" else (1.0,) * 24
        k, model_rate = _prefixes(hit, hourly, 60 if ttl == "1h" else 5, volume)
        told = f"{_num(w1 / written * 100, 1)}% of cache-write tokens 1h" if written else "no cache writes at all"
        if hit > model_rate + BURST_MARGIN:
            # Steady (Poisson) traffic at this volume cannot keep the cache this warm: the requests come in
            # bursts (sessions, agents), which the workload has no field for. Say it; do not hide it in K.
            warning = (
                f"stream {name}: the log's cache hit rate, {_num(hit * 100, 1)}%, is above what steady traffic of "
                f"{_num(volume, 2)} requests a day gives ({_num(model_rate * 100, 1)}% with one prefix): its "
                "requests come in bursts (sessions, agents), so the estimate counts more cache writes and costs "
                "more than the log"
            )
            warnings.append(warning)
            out.append(f"    # warning: {warning.split(': ', 1)[1]}")
            out.append(f"    cache: {{ttl: {ttl}, prefixes: 1}}  # ttl: {told}")
        else:
            out.append(
                f"    cache: {{ttl: {ttl}, prefixes: {k}}}  # ttl: {told}; "
                f"prefixes: the hit rate of the log, {_num(hit * 100, 1)}%, is the model's at {k} "
                f"({_num(model_rate * 100, 1)}%)"
            )
    value, note = _size(p.input, inp, "uncached input")
    out.append(f"    input_tokens: {value}  # {note}")
    value, note = _size(p.output, out_t, "output")
    out.append(f"    output_tokens: {value}  # {note}")
    fast = p.fast * 2 > n
    if p.batch and not fast:
        out.append(
            f"    batch: {_num(p.batch / n, 4)}  # {_count(p.batch)} of {_count(n)} requests through Message Batches"
        )
    if p.web_searches:
        out.append(
            f"    web_searches: {_num(p.web_searches / n, 4)}  # {_count(p.web_searches)} searches "
            f"on {_count(n)} requests"
        )
    if p.geo_us * 2 > n:
        out.append(f"    inference_geo: us  # {_count(p.geo_us)} of {_count(n)} requests")
    if fast:
        out.append(f"    speed: fast  # {_count(p.fast)} of {_count(n)} requests")
    return out

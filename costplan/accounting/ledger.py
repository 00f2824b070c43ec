"""Recorded usage to exact cost: stream a log, sum tokens per price group, price each group once.

Why groups: cost is linear in tokens once the model, the price period (day), the prompt-length tier, batch,
inference geography and speed are fixed. So the stream keeps only integer token sums per
(model, day, batch, geo, speed, prompt-length segment, tag) group and prices each group at the end through
its `billing.schedule.RateSchedule`, the one place for pricing rules. The result equals the sum of
per-request costs exactly (Decimal, no rounding), memory is bounded by the number of groups rather than
lines, and a million lines take seconds instead of minutes. Tiers are chosen per request (a cliff on the
whole prompt), so the segment a request falls in is part of its group key.

Lines that cannot be priced (malformed JSON, unknown model, negative tokens, no price on that date) are
counted with their file and line, never priced at zero; `strict=True` makes the first one fatal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from costplan.accounting.logformats import NotBilled, find_timestamp, parse_day, records_from, tag_value
from costplan.billing.catalog import DateLike, PriceBook, default_pricebook, pricing_date, to_date
from costplan.billing.schedule import RateSchedule
from costplan.billing.tables import ModelRecord
from costplan.billing.usage import TOKEN_CLASSES, cache_hit_rate, read_counts
from costplan.errors import InputError, UnknownModelError, UnpricedModelError
from costplan.jsonfile import loads
from costplan.render.values import money

MAX_LISTED_PROBLEMS = 20
PROGRESS_EVERY = 1 << 16  # lines between progress callbacks
ZERO = Decimal(0)
_EXACT = decimal.Context(prec=60)  # sums of exact products; 60 digits never round for any real log

# Indices into a group accumulator (a plain list: the hot loop updates it a million times).
_RECORDS, _REQUESTS, _IN, _OUT, _W5, _W1, _READ, _WS, _FILE, _LINE = range(10)

Progress = Callable[[int, int], None]  # (bytes done, bytes total)
_SCANNER = json.JSONDecoder()
_SKIP = object()
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, forking costs more than it saves


@dataclass(frozen=True)
class Problem:
    """A line that was not priced, and why."""

    file: str
    line: int
    kind: str  # malformed | unknown_model | unpriced | bad_usage | no_model
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "kind": self.kind, "message": self.message}


class StrictStop(InputError):
    """The first unpriceable line under `strict=True`; carries the problem so a parallel run can re-number it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem), fix="fix or remove the line, or run without --strict")
        self.problem = problem


@dataclass
class GroupTotal:
    """Tokens and exact cost of one output group (a model, a day, a tag value, or a combination)."""

    key: tuple[str, ...]
    records: int = 0
    requests: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOKEN_CLASSES, 0))
    web_search_requests: int = 0
    cost_by_class: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(TOKEN_CLASSES, ZERO))
    fees: dict[str, Decimal] = field(default_factory=dict)
    batch_requests: int = 0

    @property
    def cost(self) -> Decimal:
        """Exact total: token classes plus per-use fees."""
        return sum(self.cost_by_class.values(), ZERO) + sum(self.fees.values(), ZERO)

    @property
    def cache_hit_rate(self) -> float | None:
        """Cache reads / (reads + writes), in tokens: the estimate's definition, so plan and actual compare.

        It is the share of cached-prefix tokens that found the cache warm; uncached input does not count.
        None when nothing was cached or read.
        """
        return cache_hit_rate(self.tokens)

    def to_dict(self, by: Sequence[str]) -> dict[str, Any]:
        return {
            "key": dict(zip(by, self.key)),
            "records": self.records,
            "requests": self.requests,
            "batch_requests": self.batch_requests,
            "tokens": dict(self.tokens),
            "web_search_requests": self.web_search_requests,
            "cache_hit_rate": self.cache_hit_rate,
            "cost_usd": money(self.cost),
            "cost_by_class_usd": {k: money(v) for k, v in self.cost_by_class.items()},
            "fees_usd": {k: money(v) for k, v in self.fees.items()},
        }

    def absorb(self, other: GroupTotal) -> None:
        self.records += other.records
        self.requests += other.requests
        self.batch_requests += other.batch_requests
        self.web_search_requests += other.web_search_requests
        for name in TOKEN_CLASSES:
            self.tokens[name] += other.tokens[name]
            self.cost_by_class[name] = _EXACT.add(self.cost_by_class[name], other.cost_by_class[name])
        for name, amount in other.fees.items():
            self.fees[name] = _EXACT.add(self.fees.get(name, ZERO), amount)


@dataclass
class UsageReport:
    """What a log cost, grouped as asked, with everything that could not be priced."""

    by: tuple[str, ...]
    groups: list[GroupTotal]
    total: GroupTotal
    by_model: list[GroupTotal]
    problems: list[Problem]
    problem_counts: dict[str, int]
    not_billed: int
    blank_lines: int
    lines: int
    files: list[str]
    first_day: dt.date | None
    last_day: dt.date | None
    undated: int
    default_day: dt.date
    warnings: list[str]
    pricing_version: str

    @property
    def problem_count(self) -> int:
        return sum(self.problem_counts.values())

    @property
    def days(self) -> int:
        """Calendar days the log spans, first to last inclusive (0 for an empty log)."""
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: money as strings; the grand total at `total.cost_usd`."""
        total = self.total.to_dict(())
        total.pop("key")
        return {
            "pricing_version": self.pricing_version,
            "files": list(self.files),
            "by": list(self.by),
            "span": {
                "first_day": self.first_day.isoformat() if self.first_day else None,
                "last_day": self.last_day.isoformat() if self.last_day else None,
                "days": self.days,
                "undated_records": self.undated,
                "undated_priced_on": self.default_day.isoformat(),
            },
            "lines": self.lines,
            "groups": [g.to_dict(self.by) for g in self.groups],
            "total": total,
            "problems": {
                "count": self.problem_count,
                "by_kind": dict(self.problem_counts),
                "first": [p.to_dict() for p in self.problems],
            },
            "not_billed": self.not_billed,
            "blank_lines": self.blank_lines,
            "warnings": list(self.warnings),
        }


class Ledger:
    """Streams records in, keeps integer sums per price group, prices the groups at the end.

    One ledger per run; it holds no global state, so several can run side by side.
    """

    def __init__(
        self,
        *,
        by: Sequence[str] = ("model",),
        as_of: DateLike = None,
        pricing: PriceBook | None = None,
        strict: bool = False,
        max_listed: int = MAX_LISTED_PROBLEMS,
    ) -> None:
        self.book = pricing or default_pricebook()
        self.by = tuple(by) or ("model",)
        self.tag_paths = tuple(tuple(b.split(".")) for b in self.by if b not in ("model", "day"))
        self.default_day = to_date(as_of)
        self.strict = strict
        self.max_listed = max_listed
        self.groups: dict[tuple[Any, ...], list[Any]] = {}
        self.targets: dict[tuple[str, dt.date], ModelRecord | InputError] = {}
        self.day_prefix: dict[str, dt.date] = {}
        self.problems: list[Problem] = []
        self.problem_counts: dict[str, int] = {}
        self.not_billed = 0
        self.blank = 0
        self.lines = 0
        self.undated = 0
        self.days: set[dt.date] = set()
        self.files: list[str] = []
        self.ambiguous_tier_rows: dict[str, int] = {}
        self.over_window: dict[str, int] = {}  # model id -> requests whose prompt the API would have refused

    # ---- problems -------------------------------------------------------------------------------------------

    def problem(self, file: str, line: int, kind: str, message: str) -> None:
        """Count a line that cannot be priced; in strict mode, stop at the first."""
        if self.strict:
            raise StrictStop(Problem(file, line, kind, message))
        self.problem_counts[kind] = self.problem_counts.get(kind, 0) + 1
        if len(self.problems) < self.max_listed:
            self.problems.append(Problem(file, line, kind, message))

    # ---- resolution, cached per (model name, day) -------------------------------------------------------

    def _target(self, model: str, day: dt.date) -> ModelRecord | InputError:
        """The model a name means on a day, or why it cannot be priced then; once per (name, day)."""
        try:
            record = self.book.resolve(model, day)
            self.book.period(record, day)  # a model with no price that day is reported here, once
        except InputError as exc:
            return exc
        return record

    # ---- the hot path -------------------------------------------------------------------------------------

    def add(
        self,
        file: str,
        line: int,
        model: Any,
        day: dt.date | None,
        batch: bool,
        geo: str | None,
        speed: str | None,
        tokens: tuple[int, int, int, int, int],
        web_search: int,
        requests: int,
        source: Mapping[str, Any],
        tier_hint: str | None = None,
    ) -> None:
        """Add one record: resolve (cached), check it can be priced, add its counts to its group."""
        if not isinstance(model, str) or not model:
            self.problem(file, line, "no_model", "no `model` in the record")
            return
        if day is None:
            day = self.default_day
            self.undated += 1
        else:
            self.days.add(day)
        target = self.targets.get((model, day))
        if target is None:
            target = self.targets[(model, day)] = self._target(model, day)
        if isinstance(target, InputError):
            kind = "unknown_model" if isinstance(target, UnknownModelError) else "unpriced"
            self.problem(file, line, kind, target.message if kind == "unpriced" else str(target))
            return
        inp, out, w5, w1, read = tokens
        prompt = inp + w5 + w1 + read
        try:  # the pricing rules themselves (speed, batch, fast mode, missing prices) live in billing alone
            schedule = self.book.schedule(target, day, speed=speed, batch=batch, geo=geo)
        except InputError as exc:
            self.problem(file, line, "unpriced" if isinstance(exc, UnpricedModelError) else "bad_usage", str(exc))
            return
        if requests and schedule.window is not None and prompt > schedule.window:
            self.over_window[target.id] = self.over_window.get(target.id, 0) + 1
        segment = schedule.segment(prompt) if requests else self._report_segment(schedule, tier_hint)
        for index in schedule.segments[segment].unpriced:
            if tokens[index]:
                name = TOKEN_CLASSES[index]
                self.problem(file, line, "unpriced", f"{target.id} has no `{name}` price (no prompt caching)")
                return
        if web_search and schedule.web_search_fee is None:
            self.problem(file, line, "unpriced", f"no web search price on {day.isoformat()}")
            return
        tag = tuple(tag_value(source, path) for path in self.tag_paths) if self.tag_paths else ()
        key = (model, day, batch, geo, speed, segment, tag)
        acc = self.groups.get(key)
        if acc is None:
            acc = self.groups[key] = [0, 0, 0, 0, 0, 0, 0, 0, file, line]
        acc[_RECORDS] += 1
        acc[_REQUESTS] += requests
        acc[_IN] += inp
        acc[_OUT] += out
        acc[_W5] += w5
        acc[_W1] += w1
        acc[_READ] += read
        acc[_WS] += web_search

    def _report_segment(self, schedule: RateSchedule, hint: str | None) -> int:
        """Prompt-length segment of a usage-report row, which aggregates many requests and gives only its
        context window.

        `200k-1M` places the row above a 200,000-token threshold and `0-200k` below every threshold of
        200,000 or more; any other case cannot be known from the report, so the row is priced at base
        prices (a lower bound) and a warning says so.
        """
        thresholds = schedule.thresholds
        if not thresholds:
            return 0
        if hint == "200k-1M" and 200_000 in thresholds:
            return schedule.segment(200_001)
        if hint == "0-200k" and min(thresholds) >= 200_000:
            return 0
        name = schedule.record.id
        self.ambiguous_tier_rows[name] = self.ambiguous_tier_rows.get(name, 0) + 1
        return 0

    def add_record_obj(self, obj: Any, file: str, line: int) -> None:
        """The general path: any accepted shape, through `logformats.records_from`."""
        try:
            records = list(records_from(obj))
        except NotBilled:
            self.not_billed += 1
            return
        except InputError as exc:
            self.problem(file, line, "bad_usage", str(exc))
            return
        for rec in records:
            usage = rec.usage
            batch = usage.service_tier == "batch" if rec.batch is None else rec.batch
            self.add(
                file,
                line,
                rec.model,
                rec.day,
                batch,
                usage.inference_geo,
                usage.speed,
                (usage.input_tokens, usage.output_tokens, usage.cache_write_5m, usage.cache_write_1h, usage.cache_read),
                usage.web_search_requests,
                rec.requests,
                rec.source,
                rec.tier_hint,
            )

    def _day_of(self, stamp: Any) -> dt.date | None:
        """Date of a timestamp; ISO strings in UTC (or without offset) are read by their date part, cached."""
        if type(stamp) is str and len(stamp) >= 10:
            tail = stamp[10:]
            if not tail or (tail[0] in "T " and "+" not in tail and "-" not in tail):
                prefix = stamp[:10]
                day = self.day_prefix.get(prefix)
                if day is None:
                    day = self.day_prefix[prefix] = parse_day(prefix)
                return day
        return parse_day(stamp)

    def add_lines(self, lines: Iterable[bytes | str], file: str, progress: Callable[[int], None] | None = None) -> None:
        """Stream JSON Lines; the commonest shape (a response or usage record) takes an inlined fast path."""
        self.files.append(file)
        scan = _SCANNER.scan_once  # the C scanner json.loads uses, without its per-call Python wrapper
        add = self.add
        day_of = self._day_of
        lineno = 0
        for raw in lines:
            lineno += 1
            if progress is not None and not lineno % PROGRESS_EVERY:
                progress(lineno)
            try:
                text = raw.decode() if type(raw) is bytes else raw
                obj, end = scan(text, 0)
                if end != len(text) and text[end:] != "\n" and text[end:].strip():
                    raise ValueError("extra data")
            except (ValueError, StopIteration, RecursionError):
                obj = self._slow_json(raw, file, lineno)
                if obj is _SKIP:
                    continue
            usage = obj.get("usage") if type(obj) is dict else None
            if type(usage) is not dict or "result" in obj:
                self.add_record_obj(obj, file, lineno)
                continue
            # Fast path: {"model", "usage": {...}, timestamp?}: the one usage reader, without the record shapes.
            try:
                inp, out, w5, w1, read, web_search, _, tier_name, geo, speed = read_counts(usage)
            except InputError as exc:
                self.problem(file, lineno, "bad_usage", str(exc))
                continue
            stamp = obj.get("timestamp")
            if stamp is None:
                stamp = find_timestamp(obj)
            try:
                day = day_of(stamp) if stamp is not None else None
            except InputError as exc:
                self.problem(file, lineno, "bad_usage", str(exc))
                continue
            add(
                file,
                lineno,
                obj.get("model"),
                day,
                tier_name == "batch",
                geo,
                speed,
                (inp, out, w5, w1, read),
                web_search,
                1,
                obj,
            )
        self.lines += lineno

    def _slow_json(self, raw: bytes | str, file: str, lineno: int) -> Any:
        """`json.loads` for what the fast scan refused: its exact rules and messages, blank lines apart."""
        try:
            return loads(raw)
        except ValueError as exc:
            if not raw.strip():
                self.blank += 1
            else:
                self.problem(file, lineno, "malformed", f"not valid JSON ({exc})")
            return _SKIP

    def add_document(self, obj: Any, file: str) -> None:
        """A whole-file JSON document (a usage-report page saved as is, or a list of records)."""
        self.files.append(file)
        self.lines += 1
        self.add_record_obj(obj, file, 1)

    # ---- pricing the groups -------------------------------------------------------------------------------

    def finish(self) -> UsageReport:
        """Price every group once through its rate schedule and roll the groups up as asked."""
        out: dict[tuple[str, ...], GroupTotal] = {}
        models: dict[str, GroupTotal] = {}
        total = GroupTotal(key=())
        warnings: set[str] = set()
        for (model, day, batch, geo, speed, segment, tag), acc in self.groups.items():
            target = self.targets.get((model, day))
            if target is None:  # a group a worker found: resolve here, where the pricing happens
                target = self.targets[(model, day)] = self._target(model, day)
            assert isinstance(target, ModelRecord)
            record = target
            schedule = self.book.schedule(record, day, speed=speed, batch=batch, geo=geo)
            counts = (acc[_IN], acc[_OUT], acc[_W5], acc[_W1], acc[_READ])
            # every request of the group is in the same segment: cost is linear in tokens, so price the sums once
            priced = schedule.price(counts, segment, acc[_WS])
            warnings.update(schedule.notes)
            group = GroupTotal(key=())
            group.records = acc[_RECORDS]
            group.requests = acc[_REQUESTS]
            group.batch_requests = acc[_REQUESTS] if batch else 0
            group.web_search_requests = acc[_WS]
            group.tokens.update(zip(TOKEN_CLASSES, counts))
            group.cost_by_class.update(zip(TOKEN_CLASSES, priced.amounts))
            group.fees.update(priced.fees)
            key = tuple(
                record.id if part == "model" else day.isoformat() if part == "day" else tag[self._tag_index(part)]
                for part in self.by
            )
            bucket = out.get(key)
            if bucket is None:
                bucket = out[key] = GroupTotal(key=key)
            bucket.absorb(group)
            per_model = models.get(record.id)
            if per_model is None:
                per_model = models[record.id] = GroupTotal(key=(record.id,))
            per_model.absorb(group)
            total.absorb(group)
        for name, count in sorted(self.ambiguous_tier_rows.items()):
            warnings.add(
                f"{count} usage-report row(s) of {name} could not be placed in a prompt-length tier (the report "
                "gives no per-request prompt sizes); priced at base prices, a lower bound"
            )
        for name, count in sorted(self.over_window.items()):
            warnings.add(
                f"{count} request(s) of {name} have prompts over its context window: the API would have refused "
                "them; priced as logged (check the model name and the dates)"
            )
        if self.undated:
            warnings.add(
                f"{self.undated} record(s) had no timestamp; priced at the prices of {self.default_day.isoformat()}"
            )
        days = sorted(self.days) or ([self.default_day] if self.groups else [])
        return UsageReport(
            by=self.by,
            groups=sorted(out.values(), key=lambda g: g.key),
            total=total,
            by_model=sorted(models.values(), key=lambda g: g.key),
            problems=list(self.problems),
            problem_counts=dict(self.problem_counts),
            not_billed=self.not_billed,
            blank_lines=self.blank,
            lines=self.lines,
            files=list(self.files),
            first_day=days[0] if days else None,
            last_day=days[-1] if days else None,
            undated=self.undated,
            default_day=self.default_day,
            warnings=sorted(warnings),
            pricing_version=self.book.version,
        )

    def _tag_index(self, part: str) -> int:
        return [b for b in self.by if b not in ("model", "day")].index(part)

    # ---- files ----------------------------------------------------------------------------------------------

    def add_path(self, path: str, progress: Progress | None = None) -> None:
        """A log file (`.gz` read transparently), or `-` for standard input."""
        if path == "-":
            self._add_stream(sys.stdin.buffer, "<stdin>", None, None)
            return
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed below; gzip wraps it so its position drives progress
        except FileNotFoundError:
            raise InputError(f"log file not found: {path}", fix="check the path") from None
        except IsADirectoryError:
            raise InputError(f"{path} is a directory", fix="pass log files, or a glob such as logs/*.jsonl") from None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        with raw:
            size = os.fstat(raw.fileno()).st_size
            head = raw.read(1 << 16)
            raw.seek(0)
            workers = _workers(size)
            try:
                if head[:2] == b"\x1f\x8b":
                    self._add_stream(gzip.GzipFile(fileobj=raw), path, size, raw, progress)
                elif workers > 1 and not _is_document(head):
                    self._add_parallel(path, size, workers, progress)
                else:
                    self._add_stream(raw, path, size, raw, progress)
            except (OSError, EOFError) as exc:  # a truncated or corrupt gzip file
                raise InputError(f"cannot read {path}: {exc}") from None

    # ---- parallel: one large plain file split at line boundaries over the cores ---------------------------

    def _state(self) -> dict[str, Any]:
        """What a worker hands back: small (groups and counters), never the lines."""
        return {
            "groups": self.groups,
            "problems": self.problems,
            "problem_counts": self.problem_counts,
            "not_billed": self.not_billed,
            "blank": self.blank,
            "lines": self.lines,
            "undated": self.undated,
            "days": self.days,
            "ambiguous": self.ambiguous_tier_rows,
            "over_window": self.over_window,
        }

    def _merge(self, state: dict[str, Any], offset: int) -> None:
        """Fold a worker's state in; its line numbers start after `offset` lines of earlier chunks."""
        for key, acc in state["groups"].items():
            mine = self.groups.get(key)
            if mine is None:
                acc[_LINE] += offset
                self.groups[key] = acc
            else:
                for index in range(_FILE):
                    mine[index] += acc[index]
        for problem in state["problems"]:
            if len(self.problems) < self.max_listed:
                self.problems.append(Problem(problem.file, problem.line + offset, problem.kind, problem.message))
        for kind, count in state["problem_counts"].items():
            self.problem_counts[kind] = self.problem_counts.get(kind, 0) + count
        for name, count in state["ambiguous"].items():
            self.ambiguous_tier_rows[name] = self.ambiguous_tier_rows.get(name, 0) + count
        for name, count in state["over_window"].items():
            self.over_window[name] = self.over_window.get(name, 0) + count
        self.not_billed += state["not_billed"]
        self.blank += state["blank"]
        self.lines += state["lines"]
        self.undated += state["undated"]
        self.days |= state["days"]

    def _add_parallel(self, path: str, size: int, workers: int, progress: Progress | None) -> None:
        """Price a large file on all cores: each worker streams its byte range into its own ledger.

        Forked workers inherit the price book, so nothing but the small group sums crosses a pipe. Line
        numbers are re-based on the line counts of the chunks before, so problems name the real line.
        """
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        bounds = _chunk_bounds(path, size, workers)
        done = ctx.Array("q", len(bounds), lock=False)
        jobs = []
        for index, (start, end) in enumerate(bounds):
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=self._work, args=(send, path, start, end, index, done), daemon=True)
            proc.start()
            send.close()
            jobs.append((proc, receive))
        results = []
        try:
            for proc, receive in jobs:
                while progress is not None and not receive.poll(0.2):
                    progress(sum(done), size)
                try:
                    results.append(receive.recv())
                except EOFError:
                    raise RuntimeError(f"a worker pricing {path} died (exit code {proc.exitcode})") from None
        finally:
            for proc, _ in jobs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.terminate()
        self.files.append(path)
        offset = 0
        for status, payload in results:
            if status == "strict":
                problem = payload[0]
                raise StrictStop(Problem(problem.file, problem.line + offset, problem.kind, problem.message))
            if status == "error":
                raise RuntimeError(f"a worker pricing {path} failed:\n{payload}")
            self._merge(payload, offset)
            offset += payload["lines"]
        if progress is not None:
            progress(size, size)

    def _work(self, send: Any, path: str, start: int, end: int, index: int, done: Any) -> None:
        """Worker body (in a forked child): a fresh ledger over [start, end) of the file."""
        import traceback

        ledger = Ledger(
            by=self.by, as_of=self.default_day, pricing=self.book, strict=self.strict, max_listed=self.max_listed
        )
        try:
            with open(path, "rb") as handle:
                handle.seek(start)

                def lines() -> Iterable[bytes]:
                    position = start
                    for line in handle:
                        yield line
                        position += len(line)
                        if position >= end:
                            return

                def tick(_: int) -> None:
                    done[index] = handle.tell() - start

                ledger.add_lines(lines(), path, tick)
                done[index] = end - start
            send.send(("ok", ledger._state()))
        except StrictStop as stop:
            send.send(("strict", (stop.problem,)))
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises
            send.send(("error", traceback.format_exc()))
        finally:
            send.close()

    def _add_stream(
        self,
        stream: IO[bytes],
        name: str,
        size: int | None,
        raw: IO[bytes] | None,
        progress: Progress | None = None,
    ) -> None:
        buffered = stream if isinstance(stream, io.BufferedIOBase) else io.BufferedReader(stream)  # type: ignore[arg-type]
        head = buffered.peek(1 << 16)[: 1 << 16] if hasattr(buffered, "peek") else b""
        if _is_document(head):
            text = buffered.read()
            try:
                obj = loads(text)
            except ValueError:
                self.add_lines(text.splitlines(), name)  # not one document after all: report line by line
                return
            self.add_document(obj, name)
            return
        tick = None
        if progress is not None and size and raw is not None:
            total = size

            def tick(_: int) -> None:
                progress(raw.tell(), total)

        self.add_lines(buffered, name, tick)
        if progress is not None and size:
            progress(size, size)


def _workers(size: int) -> int:
    """How many processes to price a plain file of `size` bytes with: one per core, 16 MB each at least."""
    if size < PARALLEL_MIN_BYTES or sys.platform != "linux":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8, size // (16 * 1024 * 1024)))


def _chunk_bounds(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of about equal size, each starting at the start of a line."""
    starts = [0]
    with open(path, "rb") as handle:
        for index in range(1, parts):
            handle.seek(size * index // parts)
            handle.readline()  # finish the line the cut fell in; the next range starts after it
            position = handle.tell()
            if starts[-1] < position < size:
                starts.append(position)
    return list(zip(starts, [*starts[1:], size]))


def _is_document(head: bytes) -> bool:
    """True for a file holding one pretty-printed JSON document (a saved usage-report page) rather than lines.

    Only a first line that opens a structure and leaves it open counts, so a JSON Lines file whose first
    line is malformed is still read line by line and its other lines are still priced.
    """
    text = head.lstrip()
    if b"\n" not in text:
        return False
    first = text.split(b"\n", 1)[0].strip()
    if not first or first[:1] not in b"[{" or first[-1:] not in b"[{,":
        return False
    try:
        json.loads(first)
    except ValueError:
        return True
    return False


def price_log(
    paths: Sequence[str | Path],
    *,
    by: Sequence[str] = ("model",),
    as_of: DateLike = None,
    pricing: PriceBook | None = None,
    strict: bool = False,
    at: DateLike = None,
    progress: Progress | None = None,
) -> UsageReport:
    """Exact cost of recorded usage in JSON Lines files (or `-` for stdin), grouped by `by`.

    `by` names group keys: `model` (the canonical id), `day` (UTC), or a dotted path into each record
    (`metadata.user_id`, `tag`, `custom_id`, `workspace_id`). `as_of` prices records without a timestamp
    (default today). Unpriceable lines land in `report.problems`; `strict=True` raises on the first.
    """
    as_of = pricing_date(as_of, at, where="price_log")
    ledger = Ledger(by=by, as_of=as_of, pricing=pricing, strict=strict)
    for path in paths:
        ledger.add_path(str(path), progress)
    return ledger.finish()


def price_records(
    records: Iterable[Any],
    *,
    by: Sequence[str] = ("model",),
    as_of: DateLike = None,
    pricing: PriceBook | None = None,
    strict: bool = False,
    at: DateLike = None,
    name: str = "<records>",
) -> UsageReport:
    """Like `price_log`, for records already in memory (dicts in any accepted shape)."""
    as_of = pricing_date(as_of, at, where="price_records")
    ledger = Ledger(by=by, as_of=as_of, pricing=pricing, strict=strict)
    ledger.add_lines((json.dumps(r, default=str) for r in records), name)
    return ledger.finish()

"""`GET /v1/organizations/cost_report`: what Anthropic billed, per UTC day, in exact dollars.

Sources (Anthropic's docs, read 2026-11-30 through the docs mirror):
- API reference, platform.claude.com/docs/en/api/admin/cost_report (copy of 2026-02-12): query `starting_at`
  (RFC 3339, required; buckets starting on or after it), `ending_at` (buckets that end before it),
  `bucket_width` (`1d` only), `group_by[]` (`workspace_id`, `description`), `limit`, `page` (the previous
  `next_page`); answer `{data: [{starting_at, ending_at, results: [...]}], has_more, next_page}`; a result has
  `amount` ("Cost amount in lowest currency units (e.g. cents) as a decimal string. For example, "123.45" in
  "USD" represents $1.23"), `currency` ("Currently always USD"), and, when grouped by description, `cost_type`
  (`tokens`, `web_search`, `code_execution`), `token_type` (`uncached_input_tokens`, `output_tokens`,
  `cache_read_input_tokens`, `cache_creation.ephemeral_1h_input_tokens`, `..._5m_input_tokens`), `model`,
  `service_tier`, `context_window`, `inference_geo`, `speed`, `description`, `workspace_id`.
- Usage and Cost API guide, platform.claude.com/docs/en/manage-claude/usage-cost-api (copy of 2026-07-01):
  "All costs in USD, reported as decimal strings in lowest units (cents)"; daily buckets only; `1d` buckets:
  7 by default, 31 at most per page; follow `next_page` while `has_more`; Priority Tier costs are not in
  the cost endpoint; Claude Platform on AWS has no such endpoint.

So an amount is parsed as an exact decimal and divided by 100 (`Decimal.scaleb(-2)`: exact). What the docs
leave open, and is assumed here: `model` holds an API model id (as the usage report's does), resolved like
any model name, and a name costplan does not know is kept as written; an amount is never a JSON number (one
that is, in a saved file, is read exactly as written, never through a float); `ending_at` excludes the bucket
that ends exactly at it ("end before"), so the day after the last wanted day is asked for.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from costplan.errors import InputError
from costplan.org.admin import (
    AdminApiUnavailable,
    AdminConnection,
    admin_connection,
    http_get,
    paged,
    request_json,
    validated_page,
)

PATH = "/v1/organizations/cost_report"
WHAT = f"GET {PATH}"
MAX_BUCKETS_PER_PAGE = 31  # the documented maximum for 1d buckets
MAX_CENTS = Decimal(10) ** 15  # ten trillion dollars: an amount beyond it is a malformed answer
TOKEN_CLASSES = {  # the report's token_type -> costplan's token class
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
}


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class CostRow(_Answer):
    amount: Decimal
    currency: str = Field(min_length=1, max_length=10)
    cost_type: str | None = None
    token_type: str | None = None
    model: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    description: str | None = None
    workspace_id: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _cents(cls, value: Any) -> Decimal:
        """A decimal string (as documented), or a number read exactly; never NaN, infinite or absurd."""
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValueError("an amount is a decimal string of cents")
        try:
            cents = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {str(value)[:40]!r}") from None
        if not cents.is_finite() or abs(cents) >= MAX_CENTS:
            raise ValueError(f"not a plausible amount of cents: {str(value)[:40]!r}")
        return cents


class CostBucket(_Answer):
    starting_at: dt.datetime
    ending_at: dt.datetime
    results: list[CostRow]


class CostPage(_Answer):
    data: list[CostBucket]
    has_more: bool = False
    next_page: str | None = None


class BilledLine(NamedTuple):
    """One result of the report in dollars: its day, model (None: not grouped by description), token class
    (None for non-token costs or an ungrouped report) and cost type."""

    day: dt.date
    model: str | None
    token_class: str | None
    cost_type: str
    usd: Decimal


class CostReport(NamedTuple):
    """The billed side: every line, the days the report covers (a day with no cost is still covered), where it
    came from, and what was noticed while reading it."""

    lines: tuple[BilledLine, ...]
    days: frozenset[dt.date]
    source: str
    notes: tuple[str, ...]

    @property
    def by_description(self) -> bool:
        """Whether the report was grouped by description: only then does it name models and token classes."""
        return any(line.model is not None or line.token_class is not None for line in self.lines)


def lines_of(pages: Sequence[Any], source: str, *, live: bool = False) -> CostReport:
    """The report of validated pages; a page that fails validation names `source`, the page and the field (an
    InputError from a file; from the live API, AdminApiUnavailable, as a malformed answer)."""
    lines: list[BilledLine] = []
    days: set[dt.date] = set()
    notes: list[str] = []
    for index, raw in enumerate(pages):
        page = validated_page(
            CostPage,
            raw,
            source=source,
            index=index,
            pages=len(pages),
            live=live,
            fix="expected pages of GET /v1/organizations/cost_report",
        )
        for bucket in page.data:
            day = _day_of(bucket, source)
            if day in days:
                raise InputError(
                    f"{source}: the bucket of {day} appears twice", fix="keep each page once (overlapping pages?)"
                )
            days.add(day)
            for row in bucket.results:
                if row.currency.upper() != "USD":
                    raise InputError(f"{source}: {day}: currency {row.currency!r}", fix="costplan prices in USD only")
                kind = row.cost_type or ("tokens" if row.token_type else "total")
                token_class = TOKEN_CLASSES.get(row.token_type or "") if kind == "tokens" else None
                if kind == "tokens" and row.token_type and token_class is None:
                    notes.append(f"{day}: token_type {row.token_type!r} is not one costplan knows; kept in the day")
                lines.append(BilledLine(day, row.model, token_class, kind, row.amount.scaleb(-2)))
        if index == len(pages) - 1 and page.has_more:
            notes.append(f"{source}: the last page says has_more: later days may be missing")
    return CostReport(tuple(lines), frozenset(days), source, tuple(dict.fromkeys(notes)))


def _day_of(bucket: CostBucket, source: str) -> dt.date:
    start, end = bucket.starting_at, bucket.ending_at
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError(
            f"{source}: bucket {start}: times without a UTC offset", fix="save the API's answer as it came"
        )
    start, end = start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)
    if end - start != dt.timedelta(days=1) or start.time() != dt.time(0):
        raise InputError(
            f"{source}: bucket {start.isoformat()} is not one UTC day", fix="ask for bucket_width=1d (the only width)"
        )
    return start.date()


def read_cost_report(path: str | Path) -> CostReport:
    """Saved answers of the endpoint: one page, a list of pages, or JSON Lines of pages (amounts kept exact)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"cost report not found: {path}", fix="check the path, or use --reconcile api") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {type(exc).__name__}", fix="check the file") from None
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
        pages = data if isinstance(data, list) else [data]
    except (ValueError, RecursionError):
        pages = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                pages.append(json.loads(line, parse_float=Decimal, parse_constant=_no_constant))
            except (ValueError, RecursionError):
                raise InputError(f"{path}:{number}: not JSON", fix="save the API's answer as it came") from None
    return lines_of(pages, str(path))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def fetch_cost_report(
    first_day: dt.date, last_day: dt.date, conn: AdminConnection | None = None, *, by_description: bool = True
) -> CostReport:
    """The report of `first_day`..`last_day` (UTC, inclusive) from the API, every page followed; grouped by
    description (model, token type) unless told otherwise."""
    if last_day < first_day:
        raise InputError(f"no days to ask for: {first_day} is after {last_day}", fix="check the dates")
    conn = conn or admin_connection()
    start = dt.datetime.combine(first_day, dt.time(0), dt.timezone.utc)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), dt.timezone.utc)
    params = [
        ("starting_at", start.isoformat().replace("+00:00", "Z")),
        ("ending_at", end.isoformat().replace("+00:00", "Z")),
        ("bucket_width", "1d"),
        ("limit", str(MAX_BUCKETS_PER_PAGE)),
    ]
    if by_description:
        params.append(("group_by[]", "description"))

    def page(cursor: str | None) -> Mapping[str, Any]:
        query = params + ([("page", cursor)] if cursor else [])
        answer = request_json(conn, WHAT, lambda limit: http_get(conn, PATH, query, limit))
        if not isinstance(answer, Mapping):
            raise AdminApiUnavailable(f"malformed answer: {WHAT} answered {type(answer).__name__}, not an object")
        return answer

    report = lines_of(list(paged(page, WHAT)), f"the answer of {WHAT}", live=True)
    return report._replace(source=f"Cost API ({conn.base_url}{PATH}), {first_day}..{last_day}")

"""`GET /v1/organizations/rate_limits`: the organisation's configured limits, read at the boundary.

Sources (Anthropic's docs, read 2026-11-30 through the docs mirror and the SDK):
- Rate Limits API guide, platform.claude.com/docs/en/manage-claude/rate-limits-api (copy of 2026-05-29):
  an Admin API key; entries `{type: "rate_limit", group_type, models, limits: [{type, value}]}`; `models`
  lists every id and alias counting against a `model_group`, `null` for other groups; group types
  `model_group`, `batch`, `token_count`, `files`, `skills`, `web_search`; `?group_type=` and `?model=` filter
  (an unknown model is a 404); "Responses are currently always a single page": loop on `next_page` anyway.
- API reference, platform.claude.com/docs/en/api/admin/rate_limits/list (copy of 2026-07-02): the same
  fields, `next_page`; later copies add `limit` (1-1000 entries a page).
- anthropic SDK 2.14 (`types/organization/organization_rate_limit.py`): the newer answer names the group as an
  object, `group: {id, type, display_name}` (`display_name` on model groups only), and gives the entry an `id`.

Both shapes are accepted: the group's kind is `group.type`, else `group_type`. Fields not listed here are
ignored (an answer may grow); a missing or malformed field the reader needs is an error naming it. Not
documented, hence assumed: limit values are whole numbers (the SDK types them `int`; the docs say `number`),
and a limiter type may appear at most once per group (a repeat is refused rather than one of them picked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from costplan.errors import InputError
from costplan.org.admin import (
    AdminApiUnavailable,
    AdminConnection,
    admin_connection,
    http_get,
    paged,
    request_json,
    sdk_client,
    sdk_reply,
    validated_page,
)
from costplan.org.limits import GROUP_NAMES, LimitGroup, OrgLimits

PATH = "/v1/organizations/rate_limits"
WHAT = f"GET {PATH}"
MAX_LIMIT_VALUE = 10**15  # far beyond any limit: a larger value is a malformed answer, not a limit


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class LimitValue(_Answer):
    type: str = Field(min_length=1, max_length=200)
    value: int = Field(ge=0, le=MAX_LIMIT_VALUE)

    @field_validator("value", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        """`4000`, `4000.0` and "4000" are a limit; 4000.5, true and "lots" are not."""
        if isinstance(value, bool):
            raise ValueError("a limit is a number, not true/false")
        if isinstance(value, (float, Decimal)) and value == int(value):
            return int(value)
        return value


class GroupRef(_Answer):
    id: str | None = None
    type: str = Field(min_length=1, max_length=100)
    display_name: str | None = None


class RateLimitEntry(_Answer):
    type: str | None = None
    id: str | None = None
    group_type: str | None = Field(default=None, min_length=1, max_length=100)
    group: GroupRef | None = None
    models: list[str] | None = None
    limits: list[LimitValue]

    @model_validator(mode="after")
    def _kind(self) -> RateLimitEntry:
        if self.group is None and self.group_type is None:
            raise ValueError("an entry needs `group_type` or `group.type`")
        kinds = [limit.type for limit in self.limits]
        repeated = sorted({k for k in kinds if kinds.count(k) > 1})
        if repeated:
            raise ValueError(f"limiter type {', '.join(repeated)} appears twice in one group")
        return self

    @property
    def kind(self) -> str:
        return self.group.type if self.group is not None else str(self.group_type)


class RateLimitPage(_Answer):
    data: list[RateLimitEntry]
    next_page: str | None = None
    has_more: bool | None = None


def group_of(entry: RateLimitEntry) -> LimitGroup:
    models = tuple(dict.fromkeys(entry.models or ()))
    name = (entry.group.display_name if entry.group else None) or GROUP_NAMES.get(entry.kind)
    if name is None:  # a model group in the older shape has no display name: named by its shortest model id
        name = f"{min(models, key=len)} group" if models else entry.kind
    group_id = entry.group.id if entry.group else None
    return LimitGroup(entry.kind, name, group_id, models, {v.type: v.value for v in entry.limits})


def parse_pages(pages: list[Any], source: str, *, live: bool = False) -> list[LimitGroup]:
    """Groups of validated answer pages (an invalid one refused as `admin.validated_page` says)."""
    groups: list[LimitGroup] = []
    for index, page in enumerate(pages):
        parsed = validated_page(
            RateLimitPage,
            page,
            source=source,
            index=index,
            pages=len(pages),
            live=live,
            fix="expected the answer of GET /v1/organizations/rate_limits",
        )
        groups += [group_of(entry) for entry in parsed.data]
    return groups


def fetch_org_limits(
    conn: AdminConnection | None = None,
    *,
    model: str | None = None,
    group_type: str | None = None,
    use_sdk: bool | None = None,
    today: dt.date | None = None,
) -> OrgLimits:
    """The organisation's limits from the Rate Limits API, every page followed.

    `conn` defaults to the environment's (`ANTHROPIC_ADMIN_KEY`, `ANTHROPIC_BASE_URL`); `model` and
    `group_type` are the endpoint's filters. `use_sdk` None uses the SDK when it has
    `organization.rate_limits` and plain HTTP otherwise; True/False force one (the tests run both).
    Raises AdminApiRejected (a refused key, an unknown model: exit 2) or AdminApiUnavailable (exit 3).
    """
    conn = conn or admin_connection()
    params: list[tuple[str, str]] = []
    if model:
        params.append(("model", model))
    if group_type:
        params.append(("group_type", group_type))
    client = _sdk_rate_limits(conn) if use_sdk is not False else None
    if use_sdk and client is None:
        raise InputError("the installed anthropic SDK has no organization.rate_limits", fix="pip install -U anthropic")
    fix_404 = f"no rate-limit group holds the model `{model}`; check the name" if model else ""

    def page(cursor: str | None) -> Mapping[str, Any]:
        query = params + ([("page", cursor)] if cursor else [])
        if client is not None:
            kwargs = dict(query)
            attempt = lambda limit: sdk_reply(lambda: client.list(**kwargs, timeout=limit))  # noqa: E731
        else:
            attempt = lambda limit: http_get(conn, PATH, query, limit)  # noqa: E731
        answer = request_json(conn, WHAT, attempt, fix_404=fix_404)
        if not isinstance(answer, Mapping):
            raise AdminApiUnavailable(f"malformed answer: {WHAT} answered {type(answer).__name__}, not an object")
        return answer

    pages = paged(page, WHAT)
    groups = parse_pages(list(pages), f"the answer of {WHAT}", live=True)
    day = today or dt.datetime.now(dt.timezone.utc).date()
    return OrgLimits(tuple(groups), f"Rate Limits API ({conn.base_url}{PATH})", day)


def _sdk_rate_limits(conn: AdminConnection) -> Any:
    """`client.organization.rate_limits.with_raw_response` of the installed SDK, or None where it has none."""
    try:
        client = sdk_client(conn)
        return client.organization.rate_limits.with_raw_response
    except (ImportError, AttributeError):
        return None

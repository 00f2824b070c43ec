"""What an organisation's limits are (`OrgLimits`), wherever they were read, and the workload section made of them.

A group is what the Rate Limits API calls a rate-limit group: one bucket of limits shared by its models (a
model group such as "Claude Sonnet 4.x"), or one API surface (Message Batches, token counting, web search,
Files, Skills). Its limits keep the API's limiter names (`requests_per_minute`, ...), so nothing is lost when
a limiter costplan does not model appears; `workload_limits` then picks the three the estimate holds demand
against and the batch queue:

| workload key          | limiter type read                                                             |
|-----------------------|-------------------------------------------------------------------------------|
| `rpm`                 | `requests_per_minute`                                                         |
| `itpm`                | `input_tokens_per_minute_cache_aware`, else `input_tokens_per_minute`          |
| `otpm`                | `output_tokens_per_minute`                                                    |
| `batch_queue_limit`   | `enqueued_batch_requests` of the `batch` group                                |

The limiter names are the API's (the Rate Limits API guide's example and the workspace endpoint's list of
types); which ITPM variant a group carries when it has both is not documented: the cache-aware one is read,
because the rate-limits page says only uncached input counts toward ITPM on most models. Whether cache reads
count is not in the answer either, so the published pool's rule (`cache_reads_count`) stays in force.

Keys: a model group whose models costplan's tables put in one pool is written under that pool's id
(`sonnet-4`), which the estimate matches first; a group costplan has no pool for is written once per model
(the canonical id), each then its own bucket in the estimate: a note says so when such a group holds more
than one model, since demand would then not be summed across them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from costplan.errors import InputError

LIMITER_RPM = "requests_per_minute"
LIMITER_ITPM = "input_tokens_per_minute"
LIMITER_ITPM_CACHE_AWARE = "input_tokens_per_minute_cache_aware"
LIMITER_OTPM = "output_tokens_per_minute"
LIMITER_BATCH_QUEUE = "enqueued_batch_requests"
GROUP_NAMES = {  # a name for the groups whose answer carries none (every group but model groups)
    "batch": "Message Batches",
    "token_count": "Token counting",
    "files": "Files API",
    "skills": "Skills",
    "web_search": "Web search tool",
}


class LimitGroup(NamedTuple):
    """One rate-limit group: its kind, a name to show, the API's group id where given, its models, its limits."""

    kind: str  # model_group | batch | token_count | files | skills | web_search | what the API adds later
    name: str
    group_id: str | None
    models: tuple[str, ...]
    limits: Mapping[str, int]  # limiter type (the API's name) -> value

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "group_id": self.group_id,
            "models": list(self.models),
            "limits": dict(self.limits),
        }


class OrgLimits(NamedTuple):
    """The limits read from one source on one day, with what the reader noticed on the way."""

    groups: tuple[LimitGroup, ...]
    source: str  # "Rate Limits API (https://...)" or "headers of FILE"
    as_of: dt.date
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "groups": [g.to_dict() for g in self.groups],
            "notes": list(self.notes),
        }


class WorkloadLimits(NamedTuple):
    """A workload's `limits:` section and `batch_queue_limit`, made from an organisation's limits."""

    limits: dict[str, dict[str, int]]  # key (pool id or model id) -> {rpm, itpm, otpm}
    batch_queue_limit: int | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Exactly what a workload file takes (no other key, so it can be pasted or merged as it is)."""
        out: dict[str, Any] = {"limits": {k: dict(v) for k, v in self.limits.items()}}
        if self.batch_queue_limit is not None:
            out["batch_queue_limit"] = self.batch_queue_limit
        return out


def per_minute(group: LimitGroup) -> dict[str, int] | None:
    """{rpm, itpm, otpm} of a group, or None when one of the three is missing from it."""
    itpm = group.limits.get(LIMITER_ITPM_CACHE_AWARE, group.limits.get(LIMITER_ITPM))
    rpm, otpm = group.limits.get(LIMITER_RPM), group.limits.get(LIMITER_OTPM)
    if rpm is None or itpm is None or otpm is None or min(rpm, itpm, otpm) <= 0:
        return None
    return {"rpm": rpm, "itpm": itpm, "otpm": otpm}


def workload_limits(org: OrgLimits, book: Any = None, tables: Any = None) -> WorkloadLimits:
    """The `limits:` section a workload takes, from `org` (see the module docstring for the keys).

    `book` (a PriceBook) resolves the API's model names to costplan's ids and `tables` (RateTables) finds
    costplan's pool for them; both default to the shipped ones.
    """
    from costplan.billing.catalog import default_pricebook
    from costplan.planning.ratelimits import load_ratelimits

    book = book or default_pricebook()
    tables = tables or load_ratelimits()
    limits: dict[str, dict[str, int]] = {}
    notes: list[str] = list(org.notes)
    queue: int | None = None
    for group in org.groups:
        if group.kind == "batch":
            queue = group.limits.get(LIMITER_BATCH_QUEUE, queue)
            continue
        if group.kind != "model_group":
            continue  # token counting, files, skills, web search: a workload has no demand to hold against them
        values = per_minute(group)
        if values is None:
            notes.append(f"{group.name}: the answer lacks requests, input or output tokens per minute; not written")
            continue
        pools, unknown = _pools_of(group.models, book, tables, org.as_of)
        if len(pools) == 1 and not unknown:
            _put(limits, next(iter(pools)), values, group, notes)
            continue
        if len(pools) > 1:
            notes.append(
                f"{group.name}: the API puts {', '.join(sorted(pools))} in one bucket, costplan's tables do not; "
                "written per costplan pool, so demand is not summed across them"
            )
            for pool_id in sorted(pools):
                _put(limits, pool_id, values, group, notes)
        models = sorted(set(unknown))
        if len(models) > 1:
            notes.append(
                f"{group.name}: {', '.join(models)} share one bucket that costplan's tables do not know; written "
                "per model, so demand is not summed across them"
            )
        for model in models:
            _put(limits, model, values, group, notes)
    return WorkloadLimits(limits, queue, tuple(notes))


def _put(
    limits: dict[str, dict[str, int]], key: str, values: dict[str, int], group: LimitGroup, notes: list[str]
) -> None:
    if key in limits and limits[key] != values:
        notes.append(f"{key}: two groups give different limits; the first ({limits[key]}) is kept, not {group.name}'s")
        return
    limits.setdefault(key, dict(values))


def _pools_of(models: Sequence[str], book: Any, tables: Any, day: dt.date) -> tuple[set[str], list[str]]:
    """costplan pool ids of the group's models, and the canonical ids of those no pool holds (names costplan
    does not know at all are skipped: the estimate cannot plan for them)."""
    pools: set[str] = set()
    unknown: list[str] = []
    for name in models:
        try:
            record = book.resolve(name, day)
        except InputError:
            continue
        pool = tables.pool_of(record.id, record.aliases, day)
        if pool is None:
            unknown.append(record.id)
        else:
            pools.add(pool.id)
    return pools, unknown

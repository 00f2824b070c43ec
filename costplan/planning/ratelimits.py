"""Rate-limit tables (data in `pricing/ratelimits.yaml`): pools, limits per usage tier, batch queues, spend caps.

The tables are versioned by date because both the usage-tier scheme (1-4 until 2026-06-26, Start/Build/Scale
since) and the pools (which models share a bucket) changed during 2026, and a plan made for an old date
must be judged by the limits of that date. The schema is strict so a typo in the data fails loudly.

"Usage tier" is the account's rate-limit tier (build, scale, ...), never the prompt-length price tier; the
file's `tiers:` keys are usage tiers. The demand these limits are held against is `planning.demand`'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costplan.dated import in_force_or_first, latest_with
from costplan.errors import InputError, field_path
from costplan.planning.warning_log import WarningLog
from costplan.yamlfile import read_yaml_mapping

LimitName = Literal["rpm", "itpm", "otpm", "batch_queue"]
Confidence = Literal["official", "official-derived", "third-party-consistent", "third-party-single", "uncertain"]
SCHEME_CHANGE = dt.date(2026, 6, 26)
_DATED = re.compile(r"-\d{8}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a limit was read."""

    title: str
    url: str | None = None
    read: dt.date | None = None


class Scheme(_Strict):
    """Usage-tier names in force from `since` until the next scheme."""

    name: str
    since: dt.date
    tiers: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)


class TierLimits(_Strict):
    """Messages API limits of one pool at one usage tier, per minute."""

    rpm: int = Field(gt=0, description="Requests per minute.")
    itpm: int = Field(gt=0, description="Input tokens per minute (uncached input + cache writes).")
    otpm: int = Field(gt=0, description="Output tokens per minute.")


class LimitSnapshot(_Strict):
    """A pool's limits per usage tier, in force from `since`."""

    since: dt.date
    sources: tuple[str, ...] = Field(min_length=1)
    tiers: dict[str, TierLimits]


class Member(_Strict):
    """A model in a pool between two dates (`until` exclusive)."""

    model: str
    since: dt.date
    until: dt.date | None = None
    confidence: Confidence = "official"


class Pool(_Strict):
    """One rate-limit bucket, shared by its member models."""

    id: str
    name: str
    cache_reads_count: bool = Field(default=False, description="Cache reads count toward ITPM (dagger rows).")
    members: tuple[Member, ...] = Field(min_length=1)
    limits: tuple[LimitSnapshot, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Pool:
        days = [s.since for s in self.limits]
        if days != sorted(set(days)):
            raise ValueError(f"pool `{self.id}`: limit snapshots overlap or are out of order; list oldest first")
        return self


class BatchLimits(_Strict):
    """Message Batches limits of one usage tier, shared across all models."""

    rpm: int = Field(gt=0)
    queue: int = Field(gt=0, description="Batch requests in the processing queue at once.")
    per_batch: int = Field(gt=0, description="Requests in one batch.")


class BatchSnapshot(_Strict):
    since: dt.date
    sources: tuple[str, ...] = Field(min_length=1)
    tiers: dict[str, BatchLimits]


class SpendSnapshot(_Strict):
    since: dt.date
    sources: tuple[str, ...] = Field(min_length=1)
    tiers: dict[str, Decimal]


class OtpmBasis(_Strict):
    since: dt.date
    basis: Literal["max_tokens", "output"]
    sources: tuple[str, ...] = Field(min_length=1)


class RateLimitFile(_Strict):
    """The whole `pricing/ratelimits.yaml`."""

    schema_version: Literal[1] = 1
    version: str
    sources: dict[str, Source]
    schemes: tuple[Scheme, ...] = Field(min_length=1)
    otpm_basis: tuple[OtpmBasis, ...] = Field(min_length=1)
    batch: tuple[BatchSnapshot, ...] = Field(min_length=1)
    spend_caps: tuple[SpendSnapshot, ...] = Field(min_length=1)
    pools: tuple[Pool, ...]

    @model_validator(mode="after")
    def _consistent(self) -> RateLimitFile:
        cited: list[tuple[str, tuple[str, ...]]] = [(f"scheme {s.name}", s.sources) for s in self.schemes]
        cited += [(f"batch {s.since}", s.sources) for s in self.batch]
        cited += [(f"spend_caps {s.since}", s.sources) for s in self.spend_caps]
        cited += [(f"otpm_basis {s.since}", s.sources) for s in self.otpm_basis]
        cited += [(f"pool {p.id} {s.since}", s.sources) for p in self.pools for s in p.limits]
        for where, keys in cited:
            missing = [k for k in keys if k not in self.sources]
            if missing:
                raise ValueError(f"{where} cites unknown sources {missing}; add them under `sources`")
        ids = [p.id for p in self.pools]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate pool id")
        for series in (self.schemes, self.batch, self.spend_caps, self.otpm_basis):
            days = [s.since for s in series]
            if days != sorted(set(days)):
                raise ValueError("dated entries overlap or are out of order; list them oldest first")
        return self


def _model_keys(model_id: str, aliases: tuple[str, ...] = ()) -> set[str]:
    names = {model_id, *aliases}
    return names | {_DATED.sub("", n) for n in names}


class RateTables:
    """Lookups over one validated rate-limit file."""

    def __init__(self, table: RateLimitFile) -> None:
        self.table = table

    @property
    def version(self) -> str:
        return self.table.version

    @property
    def first_day(self) -> dt.date:
        return self.table.schemes[0].since

    def scheme(self, day: dt.date) -> Scheme:
        return in_force_or_first(self.table.schemes, day)

    def scheme_of(self, usage_tier: str) -> Scheme | None:
        """The scheme that names a usage tier, or None for a name no scheme has."""
        for scheme in self.table.schemes:
            if usage_tier in scheme.tiers:
                return scheme
        return None

    def usage_tier_names(self) -> list[str]:
        return sorted({t for s in self.table.schemes for t in s.tiers})

    def last_day_of(self, scheme: Scheme) -> dt.date:
        """The last day a scheme was in force (for a legacy usage tier named after the change)."""
        later = [s.since for s in self.table.schemes if s.since > scheme.since]
        return (min(later) - dt.timedelta(days=1)) if later else dt.date.max

    def pool_of(self, model_id: str, aliases: tuple[str, ...], day: dt.date) -> Pool | None:
        """The pool a model draws on on `day`, or None when no table lists it."""
        keys = _model_keys(model_id, aliases)
        for pool in self.table.pools:
            for member in pool.members:
                if member.model in keys and member.since <= day and (member.until is None or day < member.until):
                    return pool
        # A model listed only for other dates still belongs to the same bucket: better than no limit.
        for pool in self.table.pools:
            if any(m.model in keys for m in pool.members):
                return pool
        return None

    def pool(self, pool_id: str) -> Pool | None:
        return next((p for p in self.table.pools if p.id == pool_id), None)

    def limits(self, pool: Pool, usage_tier: str, day: dt.date) -> TierLimits | None:
        """The pool's limits at `usage_tier` on `day`, looking back to older snapshots that name it."""
        return _tier_entry(pool.limits, usage_tier, day)

    def batch(self, usage_tier: str, day: dt.date) -> BatchLimits | None:
        return _tier_entry(self.table.batch, usage_tier, day)

    def spend_cap(self, usage_tier: str, day: dt.date) -> Decimal | None:
        """The monthly spend cap of a usage tier: past it the API pauses usage until the next month."""
        return _tier_entry(self.table.spend_caps, usage_tier, day)

    def otpm_basis(self, day: dt.date) -> str:
        return in_force_or_first(self.table.otpm_basis, day).basis


V_co = TypeVar("V_co", covariant=True)


class _PerTier(Protocol[V_co]):
    """A dated snapshot with a value per usage tier (limits, batch limits, spend caps)."""

    @property
    def since(self) -> dt.date: ...

    @property
    def tiers(self) -> Mapping[str, V_co]: ...


def _tier_entry(series: Sequence[_PerTier[V_co]], usage_tier: str, day: dt.date) -> V_co | None:
    """A usage tier's value from the closest snapshot that names it (`dated.latest_with`)."""
    found = latest_with(series, day, lambda snapshot: usage_tier in snapshot.tiers)
    return None if found is None else found.tiers[usage_tier]


def read_ratelimit_file(path: Path) -> RateTables:
    """Parse and validate a rate-limit file; keys starting with `x-` only hold YAML anchors."""
    data = read_yaml_mapping(
        path, what="rate-limit file", missing_fix="reinstall costplan", shape_fix="see pricing/ratelimits.yaml"
    )
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        return RateTables(RateLimitFile.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_path(first["loc"])
        raise InputError(f"{path}: {where}: {first['msg']}", fix="see the comments at the top of the file") from None


@functools.lru_cache(maxsize=4)
def load_ratelimits(path: str | None = None) -> RateTables:
    """The shipped tables (or another file with the same schema)."""
    if path is None:
        from costplan.billing.bookcache import shipped_pricing_dir

        return read_ratelimit_file(shipped_pricing_dir() / "ratelimits.yaml")
    return read_ratelimit_file(Path(path))


# --- which usage tier, on which copy of the tables ----------------------------------------------------


class UsageTierChoice(NamedTuple):
    """The usage tier the headroom is shown for, and the date of the limit tables that judge it."""

    name: str
    limits_day: dt.date


def choose_usage_tier(requested: str | None, tables: RateTables, as_of: dt.date, log: WarningLog) -> UsageTierChoice:
    """Resolve a usage tier (None: the lowest of the scheme in force) across the scheme change of 2026-06-26.

    A legacy tier (1-4) named after the change is judged by its last published limits, a floor for the
    account's current ones (no organization got lower limits); a new tier named before the change by its first
    published limits. Both say so. A date before the first copy of the tables uses that copy.
    """
    name = requested
    limits_day = as_of
    if as_of < tables.first_day:
        log.add(f"rate-limit tables start on {tables.first_day}; used that copy for {as_of}")
        limits_day = tables.first_day
    in_force = tables.scheme(limits_day)
    if name is None:
        name = in_force.tiers[0]
        log.add(f"no usage tier given; headroom shown for usage tier {name} (set `tier:` in the workload)")
    if name in ("custom", "evaluation"):  # no published table: the workload's own limits (`limits:`) judge it
        return UsageTierChoice(name, limits_day)
    scheme = tables.scheme_of(name)
    if scheme is None:
        raise InputError(
            f"unknown usage tier `{name}`", fix=f"use one of {', '.join(tables.usage_tier_names())} or custom"
        )
    if scheme.name != in_force.name:
        if scheme.since < in_force.since:
            limits_day = tables.last_day_of(scheme)
            log.add(
                f"usage tier {name} is from the {scheme.name} scheme, replaced on {in_force.since}; headroom uses "
                f"its last published limits ({limits_day}), a floor for your current ones (no organization got "
                f"lower limits); use {', '.join(in_force.tiers)}"
            )
        else:
            limits_day = scheme.since
            log.add(
                f"usage tier {name} did not exist on {as_of} (the {scheme.name} scheme starts {scheme.since}); "
                f"used its first published limits"
            )
    return UsageTierChoice(name, limits_day)

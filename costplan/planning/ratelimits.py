"""Rate-limit tables (data in `pricing/ratelimits.yaml`) and the headroom maths on top of them.

The tables are versioned by date because both the tier scheme (1-4 until 2026-06-26, Start/Build/Scale
since) and the pools (which models share a bucket) changed during 2026, and a plan made for an old date
must be judged by the limits of that date. The schema is strict so a typo in the data fails loudly.

Demand at the busiest minute is a high quantile of Poisson arrivals, not the mean: a plan that fits on
average is throttled in every busy minute.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costplan.dated import in_force_or_first, latest_with
from costplan.errors import InputError, field_path
from costplan.yamlfile import read_yaml_mapping

LimitName = Literal["rpm", "itpm", "otpm", "batch_queue"]
Confidence = Literal["official", "official-derived", "third-party-consistent", "third-party-single", "uncertain"]
SCHEME_CHANGE = dt.date(2026, 6, 26)
QUANTILE = 0.99
_DATED = re.compile(r"-\d{8}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a limit was read."""

    title: str
    url: str | None = None
    read: dt.date | None = None


class Scheme(_Strict):
    """Tier names in force from `since` until the next scheme."""

    name: str
    since: dt.date
    tiers: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)


class Limits(_Strict):
    """Messages API limits of one pool at one tier, per minute."""

    rpm: int = Field(gt=0, description="Requests per minute.")
    itpm: int = Field(gt=0, description="Input tokens per minute (uncached input + cache writes).")
    otpm: int = Field(gt=0, description="Output tokens per minute.")


class LimitSnapshot(_Strict):
    """A pool's limits per tier, in force from `since`."""

    since: dt.date
    sources: tuple[str, ...] = Field(min_length=1)
    tiers: dict[str, Limits]


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
    """Message Batches limits of one tier, shared across all models."""

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

    def scheme_of_tier(self, tier: str) -> Scheme | None:
        for scheme in self.table.schemes:
            if tier in scheme.tiers:
                return scheme
        return None

    def last_day_of(self, scheme: Scheme) -> dt.date:
        """The last day a scheme was in force (for a legacy tier named after the change)."""
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

    def limits(self, pool: Pool, tier: str, day: dt.date) -> Limits | None:
        """The pool's limits at `tier` on `day`, looking back to older snapshots that name the tier."""
        return _tier_entry(pool.limits, tier, day)

    def batch(self, tier: str, day: dt.date) -> BatchLimits | None:
        return _tier_entry(self.table.batch, tier, day)

    def spend_cap(self, tier: str, day: dt.date) -> Decimal | None:
        return _tier_entry(self.table.spend_caps, tier, day)

    def otpm_basis(self, day: dt.date) -> str:
        return in_force_or_first(self.table.otpm_basis, day).basis


def _tier_entry(series: Any, tier: str, day: dt.date) -> Any:
    """A tier's value from the closest snapshot that names it (`dated.latest_with`)."""
    found = latest_with(series, day, lambda snapshot: tier in snapshot.tiers)
    return None if found is None else found.tiers[tier]


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
        from costplan.billing.tables import shipped_pricing_dir

        return read_ratelimit_file(shipped_pricing_dir() / "ratelimits.yaml")
    return read_ratelimit_file(Path(path))


# --- headroom maths -------------------------------------------------------------------------------------


def poisson_quantile(lam: float, q: float = QUANTILE) -> int:
    """Smallest n with P(N <= n) >= q for N ~ Poisson(lam).

    Exact summation up to lam = 1000 (log-space pmf so large means do not underflow); above it the
    Cornish-Fisher expansion of the normal approximation, accurate to about one request there.
    """
    if lam <= 0:
        return 0
    if lam > 1000:
        z = _normal_quantile(q)
        return math.ceil(lam + z * math.sqrt(lam) + (z * z - 1) / 6 - 0.5)
    log_p = -lam
    cdf = math.exp(log_p)
    n = 0
    while cdf < q:
        n += 1
        log_p += math.log(lam) - math.log(n)
        cdf += math.exp(log_p)
    return n


def _normal_quantile(q: float) -> float:
    """Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    )
    b = (
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    )
    c = (
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    )
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if not 0 < q < 1:
        raise ValueError("quantile must be in (0, 1)")
    low = 0.02425
    if q < low:
        t = math.sqrt(-2 * math.log(q))
        return (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / (
            (((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1
        )
    if q > 1 - low:
        return -_normal_quantile(1 - q)
    t = q - 0.5
    r = t * t
    return (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * t
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )


def token_demand(lam: float, mean: float, mean_square: float, q: float = QUANTILE, n_q: int | None = None) -> float:
    """Tokens in a minute at quantile q when lam requests arrive (Poisson) with sizes of the given moments.

    N_q * E[X] + z_q * sqrt(lam * Var[X]): the count quantile at the mean size, plus the normal quantile of
    the size spread. Exactly N_q * X for a constant size; never below the compound-Poisson normal
    approximation (standard deviations are subadditive); and nondecreasing in lam, so less traffic never
    shows more demand.
    """
    if lam <= 0:
        return 0.0
    n = poisson_quantile(lam, q) if n_q is None else n_q
    spread = mean_square - mean * mean
    spread = spread if spread > 1e-9 * mean * mean else 0.0  # float noise of a constant size
    z = Z_QUANTILE if q == QUANTILE else _normal_quantile(q)
    return n * mean + z * math.sqrt(lam * spread)


Z_QUANTILE = _normal_quantile(QUANTILE)


def headroom(demand: float, limit: float) -> float:
    """1 - demand/limit: 0.3 means 30 % to spare, negative means throttled at the busiest minute."""
    return 1.0 - demand / limit

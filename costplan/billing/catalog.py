"""The loaded price tables: which model a name means, and which prices were in force on a day.

Logs from Bedrock, Vertex and OpenRouter carry their own spellings of the same model, so a name is tried
as given, then in each platform's normal form, before it is called unknown.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from costplan.billing.bookcache import load_table, overlay_paths
from costplan.billing.records import FeePeriod, ModelRecord, Period, PriceTable
from costplan.billing.schedule import RateSchedule, build_schedule
from costplan.dated import in_force, index_in_force
from costplan.errors import InputError, StaleTableWarning, UnknownModelError, UnpricedModelError

_BEDROCK = re.compile(r"^(?:(?:us|eu|apac|global|jp|au|ca|us-gov)\.)?anthropic\.(?P<id>.+?)(?:-v\d+(?::\d+)?)?$")
_VERTEX = re.compile(r"^(?P<stem>[a-z0-9.-]+?)(?:-v\d+)?@(?P<date>\d{8}|default|latest)$")
_DIGIT_DOT = re.compile(r"(?<=\d)\.(?=\d)")
_DATED = re.compile(r"^(?P<stem>.+)-(?P<date>\d{8})$")
STALE_DAYS = 60  # a table older than this, relative to the day priced, earns a warning


def _undated(model_id: str) -> str | None:
    match = _DATED.match(model_id)
    return match.group("stem") if match else None


def candidate_names(name: str) -> list[str]:
    """Spellings to try for `name`, most literal first (Bedrock, Vertex, OpenRouter forms undone)."""
    raw = name.strip()
    lowered = raw.lower()
    out = [raw, lowered]
    if lowered.startswith("anthropic/"):  # OpenRouter: anthropic/claude-sonnet-4.5[:beta]
        stem = lowered.split("/", 1)[1].split(":", 1)[0]
        out += [f"anthropic/{stem}", stem, _DIGIT_DOT.sub("-", stem)]
    match = _BEDROCK.match(lowered)
    if match:
        out += [match.group("id"), _DIGIT_DOT.sub("-", match.group("id"))]
    match = _VERTEX.match(lowered)
    if match:
        stem, date = match.group("stem"), match.group("date")
        out += [f"{stem}-{date}", stem] if date.isdigit() else [stem]
    out.append(_DIGIT_DOT.sub("-", lowered))
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class PriceBook:
    """An immutable, indexed view of one pricing file (shipped tables plus any overlays)."""

    table: PriceTable
    origin: tuple[str, ...] = ()
    _names: dict[str, ModelRecord] = field(init=False, repr=False, compare=False)
    _since: dict[str, list[dt.date]] = field(init=False, repr=False, compare=False)
    cache: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: dict[str, ModelRecord] = {}
        for record in self.table.models:
            for name in (record.id, *record.aliases, *record.platform_ids):
                names[name] = record
                names.setdefault(name.lower(), record)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_since", {m.id: [p.since for p in m.periods] for m in self.table.models})
        # Values derived from this immutable book, keyed by what they depend on (the price hot path's cache).
        object.__setattr__(self, "cache", {})

    @property
    def version(self) -> str:
        return self.table.version or "unversioned"

    @property
    def models(self) -> tuple[ModelRecord, ...]:
        return self.table.models

    def resolve(self, name: str, at: dt.date | None = None) -> ModelRecord:
        """The model a name means; `-latest` forms pick the newest model released by `at`."""
        found = self._names.get(name)
        if found is not None:
            return found
        if not isinstance(name, str) or not name.strip():
            raise InputError("model name is empty", fix="pass an API model id such as claude-sonnet-4-6")
        for candidate in candidate_names(name):
            found = self._names.get(candidate)
            if found is not None:
                return found
            stem = candidate[: -len("-latest")] if candidate.endswith("-latest") else candidate
            latest = self._latest(stem, at)  # `-latest`, or an undated name as OpenRouter and Bedrock write it
            if latest is not None:
                return latest
        raise UnknownModelError(name, self.suggest(name))

    def _latest(self, stem: str, at: dt.date | None) -> ModelRecord | None:
        day = at or dt.datetime.now(dt.timezone.utc).date()
        matches = [
            m
            for m in self.table.models
            if (m.id == stem or stem in m.aliases or _undated(m.id) == stem)
            and (m.released is None or m.released <= day)
        ]
        return max(matches, key=lambda m: m.released or dt.date.min, default=None)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        known = sorted({m.id for m in self.table.models} | {a for m in self.table.models for a in m.aliases})
        return difflib.get_close_matches(candidate_names(name)[-1], known, n=n, cutoff=0.5)

    def period(self, record: ModelRecord, at: dt.date) -> Period:
        """The period in force on `at` (the last one whose `since` is on or before it)."""
        if not record.periods:
            raise UnpricedModelError(
                f"`{record.id}` has no published price: {record.unpriced_reason}",
                fix="add a price in a pricing overlay if you have one (pricing/README.md)",
            )
        days = self._since[record.id]
        index = index_in_force(days, at)
        if index < 0:
            raise UnpricedModelError(
                f"`{record.id}` had no price on {at.isoformat()}: its first price applies from {days[0].isoformat()}",
                fix="check the date or the model",
            )
        return record.periods[index]

    def schedule(
        self,
        record: ModelRecord,
        day: dt.date,
        *,
        speed: str | None = None,
        batch: bool = False,
        geo: str | None = None,
    ) -> RateSchedule:
        """The rate schedule of this kind of request on `day`, built once per book and reused.

        Everything about a request's price except its token counts is fixed by (model, day, speed, batch,
        geo), so this is the price hot path's only lookup.
        """
        key = (record.id, day, speed, batch, geo)
        found = self.cache.get(key)
        if found is None:
            self.warn_if_stale(day)
            fee = self.fees(day)
            found = self.cache[key] = build_schedule(
                record,
                self.period(record, day),
                day,
                speed=speed,
                batch=batch,
                geo=geo,
                web_search_per_1000=fee.web_search_per_1000 if fee else None,
                version=self.version,
            )
        return found

    def fees(self, at: dt.date) -> FeePeriod | None:
        return in_force(self.table.fees, at)

    def warn_if_stale(self, day: dt.date) -> None:
        """Warn (once per book) when `day` is more than STALE_DAYS after the table's version date.

        Prices change without notice; a table compiled long before the day it prices may miss a change, and
        the user can overlay newer prices without waiting for a release.
        """
        compiled = _version_date(self.version)
        if compiled is None or (day - compiled).days <= STALE_DAYS or "stale" in self.cache:
            return
        self.cache["stale"] = True
        warnings.warn(
            f"prices for {day.isoformat()} come from the price table of {compiled.isoformat()}, "
            f"{(day - compiled).days} days older: newer prices may exist; overlay them with a pricing file "
            "(--pricing FILE or COSTPLAN_PRICING; see pricing/README.md)",
            StaleTableWarning,
            stacklevel=4,
        )

    def change_dates(self, record: ModelRecord) -> Sequence[dt.date]:
        return self._since[record.id]


def _version_date(version: str) -> dt.date | None:
    """The date a table version starts with ("2026-11-30", "2026-11-30+overlay"), or None."""
    try:
        return dt.date.fromisoformat(version[:10])
    except ValueError:
        return None


def load_pricebook(paths: Iterable[Path | str] = (), *, use_env: bool = True) -> PriceBook:
    """The shipped tables with overlays layered on: `COSTPLAN_PRICING` first, then `paths`."""
    extra = overlay_paths(paths) if use_env else [Path(p) for p in paths]
    return _load(tuple(str(p) for p in extra))


def pricebook_of(pricing: PriceBook | str | Path | Iterable[str | Path] | None) -> PriceBook:
    """What a library entry point's `pricing=` names: a book as it is, None the default book, else overlay
    file paths (one or several) on the shipped tables."""
    if isinstance(pricing, PriceBook):
        return pricing
    if pricing is None:
        return default_pricebook()
    return load_pricebook([pricing] if isinstance(pricing, (str, Path)) else list(pricing))


@functools.lru_cache(maxsize=8)
def _load(extra: tuple[str, ...]) -> PriceBook:
    return PriceBook(load_table(extra), origin=extra)


@functools.cache
def default_pricebook() -> PriceBook:
    """The book `cost()` and friends use when none is passed: shipped tables plus `COSTPLAN_PRICING`.

    The variable is read once, when prices are first needed, like a client reading its API key: reading the
    environment on every call would cost as much as pricing the request. To change it in a running process,
    pass `pricing=load_pricebook(...)` or call `default_pricebook.cache_clear()`.
    """
    return _load(tuple(str(p) for p in overlay_paths()) if os.environ.get("COSTPLAN_PRICING") else ())


DateLike = dt.date | dt.datetime | str | None


def pricing_date(as_of: DateLike, at: DateLike, *, where: str) -> DateLike:
    """`as_of`, or `at` (its older name, still accepted with a DeprecationWarning) when only that is given."""
    if at is None:
        return as_of
    if as_of is not None:
        raise InputError(f"{where}: give the pricing date once", fix="use as_of=... (at= is its older name)")
    warnings.warn(f"{where}(at=...) is now {where}(as_of=...)", DeprecationWarning, stacklevel=3)
    return at


def to_date(at: dt.date | dt.datetime | str | None) -> dt.date:
    """A UTC calendar date from a date, a datetime (aware ones are converted to UTC) or an ISO string."""
    if type(at) is dt.date:
        return at
    if at is None:
        return dt.datetime.now(dt.timezone.utc).date()
    if isinstance(at, dt.datetime) and at.tzinfo is dt.timezone.utc:
        return at.date()
    if isinstance(at, dt.datetime):
        if at.tzinfo is not None:
            at = at.astimezone(dt.timezone.utc)
        return at.date()
    if isinstance(at, dt.date):
        return at
    if isinstance(at, str):
        text = at.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return to_date(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise InputError(f"not a date: {at!r}", fix="use YYYY-MM-DD or an ISO 8601 timestamp")

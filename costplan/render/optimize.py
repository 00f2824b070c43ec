"""How `costplan optimize` reads: the plan, the single changes ranked by savings, their effect on every rate
limit, the usage tiers and where their limits bind, and how the search went.

Built from the result's JSON document (`Optimization.to_dict()`), so the terminal, the Markdown of a CI step
summary and the CSV show exactly what the JSON holds; figures are rounded here, for people, and nowhere else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costplan.planning.optimizer.levers import LEVER_NAMES
from costplan.render.document import Document, Mark, Table
from costplan.render.values import usd

_BUDGET_CHECKS = ("daily cost", "monthly cost")  # names of `costplan check`'s budget checks end so


def _usd(value: str | None) -> str:
    return "-" if value is None else usd(Decimal(value))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _changes(item: dict[str, Any]) -> str:
    return "; ".join(_change(c) for c in item["changes"]) or "no change"


def _change(change: dict[str, Any]) -> str:
    what = LEVER_NAMES.get(change["lever"], change["lever"])
    head = f"{change['stream']}: " if change["stream"] is not None else ""
    return f"{head}{what} {change['from']} -> {change['to']}"


def _tightest(item: dict[str, Any]) -> str:
    rows = [h for h in item["headroom"] if h["after"] is not None]
    if not rows:
        return "-"
    low = min(rows, key=lambda h: h["after"])
    return f"{_limit(low['pool'], low['limit'])} {_pct(low['after'])}"


def _limit(pool: str, limit: str) -> str:
    return "spend cap" if pool == "spend cap" else f"{pool} {limit}"


def _budgets(checks: list[dict[str, Any]]) -> Mark | str:
    budgets = [c for c in checks if c["name"].endswith(_BUDGET_CHECKS)]
    return Mark(all(c["passed"] for c in budgets)) if budgets else "-"


def _ranked(doc: dict[str, Any], horizon: str) -> tuple[list[str], list[list[Any]]]:
    """The plan (every change together) first, then each change alone, most saved first."""
    items = [("plan", doc["plan"]), *((str(n), s) for n, s in enumerate(doc["suggestions"], 1))]
    rows = [
        [
            label,
            _changes(s) if label != "plan" or len(s["changes"]) < 2 else f"the {len(s['changes'])} changes above",
            _usd(s["saved_per_day_usd"]),
            _usd(s["saved_horizon_usd"]),
            _usd(s["cost_per_day_usd"]),
            _tightest(s),
            _budgets(s["checks"]),
            s["lowest_fitting_tier"] or "none",
        ]
        for label, s in items
    ]
    headers = ["#", "change", "saves $/day", f"saves $/{horizon}", "$/day after", "tightest headroom"]
    return [*headers, "budgets", "tier that fits"], rows


def _csv(doc: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Every variant with exact money: the plan, then the suggestions, fixes and the ones not offered."""
    headers = [
        "kind",
        "rank",
        "changes",
        "cost_per_day_usd",
        "cost_horizon_usd",
        "saved_per_day_usd",
        "saved_horizon_usd",
        "lowest_fitting_tier",
        "tightest_headroom",
        "breaks",
    ]
    rows: list[list[Any]] = []
    groups = [("plan", [doc["plan"]]), *((k, doc[k]) for k in ("suggestions", "fixes", "not_offered"))]
    for kind, items in groups:
        for n, s in enumerate(items, 1):
            low = min((h["after"] for h in s["headroom"] if h["after"] is not None), default=None)
            rows.append(
                [
                    kind,
                    n,
                    _changes(s),
                    s["cost_per_day_usd"],
                    s["cost_horizon_usd"],
                    s["saved_per_day_usd"],
                    s["saved_horizon_usd"],
                    s["lowest_fitting_tier"] or "",
                    "" if low is None else round(low, 6),
                    "; ".join(b["name"] for b in s["breaks"]),
                ]
            )
    return headers, rows


def _headroom_table(doc: dict[str, Any]) -> Table | None:
    """Every rate limit (and the spend cap): now, with the plan, and after each suggestion."""
    columns = [("plan", doc["plan"]), *((f"#{n}", s) for n, s in enumerate(doc["suggestions"], 1))]
    keys: dict[tuple[str, str], None] = {}
    for _, item in columns:
        for h in item["headroom"]:
            keys.setdefault((h["pool"], h["limit"]), None)
    if not keys:
        return None
    rows = []
    for pool, limit in keys:
        found = [_row(item, pool, limit) for _, item in columns]
        before = next((h["before"] for h in found if h is not None), None)
        rows.append([_limit(pool, limit), _pct(before), *(_pct(h["after"] if h else None) for h in found)])
    plan_tier = doc["plan"]["tier"]
    plan = "plan" if plan_tier == doc["tier"] or plan_tier is None else f"plan (on {plan_tier})"
    return Table(
        ["limit", "now", plan, *(name for name, _ in columns[1:])],
        rows,
        title=f"headroom at the busiest minute on usage tier {doc['tier']}, now and after each change",
        collapsed=True,
    )


def _row(item: dict[str, Any], pool: str, limit: str) -> dict[str, Any] | None:
    return next((h for h in item["headroom"] if (h["pool"], h["limit"]) == (pool, limit)), None)


def _tiers(tiers: list[dict[str, Any]]) -> Table:
    rows = []
    for t in tiers:
        tight, first = t["tightest"], t["first_bind"]
        spend = "-" if t["spend_cap_usd"] is None else f"{_usd(t['cost_per_month_usd'])} of {_usd(t['spend_cap_usd'])}"
        rows.append(
            [
                t["tier"],
                "yes" if t["fits"] else "no",
                "-" if tight is None else f"{tight['pool']} {tight['limit']} {_pct(tight['headroom'])} free",
                "-" if first is None else _bind(first),
                spend + (f": pauses on {t['pauses_on']}" if t.get("pauses_on") else ""),
            ]
        )
    return Table(
        ["usage tier", "fits", "tightest limit", "first binds", "month vs spend cap"],
        rows,
        title="usage tiers for the plan: the tightest limit, and the first minute a limit binds",
    )


def _bind(b: dict[str, Any]) -> str:
    when = f"at {b['minute_utc']} UTC on {b['day']}" if b["minute_utc"] else f"on {b['day']}"
    return f"{b['pool']} {b['limit']} {when} ({b['demand']:,} of {b['allowed']:,})"


def optimize_document(doc: dict[str, Any]) -> Document:
    """The optimization (the dict `--format json` prints) as a document."""
    horizon = f"{doc['days']}d"
    original, plan = doc["original"], doc["plan"]
    blocks: list[Table | list[str]] = [
        [f"constraints: {'; '.join(doc['constraints'])}"],
        [
            f"now:  {_usd(original['cost_per_day_usd'])}/day, {_usd(original['cost_horizon_usd'])} over "
            f"{doc['days']} days; lowest usage tier that fits: {original['lowest_fitting_tier'] or 'none'}"
            + _broken(original["checks"]),
            f"plan: {_usd(plan['cost_per_day_usd'])}/day, {_usd(plan['cost_horizon_usd'])} over {doc['days']} days: "
            f"saves {_usd(plan['saved_per_day_usd'])}/day, {_usd(plan['saved_horizon_usd'])} over {doc['days']} days"
            + _broken(plan["checks"]),
        ],
    ]
    if plan["changes"]:
        noted = [f"- {_change(c)}" + (f" ({c['note']})" if c["note"] else "") for c in plan["changes"]]
        blocks.append(["the plan changes:", *noted])
    else:
        blocks.append(["the plan changes nothing: the workload as written is the cheapest found that fits"])
    if doc.get("written"):
        blocks.append([f"written to {doc['written']}"])
    primary = len([b for b in blocks if isinstance(b, Table)])
    headers, csv_rows = _csv(doc)
    ranked_headers, ranked_rows = _ranked(doc, horizon)
    title = "the plan, then each change alone, most saved first"
    blocks.append(Table(ranked_headers, ranked_rows, title=title, csv_headers=headers, csv_rows=csv_rows))
    if not doc["suggestions"]:
        blocks.append(["no single change saves money without breaking a constraint"])
    if doc["fixes"]:
        blocks.append(
            ["changes that mend a broken constraint (they may cost more):"]
            + [f"- {_changes(s)}: {_usd(s['cost_per_day_usd'])}/day; fixes {_names(s['fixes'])}" for s in doc["fixes"]]
        )
    if doc["not_offered"]:
        blocks.append(
            ["not offered: they would save money but break a constraint:"]
            + [
                f"- {_changes(s)}: saves {_usd(s['saved_per_day_usd'])}/day; breaks "
                + "; ".join(f"{b['name']} ({b['detail']})" for b in s["breaks"])
                for s in doc["not_offered"]
            ]
        )
    headroom = _headroom_table(doc)
    if headroom is not None:
        blocks.append(headroom)
    blocks.append(_tiers(plan["tiers"]))
    blocks.append([f"search: {_search(doc['search'])}"])
    if doc["notes"]:
        blocks.append(["notes:", *(f"- {n}" for n in doc["notes"])])
    if plan["new_warnings"]:
        blocks.append(["warnings the plan adds:", *(f"- {w}" for w in plan["new_warnings"])])
    days = f"{doc['days']} day{'s' if doc['days'] != 1 else ''}"
    title = f"{doc['name']}: optimized over {days} from {doc['as_of']}, usage tier {doc['tier']}, "
    title += f"prices {doc['pricing_version']}"
    return Document(title, blocks, primary=primary, heading=2)


def _broken(checks: list[dict[str, Any]]) -> str:
    broken = [c["name"] for c in checks if not c["passed"]]
    return f"; breaks {', '.join(broken)}" if broken else "; fits every constraint"


def _names(checks: list[dict[str, Any]]) -> str:
    return ", ".join(c["name"] for c in checks)


def _search(search: dict[str, Any]) -> str:
    n, settings = search["combinations"], search["stream_settings"]
    head = f"{n:,} combination{'s' if n != 1 else ''} of {settings} stream setting{'s' if settings != 1 else ''}"
    spent = f"{search['estimates']} estimate{'s' if search['estimates'] != 1 else ''}, {search['seconds']:.1f} s"
    excluded = search.get("stream_settings_excluded") or 0
    if excluded:
        head += (
            f" ({excluded} left out: each breaks a constraint of its own stream, such as a model without known "
            "rate limits)"
        )
    if search["exhaustive"] and search["fits"]:
        return (
            f"{head}, all priced (a stream's cost does not depend on the others); the {search['re_estimated']} "
            f"cheapest re-estimated in full until one fit: the plan is the cheapest that fits ({spent})"
        )
    if search["exhaustive"]:
        return (
            f"{head}, all priced and re-estimated in full: none fits every "
            f"constraint on the workload's usage tier; the plan is the cheapest of those that break the fewest "
            f"({spent})"
        )
    why = f"stopped at the {search['max_seconds']:g} s bound" if search["stopped_by_time"] else "some settings failed"
    return (
        f"{head}: {why} after pricing {search['stream_settings_priced']} settings and re-estimating "
        f"{search['re_estimated']} combinations; the plan is the best found, not proven cheapest ({spent})"
    )

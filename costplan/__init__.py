"""costplan: what your Claude API usage will cost, and whether it fits your rate limits.

Names are loaded on first use, so `import costplan` stays cheap and never imports the `anthropic` SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "cost": "costplan.billing.costing",
    "Cost": "costplan.billing.costing",
    "resolve_model": "costplan.billing.costing",
    "Usage": "costplan.billing.usage",
    "PriceBook": "costplan.billing.catalog",
    "load_pricebook": "costplan.billing.catalog",
    "run_checks": "costplan.gate.checks",
    "make_limits": "costplan.gate.checks",
    "Limits": "costplan.gate.checks",
    "CheckResult": "costplan.gate.checks",
    "CheckReport": "costplan.gate.checks",
    "estimate": "costplan.planning.simulate",
    "Estimate": "costplan.planning.estimate_doc",
    "load_workload": "costplan.planning.workload",
    "price_log": "costplan.accounting.ledger",
    "price_records": "costplan.accounting.ledger",
    "compare_plan": "costplan.accounting.plan_vs_actual",
    "UsageReport": "costplan.accounting.ledger",
    "export_prices": "costplan.billing.export",
    "InputError": "costplan.errors",
    "count_tokens": "costplan.tokens",
    "count_many": "costplan.tokens",
    "TokenCount": "costplan.tokens",
    "UnknownModelError": "costplan.errors",
    "UnpricedModelError": "costplan.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

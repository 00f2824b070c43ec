"""costplan: what your Claude API usage will cost, and whether it fits your rate limits.

Names are loaded on first use, so `import costplan` stays cheap and never imports the `anthropic` SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "cost": "costplan.costing",
    "Cost": "costplan.costing",
    "resolve_model": "costplan.costing",
    "Usage": "costplan.usage",
    "PriceBook": "costplan.catalog",
    "load_pricebook": "costplan.catalog",
    "run_checks": "costplan.check",
    "make_limits": "costplan.check",
    "Limits": "costplan.check",
    "CheckResult": "costplan.check",
    "CheckReport": "costplan.check",
    "estimate": "costplan.simulate",
    "Estimate": "costplan.estimate_doc",
    "load_workload": "costplan.workload",
    "price_log": "costplan.accounting",
    "price_records": "costplan.accounting",
    "compare_plan": "costplan.plan_vs_actual",
    "UsageReport": "costplan.accounting",
    "export_prices": "costplan.export",
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

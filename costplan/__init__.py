"""costplan: what your Claude API usage will cost, and whether it fits your rate limits.

Names are loaded on first use, so `import costplan` stays cheap: it imports neither pydantic nor the
`anthropic` SDK. Type checkers read the imports under `TYPE_CHECKING` instead, so `costplan.cost` has the
type of `costplan.billing.costing.cost`, not `Any`; `tests/test_public_api.py` keeps the two lists equal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from costplan.accounting.ledger import price_log, price_records
    from costplan.accounting.plan_vs_actual import PlanComparison, compare_plan
    from costplan.accounting.report import GroupTotal, Problem, StrictStop, UsageReport
    from costplan.billing.catalog import PriceBook, load_pricebook
    from costplan.billing.costing import Cost, cost, resolve_model
    from costplan.billing.export import export_prices
    from costplan.billing.usage import Usage
    from costplan.errors import InputError, UnknownModelError, UnpricedModelError
    from costplan.gate import CheckReport, CheckResult, Limits, make_limits, run_checks
    from costplan.planning.estimate_doc import Estimate
    from costplan.planning.simulate import estimate
    from costplan.planning.workload import Workload, load_workload
    from costplan.tokens import TokenCount, count_many, count_tokens

# name -> the module that defines it, imported on first use (the same names as the imports above)
_EXPORTS = {
    "cost": "costplan.billing.costing",
    "Cost": "costplan.billing.costing",
    "resolve_model": "costplan.billing.costing",
    "Usage": "costplan.billing.usage",
    "PriceBook": "costplan.billing.catalog",
    "load_pricebook": "costplan.billing.catalog",
    "run_checks": "costplan.gate",
    "make_limits": "costplan.gate",
    "Limits": "costplan.gate",
    "CheckResult": "costplan.gate",
    "CheckReport": "costplan.gate",
    "estimate": "costplan.planning.simulate",
    "Estimate": "costplan.planning.estimate_doc",
    "Workload": "costplan.planning.workload",
    "load_workload": "costplan.planning.workload",
    "price_log": "costplan.accounting.ledger",
    "price_records": "costplan.accounting.ledger",
    "compare_plan": "costplan.accounting.plan_vs_actual",
    "PlanComparison": "costplan.accounting.plan_vs_actual",
    "UsageReport": "costplan.accounting.report",
    "GroupTotal": "costplan.accounting.report",
    "Problem": "costplan.accounting.report",
    "StrictStop": "costplan.accounting.report",
    "export_prices": "costplan.billing.export",
    "InputError": "costplan.errors",
    "count_tokens": "costplan.tokens",
    "count_many": "costplan.tokens",
    "TokenCount": "costplan.tokens",
    "UnknownModelError": "costplan.errors",
    "UnpricedModelError": "costplan.errors",
}

__all__ = [
    "CheckReport",
    "CheckResult",
    "Cost",
    "Estimate",
    "GroupTotal",
    "InputError",
    "Limits",
    "PlanComparison",
    "PriceBook",
    "Problem",
    "StrictStop",
    "TokenCount",
    "UnknownModelError",
    "UnpricedModelError",
    "Usage",
    "UsageReport",
    "Workload",
    "compare_plan",
    "cost",
    "count_many",
    "count_tokens",
    "estimate",
    "export_prices",
    "load_pricebook",
    "load_workload",
    "make_limits",
    "price_log",
    "price_records",
    "resolve_model",
    "run_checks",
    "__version__",
]

if not TYPE_CHECKING:  # at run time only: a type checker knows every name above, and nothing else

    def __getattr__(name: str) -> object:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'costplan' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return __all__

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
    from costplan.accounting.forecast import Forecast, forecast
    from costplan.accounting.ledger import price_log, price_records
    from costplan.accounting.plan_vs_actual import PlanComparison, compare_plan
    from costplan.accounting.reconcile import Reconciliation, reconcile
    from costplan.accounting.report import GroupTotal, Problem, StrictStop, UsageReport
    from costplan.billing.catalog import PriceBook, load_pricebook
    from costplan.billing.costing import Cost, cost, resolve_model
    from costplan.billing.export import export_prices
    from costplan.billing.usage import Usage
    from costplan.errors import InputError, UnknownModelError, UnpricedModelError
    from costplan.gate import CheckReport, CheckResult, Limits, make_limits, run_checks
    from costplan.org.admin import AdminApiRejected, AdminApiUnavailable
    from costplan.org.cost_report import CostReport, fetch_cost_report, read_cost_report
    from costplan.org.headers import read_headers_file
    from costplan.org.limits import OrgLimits, workload_limits
    from costplan.org.limits_api import fetch_org_limits
    from costplan.planning.estimate_doc import Estimate
    from costplan.planning.fit import Fitted, fit_log
    from costplan.planning.optimize import Optimization, Suggestion, optimize
    from costplan.planning.sample_log import SampleLog, sample_log
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
    "Forecast": "costplan.accounting.forecast",
    "forecast": "costplan.accounting.forecast",
    "Reconciliation": "costplan.accounting.reconcile",
    "reconcile": "costplan.accounting.reconcile",
    "AdminApiRejected": "costplan.org.admin",
    "AdminApiUnavailable": "costplan.org.admin",
    "CostReport": "costplan.org.cost_report",
    "fetch_cost_report": "costplan.org.cost_report",
    "read_cost_report": "costplan.org.cost_report",
    "read_headers_file": "costplan.org.headers",
    "OrgLimits": "costplan.org.limits",
    "workload_limits": "costplan.org.limits",
    "fetch_org_limits": "costplan.org.limits_api",
    "Fitted": "costplan.planning.fit",
    "fit_log": "costplan.planning.fit",
    "Optimization": "costplan.planning.optimize",
    "Suggestion": "costplan.planning.optimize",
    "optimize": "costplan.planning.optimize",
    "SampleLog": "costplan.planning.sample_log",
    "sample_log": "costplan.planning.sample_log",
}

__all__ = [
    "AdminApiRejected",
    "AdminApiUnavailable",
    "CheckReport",
    "CheckResult",
    "Cost",
    "CostReport",
    "Estimate",
    "Fitted",
    "Forecast",
    "GroupTotal",
    "InputError",
    "Limits",
    "Optimization",
    "OrgLimits",
    "PlanComparison",
    "PriceBook",
    "Problem",
    "Reconciliation",
    "SampleLog",
    "StrictStop",
    "Suggestion",
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
    "fetch_cost_report",
    "fetch_org_limits",
    "fit_log",
    "forecast",
    "load_pricebook",
    "load_workload",
    "make_limits",
    "optimize",
    "price_log",
    "price_records",
    "read_cost_report",
    "read_headers_file",
    "reconcile",
    "resolve_model",
    "run_checks",
    "sample_log",
    "workload_limits",
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

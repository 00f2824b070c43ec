"""`limits: {from: api}`: a workload whose limits are the organisation's, read when it is estimated.

The estimate asks for them only because the workload says so; the answer becomes the same `limits:` (and
`batch_queue_limit`, unless the workload sets its own) that `costplan limits --format yaml` writes, so a
pasted section and a fetched one are held to the same demand in the same way. Notes on how the API's groups
were written (a bucket costplan's tables split, models costplan has no pool for) become warnings.
"""

from __future__ import annotations

import warnings
from typing import Any

from costplan.org.limits import workload_limits
from costplan.org.limits_api import fetch_org_limits
from costplan.planning.workload import CustomLimits, Workload


def with_org_limits(workload: Workload, book: Any = None, tables: Any = None) -> Workload:
    """`workload` with `limits:` (and `batch_queue_limit` where it has none) from the Rate Limits API.

    Raises what `fetch_org_limits` raises: an InputError for a missing or refused key (exit 2), and
    AdminApiUnavailable when the API cannot answer (exit 3).
    """
    org = fetch_org_limits()
    section = workload_limits(org, book, tables)
    for note in section.notes:
        warnings.warn(f"limits from the API: {note}", stacklevel=2)
    limits = {key: CustomLimits(rpm=v["rpm"], itpm=v["itpm"], otpm=v["otpm"]) for key, v in section.limits.items()}
    queue = workload.batch_queue_limit if workload.batch_queue_limit is not None else section.batch_queue_limit
    return workload.model_copy(update={"limits": limits, "batch_queue_limit": queue})

"""Organisation data: the rate limits an organisation really has, and what Anthropic really billed it.

The published tier tables (`pricing/ratelimits.yaml`) say what a usage tier allows; an organisation's own
limits may differ (custom limits, the Evaluation tier, workspace overrides), and the computed cost of a log
is only as good as the log. This package reads the organisation's side of both:

- `admin`: the Admin API client (key, base URL, retries inside one wall-clock deadline, paging, errors that
  never carry a credential). The SDK where it has the endpoint, plain HTTP where it has not;
- `limits_api`: `GET /v1/organizations/rate_limits`, the answer validated at the boundary;
- `headers`: the `anthropic-ratelimit-*` headers of a saved response (a headers dump or a HAR file);
- `limits`: what both give (`OrgLimits`), and the `limits:` section of a workload made from it;
- `cost_report`: `GET /v1/organizations/cost_report`, fetched with paging or read from saved pages, in
  exact dollars.

Nothing here touches the network unless a caller asks for it (`costplan limits`, `--reconcile api`, a
workload with `limits: {from: api}`), and importing it imports neither the SDK nor pydantic.
"""

from __future__ import annotations

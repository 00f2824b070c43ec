"""How an organisation's limits read: a table of groups for people, and the workload section for files.

`--format json` and `--format yaml` write the workload section alone (`limits:` and `batch_queue_limit`), so
the output can be pasted into a workload or merged into one by a tool without editing; the YAML says where
the numbers came from in comments, which a workload file keeps and JSON cannot hold.
"""

from __future__ import annotations

from typing import Any

import yaml

from costplan.org.limits import OrgLimits, WorkloadLimits
from costplan.render.document import Document, Table

_SHOWN = {  # the limiters people look for first, in this order; the rest follow by name
    "requests_per_minute": "rpm",
    "input_tokens_per_minute_cache_aware": "itpm (cache-aware)",
    "input_tokens_per_minute": "itpm",
    "output_tokens_per_minute": "otpm",
}


def _value(limiter: str, value: int) -> str:
    return f"{_SHOWN.get(limiter, limiter)} {value:,}"


def limits_document(org: OrgLimits, section: WorkloadLimits) -> Document:
    """The groups as the source gave them, then the workload section made from them, then the notes."""
    rows: list[list[Any]] = []
    for group in org.groups:
        ordered = sorted(
            group.limits.items(), key=lambda kv: (list(_SHOWN).index(kv[0]) if kv[0] in _SHOWN else 9, kv[0])
        )
        models = ", ".join(group.models) if group.models else "-"
        rows.append([group.name, group.kind, models, "; ".join(_value(k, v) for k, v in ordered) or "-"])
    groups = Table(
        ["group", "kind", "models", "limits"],
        rows,
        csv_headers=["group", "kind", "group_id", "models", "limiter", "value"],
        csv_rows=[
            [g.name, g.kind, g.group_id or "", " ".join(g.models), limiter, value]
            for g in org.groups
            for limiter, value in g.limits.items()
        ],
    )
    own = [[key, f"{v['rpm']:,}", f"{v['itpm']:,}", f"{v['otpm']:,}"] for key, v in section.limits.items()]
    blocks: list[Table | list[str]] = [groups]
    if own:
        blocks.append(Table(["key", "rpm", "itpm", "otpm"], own, title="As a workload's `limits:` (--format yaml)"))
    if section.batch_queue_limit is not None:
        blocks.append([f"batch_queue_limit: {section.batch_queue_limit:,}"])
    if section.notes:
        blocks.append(["notes:", *(f"- {note}" for note in section.notes)])
    return Document(f"Rate limits from {org.source}, {org.as_of}", blocks)


def limits_yaml(org: OrgLimits, section: WorkloadLimits) -> str:
    """The workload section as YAML, with the source, the date and the notes as comments."""
    head = [
        f"# Rate limits from {org.source}, {org.as_of} (costplan limits).",
        "# Paste at the top level of a workload, or write `limits: {from: api}` there to read them at each estimate.",
    ]
    body = yaml.safe_dump(section.to_dict(), sort_keys=False, default_flow_style=None, width=120)
    tail = [f"# note: {note}" for note in section.notes]
    return "\n".join(head) + "\n" + body + ("\n".join(tail) + "\n" if tail else "")

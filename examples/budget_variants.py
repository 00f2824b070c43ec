"""Compare three variants of the support chatbot: as planned, on Haiku 4.5, and without prompt caching.

    python examples/budget_variants.py

Variants are made by copying the validated workload with changed fields (pydantic's model_copy), so the
file stays the single source of the plan and each what-if is one line.
"""

from __future__ import annotations

from pathlib import Path

import costplan

HERE = Path(__file__).resolve().parent


def main() -> None:
    plan = costplan.load_workload(HERE / "support-chatbot.yaml")
    chat = plan.streams[0]
    variants = {
        "as planned (Sonnet 4.6)": plan,
        "Haiku 4.5 instead": plan.model_copy(
            update={"streams": [chat.model_copy(update={"model": "claude-haiku-4-5"})]}
        ),
        "no caching": plan.model_copy(update={"streams": [chat.model_copy(update={"cache": None})]}),
    }
    print(f"{'variant':<26} {'$/day':>10} {'$/month':>11} {'hit rate':>9}  binding limit")
    for label, workload in variants.items():
        result = costplan.estimate(workload)
        stream = result.streams[0]
        hit = "-" if stream.cache_hit_rate is None else f"{stream.cache_hit_rate:.1%}"
        tight = result.binding
        binding = f"{tight.pool} {tight.limit} {tight.headroom:.0%} free" if tight else "-"
        print(
            f"{label:<26} {result.total.cost_per_day_usd:>10.2f} {result.total.cost_per_month_usd:>11.2f} "
            f"{hit:>9}  {binding}"
        )


if __name__ == "__main__":
    main()

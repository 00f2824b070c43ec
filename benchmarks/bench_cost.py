"""Price the same 4,000 varied usage records with costplan.cost and genai_prices.calc_price, in one run.

    pip install genai-prices        # benchmark only; not a costplan dependency
    python benchmarks/bench_cost.py

Prints microseconds per call for each, the speed-up, how many totals agree, and the cold start of
`costplan cost` against `python -c "import anthropic"`.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal

import costplan

MODELS = [
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-opus-4-5",
    "claude-opus-4-1",
    "claude-sonnet-4-0",
    "claude-3-5-haiku-latest",
    "claude-3-7-sonnet-latest",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
]
N = 4000
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)


def records(seed: int = 7) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    out = []
    for _ in range(N):
        w5 = rng.choice([0, 0, rng.randint(1, 20_000)])
        w1 = rng.choice([0, 0, 0, rng.randint(1, 20_000)])
        usage = {
            "input_tokens": rng.randint(1, 150_000),
            "output_tokens": rng.randint(1, 8_000),
            "cache_read_input_tokens": rng.choice([0, rng.randint(1, 120_000)]),
            "cache_creation_input_tokens": w5 + w1,
            "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
        }
        out.append((rng.choice(MODELS), usage))
    return out


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cold_start(cmd: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    data = records()
    costplan.cost(data[0][1], data[0][0], as_of=AT)  # load the tables once, as any long-lived caller would
    ours = best_of(lambda: [costplan.cost(u, m, as_of=AT) for m, u in data])
    print(f"costplan.cost            {ours / N * 1e6:8.2f} us/call  ({N} records, best of 5)")
    try:
        import genai_prices
    except ImportError:
        print("genai_prices not installed: pip install genai-prices to compare")
        genai_prices = None
    if genai_prices is not None:
        theirs_in = [
            (
                m,
                genai_prices.Usage(
                    input_tokens=u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"],
                    output_tokens=u["output_tokens"],
                    cache_read_tokens=u["cache_read_input_tokens"],
                    cache_write_tokens=u["cache_creation"]["ephemeral_5m_input_tokens"],
                    cache_audio_read_tokens=None,
                ),
            )
            for m, u in data
        ]
        genai_prices.calc_price(theirs_in[0][1], theirs_in[0][0], provider_id="anthropic", genai_request_timestamp=AT)
        theirs = best_of(
            lambda: [
                genai_prices.calc_price(u, m, provider_id="anthropic", genai_request_timestamp=AT) for m, u in theirs_in
            ]
        )
        print(f"genai_prices.calc_price  {theirs / N * 1e6:8.2f} us/call")
        print(f"speed-up                 {theirs / ours:8.1f}x")
        agree = 0
        comparable = 0
        for (m, u), (_, g) in zip(data, theirs_in):
            if u["cache_creation"]["ephemeral_1h_input_tokens"]:
                continue  # genai-prices' Usage has no 1h field in this form; skip those records
            comparable += 1
            a = costplan.cost(u, m, as_of=AT).total
            b = genai_prices.calc_price(g, m, provider_id="anthropic", genai_request_timestamp=AT).total_price
            agree += abs(a - Decimal(b)) < Decimal("0.000001")
        print(f"totals agreeing to 1e-6  {agree}/{comparable} comparable records")
    ours_cold = cold_start(
        [sys.executable, "-m", "costplan", "cost", "-m", "claude-sonnet-4-6", "--input", "1200", "--output", "300"]
    )
    sdk_cold = cold_start([sys.executable, "-c", "import anthropic"])
    print(
        f"cold start: costplan cost {ours_cold * 1000:6.0f} ms, python -c 'import anthropic' {sdk_cold * 1000:6.0f} ms"
        f" (median of 7)"
    )


if __name__ == "__main__":
    main()

"""Benchmark: price a 1,000,000-line usage log, end to end (the CLI) and in-process (`costplan.price_log`).

Target from the issue: under 10 s on the 2-core CI machine. The log is generated in a temporary directory
with a fixed seed: a realistic mix of models, days across a price change, cache writes of both TTLs,
batch, `inference_geo`, prompt-length tiers and web searches.

Both runs also report CPU seconds (of the processes that priced the log, forked workers included): on a
shared machine the neighbours stretch the wall clock far more than the CPU time, so compare CPU times
between versions.

    python benchmarks/bench_usage.py            # 1,000,000 lines
    python benchmarks/bench_usage.py --lines 200000 --keep
    python benchmarks/bench_usage.py --log /tmp/costplan-bench-x/usage.jsonl   # a log kept before, not regenerated
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-5-5", "claude-haiku-5-5")
# Mixed on purpose: both prompt-length tiers of Haiku 5.5 (100k), batch, geo us, both cache TTLs, web search.


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """Write `lines` Messages-style usage records (about 330 bytes each)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            day = 1 + (i * 30 // lines)  # October 2026: both sides of the Sonnet 5.5 cache-read cut (10-07)
            model = MODELS[i % len(MODELS)]
            if model == "claude-haiku-5-5" and day < 7:
                model = "claude-opus-5-5"  # Haiku 5.5 has a price only from its launch on 2026-10-07
            w5 = rng.choice((0, 0, 0, 2048))
            w1 = rng.choice((0, 0, 0, 0, 4096))
            usage = {
                "input_tokens": rng.randint(10, 3000) if rng.random() > 0.01 else rng.randint(100_001, 250_000),
                "output_tokens": rng.randint(1, 1500),
                "cache_creation_input_tokens": w5 + w1,
                "cache_read_input_tokens": rng.choice((0, 8000, 20000)),
                "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
                "service_tier": "batch" if i % 10 == 0 else "standard",
                "inference_geo": "us" if i % 7 == 0 and model != "claude-haiku-4-5" else "global",
            }
            if i % 50 == 0:
                usage["server_tool_use"] = {"web_search_requests": rng.randint(1, 3)}
            record = {
                "id": f"msg_{i:08d}",
                "model": model,
                "usage": usage,
                "timestamp": f"2026-10-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
                "metadata": {"user_id": f"user-{i % 100}"},
            }
            out.write(json.dumps(record, separators=(",", ":")))
            out.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="print the log's path and keep it")
    parser.add_argument("--log", type=Path, help="price this log (kept by an earlier --keep) instead of a new one")
    args = parser.parse_args()
    if args.log is not None:
        log, tmp = args.log, None
        print(f"log {log} ({log.stat().st_size / 1e6:.0f} MB)")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="costplan-bench-"))
        log = tmp / "usage.jsonl"
        start = time.perf_counter()
        generate(log, args.lines)
        size = log.stat().st_size
        print(f"generated {args.lines:,} lines ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s")

    command = [sys.executable, "-m", "costplan", "usage", str(log), "--format", "json", "--at", "2026-10-15"]
    cpu = _cpu_seconds()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    end_to_end = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    total = json.loads(done.stdout)["total"]["cost_usd"]
    print(f"end to end  ({' '.join(command[1:4])} ...): {end_to_end:.2f} s, {cpu:.2f} s of CPU   total ${total}")

    import costplan

    cpu = _cpu_seconds()
    start = time.perf_counter()
    report = costplan.price_log([log], as_of="2026-10-15")
    in_process = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    total = report.to_dict()["total"]["cost_usd"]
    print(f"in-process  (costplan.price_log): {in_process:.2f} s, {cpu:.2f} s of CPU   total ${total}")
    print(f"            {report.lines / in_process:,.0f} lines/s; {report.problem_count} unpriced lines; target < 10 s")
    if tmp is None:
        return
    if args.keep:
        print(f"log kept at {log}")
    else:
        log.unlink()
        tmp.rmdir()


def _cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (the workers of a large file)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()

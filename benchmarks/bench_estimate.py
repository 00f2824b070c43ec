"""How long an estimate takes: each example in-process, and `costplan estimate` from a cold start
compared with `python -c "import anthropic"` in the same run.

    python benchmarks/bench_estimate.py [--repeat 20]

In-process timings exclude loading the tables (done once, as a long-lived process or notebook would);
cold-start timings are whole processes, best of N, so they include interpreter start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
ENV = {**os.environ, "ANTHROPIC_API_KEY": "", "COSTPLAN_PRICING": ""}


def in_process(repeat: int) -> None:
    sys.path.insert(0, str(ROOT))
    import costplan

    costplan.estimate(EXAMPLES[0], method="heuristic")  # load price and rate-limit tables once
    print(f"in-process estimate, median of {repeat} (ms):")
    for path in EXAMPLES:
        workload = costplan.load_workload(path)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            costplan.estimate(workload, method="heuristic")
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        costplan.estimate(workload, method="heuristic", samples=200)
        sampled = (time.perf_counter() - start) * 1000
        print(f"  {path.name:<28} {statistics.median(times):7.2f}   (with --samples 200: {sampled:7.1f})")


def best_of(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=ENV, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def cold_start(repeat: int) -> None:
    n = max(3, repeat // 4)
    print(f"cold start, best of {n} (ms):")
    python = best_of([sys.executable, "-c", "pass"], n)
    estimate = best_of([sys.executable, "-m", "costplan", "estimate", "examples/support-chatbot.yaml"], n)
    try:
        anthropic = best_of([sys.executable, "-c", "import anthropic"], n)
    except subprocess.CalledProcessError:
        anthropic = float("nan")
    print(f"  python -c pass                                {python:7.1f}")
    print(f"  costplan estimate examples/support-chatbot.yaml {estimate:5.1f}")
    print(f"  python -c 'import anthropic'                  {anthropic:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    in_process(args.repeat)
    cold_start(args.repeat)


if __name__ == "__main__":
    main()

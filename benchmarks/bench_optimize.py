"""How long `costplan optimize` takes: each example workload in-process, and the command from a cold start.

    python benchmarks/bench_optimize.py [--repeat 5]

In-process timings exclude loading the tables (done once, as a long-lived process would) and count prompt
files with the offline heuristic, as CI does. Each line gives the wall time (median of the runs), the CPU
time of the process over the same runs (best of them: a shared machine's neighbours inflate wall time, not
CPU time), the number of full estimates the search made, the size of its space, and whether it proved the
plan cheapest. The cold start is the whole `costplan optimize` process, best of N.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bench_estimate import best_of  # the same cold-start measure as the estimate's

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [*sorted((ROOT / "examples").glob("*.yaml")), ROOT / "examples" / "ci" / "costplan.yaml"]


def in_process(repeat: int) -> None:
    sys.path.insert(0, str(ROOT))
    from costplan.planning.optimize import optimize

    optimize(EXAMPLES[0], method="heuristic")  # load price, rate-limit and token tables once
    print(f"in-process optimize, {repeat} runs each (wall: median, CPU: best):")
    print(f"  {'workload':<26} {'wall ms':>8} {'CPU ms':>8} {'estimates':>10} {'combinations':>13}  proven")
    for path in EXAMPLES:
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            result = optimize(path, method="heuristic")
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        s = result.search
        print(
            f"  {path.name:<26} {statistics.median(walls):8.0f} {min(cpus):8.0f} {s.estimates:10} "
            f"{s.combinations:13,}  {'yes' if s.exhaustive else 'no'}"
        )


def cold_start(repeat: int) -> None:
    n = max(3, repeat)
    command = [sys.executable, "-m", "costplan", "optimize", "examples/support-platform.yaml", "--method", "heuristic"]
    print(f"cold start, best of {n}: costplan optimize examples/support-platform.yaml  {best_of(command, n):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    in_process(args.repeat)
    cold_start(args.repeat)


if __name__ == "__main__":
    main()

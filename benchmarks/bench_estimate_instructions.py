"""`costplan.estimate` of each example in CPU instructions per call, under callgrind, against another tree.

Wall-clock times of a few milliseconds swing by 2x with this shared machine's load, so "did the estimate get
slower" is answered in instructions: each tree runs in its own child process under
`valgrind --tool=callgrind`, once with one estimate and once with `1 + repeat`; the difference divided by
`repeat` is one estimate of an already loaded workload (`costplan.load_workload`, as bench_estimate.py).

    git worktree add /tmp/before <commit>         # the tree to compare with
    python benchmarks/bench_estimate_instructions.py --against /tmp/before [--repeat 5]

Needs valgrind (Debian: `apt-get install valgrind`). The examples are this tree's, read by both trees.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import callgrind

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys
sys.path.insert(0, {tree!r})
import costplan
workload = costplan.load_workload({path!r})
for _ in range({n}):
    costplan.estimate(workload, method="heuristic")
"""


def instructions(tree: Path, path: Path, n: int) -> int | None:
    """Instructions of `n` estimates in a child, or None when that tree refuses the workload (a field it does
    not know)."""
    return callgrind.instructions(CHILD.format(tree=str(tree), path=str(path), n=n))


def per_estimate(tree: Path, path: Path, repeat: int) -> float | None:
    full, setup = instructions(tree, path, 1 + repeat), instructions(tree, path, 1)
    return None if full is None or setup is None else (full - setup) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other tree (a worktree of a commit)")
    parser.add_argument("--repeat", type=int, default=5, help="estimates counted per example (default 5)")
    parser.add_argument("examples", nargs="*", type=Path, help="workloads (default: examples/*.yaml)")
    args = parser.parse_args()
    examples = [p.resolve() for p in args.examples] or sorted((ROOT / "examples").glob("*.yaml"))
    print(f"{'workload':28s} {'this tree':>14s} {'--against':>14s}  ratio")
    for path in examples:
        here = per_estimate(ROOT, path, args.repeat)
        there = per_estimate(args.against.resolve(), path, args.repeat)
        if here is None or there is None:
            print(
                f"{path.name:28s} {'refused' if here is None else f'{here:,.0f}':>14s} "
                f"{'refused' if there is None else f'{there:,.0f}':>14s}"
            )
            continue
        print(f"{path.name:28s} {here:14,.0f} {there:14,.0f}  {here / there:5.2f}")


if __name__ == "__main__":
    main()

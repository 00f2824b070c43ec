"""The usage hot loop (`accounting.parsing.add_lines`) in CPU instructions per log line, under callgrind,
against another tree.

bench_usage.py's paired wall times swing by a third from round to round on this shared 2-core machine, too
much to see a change of a few percent in the loop. So each tree prices the first `lines` lines of the same
log, and then twice as many, in one process (`add_lines` into a `Ledger`, as a worker does); the difference
divided by `lines` is one line, start-up excluded. A count misleads where memory layout matters (a change
that builds a large list may count fewer instructions yet run slower): confirm such a change with
bench_usage.py.

    git worktree add /tmp/before <commit>         # the tree to compare with
    python benchmarks/bench_usage_instructions.py --against /tmp/before [--lines 20000] [--by metadata.user_id]

Needs valgrind (Debian: `apt-get install valgrind`). The log is bench_usage.py's, made with its seed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import bench_usage
import callgrind

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, datetime as dt
sys.path.insert(0, {tree!r})
from costplan.accounting.grouping import Ledger
from costplan.accounting.parsing import add_lines
from costplan.billing.catalog import load_pricebook
with open({log!r}, "rb") as handle:
    lines = handle.readlines()[:{n}]
ledger = Ledger(by={by!r}, as_of=dt.date(2026, 11, 30), pricing=load_pricebook(use_env=False))
add_lines(ledger, lines, "bench")
assert ledger.finish().total.records == {n}
"""


def per_line(tree: Path, log: Path, lines: int, by: tuple[str, ...]) -> float | None:
    """Instructions of one line in `tree`'s loop, or None where that tree fails."""
    runs = [callgrind.instructions(CHILD.format(tree=str(tree), log=str(log), n=n, by=by)) for n in (lines, 2 * lines)]
    if runs[0] is None or runs[1] is None:
        return None
    return (runs[1] - runs[0]) / lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other tree (a worktree of a commit)")
    parser.add_argument("--lines", type=int, default=20_000, help="lines of the difference (default 20,000)")
    parser.add_argument("--by", default="model", help="the report's keys, comma-separated (a tag: metadata.user_id)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "usage.jsonl"
        bench_usage.generate(log, 10 * args.lines)  # the mix of bench_usage's 1M-line log, days and all
        trees = [ROOT] + ([args.against.resolve()] if args.against else [])
        counts = [per_line(tree, log, args.lines, tuple(args.by.split(","))) for tree in trees]
    for tree, count in zip(trees, counts):
        shown = "failed" if count is None else f"{count:,.0f} instructions a line"
        print(f"{str(tree):40s} {shown}")
    if len(counts) == 2 and None not in counts:
        print(f"ratio this / against: {counts[0] / counts[1]:.3f}")  # type: ignore[operator]


if __name__ == "__main__":
    main()

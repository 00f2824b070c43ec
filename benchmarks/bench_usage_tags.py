"""A usage log grouped by a tag (`--by metadata.user_id`): CPU time a line in this tree, and in another tree
when one is given, each in its own process (one worker, best of `--repeat`), with the groups and total of
each so that a faster tree is seen to give the same answer.

    git worktree add /tmp/before <commit>         # the tree to compare with
    python benchmarks/bench_usage_tags.py [--against /tmp/before] [--lines 200000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_usage

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, time
sys.path.insert(0, {tree!r})
import costplan.accounting.reading as reading
from costplan.accounting.ledger import price_log
from costplan.billing.catalog import load_pricebook
reading._workers = lambda size: 1
book = load_pricebook(use_env=False)
spent = []
for _ in range({repeat}):
    start = time.process_time()
    report = price_log({log!r}, by={by!r}, pricing=book)
    spent.append(time.process_time() - start)
print(min(spent), len(report.groups), report.total.cost)
"""


def run(tree: Path, log: Path, by: list[str], repeat: int) -> tuple[float, int, str]:
    """Best CPU seconds, the number of groups and the total, from a child running `tree`'s code."""
    code = CHILD.format(tree=str(tree), log=str(log), by=by, repeat=repeat)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()
    )
    seconds, groups, total = out.stdout.split()
    return float(seconds), int(groups), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other tree (a worktree of a commit)")
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--by", default="metadata.user_id", help="the tag (comma-separated keys)")
    args = parser.parse_args()
    by = args.by.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "usage.jsonl"
        bench_usage.generate(log, args.lines)
        trees = [ROOT] + ([args.against.resolve()] if args.against else [])
        for tree in trees:
            seconds, groups, total = run(tree, log, by, args.repeat)
            print(f"{str(tree):40s} {seconds / args.lines * 1e6:6.2f} us a line   {groups} groups   total ${total}")


if __name__ == "__main__":
    main()

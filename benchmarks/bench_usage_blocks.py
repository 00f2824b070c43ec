"""How large a block a usage worker should read: the hot loop fed from 1 MB reads and from 64 KB reads, paired
in one process (alternating, so a busy moment of this shared machine falls on both), CPU time per line.

A worker of `costplan usage` reads its part of the file a block at a time and splits each block into lines
(`accounting.reading._blocks`). With 1 MB blocks the lines of a block outgrow the core's 1 MB L2 cache before
the loop reaches them; 64 KB blocks keep them there. Both read the same lines, so the totals must agree.

    python benchmarks/bench_usage_blocks.py [--lines 200000] [--rounds 12]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import bench_usage

from costplan.accounting.grouping import Ledger
from costplan.accounting.parsing import add_lines
from costplan.billing.catalog import load_pricebook

SIZES = (1 << 20, 1 << 16)


def lines(path: Path, block: int) -> Iterator[bytes]:
    """The file's lines, read `block` bytes at a time and split as `_blocks` splits them."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            split = io.BytesIO(tail + chunk).readlines()
            tail = split.pop() if split and not split[-1].endswith(b"\n") else b""
            yield from split
    if tail:
        yield tail


def price(path: Path, block: int) -> tuple[float, Decimal]:
    """CPU seconds to add every line to a fresh ledger, and the total it prices."""
    ledger = Ledger(by=("model",), as_of=dt.date(2026, 11, 30), pricing=load_pricebook(use_env=False))
    start = time.process_time()
    add_lines(ledger, lines(path, block), "bench")
    spent = time.process_time() - start
    return spent, ledger.finish().total.cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "usage.jsonl"
        bench_usage.generate(log, args.lines)
        times: dict[int, list[float]] = {size: [] for size in SIZES}
        totals = set()
        for index in range(args.rounds):
            for size in SIZES if index % 2 else reversed(SIZES):
                spent, total = price(log, size)
                times[size].append(spent)
                totals.add(total)
    assert len(totals) == 1, f"the block size changed the total: {totals}"
    for size in SIZES:
        per_line = [t / args.lines * 1e6 for t in times[size]]
        best, middle = min(per_line), statistics.median(per_line)
        print(f"{size // 1024:5d} KB blocks: {best:.2f} us a line at best, {middle:.2f} median")
    ratios = [small / large for large, small in zip(times[SIZES[0]], times[SIZES[1]])]
    print(f"64 KB / 1 MB, median of {args.rounds} paired rounds: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()

"""Benchmark: price a 1,000,000-line usage log with `costplan usage` and with the DuckDB path, in the same run.

The DuckDB path is what a user would do instead: the price tables exported by `costplan prices --export sql`,
the log loaded by `examples/sql/load_jsonl.duckdb.sql` and priced by `examples/sql/price_usage.sql`, run by
`examples/sql/price_with_duckdb.py`. Both are run as whole processes, in turn (costplan, DuckDB, costplan,
...), so a busy moment of a shared machine falls on both; each round gives a ratio, and the median ratio is
the figure. Both totals must agree to the last digit. Peak memory is each process tree's largest resident
set (the kernel's `ru_maxrss` for the process and the workers it waited for).

Then, on the same log: `costplan usage --to-workload` (price and fit a workload in one read), and a Claude
Code tree (`bench_ccusage.generate_tree`: streamed copies, sidechain replays, API errors) read as a
directory.

The log is generated in a temporary directory with a fixed seed: a realistic mix of models, days across a
price change, cache writes of both TTLs, batch, `inference_geo`, prompt-length tiers and web searches.

    python benchmarks/bench_usage.py                       # 1,000,000 lines, 9 rounds (single rounds swing by a third)
    python benchmarks/bench_usage.py --rounds 5 --keep
    python benchmarks/bench_usage.py --log /tmp/costplan-bench-x/usage.jsonl   # a log kept before
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


class Run:
    """One whole process: wall seconds, CPU seconds and peak resident memory (MiB) of it and its workers."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        start = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=ROOT)
            _, status, usage = os.wait4(proc.pid, 0)
            self.wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            self.stdout, stderr = out.read().decode(), err.read().decode()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{stderr}")
        self.cpu = usage.ru_utime + usage.ru_stime
        self.peak = usage.ru_maxrss / 1024


def duckdb_total(stdout: str) -> Decimal:
    """The total line of `price_with_duckdb.py` (`total,,requests,cost,unpriced`)."""
    last = stdout.strip().splitlines()[-1].split(",")
    return Decimal(last[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--rounds", type=int, default=9, help="rounds of costplan then DuckDB; the median ratio is quoted"
    )
    parser.add_argument("--keep", action="store_true", help="print the log's path and keep it")
    parser.add_argument("--log", type=Path, help="price this log (kept by an earlier --keep) instead of a new one")
    parser.add_argument("--messages", type=int, default=100_000, help="messages of the Claude Code tree")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="costplan-bench-"))
    if args.log is not None:
        log = args.log
        print(f"log {log} ({log.stat().st_size / 1e6:.0f} MB)")
    else:
        log = tmp / "usage.jsonl"
        start = time.perf_counter()
        generate(log, args.lines)
        size = log.stat().st_size
        print(f"generated {args.lines:,} lines ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s")
    # Both run as installed packages do: with their bytecode cached (the first run below writes it), even
    # where the machine sets PYTHONDONTWRITEBYTECODE, which would otherwise recompile costplan every round.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    prices = tmp / "prices.sql"
    prices.write_text(Run([sys.executable, "-m", "costplan", "prices", "--export", "sql"], env).stdout)

    ours = [sys.executable, "-m", "costplan", "usage", str(log), "--format", "json", "--as-of", "2026-10-15"]
    theirs = [sys.executable, "examples/sql/price_with_duckdb.py", str(prices), str(log)]
    print(f"costplan: {' '.join(ours[1:4])} LOG --format json")
    print(f"duckdb:   python {' '.join(theirs[1:2])} prices.sql LOG   (load_jsonl.duckdb.sql + price_usage.sql)")
    print(f"{'round':<7}{'costplan s':>11}{'cpu s':>8}{'MiB':>7}{'duckdb s':>11}{'cpu s':>8}{'MiB':>7}{'ratio':>8}")
    ratios, rows = [], []
    for index in range(args.rounds):
        a, b = Run(ours, env), Run(theirs, env)
        ours_total, theirs_total = Decimal(json.loads(a.stdout)["total"]["cost_usd"]), duckdb_total(b.stdout)
        if ours_total != theirs_total:
            raise SystemExit(f"totals differ: costplan {ours_total}, DuckDB {theirs_total}")
        ratios.append(b.wall / a.wall)
        rows.append((a, b))
        print(f"{index + 1:<7}{a.wall:>11.2f}{a.cpu:>8.2f}{a.peak:>7.0f}{b.wall:>11.2f}{b.cpu:>8.2f}{b.peak:>7.0f}"
              f"{b.wall / a.wall:>7.2f}x")  # fmt: skip
    print(f"same total to the last digit: ${ours_total}")
    print(
        f"median: costplan {statistics.median(r[0].wall for r in rows):.2f} s, DuckDB "
        f"{statistics.median(r[1].wall for r in rows):.2f} s; costplan is {statistics.median(ratios):.2f}x faster "
        f"(median of the rounds' ratios; target 1.5x); peak {max(r[0].peak for r in rows):.0f} MiB vs "
        f"{max(r[1].peak for r in rows):.0f} MiB"
    )

    plan = tmp / "plan.yaml"
    fit = Run([*ours[:5], "--to-workload", str(plan), "--as-of", "2026-10-15"], env)
    print(f"--to-workload on the same log: {fit.wall:.2f} s, {fit.cpu:.2f} s of CPU, {fit.peak:.0f} MiB peak")

    # The tree is written by a child process: a process that held it in memory would pass its size on to the
    # next child it starts, in that child's peak memory.
    tree = tmp / "claude"
    write = (
        "from pathlib import Path; from bench_ccusage import generate_tree; "
        f"generate_tree(Path({str(tree)!r}), {args.messages})"
    )
    subprocess.run([sys.executable, "-c", write], check=True, cwd=Path(__file__).resolve().parent)
    lines = 0
    for file in tree.rglob("*.jsonl"):
        with file.open("rb") as handle:
            lines += sum(1 for _ in handle)
    cc = Run([sys.executable, "-m", "costplan", "usage", str(tree / "projects"), "--format", "json"], env)
    seen = json.loads(cc.stdout)["claude_code"]
    print(
        f"Claude Code tree, {args.messages:,} messages ({lines:,} lines): {cc.wall:.2f} s, {cc.cpu:.2f} s of CPU, "
        f"{cc.peak:.0f} MiB peak; {seen['messages']:,} messages, {seen['streamed_copies']:,} repeated lines skipped"
    )
    if args.keep:
        print(f"kept in {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp)  # the generated log and tree; a log given with --log is not in it


if __name__ == "__main__":
    main()

"""Benchmark: costplan and ccusage on the same synthetic Claude Code log tree, offline: totals per day, wall time.

ccusage (npm `ccusage`) is the tool most Claude Code users know. This script writes a tree shaped like
`~/.claude/projects` (sessions in several projects, each message streamed over 1-3 lines, subagent files that
replay some of their parent's messages, API error lines, user turns; no real prompt text), installs ccusage
18.0.11 into a temporary directory (20.x needs a native binary the npm registry here does not serve), and runs

    costplan usage DIR/projects --by day --format json
    CLAUDE_CONFIG_DIR=DIR TZ=UTC npx ccusage daily --json --offline

Both read the same files. The table shows each day's total from both, their difference, and how much of it
1-hour cache writes explain: ccusage bills them at the 5-minute price (ccusage issue #899), so its total is
short by exactly (1h price - 5m price) x 1-hour write tokens. Not a test: it needs npm and the registry.

    python benchmarks/bench_ccusage.py                  # 3,000 messages over 14 days
    python benchmarks/bench_ccusage.py --messages 20000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

CCUSAGE = "ccusage@18.0.11"
# Per million tokens: (5-minute write, 1-hour write), for the difference ccusage's pricing leaves out.
WRITE_PRICES = {
    "claude-sonnet-4-6": (Decimal("3.75"), Decimal("6")),
    "claude-opus-4-6": (Decimal("6.25"), Decimal("10")),
    "claude-haiku-4-5-20251001": (Decimal("1.25"), Decimal("2")),
}
MODELS = tuple(WRITE_PRICES)
START_DAY = (2026, 11, 1)


def generate_tree(root: Path, messages: int, days: int = 14, seed: int = 11) -> dict[str, Decimal]:
    """Write a Claude Code tree under `root/projects`; return, per UTC day, the 1-hour write tokens' extra cost
    (1h price - 5m price) that a 5-minute-only pricing leaves out."""
    rng = random.Random(seed)
    projects = root / "projects"
    extra: dict[str, Decimal] = {}
    sessions: dict[Path, list[str]] = {}
    replays: dict[Path, list[str]] = {}
    for i in range(messages):
        project = f"-home-dev-project{i % 5}"
        session = f"session-{i % 40:03d}"
        day = 1 + (i * days // messages)
        stamp = f"{START_DAY[0]}-{START_DAY[1]:02d}-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.000Z"
        model = rng.choice(MODELS)
        w5 = rng.choice((0, 0, 1200, 5000))
        w1 = rng.choice((0, 0, 0, 3000))
        usage = {
            "input_tokens": rng.randint(1, 40),
            "cache_creation_input_tokens": w5 + w1,
            "cache_read_input_tokens": rng.choice((0, 15_000, 60_000)),
            "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
            "output_tokens": rng.randint(1, 2000),
            "service_tier": "standard",
        }
        line = {
            "parentUuid": f"p-{i}",
            "isSidechain": False,
            "userType": "external",
            "cwd": f"/home/dev/project{i % 5}",
            "sessionId": session,
            "version": "2.0.50",
            "gitBranch": "main",
            "requestId": f"req_{i:07d}",
            "type": "assistant",
            "timestamp": stamp,
            "message": {
                "id": f"msg_{i:07d}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": "(synthetic)"}],
                "stop_reason": "end_turn",
                "usage": usage,
            },
        }
        file = projects / project / f"{session}.jsonl"
        out = sessions.setdefault(file, [])
        out.append(json.dumps({"type": "user", "sessionId": session, "timestamp": stamp, "message": {"role": "user"}}))
        for block in range(rng.randint(1, 3)):  # streamed: one line per content block, same ids and usage
            line["uuid"] = f"u-{i}-{block}"
            out.append(json.dumps(line))
        if i % 25 == 0:  # a subagent file replays the parent's message
            replay = {**line, "isSidechain": True, "uuid": f"u-{i}-replay"}
            replays.setdefault(projects / project / session / "subagents" / "agent-1.jsonl", []).append(
                json.dumps(replay)
            )
        if i % 97 == 0:  # an API error, logged as an assistant line
            error = {**line, "isApiErrorMessage": True, "requestId": f"req_err_{i}", "uuid": f"u-{i}-err"}
            error["message"] = {**line["message"], "id": f"msg_err_{i}", "model": "<synthetic>"}
            out.append(json.dumps(error))
        five, hour = WRITE_PRICES[model]
        key = stamp[:10]
        extra[key] = extra.get(key, Decimal(0)) + w1 * (hour - five) / 1_000_000
    for file, lines in [*sessions.items(), *replays.items()]:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return extra


def _timed(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool, in turn; the median is shown")
    parser.add_argument("--keep", action="store_true", help="keep the tree and the ccusage install")
    args = parser.parse_args()
    if shutil.which("npm") is None:
        sys.exit("npm is needed to install ccusage")
    tmp = Path(tempfile.mkdtemp(prefix="costplan-ccusage-"))
    extra = generate_tree(tmp / "claude", args.messages)
    files = sum(1 for _ in (tmp / "claude").rglob("*.jsonl"))
    print(f"tree: {args.messages:,} messages in {files} files under {tmp / 'claude' / 'projects'}")
    subprocess.run(["npm", "install", "--silent", "--prefix", str(tmp / "npm"), CCUSAGE], check=True)
    ccusage = [str(tmp / "npm" / "node_modules" / ".bin" / "ccusage"), "daily", "--json", "--offline"]
    ours = [
        sys.executable,
        "-m",
        "costplan",
        "usage",
        str(tmp / "claude" / "projects"),
        "--by",
        "day",
        "--format",
        "json",
    ]
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp / "claude"), "TZ": "UTC"}
    here = Path(__file__).resolve().parent.parent
    times: dict[str, list[float]] = {"costplan": [], "ccusage": []}
    for _ in range(args.runs):  # in turn, so a busy moment of a shared machine falls on both
        seconds, our_out = _timed(ours, cwd=here)
        times["costplan"].append(seconds)
        seconds, their_out = _timed(ccusage, env=env)
        times["ccusage"].append(seconds)
    our_days = {g["key"]["day"]: Decimal(g["cost_usd"]) for g in json.loads(our_out)["groups"]}
    their_days = {d["date"]: Decimal(str(d["totalCost"])) for d in json.loads(their_out)["daily"]}
    seen = json.loads(our_out).get("claude_code", {})
    print(f"costplan: {seen.get('messages', 0):,} messages, {seen.get('streamed_copies', 0):,} repeated lines skipped, "
          f"{seen.get('api_error_lines', 0)} API error lines")  # fmt: skip
    print()
    print(f"{'day':<12}{'costplan':>14}{'ccusage':>14}{'difference':>14}{'1h writes':>14}{'rest':>12}")
    total_ours = total_theirs = total_extra = Decimal(0)
    for day in sorted(set(our_days) | set(their_days)):
        a, b, e = our_days.get(day, Decimal(0)), their_days.get(day, Decimal(0)), extra.get(day, Decimal(0))
        total_ours, total_theirs, total_extra = total_ours + a, total_theirs + b, total_extra + e
        print(f"{day:<12}{a:>14.4f}{b:>14.4f}{a - b:>14.4f}{e:>14.4f}{float(a - b - e):>12.1e}")
    diff = total_ours - total_theirs
    print(f"{'total':<12}{total_ours:>14.4f}{total_theirs:>14.4f}{diff:>14.4f}{total_extra:>14.4f}"
          f"{float(diff - total_extra):>12.1e}")  # fmt: skip
    print()
    print("difference: costplan - ccusage; 1h writes: what billing 1-hour cache writes at the 5-minute price leaves")
    print("out (ccusage issue #899); rest: the difference that is left (ccusage adds floats: about 1e-15 dollars)")
    print()
    for name, values in times.items():
        print(
            f"{name:<9} wall median {statistics.median(values):.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})"
        )
    if args.keep:
        print(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()

"""`costplan.cost` against `genai_prices.calc_price` in CPU instructions per call, under callgrind.

Wall-clock figures on a shared machine swing by 2-3x with its load (see bench_cost.py); instruction counts do
not: the same code on the same inputs executes the same instructions whatever the neighbours do. Each side
runs in its own child process under `valgrind --tool=callgrind`, twice: once with only the setup (imports,
tables loaded, one warm call) and once with the setup plus every record priced; the difference divided by the
number of records is the cost of one call.

    pip install genai-prices        # benchmark only; not a costplan dependency
    python benchmarks/bench_cost_instructions.py [--records 2000]

Needs valgrind (Debian: `apt-get install valgrind`). Takes about a minute.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import callgrind

HERE = Path(__file__).resolve().parent

CHILD = """
import sys
sys.path[:0] = [{here!r}, {root!r}]  # this checkout's costplan, whatever is installed
import bench_cost
data = bench_cost.records()[:{n}]
side, run = {side!r}, {run!r}
if side == "costplan":
    import costplan
    call = lambda m, u: costplan.cost(u, m, as_of=bench_cost.AT).total
    items = data
else:
    import genai_prices
    def usage(u):
        return genai_prices.Usage(
            input_tokens=u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"],
            output_tokens=u["output_tokens"],
            cache_read_tokens=u["cache_read_input_tokens"],
            cache_write_tokens=u["cache_creation"]["ephemeral_5m_input_tokens"],
            cache_audio_read_tokens=None,
        )
    items = [(m, usage(u)) for m, u in data]
    call = lambda m, u: genai_prices.calc_price(
        u, m, provider_id="anthropic", genai_request_timestamp=bench_cost.AT
    ).total_price
call(*items[0])
if run:
    for m, u in items:
        call(m, u)
"""


def instructions(side: str, run: bool, n: int) -> int:
    count = callgrind.instructions(CHILD.format(here=str(HERE), root=str(HERE.parent), n=n, side=side, run=run))
    if count is None:
        raise SystemExit(f"{side} failed under callgrind")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records priced by each side")
    args = parser.parse_args()
    per_call = {}
    for side in ("costplan", "genai_prices"):
        setup = instructions(side, False, args.records)
        full = instructions(side, True, args.records)
        per_call[side] = (full - setup) / args.records
        print(f"{side:14s} {per_call[side]:12,.0f} instructions per call ({args.records} records)")
    print(f"ratio          {per_call['genai_prices'] / per_call['costplan']:12.1f}x fewer instructions for costplan")


if __name__ == "__main__":
    main()

"""Instructions a Python snippet executes, counted by valgrind's callgrind: the one way the `*_instructions`
benchmarks measure, because a count does not move with the machine's load as wall and CPU time do."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path


def instructions(script: str) -> int | None:
    """Total instructions of `python -c script` under callgrind, run in an empty temporary folder (so the
    snippet imports what it puts on sys.path, not this checkout); None when the snippet fails."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if done.returncode != 0:
            return None
        found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
        if found is None:
            raise SystemExit("no instruction total in the callgrind output")
        return int(found.group(1))

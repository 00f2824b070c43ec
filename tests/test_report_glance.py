"""The estimate at a glance in a terminal: a sparkline per stream, a bar per headroom; plain ASCII when the
output is not a terminal or NO_COLOR / TERM=dumb asks for it."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SCRIPT, clean_env, run_main

from costplan.render.glance import fancy_output, headroom_bar, sparkline

ROOT = Path(__file__).resolve().parent.parent
CHATBOT = str(ROOT / "examples" / "support-chatbot.yaml")
BLOCKS = set("▁▂▃▄▅▆▇█░")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_business_day_draws_low_nights_and_a_full_office_day():
    hours = [1.0] * 9 + [10.0] * 8 + [1.0] * 7
    assert sparkline(hours, fancy=True) == "[" + "▁" * 9 + "█" * 8 + "▁" * 7 + "]"
    assert sparkline(hours, fancy=False) == "[" + "." * 9 + "@" * 8 + "." * 7 + "]"


def test_an_hour_without_traffic_is_blank_and_any_traffic_is_visible():
    hours = [0.0, 0.001, 50.0, 100.0]
    assert sparkline(hours, fancy=True) == "[ ▁▄█]"
    assert sparkline(hours, fancy=False) == "[ .=@]"  # levels " .:-=+#%@": 50 % is the 4th of 8
    assert sparkline([0.0] * 3, fancy=False) == "[   ]"


def test_the_ascii_ramp_holds_nothing_markdown_would_read():
    line = sparkline([float(h) for h in range(24)], fancy=False)
    assert line.isascii() and not set("*_|`") & set(line)


def test_a_bar_fills_with_the_share_in_use_and_shouts_past_the_limit():
    assert headroom_bar(0.7, fancy=False) == "[###.......]"
    assert headroom_bar(0.7, fancy=True) == "[███░░░░░░░]"
    assert headroom_bar(0.999, fancy=False) == "[#.........]"  # a little use is never drawn as none
    assert headroom_bar(1.0, fancy=False) == "[..........]"
    assert headroom_bar(-0.25, fancy=False) == "[##########]!"


@pytest.mark.parametrize(
    ("env", "tty", "fancy"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: an empty value does not count
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "xterm-256color"}, True, True),
    ],
)
def test_block_characters_only_for_a_terminal_that_did_not_ask_for_plain_text(env, tty, fancy):
    stream = _Tty() if tty else io.StringIO()
    assert fancy_output(stream, env) is fancy


def test_in_a_pipe_the_estimate_draws_its_day_and_headroom_in_ascii():
    ran = run_main("estimate", CHATBOT)
    assert ran.returncode == 0, ran.stderr
    profile = next(line for line in ran.stdout.splitlines() if line.startswith("chat ") and "[" in line)
    # support-chatbot: business hours, so quiet until 09:00 UTC and busiest from then until 17:00
    assert "[" + "." * 9 + "@" * 8 + "." * 7 + "]" in profile and "09:00" in profile
    bars = [line for line in ran.stdout.splitlines() if line.startswith("sonnet-4 ")]
    assert len(bars) == 3 and all("[#" in line and "]" in line for line in bars)
    assert ran.stdout.isascii()


def _in_a_terminal(*args: str, **env: str) -> str:
    """Run the installed script with a pseudo-terminal as its stdout, as a person's shell would."""
    environment = clean_env(**{"COLUMNS": "250", "TERM": "xterm", **env})
    if "NO_COLOR" not in env:
        environment.pop("NO_COLOR", None)  # whatever the machine running the tests says
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [str(SCRIPT), *args], stdout=child, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=environment
    )
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_in_a_terminal_the_day_is_a_sparkline_and_no_color_turns_it_plain():
    fancy = _in_a_terminal("estimate", CHATBOT)
    assert "▁" * 9 + "█" * 8 + "▁" * 7 in fancy
    assert "█░" in fancy  # the headroom bars
    plain = _in_a_terminal("estimate", CHATBOT, NO_COLOR="1")
    assert "." * 9 + "@" * 8 + "." * 7 in plain and not BLOCKS & set(plain)
    dumb = _in_a_terminal("estimate", CHATBOT, TERM="dumb")
    assert not BLOCKS & set(dumb)

"""Opt-in: the real count_tokens endpoint. Runs only when ANTHROPIC_API_KEY is set (it is free, RPM-limited)."""

from __future__ import annotations

import os

import pytest

from costplan.tokens import count_tokens

pytestmark = pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="ANTHROPIC_API_KEY not set")


def test_live_count_is_near_the_heuristic(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(tmp_path))
    body = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Hello, Claude"}]}
    live = count_tokens(body, method="api")
    guess = count_tokens(body, method="heuristic")
    assert live.method == "api" and live.input_tokens > 0
    assert abs(live.input_tokens - guess.input_tokens) <= max(3, 0.2 * live.input_tokens)

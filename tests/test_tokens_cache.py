"""The count cache never hangs, never crashes and never trusts an entry it did not write (issue 9).

An entry that is a FIFO (no writer: opening it blocks forever), a link to /dev/zero (endless), a huge file,
invalid UTF-8, nested JSON or an absurd count is corrupt: a warning, a miss, and a fresh entry written over it.
Each read runs in a worker thread with a time limit, so a regression fails here instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from costplan.tokens import CountCache
from costplan.tokens.cache import CacheWarning

KEY = "ab" * 32


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """call()'s result, failing the test (not hanging it) if it takes longer than `seconds`."""
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s: the cache read blocked"
    assert box, "the call raised (see the thread's traceback above)"
    return box[0]


def entry_path(root: Path) -> Path:
    cache = CountCache(root)
    cache.put(KEY, 7)  # where the cache itself puts an entry; then the test replaces it
    (path,) = root.rglob("*.json")
    assert cache.get(KEY) == 7
    return path


def corrupt_then_replaced(root: Path, make_bad: Callable[[Path], None]) -> None:
    path = entry_path(root)
    path.unlink()
    make_bad(path)
    cache = CountCache(root)
    with pytest.warns(CacheWarning, match="corrupt"):
        assert within(5, lambda: cache.get(KEY)) is None
    cache.put(KEY, 11)
    assert path.is_file() and not path.is_symlink()
    assert json.loads(path.read_text()) == {"v": 1, "input_tokens": 11}
    assert cache.get(KEY) == 11


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_entry_does_not_hang_and_is_replaced(tmp_path: Path) -> None:
    corrupt_then_replaced(tmp_path, os.mkfifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_link_to_dev_zero_is_not_read_and_is_replaced(tmp_path: Path) -> None:
    corrupt_then_replaced(tmp_path, lambda path: path.symlink_to("/dev/zero"))


def test_a_link_to_a_valid_looking_file_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text('{"v": 1, "input_tokens": 5}')
    corrupt_then_replaced(tmp_path / "cache", lambda path: path.symlink_to(elsewhere))
    assert elsewhere.read_text() == '{"v": 1, "input_tokens": 5}'  # the link was replaced, not its target


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"v": 1, "input_tokens": 7\xff\xfe}', id="invalid-utf8"),
        pytest.param(b"\x80\x81", id="not-utf8-at-all"),
        pytest.param(b"[" * 3000 + b"]" * 3000, id="nested-3000-deep"),
        pytest.param(b'{"v": 1, "input_tokens": 7, "pad": "' + b"x" * 10_000 + b'"}', id="oversized"),
        pytest.param(b'{"v": 1, "input_tokens": 1000000000000000000000000000000}', id="absurd-count"),
        pytest.param(b'{"v": 1, "input_tokens": -3}', id="negative"),
        pytest.param(b'{"v": 1, "input_tokens": true}', id="bool"),
        pytest.param(b"[1, 2]", id="a-list"),
    ],
)
def test_a_corrupt_regular_entry_is_a_miss_and_is_replaced(tmp_path: Path, content: bytes) -> None:
    corrupt_then_replaced(tmp_path, lambda path: path.write_bytes(content))


def test_a_directory_where_an_entry_belongs_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    path = entry_path(tmp_path)
    path.unlink()
    path.mkdir()
    cache = CountCache(tmp_path)
    with pytest.warns(CacheWarning, match="corrupt"):
        assert within(5, lambda: cache.get(KEY)) is None
    with pytest.warns(CacheWarning, match="not written"):
        cache.put(KEY, 3)  # os.replace cannot put a file over a directory: said, not raised


def test_a_missing_entry_is_a_silent_miss(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    assert CountCache(tmp_path).get(KEY) is None
    assert not recwarn.list
